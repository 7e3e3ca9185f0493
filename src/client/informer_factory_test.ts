// The informer factory against the real API server: one informer per resource however often it is
// asked for, a namespace index on each, bounded cache sync, selectors and namespace restriction.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Secret } from '../api/types/core_v1.ts';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { OWNER_UID_INDEX, NAMESPACE_INDEX, ownerUidIndexFunc } from './indexer.ts';
import { SharedInformerFactory } from './informer_factory.ts';
import { RestClient } from './rest_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';

const CONFIGMAPS = resourceDescriptor('v1', 'configmaps');
const SECRETS = resourceDescriptor('v1', 'secrets');
const NAMESPACES = resourceDescriptor('v1', 'namespaces');

let server: TestServer;
let client: RestClient;

before(async () => {
  server = await startTestServer();
  client = await RestClient.fromKubeconfig(server.kubeconfig);
  for (const ns of ['fa', 'fb']) {
    await client.resource(NAMESPACES).create({ metadata: { name: ns } });
    await client.resource<ConfigMap>(CONFIGMAPS, ns).create({ metadata: { name: 'one', labels: { tier: 'web' } } });
    await client.resource<ConfigMap>(CONFIGMAPS, ns).create({ metadata: { name: 'two', labels: { tier: 'db' } } });
  }
  await client.resource<Secret>(SECRETS, 'fa').create({ metadata: { name: 's' }, stringData: { k: 'v' } });
});

after(async () => {
  await client.dispose();
  await server.stop();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SharedInformerFactory', () => {
  test('shares one informer per resource, indexes by namespace and syncs', async () => {
    const factory = new SharedInformerFactory(client);
    try {
      const a = factory.informerFor<ConfigMap>(CONFIGMAPS);
      const b = factory.informerFor<ConfigMap>(CONFIGMAPS, { indexers: { [OWNER_UID_INDEX]: ownerUidIndexFunc } });
      assert.equal(a, b);
      assert.deepEqual(a.indexer.indexNames().sort(), [NAMESPACE_INDEX, OWNER_UID_INDEX].sort());
      const secrets = factory.informerFor<Secret>(SECRETS);
      factory.start();
      assert.ok(await factory.waitForCacheSync(10_000));
      assert.deepEqual(a.lister.listNamespace('fa').map((o) => o.metadata!.name).sort(), ['one', 'two']);
      assert.deepEqual(a.indexer.byIndex(NAMESPACE_INDEX, 'fb').map((o) => o.metadata!.name).sort(), ['one', 'two']);
      assert.equal(secrets.lister.get('fa', 's')?.kind, 'Secret');
      assert.equal(factory.informers().length, 2);

      // An informer requested after start runs on the next start().
      const namespaces = factory.informerFor(NAMESPACES);
      assert.equal(namespaces.started, false);
      factory.start();
      assert.ok(await factory.waitForCacheSync(10_000));
      assert.ok(namespaces.lister.get('', 'fb'));
    } finally {
      await factory.dispose();
    }
    assert.throws(() => factory.informerFor(CONFIGMAPS), /shut down/);
  });

  test('restricts to a namespace and to selectors', async () => {
    const factory = new SharedInformerFactory(client, { namespace: 'fb', labelSelector: 'tier=web' });
    try {
      const cms = factory.informerFor<ConfigMap>(CONFIGMAPS);
      factory.start();
      assert.ok(await factory.waitForCacheSync(10_000));
      assert.deepEqual(cms.indexer.listKeys(), ['fb/one']);
      await client.resource<ConfigMap>(CONFIGMAPS, 'fb').create({ metadata: { name: 'three', labels: { tier: 'web' } } });
      await client.resource<ConfigMap>(CONFIGMAPS, 'fa').create({ metadata: { name: 'three', labels: { tier: 'web' } } });
      await waitFor('fb/three', () => cms.indexer.getByKey('fb/three') !== undefined);
      // Selector transitions: relabelling an object out of the selection deletes it from the cache.
      await client.resource<ConfigMap>(CONFIGMAPS, 'fb').patch('one', 'merge', { metadata: { labels: { tier: 'db' } } });
      await waitFor('fb/one to leave', () => cms.indexer.getByKey('fb/one') === undefined);
      assert.deepEqual(cms.indexer.listKeys(), ['fb/three']);
    } finally {
      await factory.dispose();
    }
  });

  test('applies a transform before caching', async () => {
    const factory = new SharedInformerFactory(client, {
      transform: (o) => {
        if (o.metadata) delete o.metadata.managedFields;
        return o;
      },
    });
    try {
      const cms = factory.informerFor<ConfigMap>(CONFIGMAPS);
      factory.start();
      assert.ok(await factory.waitForCacheSync(10_000));
      assert.ok(cms.indexer.list().length >= 4);
      assert.ok(cms.indexer.list().every((o) => o.metadata?.managedFields === undefined));
    } finally {
      await factory.dispose();
    }
  });
});
