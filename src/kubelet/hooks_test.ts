import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container, Pod } from '../api/types/core_v1.ts';
import { FakeClock } from '../client/clock.ts';
import { FakeRecorder } from '../client/fake_recorder.ts';
import { runLifecycleHandler, runPostStartHook, runPreStopHook, type HookDeps, type HookTarget } from './hooks.ts';
import { killContainer, podRef, type SyncContext } from './sync_pod.ts';
import type { CommandRunner } from './probes/types.ts';

const pod: Pod = { metadata: { name: 'web-0', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

function target(container: Container, podIP = '127.0.0.1'): HookTarget {
  return { pod, container, containerId: 'cid', podRef: podRef(pod), containerRef: podRef(pod, container), podIP: async () => podIP };
}

function execRunner(exitCode: number, stdout = '', stderr = ''): CommandRunner & { calls: { cmd: string[]; timeout: number | undefined }[] } {
  const calls: { cmd: string[]; timeout: number | undefined }[] = [];
  return {
    calls,
    async execSync(_id, cmd, timeout) {
      calls.push({ cmd, timeout });
      return { stdout: Buffer.from(stdout), stderr: Buffer.from(stderr), exitCode };
    },
  };
}

describe('exec hooks', () => {
  test('postStart runs the command without a timeout and records nothing when it succeeds', async () => {
    const runtime = execRunner(0);
    const recorder = new FakeRecorder();
    const c: Container = { name: 'web', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hi > /tmp/started'] } } } };
    assert.equal(await runPostStartHook({ runtime, recorder }, target(c)), undefined);
    assert.deepEqual(runtime.calls, [{ cmd: ['sh', '-c', 'echo hi > /tmp/started'], timeout: 0 }]);
    assert.deepEqual(recorder.events, []);
  });

  test('a failing postStart yields upstream\'s message and a FailedPostStartHook event without it', async () => {
    const recorder = new FakeRecorder();
    const c: Container = { name: 'web', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 3'] } } } };
    const msg = await runPostStartHook({ runtime: execRunner(3, 'out', 'oops'), recorder }, target(c));
    assert.equal(msg, 'Exec lifecycle hook ([sh -c exit 3]) for Container "web" in Pod "web-0_default(u1)" failed - error: command \'sh -c exit 3\' exited with 3: oops, message: "outoops"');
    assert.deepEqual(recorder.events, ['Warning FailedPostStartHook PostStartHook failed']);
  });
});

describe('httpGet hooks', () => {
  let server: http.Server;
  let port = 0;
  const seen: { url: string; ua: string }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', ua: req.headers['user-agent'] ?? '' });
      res.statusCode = 500;
      res.end('whatever');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('the GET goes to the pod IP as kube-lifecycle/1.32, and any answer counts as done', async () => {
    const c: Container = { name: 'web', ports: [{ name: 'admin', containerPort: port }] };
    const msg = await runLifecycleHandler({ runtime: execRunner(0), recorder: new FakeRecorder() }, target(c), { httpGet: { port: 'admin', path: '/hook?x=1' } });
    assert.equal(msg, undefined);
    assert.deepEqual(seen.at(-1), { url: '/hook?x=1', ua: 'kube-lifecycle/1.32' });
  });

  test('an HTTPS hook answered in plain HTTP is retried with http, with a LifecycleHTTPFallback event', async () => {
    const recorder = new FakeRecorder();
    const msg = await runLifecycleHandler({ runtime: execRunner(0), recorder }, target({ name: 'web' }), { httpGet: { port, path: '/tls', scheme: 'HTTPS' } });
    assert.equal(msg, undefined);
    assert.equal(seen.at(-1)?.url, '/tls');
    assert.deepEqual(recorder.events, [`Warning LifecycleHTTPFallback request to HTTPS lifecycle hook 127.0.0.1:${port} got HTTP response, retry with HTTP succeeded`]);
  });

  test('an unreachable hook fails with the path and Go\'s error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const msg = await runLifecycleHandler({ runtime: execRunner(0), recorder: new FakeRecorder() }, target({ name: 'web' }), { httpGet: { port: p, path: '/hook' } });
    assert.equal(msg, `HTTP lifecycle hook (/hook) for Container "web" in Pod "web-0_default(u1)" failed - error: Get "http://127.0.0.1:${p}/hook": dial tcp 127.0.0.1:${p}: connect: connection refused`);
  });
});

describe('preStop', () => {
  test('a sleep longer than the grace period is cut off at the grace period, which is what it took', async () => {
    const clock = new FakeClock();
    const deps: HookDeps = { runtime: execRunner(0), recorder: new FakeRecorder(), clock };
    const c: Container = { name: 'web', lifecycle: { preStop: { sleep: { seconds: 10 } } } };
    const took = runPreStopHook(deps, target(c), 3);
    clock.step(3000);
    assert.equal(await took, 3);
    clock.step(10_000);
    assert.equal(clock.waiters, 0);
  });

  test('the kubelet stopping ends the grace wait and the hook at once, recording nothing', async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    const recorder = new FakeRecorder();
    const c: Container = { name: 'web', lifecycle: { preStop: { sleep: { seconds: 60 } } } };
    const took = runPreStopHook({ runtime: execRunner(0), recorder, clock, signal: abort.signal }, target(c), 60);
    clock.step(1000);
    abort.abort();
    assert.equal(await took, 1);
    assert.equal(clock.waiters, 0, 'no timer is left behind');
    assert.deepEqual(recorder.events, []);
  });

  test('a failed preStop records FailedPreStopHook; no hook or no grace runs nothing', async () => {
    const recorder = new FakeRecorder();
    const runtime = execRunner(1);
    const c: Container = { name: 'web', lifecycle: { preStop: { exec: { command: ['false'] } } } };
    assert.equal(await runPreStopHook({ runtime, recorder, clock: new FakeClock() }, target(c), 30), 0);
    assert.deepEqual(recorder.events, ['Warning FailedPreStopHook PreStopHook failed']);
    assert.equal(await runPreStopHook({ runtime, recorder }, target(c), 0), 0);
    assert.equal(await runPreStopHook({ runtime, recorder }, target({ name: 'web' }), 30), 0);
    assert.equal(runtime.calls.length, 1);
  });

  test('killContainer runs preStop first and stops the container with the grace period that is left', async () => {
    const events: string[] = [];
    const recorder = new FakeRecorder();
    const ctx = {
      recorder,
      runtime: {
        execSync: async (_id: string, cmd: string[]) => { events.push(`exec ${cmd.join(' ')}`); return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }; },
        stopContainer: async (id: string, grace: number) => { events.push(`stop ${id} ${grace}`); },
      },
    } as unknown as SyncContext;
    const c: Container = { name: 'web', lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } } };
    await killContainer(ctx, pod, 'cid', c, '', 30);
    assert.deepEqual(events, ['exec nginx -s quit', 'stop cid 30']);
    assert.deepEqual(recorder.events, ['Normal Killing Stopping container web']);

    events.length = 0;
    const sleepy: Container = { name: 'web', lifecycle: { preStop: { sleep: { seconds: 1 } } } };
    await killContainer(ctx, pod, 'cid', sleepy, '', 3);
    assert.deepEqual(events, ['stop cid 2'], 'one second went to the hook; at least 2 s are always left');
  });
});
