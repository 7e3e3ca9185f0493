// Tests of the registry's write paths that depend on the watch cache: updates that start from a
// cached (possibly stale) state, and generated names that collide.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFor } from '../../api/resource_table.ts';
import { MemoryStore } from '../../storage/drivers/memory.ts';
import { KeyExistsError } from '../../storage/types.ts';
import { ApiError } from '../errors.ts';
import { WatchCache } from '../watch_cache.ts';
import { GenericStore, decodeStored, storagePrefix } from './generic_store.ts';
import type { KObject } from './strategy.ts';

const configmaps = resourceFor('', 'v1', 'configmaps')!;

function cm(name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

function rv(obj: KObject): string {
  return String((obj['metadata'] as Record<string, unknown>)['resourceVersion']);
}

describe('GenericStore with its watch cache', () => {
  let store: MemoryStore;
  let cache: WatchCache;
  let registry: GenericStore;

  beforeEach(async () => {
    store = new MemoryStore({ compactionWindowMs: 0 });
    cache = new WatchCache(store, storagePrefix(configmaps), decodeStored);
    await cache.start();
    registry = new GenericStore(configmaps, store, cache);
  });

  afterEach(async () => {
    cache.dispose();
    await store.close();
  });

  test('an update from a stale cached state retries from storage and keeps the newer write', async () => {
    await registry.create('ns', cm('a', { k: '1' }));
    await cache.waitForRevision(await store.currentRevision());
    cache.dispose(); // the cache keeps its objects but no longer follows storage
    await registry.update('ns', 'a', (cur) => ({ ...cur!, data: { k: '2' } }));
    const { obj } = await registry.update('ns', 'a', (cur) => ({ ...cur!, data: { ...(cur!['data'] as object), other: 'x' } }));
    assert.deepEqual(obj['data'], { k: '2', other: 'x' });
    assert.deepEqual((await registry.get('ns', 'a'))['data'], { k: '2', other: 'x' });
  });

  test('a conditional update naming a revision newer than the cache succeeds', async () => {
    await registry.create('ns', cm('a', { k: '1' }));
    await cache.waitForRevision(await store.currentRevision());
    cache.dispose();
    const second = await registry.update('ns', 'a', (cur) => ({ ...cur!, data: { k: '2' } }));
    const third = await registry.update('ns', 'a', () => cm('a', { k: '3' }, { resourceVersion: rv(second.obj) }));
    assert.deepEqual(third.obj['data'], { k: '3' });
    await assert.rejects(registry.update('ns', 'a', () => cm('a', { k: '4' }, { resourceVersion: rv(second.obj) })),
      (err: unknown) => err instanceof ApiError && err.code === 409);
  });

  test('a no-op against a stale cached state answers with the current object', async () => {
    await registry.create('ns', cm('a', { k: '1' }));
    await cache.waitForRevision(await store.currentRevision());
    cache.dispose();
    const second = await registry.update('ns', 'a', (cur) => ({ ...cur!, data: { k: '2' } }));
    const noop = await registry.update('ns', 'a', () => cm('a', { k: '2' }));
    assert.equal(rv(noop.obj), rv(second.obj));
    assert.deepEqual(noop.obj['data'], { k: '2' });
  });

  test('a generated name that is taken is generated again', async () => {
    let collisions = 1;
    const create = store.create.bind(store);
    store.create = async (key, value) => {
      if (collisions-- > 0) throw new KeyExistsError(key);
      return create(key, value);
    };
    const obj = await registry.create('ns', cm('', { k: '1' }, { generateName: 'gen-' }));
    const name = String((obj['metadata'] as Record<string, unknown>)['name']);
    assert.match(name, /^gen-[a-z0-9]{5}$/);
    assert.deepEqual((await registry.get('ns', name))['data'], { k: '1' });
    assert.equal(collisions, -1, 'the first attempt collided');
  });

  test('written objects are the cache\'s own, read the same as decoding the stored bytes, and copy apart', async () => {
    const created = await registry.create('ns', cm('a', { k: '1' }, { labels: { x: 'y' } }), { fieldManager: 'm' });
    const { obj: updated } = await registry.update('ns', 'a', (cur) => ({ ...cur!, data: { k: '2' } }), { fieldManager: 'm' });
    await cache.waitForRevision(await store.currentRevision());
    const c = cache.get(registry.key('ns', 'a'))!;
    assert.notEqual(c.obj, created);
    assert.equal(c.obj, updated, 'the cache keeps the written object');
    const decoded = decodeStored((await store.get(registry.key('ns', 'a'))).kv!);
    assert.equal(JSON.stringify(updated), JSON.stringify(decoded), 'same members in the same order');
    assert.equal(c.bytes().toString(), JSON.stringify(decoded));
    // An update starts from copies: the cached object does not change.
    const before = JSON.stringify(c.obj);
    await registry.update('ns', 'a', (cur) => { (cur!['data'] as Record<string, string>)['k'] = '3'; return cur!; });
    assert.equal(JSON.stringify(c.obj), before);
  });

  test('a name given by the client that is taken is AlreadyExists', async () => {
    await registry.create('ns', cm('a', { k: '1' }));
    await assert.rejects(registry.create('ns', cm('a', { k: '2' })), (err: unknown) => err instanceof ApiError && err.code === 409 && err.status.reason === 'AlreadyExists');
  });
});
