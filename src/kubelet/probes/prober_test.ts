import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container, ObjectReference, Pod } from '../../api/types/core_v1.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { CriError, GrpcCode } from '../cri/types.ts';
import { Prober } from './prober.ts';
import type { CommandRunner } from './types.ts';

const pod: Pod = { metadata: { name: 'web-0', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

function setup(exec: CommandRunner['execSync'] = async () => ({ stdout: Buffer.from(''), stderr: Buffer.from(''), exitCode: 0 })): { prober: Prober; recorder: FakeRecorder; calls: () => number } {
  let n = 0;
  const recorder = new FakeRecorder();
  const prober = new Prober({ runner: { execSync: (...a) => { n++; return exec(...a); } }, recorder });
  return { prober, recorder, calls: () => n };
}

test('a failed probe records Unhealthy on the container with upstream\'s message', async () => {
  const { prober, recorder } = setup(async () => ({ stdout: Buffer.from(''), stderr: Buffer.from("cat: can't open '/tmp/healthy': No such file or directory\n"), exitCode: 1 }));
  const c: Container = { name: 'web', livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] } } };
  assert.deepEqual(await prober.probe('Liveness', pod, '10.0.0.1', c, 'cid'), { result: 'Failure' });
  assert.deepEqual(recorder.events, ["Warning Unhealthy Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"]);
  assert.equal((recorder.objects[0] as ObjectReference).fieldPath, 'spec.containers{web}');
});

test('success records nothing; a probe that cannot run is tried three times and reported as errored', async () => {
  const ok = setup();
  const c: Container = { name: 'web', readinessProbe: { exec: { command: ['true'] } } };
  assert.deepEqual(await ok.prober.probe('Readiness', pod, '10.0.0.1', c, 'cid'), { result: 'Success' });
  assert.deepEqual(ok.recorder.events, []);

  const broken = setup(async () => { throw new CriError('ExecSync', GrpcCode.NotFound, 'no such container'); });
  const v = await broken.prober.probe('Readiness', pod, '10.0.0.1', c, 'cid');
  assert.equal(v.result, 'Failure');
  assert.ok(v.error);
  assert.equal(broken.calls(), 3);
  assert.deepEqual(broken.recorder.events, ['Warning Unhealthy Readiness probe errored and resulted in unknown state: CRI ExecSync: NotFound: no such container']);

  const unnamed = setup();
  const bad: Container = { name: 'web', startupProbe: { tcpSocket: { port: 'missing' } } };
  await unnamed.prober.probe('Startup', pod, '10.0.0.1', bad, 'cid');
  assert.deepEqual(unnamed.recorder.events, ['Warning Unhealthy Startup probe errored and resulted in unknown state: strconv.Atoi: parsing "missing": invalid syntax']);
});

test('a redirect to another host is a ProbeWarning and counts as success', async () => {
  const server = http.createServer((_req, res) => res.writeHead(302, { location: 'http://elsewhere.invalid/' }).end('bye'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const { prober, recorder } = setup();
    const c: Container = { name: 'web', readinessProbe: { httpGet: { port, path: '/' } } };
    assert.deepEqual(await prober.probe('Readiness', pod, '127.0.0.1', c, 'cid'), { result: 'Success' });
    assert.deepEqual(recorder.events, ['Warning ProbeWarning Readiness probe warning: Probe terminated redirects, Response body: bye']);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
