// Tests of the Proxier's sync loop against a recording command runner: nothing before both initial
// lists, a full first sync with jump rules, partial syncs after, a full resync after a failure,
// stale chains deleted, conntrack cleanup, metrics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Proxier, percentile } from './proxier.ts';
import { makeService, makeSlice } from './test_fixtures.ts';
import type { CommandRunner, ExecResult } from './types.ts';

/** Pretends to be a host with iptables-nft; records restores and conntrack calls. */
class FakeHost implements CommandRunner {
  restores: string[] = [];
  conntrack: string[][] = [];
  sysctls: string[] = [];
  saves = 0;
  failNextRestore = false;
  natSave = '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SEP-LEFTOVER0000000 - [0:0]\nCOMMIT\n';
  async run(cmd: string, args: readonly string[], opts: { input?: string } = {}): Promise<ExecResult> {
    const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
    if (cmd === 'iptables') return ok('iptables v1.8.9 (nf_tables)\n');
    if (args[0] === '--version') return ok();
    if (cmd === 'sysctl') {
      this.sysctls.push(args.join(' '));
      return ok(args[0] === '-n' ? '0\n' : '');
    }
    if (cmd === 'iptables-nft-save') {
      this.saves++;
      return ok(args[1] === 'nat' ? this.natSave : '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
    }
    if (cmd === 'iptables-nft-restore') {
      if (this.failNextRestore) {
        this.failNextRestore = false;
        return { code: 1, stdout: '', stderr: 'iptables-restore: line 3 failed\n' };
      }
      this.restores.push(opts.input ?? '');
      return ok();
    }
    if (cmd === 'conntrack') {
      this.conntrack.push([...args]);
      return { code: 1, stdout: '', stderr: '0 flow entries have been deleted.\n' };
    }
    return { code: 127, stdout: '', stderr: `unexpected ${cmd}` };
  }
}

const NODE = { name: 'node-a', ips: ['10.200.0.1'], clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16' };

async function proxier(host: FakeHost): Promise<Proxier> {
  return Proxier.create({ node: NODE, runner: host, minSyncPeriodMs: 0, syncPeriodMs: 60_000 });
}

test('no rules are written until both initial lists are in; then a full sync with jump rules', async (t) => {
  const host = new FakeHost();
  const p = await proxier(host);
  t.after(() => p.dispose());
  assert.ok(host.sysctls.includes('-w net.ipv4.conf.all.route_localnet=1'));
  p.onServiceAdd(makeService({ name: 'web', clusterIP: '10.43.77.10' }));
  p.onServicesSynced();
  await p.idle();
  assert.equal(host.restores.length, 0);
  p.onEndpointSliceAdd(makeSlice('web', [{ ip: '10.42.1.1' }]));
  p.onEndpointSlicesSynced();
  await p.idle();
  assert.equal(host.restores.length, 1);
  const first = host.restores[0]!;
  assert.match(first, /^-I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
  assert.match(first, /^-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
  assert.match(first, /--to-destination 10\.42\.1\.1:8080/);
  // The leftover of an earlier run is deleted.
  assert.match(first, /^-X KUBE-SEP-LEFTOVER0000000$/m);
  assert.equal(p.metrics.fullSyncs, 1);
  assert.equal(p.metrics.syncs, 1);
});

test('later changes sync partially: only changed Services chains, no iptables-save, no jump rules', async (t) => {
  const host = new FakeHost();
  const p = await proxier(host);
  t.after(() => p.dispose());
  p.onServiceAdd(makeService({ name: 'web', clusterIP: '10.43.77.10' }));
  p.onServiceAdd(makeService({ name: 'api', clusterIP: '10.43.77.20' }));
  p.onEndpointSliceAdd(makeSlice('web', [{ ip: '10.42.1.1' }]));
  p.onEndpointSliceAdd(makeSlice('api', [{ ip: '10.42.2.1' }]));
  p.onServicesSynced();
  p.onEndpointSlicesSynced();
  await p.idle();
  const saves = host.saves;
  const samples = p.metrics.networkProgrammingLatencyMs.length;
  const old = makeSlice('web', [{ ip: '10.42.1.1' }]);
  p.onEndpointSliceUpdate(old, makeSlice('web', [{ ip: '10.42.1.2' }], { triggerTime: new Date().toISOString() }));
  await p.idle();
  assert.equal(host.restores.length, 2);
  assert.equal(host.saves, saves);
  const second = host.restores[1]!;
  assert.doesNotMatch(second, /^-I /m);
  assert.match(second, /--to-destination 10\.42\.1\.2:8080/);
  assert.doesNotMatch(second, /10\.42\.2\.1/); // api's chains untouched
  assert.match(second, /-d 10\.43\.77\.20 --dport 80 -j KUBE-SVC-/); // but still captured
  assert.equal((second.match(/^-X KUBE-SEP-/gm) ?? []).length, 1); // the old endpoint's chain
  assert.equal(p.metrics.networkProgrammingLatencyMs.length, samples + 1);
  assert.ok(p.metrics.networkProgrammingLatencyMs.at(-1)! >= 0);
  // No-op updates do not sync.
  p.onServiceUpdate(makeService({ name: 'web', clusterIP: '10.43.77.10' }), makeService({ name: 'web', clusterIP: '10.43.77.10' }));
  await p.idle();
  assert.equal(host.restores.length, 2);
});

test('a failed restore is retried as a full sync', async (t) => {
  const host = new FakeHost();
  const p = await Proxier.create({ node: NODE, runner: host, minSyncPeriodMs: 0, syncPeriodMs: 10 });
  t.after(() => p.dispose());
  host.failNextRestore = true;
  p.onServiceAdd(makeService({ name: 'web', clusterIP: '10.43.77.10' }));
  p.onServicesSynced();
  p.onEndpointSlicesSynced();
  // Bounded wait for the retry (10 ms away).
  for (let i = 0; i < 400 && host.restores.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await p.idle();
  assert.equal(p.metrics.syncFailures, 1);
  assert.ok(host.restores.length >= 1);
  // The retry re-checked the jump rules, i.e. it was a full sync.
  assert.match(host.restores[0]!, /^-I PREROUTING /m);
  assert.equal(p.lastError, null);
});

test('UDP endpoint changes clear stale conntrack entries after the rules are in', async (t) => {
  const host = new FakeHost();
  const p = await proxier(host);
  t.after(() => p.dispose());
  const ports = [{ name: 'dns', port: 53, protocol: 'UDP' }];
  p.onServiceAdd(makeService({ name: 'dns', clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  p.onServicesSynced();
  p.onEndpointSlicesSynced();
  await p.idle();
  assert.deepEqual(host.conntrack, []);
  const s1 = makeSlice('dns', [{ ip: '10.42.0.2' }], { ports });
  p.onEndpointSliceAdd(s1);
  await p.idle();
  assert.deepEqual(host.conntrack, [['-D', '--orig-dst', '10.43.0.10', '-p', 'udp']]);
  p.onEndpointSliceUpdate(s1, makeSlice('dns', [{ ip: '10.42.0.3' }], { ports }));
  await p.idle();
  assert.deepEqual(host.conntrack.slice(1), [['-D', '--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.2', '-p', 'udp']]);
  assert.equal(p.metrics.conntrackFailures, 0);
});

test('options are validated', async () => {
  await assert.rejects(Proxier.create({ node: NODE, runner: new FakeHost(), minSyncPeriodMs: -5 }), /minSyncPeriodMs must be >= 0, got -5/);
  await assert.rejects(Proxier.create({ node: { ...NODE, name: '' }, runner: new FakeHost() }), /node\.name must be set/);
});

test('percentile', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});
