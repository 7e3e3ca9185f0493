import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CriError, GrpcCode } from '../cri/types.ts';
import { doExecProbe, expandProbeCommand } from './exec_probe.ts';
import type { CommandRunner } from './types.ts';

function runner(fn: (cmd: string[], timeout: number) => { stdout?: string; stderr?: string; exitCode?: number }): CommandRunner & { calls: { id: string; cmd: string[]; timeout: number | undefined }[] } {
  const calls: { id: string; cmd: string[]; timeout: number | undefined }[] = [];
  return {
    calls,
    async execSync(id, cmd, timeout) {
      calls.push({ id, cmd, timeout });
      const r = fn(cmd, timeout ?? 0);
      return { stdout: Buffer.from(r.stdout ?? ''), stderr: Buffer.from(r.stderr ?? ''), exitCode: r.exitCode ?? 0 };
    },
  };
}

test('exit 0 succeeds, another code fails with stdout then stderr as output; the timeout goes to ExecSync', async () => {
  const r = runner((cmd) => (cmd[2] === 'ok' ? { stdout: 'fine\n' } : { stdout: 'out ', stderr: "cat: can't open '/tmp/healthy': No such file or directory\n", exitCode: 1 }));
  assert.deepEqual(await doExecProbe(r, 'c1', ['sh', '-c', 'ok'], 3), { outcome: 'success', output: 'fine\n' });
  assert.deepEqual(await doExecProbe(r, 'c1', ['sh', '-c', 'bad'], 1), { outcome: 'failure', output: "out cat: can't open '/tmp/healthy': No such file or directory\n" });
  assert.deepEqual(r.calls.map((c) => [c.id, c.timeout]), [['c1', 3], ['c1', 1]]);
});

test('a runtime deadline is a timed-out failure; other runtime errors make the run an error', async () => {
  const timeout: CommandRunner = { execSync: async () => { throw new CriError('ExecSync', GrpcCode.DeadlineExceeded, 'timeout 1s exceeded'); } };
  assert.deepEqual(await doExecProbe(timeout, 'c', ['sleep', '10'], 1), { outcome: 'failure', output: 'command "sleep 10" timed out' });
  const gone: CommandRunner = { execSync: async () => { throw new CriError('ExecSync', GrpcCode.NotFound, 'container not found'); } };
  const run = await doExecProbe(gone, 'c', ['true'], 1);
  assert.equal(run.outcome, 'unknown');
  assert.match(run.error?.message ?? '', /NotFound: container not found/);
});

test('$(VAR) in the command expands from the container\'s literal env only', () => {
  const cmd = expandProbeCommand(['cat', '$(DIR)/$(FILE)', '$(FROM_SECRET)', '$$(DIR)'], {
    name: 'c', env: [{ name: 'DIR', value: '/tmp' }, { name: 'FILE', value: 'ok' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
  });
  assert.deepEqual(cmd, ['cat', '/tmp/ok', '', '$(DIR)']);
});
