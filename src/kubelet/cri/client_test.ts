// CriClient against an in-process gRPC server on a unix socket that implements a few CRI methods:
// plain objects out, enums as names, absent messages as undefined, errors as CriError, deadlines.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CriClient, criTarget } from './client.ts';
import { CriError, isNotFound } from './types.ts';

type Handler = grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>>;

describe('CriClient', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-cri-'));
  const socket = join(dir, 'cri.sock');
  const server = new grpc.Server();
  const hung: (() => void)[] = [];
  let lastCreate: Record<string, unknown> | undefined;

  before(async () => {
    const def = protoLoader.loadSync(fileURLToPath(new URL('./runtime.proto', import.meta.url)), { keepCase: false, longs: Number, enums: String, defaults: true });
    const runtime: Record<string, Handler> = {
      Version: (call, cb) => cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '9.9', runtimeApiVersion: String(call.request['version']) }),
      ContainerStatus: (call, cb) => {
        if (call.request['containerId'] === 'missing') {
          cb({ code: grpc.status.NOT_FOUND, details: 'an error occurred when try to find container "missing": not found' });
          return;
        }
        cb(null, { status: { id: String(call.request['containerId']), state: 'CONTAINER_EXITED', exitCode: 3, finishedAt: 1_700_000_000_000_000_000 } });
      },
      CreateContainer: (call, cb) => {
        lastCreate = call.request;
        cb(null, { containerId: 'c1' });
      },
      ExecSync: (_call, cb) => cb(null, { stdout: Buffer.from('out'), stderr: Buffer.from('err'), exitCode: 2 }),
      ListPodSandbox: (_call, cb) => { hung.push(() => cb(null, {})); },
    };
    const images: Record<string, Handler> = {
      ImageStatus: (call, cb) => cb(null, (call.request['image'] as { image: string }).image === 'there' ? { image: { id: 'sha256:abc', repoTags: ['there:latest'], size: 5 } } : {}),
    };
    server.addService(def['runtime.v1.RuntimeService'] as grpc.ServiceDefinition, runtime);
    server.addService(def['runtime.v1.ImageService'] as grpc.ServiceDefinition, images);
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  });

  after(async () => {
    for (const h of hung) h();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('Version sends the API version and returns a plain object', async () => {
    const cri = new CriClient(socket);
    try {
      assert.deepEqual(await cri.version(), { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '9.9', runtimeApiVersion: 'v1' });
    } finally {
      cri.close();
    }
  });

  test('responses carry enum names, numbers, and leave absent messages out', async () => {
    const cri = new CriClient(`unix://${socket}`);
    try {
      const res = await cri.containerStatus('abc');
      assert.equal(res.status?.state, 'CONTAINER_EXITED');
      assert.equal(res.status?.exitCode, 3);
      assert.equal(typeof res.status?.finishedAt, 'number');
      assert.ok(Math.abs(res.status!.finishedAt - 1.7e18) < 1e6);
      assert.equal(res.status?.metadata, undefined);
      assert.deepEqual(res.status?.labels, {});
      const absent = await cri.imageStatus({ image: 'nope' });
      assert.equal(absent.image, undefined);
      const present = await cri.imageStatus({ image: 'there' });
      assert.deepEqual(present.image?.repoTags, ['there:latest']);
    } finally {
      cri.close();
    }
  });

  test('requests are encoded from camelCase objects, maps and enums included', async () => {
    const cri = new CriClient(socket);
    try {
      const id = await cri.createContainer('sb1', {
        metadata: { name: 'app', attempt: 2 },
        image: { image: 'busybox' },
        command: ['sh'],
        envs: [{ key: 'A', value: 'b' }],
        labels: { x: 'y' },
        mounts: [{ containerPath: '/data', hostPath: '/tmp', propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' }, runAsUser: { value: 1000 } } },
      }, { metadata: { name: 'p', uid: 'u', namespace: 'n' } });
      assert.equal(id, 'c1');
      const cfg = lastCreate?.['config'] as Record<string, any>;
      assert.equal(lastCreate?.['podSandboxId'], 'sb1');
      assert.equal(cfg['metadata'].attempt, 2);
      assert.deepEqual(cfg['labels'], { x: 'y' });
      assert.equal(cfg['mounts'][0].propagation, 'PROPAGATION_HOST_TO_CONTAINER');
      assert.equal(cfg['linux'].securityContext.namespaceOptions.pid, 'CONTAINER');
      assert.equal(cfg['linux'].securityContext.runAsUser.value, 1000);
    } finally {
      cri.close();
    }
  });

  test('ExecSync returns output as Buffers', async () => {
    const cri = new CriClient(socket);
    try {
      const r = await cri.execSync('c1', ['false'], 5);
      assert.equal(r.stdout.toString(), 'out');
      assert.equal(r.stderr.toString(), 'err');
      assert.equal(r.exitCode, 2);
    } finally {
      cri.close();
    }
  });

  test('a runtime error becomes a CriError with the gRPC status and the runtime message', async () => {
    const cri = new CriClient(socket);
    try {
      await assert.rejects(cri.containerStatus('missing'), (err: unknown) => {
        assert.ok(err instanceof CriError);
        assert.equal(err.code, 'NotFound');
        assert.equal(err.method, 'ContainerStatus');
        assert.match(err.message, /^CRI ContainerStatus: NotFound: an error occurred when try to find container "missing"/);
        assert.ok(isNotFound(err));
        return true;
      });
    } finally {
      cri.close();
    }
  });

  test('a call past its deadline fails with DeadlineExceeded', async () => {
    const cri = new CriClient(socket, { timeoutMs: 200 });
    try {
      await assert.rejects(cri.listPodSandbox(), (err: unknown) => err instanceof CriError && err.code === 'DeadlineExceeded' && /within 200 ms/.test(err.message));
    } finally {
      cri.close();
    }
  });

  test('aborting the signal cancels a call in flight, and a call after it is never sent', async () => {
    const cri = new CriClient(socket, { timeoutMs: 0 });
    try {
      const abort = new AbortController();
      const hungBefore = hung.length;
      const pending = cri.listPodSandbox(undefined, { signal: abort.signal });
      // the server holds the call: cancel only once it is there
      const deadline = Date.now() + 5000;
      while (hung.length === hungBefore && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(hung.length, hungBefore + 1, 'the call reached the server');
      abort.abort();
      await assert.rejects(pending, (err: unknown) => err instanceof CriError && err.code === 'Cancelled' && err.method === 'ListPodSandbox');
      await assert.rejects(cri.version({ signal: abort.signal }), (err: unknown) => err instanceof CriError && err.code === 'Cancelled');
      assert.equal(hung.length, hungBefore + 1);
    } finally {
      cri.close();
    }
  });

  test('no runtime on the socket fails fast with Unavailable', async () => {
    const cri = new CriClient(join(dir, 'nobody.sock'), { timeoutMs: 5000 });
    try {
      await assert.rejects(cri.version(), (err: unknown) => err instanceof CriError && err.code === 'Unavailable' && err.message.includes('nobody.sock'));
    } finally {
      cri.close();
    }
  });

  test('endpoints are unix sockets; options are checked', () => {
    assert.equal(criTarget('/run/x.sock'), 'unix:///run/x.sock');
    assert.equal(criTarget('unix:///run/x.sock'), 'unix:///run/x.sock');
    assert.equal(criTarget('unix:/run/x.sock'), 'unix:///run/x.sock');
    assert.throws(() => criTarget('tcp://1.2.3.4:5'), /want unix:\/\/\/absolute\/path/);
    assert.throws(() => new CriClient(socket, { timeoutMs: -1 }), /CriClientOptions.timeoutMs/);
  });
});
