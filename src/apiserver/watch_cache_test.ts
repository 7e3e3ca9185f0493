// Tests of the watch cache's serving forms: lists by prefix in key order, the served bytes equal to
// encoding the decoded object, shared watch frames, and DELETED events at the delete's revision.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../storage/drivers/memory.ts';
import { decodeStored } from './registry/generic_store.ts';
import { encodeObject } from './stored_json.ts';
import { WatchCache, type CacheEvent } from './watch_cache.ts';

const PREFIX = '/registry/things/';

function thing(ns: string, name: string, extra: Record<string, unknown> = {}): Buffer {
  return encodeObject({ apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: ns, labels: { a: 'é"\\' } }, ...extra }).stored;
}

describe('WatchCache', () => {
  let store: MemoryStore;
  let cache: WatchCache;

  before(async () => {
    store = new MemoryStore({ compactionWindowMs: 0 });
    for (const [ns, name] of [['b', 'x'], ['a', 'z'], ['a', 'y'], ['ab', 'w']] as const) {
      await store.create(`${PREFIX}${ns}/${name}`, thing(ns, name));
    }
    cache = new WatchCache(store, PREFIX, decodeStored);
    await cache.start();
  });

  after(async () => {
    cache.dispose();
    await store.close();
  });

  test('lists everything or one namespace in key order', () => {
    assert.deepEqual(cache.list().map((c) => c.key), [`${PREFIX}a/y`, `${PREFIX}a/z`, `${PREFIX}ab/w`, `${PREFIX}b/x`]);
    assert.deepEqual(cache.list(`${PREFIX}a/`).map((c) => c.key), [`${PREFIX}a/y`, `${PREFIX}a/z`]);
    assert.deepEqual(cache.list(`${PREFIX}c/`), []);
  });

  test('serves each object as JSON.stringify of the decoded object', () => {
    for (const c of cache.list()) {
      assert.equal(c.bytes().toString(), JSON.stringify(c.obj));
      assert.equal(c.json(), JSON.stringify(c.obj));
      assert.equal(c.frame('MODIFIED').toString(), `{"type":"MODIFIED","object":${JSON.stringify(c.obj)}}\n`);
      assert.equal(c.frame('ADDED').toString(), `{"type":"ADDED","object":${JSON.stringify(c.obj)}}\n`);
      assert.equal(c.frame('MODIFIED'), c.frame('MODIFIED'), 'the first frame is encoded once');
    }
  });

  test('follows writes: modified objects keep their place, new and deleted ones change the order', async () => {
    const events: CacheEvent[] = [];
    const sub = cache.watch({ fromRevision: cache.revision }, { onEvent: (e) => events.push(e), onClose: () => undefined });
    const cur = await store.get(`${PREFIX}a/y`);
    await store.update(`${PREFIX}a/y`, thing('a', 'y', { spec: { n: 1 } }), cur.kv!.modRevision);
    await store.create(`${PREFIX}a/x`, thing('a', 'x'));
    const del = await store.delete(`${PREFIX}b/x`);
    await cache.waitForRevision(del.revision);
    sub.dispose();
    assert.deepEqual(events.map((e) => e.type), ['MODIFIED', 'ADDED', 'DELETED']);
    assert.deepEqual(cache.list().map((c) => c.key), [`${PREFIX}a/x`, `${PREFIX}a/y`, `${PREFIX}a/z`, `${PREFIX}ab/w`]);
    assert.deepEqual(cache.get(`${PREFIX}a/y`)!.obj['spec'], { n: 1 });
    const deleted = events[2]!.object;
    assert.equal((deleted.obj['metadata'] as Record<string, unknown>)['resourceVersion'], String(del.revision));
    assert.equal(deleted.bytes().toString(), JSON.stringify(deleted.obj));
    assert.equal((events[2]!.prev!.obj['metadata'] as Record<string, unknown>)['name'], 'x');
  });
});
