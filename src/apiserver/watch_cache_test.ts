// Tests of the watch cache's serving forms: lists by prefix in key order, the served bytes equal to
// encoding the decoded object, shared watch frames, DELETED events at the delete's revision, and
// written objects adopted instead of decoded, with the same answers.
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

  test('keeps an adopted written object, served and copied exactly as the decoded one would be', async () => {
    const key = `${PREFIX}a/z`;
    const obj: Record<string, unknown> = { apiVersion: 'v1', kind: 'Thing', metadata: { name: 'z', namespace: 'a', labels: { a: 'é"\\' } }, spec: { n: 2 } };
    const encoded = encodeObject(obj);
    cache.adopt(key, obj, encoded);
    const cur = await store.get(key);
    const res = await store.update(key, encoded.stored, cur.kv!.modRevision);
    await cache.waitForRevision(res.revision);
    const c = cache.get(key)!;
    assert.equal(c.obj, obj, 'the written object itself');
    const decoded = decodeStored((await store.get(key)).kv!);
    assert.equal(JSON.stringify(c.obj), JSON.stringify(decoded));
    assert.equal(c.bytes().toString(), JSON.stringify(decoded));
    const copy = c.copy();
    assert.deepEqual(copy, decoded);
    assert.notEqual(copy['spec'], obj['spec']);
  });

  test('decodes an event whose bytes are not the adopted ones, and forgets abandoned writes', async () => {
    const key = `${PREFIX}a/z`;
    const mine: Record<string, unknown> = { apiVersion: 'v1', kind: 'Thing', metadata: { name: 'z', namespace: 'a' }, spec: { n: 3 } };
    cache.adopt(key, mine, encodeObject(mine));
    const cur = await store.get(key);
    const res = await store.update(key, thing('a', 'z', { spec: { n: 4 } }), cur.kv!.modRevision);
    await cache.waitForRevision(res.revision);
    assert.notEqual(cache.get(key)!.obj, mine);
    assert.deepEqual(cache.get(key)!.obj['spec'], { n: 4 });
    // The write that lost is abandoned; a later write of the same bytes is decoded, not adopted.
    cache.abandon(key, mine);
    const again = await store.update(key, encodeObject(mine).stored, res.revision);
    await cache.waitForRevision(again.revision);
    assert.notEqual(cache.get(key)!.obj, mine);
    assert.deepEqual(cache.get(key)!.obj['spec'], { n: 3 });
  });
});
