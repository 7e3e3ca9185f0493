// Shared informers against the real API server: the cache converges with the server after writes,
// handlers see adds/updates/deletes, a 410 on re-watch leads to a relist whose vanished objects
// arrive as tombstones, late handlers get a replay, and resync re-delivers cached objects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from '../api/types/core_v1.ts';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { FakeClock } from './clock.ts';
import { NAMESPACE_INDEX, namespaceIndexFunc } from './indexer.ts';
import { listerWatcherFor } from './informer_factory.ts';
import type { ListerWatcher } from './reflector.ts';
import { RestClient } from './rest_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';
import type { ResourceClient } from './resource_client.ts';
import { SharedIndexInformer, waitForCacheSync } from './shared_informer.ts';
import { DeletedFinalStateUnknown } from './store.ts';
import type { WatchStream } from './watch_stream.ts';

const CONFIGMAPS = resourceDescriptor('v1', 'configmaps');

let server: TestServer;
let client: RestClient;

before(async () => {
  server = await startTestServer({ watchCacheHistory: 5 });
  client = await RestClient.fromKubeconfig(server.kubeconfig);
});

after(async () => {
  await client.dispose();
  await server.stop();
});

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function namespace(name: string): Promise<ResourceClient<ConfigMap>> {
  await client.resource(resourceDescriptor('v1', 'namespaces')).create({ metadata: { name } });
  return client.resource<ConfigMap>(CONFIGMAPS, name);
}

/** Names and resourceVersions in the cache vs on the server. */
async function converged(informer: SharedIndexInformer<ConfigMap>, cms: ResourceClient<ConfigMap>): Promise<boolean> {
  const server = (await cms.list()).items.map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();
  const cache = informer.indexer.list().map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();
  return JSON.stringify(server) === JSON.stringify(cache);
}

function recorder(): { log: string[]; handler: Parameters<SharedIndexInformer<ConfigMap>['addEventHandler']>[0] } {
  const log: string[] = [];
  return {
    log,
    handler: {
      onAdd: (o, initial) => log.push(`add ${o.metadata!.name}${initial ? ' initial' : ''}`),
      onUpdate: (o, n) => log.push(`update ${o.metadata!.name} ${o.metadata!.resourceVersion === n.metadata!.resourceVersion ? 'same' : 'changed'}`),
      onDelete: (o) => log.push(o instanceof DeletedFinalStateUnknown ? `tombstone ${o.key}` : `delete ${o.metadata!.name}`),
    },
  };
}

describe('SharedIndexInformer', () => {
  test('lists, then follows writes until the cache matches the server', async () => {
    const cms = await namespace('inf-converge');
    await cms.create({ metadata: { name: 'pre' } });
    const informer = new SharedIndexInformer<ConfigMap>(listerWatcherFor(cms), {
      name: 'configmaps', indexers: { [NAMESPACE_INDEX]: namespaceIndexFunc },
    });
    const r = recorder();
    informer.addEventHandler(r.handler);
    try {
      informer.run();
      assert.ok(await waitForCacheSync([informer], 10_000));
      assert.deepEqual(r.log, ['add pre initial']);
      assert.equal(informer.indexer.getByKey('inf-converge/pre')?.kind, 'ConfigMap', 'list items get their TypeMeta');

      await cms.create({ metadata: { name: 'a' } });
      await cms.patch('a', 'merge', { data: { k: 'v' } });
      await cms.create({ metadata: { name: 'b' } });
      await cms.delete('pre');
      await waitFor('convergence', () => converged(informer, cms));
      await waitFor('all events', () => r.log.length === 5);
      assert.deepEqual(r.log, ['add pre initial', 'add a', 'update a changed', 'add b', 'delete pre']);
      assert.equal(informer.indexer.getByKey('inf-converge/a')?.data?.['k'], 'v');
      assert.deepEqual(informer.indexer.byIndex(NAMESPACE_INDEX, 'inf-converge').map((o) => o.metadata!.name).sort(), ['a', 'b']);
      assert.equal(informer.lister.get('inf-converge', 'b')?.metadata?.name, 'b');
      assert.match(informer.lastSyncResourceVersion, /^\d+$/);
    } finally {
      await informer.dispose();
    }
  });

  test('relists after a 410 on re-watch and reports vanished objects as tombstones', async () => {
    const cms = await namespace('inf-relist');
    await cms.create({ metadata: { name: 'doomed' } });
    await cms.create({ metadata: { name: 'kept' } });
    // A ListerWatcher whose watches the test can cut and hold back, to open a gap in the history.
    const inner = listerWatcherFor(cms);
    let lists = 0;
    let current: WatchStream<ConfigMap> | undefined;
    let gate: Promise<void> | undefined;
    let openGate: () => void = () => {};
    const lw: ListerWatcher<ConfigMap> = {
      list: (opts) => { lists++; return inner.list(opts); },
      watch: async (opts) => {
        await gate;
        current = await inner.watch(opts);
        return current;
      },
    };
    const informer = new SharedIndexInformer<ConfigMap>(lw, { name: 'configmaps', backoffInitialMs: 20, backoffMaxMs: 100 });
    const r = recorder();
    informer.addEventHandler(r.handler);
    try {
      informer.run();
      assert.ok(await waitForCacheSync([informer], 10_000));
      await cms.create({ metadata: { name: 'seen' } });
      await waitFor('the watch to deliver', () => informer.indexer.getByKey('inf-relist/seen') !== undefined);
      assert.equal(lists, 1);

      gate = new Promise<void>((resolve) => { openGate = resolve; });
      current!.stop();
      await cms.delete('doomed');
      for (let i = 0; i < 10; i++) await cms.create({ metadata: { name: `gap-${i}` } });
      openGate();

      await waitFor('relist', () => lists >= 2);
      await waitFor('convergence', () => converged(informer, cms));
      assert.ok(r.log.includes('tombstone inf-relist/doomed'), r.log.join('\n'));
      assert.ok(r.log.includes('update kept same'), 'objects present before and after a relist are re-delivered as updates');
      for (let i = 0; i < 10; i++) assert.ok(r.log.includes(`add gap-${i}`));
      // Once relisted, the informer watches again and follows new writes.
      await cms.create({ metadata: { name: 'after' } });
      await waitFor('a write after the relist', () => informer.indexer.getByKey('inf-relist/after') !== undefined);
    } finally {
      openGate();
      await informer.dispose();
    }
  });

  test('replays the cache to a handler added after sync, and removes handlers on dispose', async () => {
    const cms = await namespace('inf-late');
    await cms.create({ metadata: { name: 'x' } });
    await cms.create({ metadata: { name: 'y' } });
    const informer = new SharedIndexInformer<ConfigMap>(listerWatcherFor(cms));
    try {
      informer.run();
      assert.ok(await waitForCacheSync([informer], 10_000));
      const late = recorder();
      const reg = informer.addEventHandler(late.handler);
      assert.ok(reg.hasSynced());
      assert.deepEqual(late.log.sort(), ['add x initial', 'add y initial']);
      reg.dispose();
      await cms.create({ metadata: { name: 'z' } });
      await waitFor('z cached', () => informer.indexer.getByKey('inf-late/z') !== undefined);
      assert.equal(late.log.length, 2, 'a removed handler hears nothing more');
    } finally {
      await informer.dispose();
    }
  });

  test('resync re-delivers every cached object as an update on the handler period', async () => {
    const cms = await namespace('inf-resync');
    await cms.create({ metadata: { name: 'r' } });
    const clock = new FakeClock();
    const informer = new SharedIndexInformer<ConfigMap>(listerWatcherFor(cms), { clock });
    const r = recorder();
    informer.addEventHandler(r.handler, 30_000);
    try {
      informer.run();
      assert.ok(await waitForCacheSync([informer], 10_000));
      clock.step(29_999);
      assert.deepEqual(r.log, ['add r initial']);
      clock.step(1);
      assert.deepEqual(r.log, ['add r initial', 'update r same']);
      clock.step(30_000);
      assert.equal(r.log.length, 3);
    } finally {
      await informer.dispose();
    }
  });

  test('waitForCacheSync gives up after its timeout', async () => {
    const never: ListerWatcher<ConfigMap> = {
      list: (opts) => new Promise((_resolve, reject) => opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason))),
      watch: () => Promise.reject(new Error('unreachable')),
    };
    const informer = new SharedIndexInformer<ConfigMap>(never, { name: 'stuck' });
    try {
      informer.run();
      const started = Date.now();
      assert.equal(await waitForCacheSync([informer], 50), false);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await informer.dispose();
    }
  });
});
