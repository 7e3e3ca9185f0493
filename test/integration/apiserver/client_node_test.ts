// @kubernetes/client-node 1.4 against an in-process tkube API server: typed CRUD, list+watch, and
// an informer that recovers from 410 Expired by relisting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;

before(async () => {
  s = await startTestServer({ watchCacheHistory: 5 });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
});

after(async () => {
  await s?.stop();
});

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('client-node', () => {
  test('CRUD of a ConfigMap with typed errors', async () => {
    const namespace = 'default';
    const created = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-crud' }, data: { a: '1' } } });
    assert.equal(created.metadata?.name, 'cn-crud');
    const read = await core.readNamespacedConfigMap({ namespace, name: 'cn-crud' });
    assert.equal(read.data?.['a'], '1');
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ namespace, name: 'cn-crud', body: read });
    assert.equal(replaced.data?.['a'], '2');
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));
    const list = await core.listNamespacedConfigMap({ namespace });
    assert.ok(list.items.some((c) => c.metadata?.name === 'cn-crud'));
    await assert.rejects(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-crud' } } }), (err: unknown) => {
      const e = err as { code?: number; body?: string };
      assert.equal(e.code, 409);
      assert.match(String(e.body), /"reason":"AlreadyExists"/);
      return true;
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'cn-crud' });
    await assert.rejects(core.readNamespacedConfigMap({ namespace, name: 'cn-crud' }), (err: unknown) => (err as { code?: number }).code === 404);
  });

  test('list then watch from the list resourceVersion', async () => {
    const namespace = 'default';
    const list = await core.listNamespacedConfigMap({ namespace });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: list.metadata?.resourceVersion },
      (type: string, obj: k8s.V1ConfigMap) => { if (obj.metadata?.name === 'cn-watch') events.push(type); }, () => undefined);
    try {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-watch' } } });
      await core.patchNamespacedConfigMap({ namespace, name: 'cn-watch', body: [{ op: 'add', path: '/data', value: { x: 'y' } }] });
      await core.deleteNamespacedConfigMap({ namespace, name: 'cn-watch' });
      await until('three watch events', () => events.length >= 3);
      assert.deepEqual(events, ['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      req.abort();
    }
  });

  test('a watch from a resourceVersion beyond the history gets 410 Expired', async () => {
    const namespace = 'default';
    const first = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-old' } } });
    for (let i = 0; i < 8; i++) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cn-fill-${i}` } } });
    let error: { code?: number; reason?: string } | undefined;
    const watch = new k8s.Watch(kc);
    let done = false;
    await watch.watch(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: first.metadata?.resourceVersion },
      (type: string, obj: { code?: number; reason?: string }) => { if (type === 'ERROR') error = obj; }, () => { done = true; });
    await until('the watch to end', () => done);
    assert.equal(error?.code, 410);
    assert.equal(error?.reason, 'Expired');
  });

  test('an informer relists after 410 and converges', async () => {
    const namespace = 'default';
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace }));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'inf-a' } } });
    await until('inf-a in the informer cache', () => informer.get('inf-a', namespace) !== undefined);
    await informer.stop();
    // While the informer is stopped, more changes happen than the watch cache keeps.
    await core.deleteNamespacedConfigMap({ namespace, name: 'inf-a' });
    for (let i = 0; i < 8; i++) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `inf-b${i}` } } });
    await informer.start();
    try {
      await until('the informer to converge after relisting', () =>
        informer.get('inf-a', namespace) === undefined && informer.get('inf-b7', namespace) !== undefined);
    } finally {
      await informer.stop();
    }
  });
});
