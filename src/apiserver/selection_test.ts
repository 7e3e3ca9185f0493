// Tests of selections: the name a selection pins (and the cache key it narrows to), and field values
// shared across matches of one object without mixing up resources that share a cache.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFor } from '../api/resource_table.ts';
import { parseSelection, selectionKeyPrefix } from './selection.ts';
import { GenericStore, decodeStored } from './registry/generic_store.ts';
import { WatchCache } from './watch_cache.ts';
import { MemoryStore } from '../storage/drivers/memory.ts';

const pods = resourceFor('', 'v1', 'pods')!;
const nodes = resourceFor('', 'v1', 'nodes')!;
const coreEvents = resourceFor('', 'v1', 'events')!;
const events = resourceFor('events.k8s.io', 'v1', 'events')!;

function storeOf(info: typeof pods): GenericStore {
  const store = new MemoryStore({ compactionWindowMs: 0 });
  return new GenericStore(info, store, new WatchCache(store, '/registry/x/', decodeStored));
}

describe('selection', () => {
  test('a metadata.name field selector in a namespace narrows to that key', () => {
    const sel = parseSelection(pods, 'ns', new URLSearchParams({ fieldSelector: 'metadata.name=web' }));
    assert.equal(sel.name, 'web');
    assert.equal(sel.trivial, false);
    assert.equal(selectionKeyPrefix(storeOf(pods), sel), '/registry/pods/ns/web');
    assert.equal(sel.matches({ metadata: { name: 'web', namespace: 'ns' } }), true);
    assert.equal(sel.matches({ metadata: { name: 'web2', namespace: 'ns' } }), false, 'the key is a prefix of other keys; matches decides');
  });

  test('without a namespace a namespaced name cannot narrow; a cluster-scoped one can', () => {
    const all = parseSelection(pods, '', new URLSearchParams({ fieldSelector: 'metadata.name=web' }));
    assert.equal(selectionKeyPrefix(storeOf(pods), all), '/registry/pods/');
    const node = parseSelection(nodes, '', new URLSearchParams({ fieldSelector: 'metadata.name=n1' }));
    assert.equal(selectionKeyPrefix(storeOf(nodes), node), '/registry/nodes/n1');
    const plain = parseSelection(pods, 'ns', new URLSearchParams({ labelSelector: 'app=x' }));
    assert.equal(plain.name, '');
    assert.equal(selectionKeyPrefix(storeOf(pods), plain), '/registry/pods/ns/');
  });

  test('a legacy path name pins the name too', () => {
    const sel = parseSelection(pods, 'ns', new URLSearchParams(), 'web');
    assert.equal(sel.name, 'web');
    assert.equal(selectionKeyPrefix(storeOf(pods), sel), '/registry/pods/ns/web');
  });

  test('field values are per resource when two APIs match one object', () => {
    const obj = { metadata: { name: 'e', namespace: 'ns' }, involvedObject: { name: 'core-name' }, regarding: { name: 'v1-name' } };
    const core = parseSelection(coreEvents, 'ns', new URLSearchParams({ fieldSelector: 'involvedObject.name=core-name' }));
    const v1 = parseSelection(events, 'ns', new URLSearchParams({ fieldSelector: 'regarding.name=v1-name' }));
    for (let i = 0; i < 2; i++) {
      assert.equal(core.matches(obj), true);
      assert.equal(v1.matches(obj), true);
    }
  });
});
