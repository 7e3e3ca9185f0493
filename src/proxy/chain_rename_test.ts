// Unit tests of the chain-renaming runner: restore input renamed in, save output renamed back with
// the host's own chains of the original prefix hidden, other commands untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameIn, renameOut, renamingRunner, validateRename } from './chain_rename.ts';
import type { CommandRunner } from './types.ts';

const KUBE = { from: 'KUBE-', to: 'E2Eq3K-' };

test('restore input has our chains under the test prefix, other words untouched', () => {
  const input = '*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n-A TKUBE-NETPOL-FORWARD -j RETURN\nCOMMIT\n';
  assert.equal(renameIn(input, KUBE), '*nat\n:E2Eq3K-SERVICES - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j E2Eq3K-SERVICES\n-A TKUBE-NETPOL-FORWARD -j RETURN\nCOMMIT\n');
});

test('save output maps the test prefix back and hides the host\'s own chains', () => {
  const saved = ':KUBE-SERVICES - [0:0]\n:E2Eq3K-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j E2Eq3K-SERVICES\n';
  assert.equal(renameOut(saved, KUBE), ':~KUBE-SERVICES - [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j ~KUBE-SERVICES\n-A PREROUTING -j KUBE-SERVICES\n');
  assert.equal(renameIn(renameOut(':E2Eq3K-SEP-ABC - [0:0]', KUBE), KUBE), ':E2Eq3K-SEP-ABC - [0:0]');
});

test('the runner renames only restore input and save output', async () => {
  const calls: Array<{ cmd: string; input?: string }> = [];
  const inner: CommandRunner = {
    async run(cmd, _args, opts = {}) {
      calls.push({ cmd, ...(opts.input !== undefined ? { input: opts.input } : {}) });
      return { code: 0, stdout: cmd.endsWith('-save') ? '-A OUTPUT -j E2Eq3K-SERVICES\n' : 'KUBE-x', stderr: '' };
    },
  };
  const r = renamingRunner(inner, KUBE);
  await r.run('iptables-nft-restore', ['--noflush'], { input: '-A KUBE-MARK-MASQ -j MARK\n' });
  assert.equal(calls[0]!.input, '-A E2Eq3K-MARK-MASQ -j MARK\n');
  assert.equal((await r.run('/usr/sbin/iptables-save', ['-t', 'nat'])).stdout, '-A OUTPUT -j KUBE-SERVICES\n');
  assert.equal((await r.run('iptables', ['--version'])).stdout, 'KUBE-x');
});

test('prefixes that would overflow chain names or overlap are refused', () => {
  assert.throws(() => validateRename({ from: 'TKUBE-', to: 'E2Eq3NP-' }), /too long/);
  assert.throws(() => validateRename({ from: 'KUBE-', to: 'KUBE-X-' }), /overlaps/);
  assert.throws(() => validateRename({ from: 'KUBE-', to: 'bad prefix' }), /letters, digits/);
  validateRename({ from: 'TKUBE-', to: 'E2Eq3-' });
});
