// The REST client against the real in-process API server, over both transports: CRUD, typed errors,
// patches, subresources, collections, watches (incl. 410 Expired), plus Retry-After handling against
// a scripted HTTPS server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ConfigMap, Pod } from '../api/types/core_v1.ts';
import type { Deployment } from '../api/types/apps_v1.ts';
import type { Status } from '../api/types/meta_v1.ts';
import { readKubeconfig } from '../base/kubeconfig.ts';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import {
  ApiStatusError, isAlreadyExists, isConflict, isExpiredOrGone, isInvalid, isNotFound, isResourceExpired, isTooManyRequests,
} from './api_errors.ts';
import { RestClient } from './rest_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';
import type { WatchEvent } from './watch_stream.ts';

const CONFIGMAPS = resourceDescriptor('v1', 'configmaps');
const PODS = resourceDescriptor('v1', 'pods');
const NAMESPACES = resourceDescriptor('v1', 'namespaces');
const DEPLOYMENTS = resourceDescriptor('apps/v1', 'deployments');

let server: TestServer;

before(async () => {
  server = await startTestServer({ watchCacheHistory: 5 });
});

after(async () => {
  await server.stop();
});

async function withClient(protocol: 'http2' | 'http1', fn: (c: RestClient) => Promise<void>): Promise<void> {
  const c = await RestClient.fromKubeconfig(server.kubeconfig, { protocol });
  try {
    await fn(c);
  } finally {
    await c.dispose();
  }
}

async function createNamespace(c: RestClient, name: string): Promise<void> {
  await c.resource(NAMESPACES).create({ metadata: { name } });
}

for (const protocol of ['http2', 'http1'] as const) {
  describe(`REST client over ${protocol}`, () => {
    test('creates, gets, lists, updates and deletes a ConfigMap', async () => {
      await withClient(protocol, async (c) => {
        const ns = `crud-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        const created = await cms.create({ metadata: { name: 'one' }, data: { a: '1' } });
        assert.equal(created.kind, 'ConfigMap');
        assert.equal(created.metadata?.namespace, ns);
        assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);

        const got = await cms.get('one');
        assert.deepEqual(got.data, { a: '1' });

        const updated = await cms.update({ ...got, data: { a: '2' } });
        assert.equal(updated.data?.['a'], '2');
        assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);

        const list = await cms.list();
        assert.equal(list.kind, 'ConfigMapList');
        assert.deepEqual(list.items.map((i) => i.metadata?.name), ['one']);

        await cms.delete('one');
        await assert.rejects(cms.get('one'), (err: unknown) => isNotFound(err));
      });
    });

    test('answers typed errors: NotFound, AlreadyExists, Conflict, Invalid', async () => {
      await withClient(protocol, async (c) => {
        const ns = `errors-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        const nf = await cms.get('missing').catch((e: unknown) => e);
        assert.ok(nf instanceof ApiStatusError);
        assert.equal(nf.code, 404);
        assert.equal(nf.reason, 'NotFound');
        assert.equal(nf.message, 'configmaps "missing" not found');
        assert.equal(nf.details?.name, 'missing');

        const first = await cms.create({ metadata: { name: 'dup' } });
        await assert.rejects(cms.create({ metadata: { name: 'dup' } }), (e: unknown) => isAlreadyExists(e) && !isNotFound(e));

        await cms.update({ ...first, data: { x: 'y' } });
        await assert.rejects(cms.update({ ...first, data: { x: 'z' } }), (e: unknown) => isConflict(e));

        await assert.rejects(cms.create({ metadata: { name: 'Bad_Name' } }), (e: unknown) => isInvalid(e) && (e as ApiStatusError).code === 422);
      });
    });

    test('patches with merge, JSON and strategic patches, and honours dryRun', async () => {
      await withClient(protocol, async (c) => {
        const ns = `patch-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        await cms.create({ metadata: { name: 'p', labels: { a: '1' } }, data: { k: 'v' } });
        const merged = await cms.patch('p', 'merge', { metadata: { labels: { b: '2' } } });
        assert.deepEqual(merged.metadata?.labels, { a: '1', b: '2' });
        const jsonPatched = await cms.patch('p', 'json', [{ op: 'replace', path: '/data/k', value: 'w' }]);
        assert.equal(jsonPatched.data?.['k'], 'w');
        const smp = await cms.patch('p', 'strategic', { data: { extra: 'e' } });
        assert.deepEqual(smp.data, { k: 'w', extra: 'e' });
        const dry = await cms.patch('p', 'merge', { data: { k: 'dry' } }, { dryRun: true });
        assert.equal(dry.data?.['k'], 'dry');
        assert.equal((await cms.get('p')).data?.['k'], 'w');
      });
    });

    test('reads and writes subresources: status, scale and binding', async () => {
      await withClient(protocol, async (c) => {
        const ns = `sub-${protocol}`;
        await createNamespace(c, ns);
        const pods = c.resource<Pod>(PODS, ns);
        const pod = await pods.create({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
        const withStatus = await pods.updateStatus({ ...pod, status: { phase: 'Running' }, spec: { ...pod.spec!, activeDeadlineSeconds: 5 } });
        assert.equal(withStatus.status?.phase, 'Running');
        assert.equal(withStatus.spec?.activeDeadlineSeconds, undefined, 'status updates ignore spec');
        const patched = await pods.patchStatus('p', 'merge', { status: { message: 'hi' } });
        assert.equal(patched.status?.message, 'hi');

        const bound = await pods.createSubresource<Status>('p', 'binding', {
          apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-1' },
        } as never);
        assert.equal(bound.status, 'Success');
        assert.equal((await pods.get('p')).spec?.nodeName, 'node-1');

        const deploys = c.resource<Deployment>(DEPLOYMENTS, ns);
        await deploys.create({
          metadata: { name: 'd' },
          spec: {
            replicas: 1, selector: { matchLabels: { app: 'd' } },
            template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
          },
        });
        const scale = await deploys.getSubresource<{ spec: { replicas: number }; metadata: Record<string, unknown> }>('d', 'scale');
        assert.equal(scale.spec.replicas, 1);
        await deploys.updateSubresource('d', 'scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: scale.metadata, spec: { replicas: 3 } } as never);
        assert.equal((await deploys.get('d')).spec?.replicas, 3);
      });
    });

    test('lists with selectors and pagination, and deletes a collection', async () => {
      await withClient(protocol, async (c) => {
        const ns = `coll-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        for (let i = 0; i < 7; i++) await cms.create({ metadata: { name: `c${i}`, labels: { parity: i % 2 === 0 ? 'even' : 'odd' } } });
        assert.equal((await cms.list({ labelSelector: 'parity=even' })).items.length, 4);
        assert.equal((await cms.list({ fieldSelector: 'metadata.name=c3' })).items.length, 1);
        const names: string[] = [];
        let cont: string | undefined;
        let pages = 0;
        do {
          const page = await cms.list({ limit: 3, ...(cont ? { continue: cont } : {}) });
          pages++;
          names.push(...page.items.map((i) => i.metadata!.name!));
          cont = page.metadata?.continue || undefined;
        } while (cont);
        assert.equal(pages, 3);
        assert.deepEqual(names.sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
        await cms.deleteCollection({ labelSelector: 'parity=odd' });
        assert.deepEqual((await cms.list()).items.map((i) => i.metadata?.name).sort(), ['c0', 'c2', 'c4', 'c6']);
      });
    });

    test('watches events line by line and stops on request', async () => {
      await withClient(protocol, async (c) => {
        const ns = `watch-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        const rv = (await cms.list()).metadata?.resourceVersion;
        const w = await cms.watch({ resourceVersion: rv, allowWatchBookmarks: true });
        const seen: string[] = [];
        const done = (async () => {
          for await (const ev of w) {
            if (ev.type === 'BOOKMARK') continue;
            seen.push(`${ev.type} ${(ev.object as ConfigMap).metadata?.name}`);
            if (seen.length === 3) w.stop();
          }
        })();
        await cms.create({ metadata: { name: 'w' } });
        await cms.patch('w', 'merge', { data: { a: 'b' } });
        await cms.delete('w');
        await done;
        assert.deepEqual(seen, ['ADDED w', 'MODIFIED w', 'DELETED w']);
        assert.ok(w.stopped);
      });
    });

    test('a watch from a compacted resourceVersion yields a 410 Expired ERROR event', async () => {
      await withClient(protocol, async (c) => {
        const ns = `gone-${protocol}`;
        await createNamespace(c, ns);
        const cms = c.resource<ConfigMap>(CONFIGMAPS, ns);
        const old = (await cms.list()).metadata!.resourceVersion!;
        for (let i = 0; i < 12; i++) await cms.create({ metadata: { name: `g${i}` } });
        let status: Status | undefined;
        try {
          const w = await cms.watch({ resourceVersion: old });
          for await (const ev of w as AsyncIterable<WatchEvent<ConfigMap>>) {
            if (ev.type === 'ERROR') {
              status = ev.object;
              break;
            }
          }
          w.stop();
        } catch (err) {
          // A server may also refuse the watch outright with HTTP 410.
          assert.ok(isExpiredOrGone(err), String(err));
          status = (err as ApiStatusError).status;
        }
        assert.ok(status, 'expected an ERROR event');
        assert.equal(status.code, 410);
        assert.ok(isResourceExpired(new ApiStatusError(status)));
        assert.match(status.message ?? '', /too old resource version/);
      });
    });
  });
}

describe('REST client requests', () => {
  test('needs a namespace for namespaced objects and a name for single objects', async () => {
    await withClient('http2', async (c) => {
      assert.throws(() => c.resource(CONFIGMAPS).get('x'), /a namespace is required/);
      assert.throws(() => c.resource(CONFIGMAPS, 'default').get(''), /a name is required/);
      // Cluster-scoped resources ignore a bound namespace.
      const ns = await c.resource(NAMESPACES, 'ignored').get('default');
      assert.equal(ns.metadata?.name, 'default');
    });
  });

  test('a client with only an unknown bearer token is answered 401 Unauthorized', async () => {
    const ca = await readFile(join(server.dir, 'tls', 'ca.crt'), 'utf8');
    const anon = new RestClient({ server: server.url, caPem: ca, token: 'not-a-real-token' });
    try {
      const err = await anon.resource(CONFIGMAPS, 'default').list().catch((e: unknown) => e);
      assert.ok(err instanceof ApiStatusError);
      assert.equal(err.code, 401);
    } finally {
      await anon.dispose();
    }
  });
});

describe('Retry-After', () => {
  let fake: Http2SecureServer;
  let url: string;
  let ca: string;
  let replies: { status: number; headers: Record<string, string>; body: string }[] = [];
  let requests = 0;
  const sessions = new Set<ServerHttp2Session>();

  before(async () => {
    const tls = join(server.dir, 'tls');
    ca = await readFile(join(tls, 'ca.crt'), 'utf8');
    fake = createSecureServer({ cert: await readFile(join(tls, 'server.crt')), key: await readFile(join(tls, 'server.key')), allowHTTP1: true });
    fake.on('session', (sess) => {
      sessions.add(sess);
      sess.on('close', () => sessions.delete(sess));
    });
    fake.on('request', (_req, res) => {
      requests++;
      const r = replies.shift() ?? { status: 200, headers: {}, body: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}' };
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  const tooMany = (retryAfter?: string): { status: number; headers: Record<string, string>; body: string } => ({
    status: 429,
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
    body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'slow down', reason: 'TooManyRequests', code: 429 }),
  });

  test('retries 429 and 5xx replies that carry Retry-After, then succeeds', async () => {
    const c = new RestClient({ server: url, caPem: ca, maxRetryWaitMs: 5 });
    try {
      replies = [tooMany('1'), { status: 503, headers: { 'retry-after': '2' }, body: 'busy' }];
      requests = 0;
      const cm = await c.resource(CONFIGMAPS, 'default').get('x');
      assert.equal(cm.metadata?.name, 'x');
      assert.equal(requests, 3);
    } finally {
      await c.dispose();
    }
  });

  test('gives up after maxRetries and surfaces the 429 as a typed error', async () => {
    const c = new RestClient({ server: url, caPem: ca, maxRetryWaitMs: 1, maxRetries: 2 });
    try {
      replies = [tooMany('1'), tooMany('1'), tooMany('1'), tooMany('1')];
      requests = 0;
      const err = await c.resource(CONFIGMAPS, 'default').get('x').catch((e: unknown) => e);
      assert.ok(isTooManyRequests(err));
      assert.equal(requests, 3);
      replies = [];
    } finally {
      await c.dispose();
    }
  });

  test('does not retry a 429 without Retry-After, and synthesizes a Status for non-Status bodies', async () => {
    const c = new RestClient({ server: url, caPem: ca, protocol: 'http1' });
    try {
      replies = [tooMany(), { status: 500, headers: {}, body: 'oops' }];
      requests = 0;
      assert.ok(isTooManyRequests(await c.resource(CONFIGMAPS, 'default').get('x').catch((e: unknown) => e)));
      const err = await c.resource(CONFIGMAPS, 'default').get('x').catch((e: unknown) => e);
      assert.ok(err instanceof ApiStatusError);
      assert.equal(err.code, 500);
      assert.equal(err.reason, 'InternalError');
      assert.equal(err.details?.causes?.[0]?.message, 'oops');
      assert.equal(requests, 2);
    } finally {
      await c.dispose();
    }
  });

  test("opens Go's HTTP/2 flow-control windows: 4 MiB per stream, 1 GiB per connection", async () => {
    const c = new RestClient({ server: url, caPem: ca });
    try {
      await c.resource(CONFIGMAPS, 'default').get('x');
      const sess = [...sessions].at(-1)!;
      assert.equal(sess.remoteSettings.initialWindowSize, 4 << 20);
      // The server may send this much more on the connection before the client acknowledges any.
      assert.ok((sess.state.remoteWindowSize ?? 0) > 512 << 20, `remote window ${sess.state.remoteWindowSize}`);
    } finally {
      await c.dispose();
    }
  });

  test('reconnects after the server closes the HTTP/2 session', async () => {
    const c = new RestClient({ server: url, caPem: ca });
    try {
      await c.resource(CONFIGMAPS, 'default').get('x');
      // Close every session from the server side (GOAWAY), then ask again.
      assert.ok(sessions.size > 0);
      const closed = [...sessions].map((sess) => new Promise((resolve) => sess.once('close', resolve)));
      for (const sess of sessions) sess.close();
      await Promise.all(closed);
      const cm = await c.resource(CONFIGMAPS, 'default').get('x');
      assert.equal(cm.metadata?.name, 'x');
    } finally {
      await c.dispose();
    }
  });
});

describe('HTTP/2 health check', () => {
  test('a watch through a peer that stops answering fails after a ping timeout', async () => {
    // A TCP relay to the real server that can be frozen, like a network path that silently died.
    const target = new URL(server.url);
    let frozen = false;
    const sockets = new Set<Socket>();
    const relay = createServer((down) => {
      const up = connect(Number(target.port), target.hostname);
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      down.on('data', (d) => { if (!frozen) up.write(d); });
      up.on('data', (d) => { if (!frozen) down.write(d); });
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const ca = await readFile(join(server.dir, 'tls', 'ca.crt'), 'utf8');
    const cfg = await readKubeconfig(server.kubeconfig);
    const c = new RestClient({
      server: `https://127.0.0.1:${(relay.address() as AddressInfo).port}`, caPem: ca,
      certPem: cfg.clientCertPem!, keyPem: cfg.clientKeyPem!, healthCheckIntervalMs: 50, pingTimeoutMs: 100,
    });
    try {
      const w = await c.resource(CONFIGMAPS, 'default').watch({});
      frozen = true;
      const started = Date.now();
      await assert.rejects((async () => { for await (const _ of w) { /* wait */ } })());
      assert.ok(Date.now() - started < 5000);
    } finally {
      await c.dispose();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
