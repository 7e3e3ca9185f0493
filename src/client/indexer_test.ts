// The informer cache: keys, add/update/delete keeping indexes current, relist replacement, the
// namespace and owner indexes, tombstone helpers and the lister on top.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../api/labels.ts';
import {
  CONTROLLER_UID_INDEX, Indexer, NAMESPACE_INDEX, ORPHAN_INDEX_KEY, OWNER_UID_INDEX, controllerUidIndexFunc, namespaceIndexFunc, ownerUidIndexFunc,
} from './indexer.ts';
import { Lister } from './lister.ts';
import type { KubeObject } from './resource_client.ts';
import { DeletedFinalStateUnknown, deletionHandlingKey, metaNamespaceKey, splitKey, unwrapTombstone } from './store.ts';

function pod(ns: string, name: string, extra: { labels?: Record<string, string>; owner?: string; controller?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      namespace: ns, name, ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: extra.owner, controller: extra.controller ?? true }] } : {}),
    },
  };
}

function names(objs: KubeObject[]): string[] {
  return objs.map((o) => o.metadata!.name!).sort();
}

describe('keys', () => {
  test('namespace/name for namespaced objects, name for cluster-scoped ones', () => {
    assert.equal(metaNamespaceKey(pod('ns', 'a')), 'ns/a');
    assert.equal(metaNamespaceKey({ metadata: { name: 'node-1' } }), 'node-1');
    assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(splitKey('node-1'), { namespace: '', name: 'node-1' });
    assert.throws(() => splitKey('a/b/c'), /unexpected key format/);
    const tomb = new DeletedFinalStateUnknown('ns/a', pod('ns', 'a'));
    assert.equal(deletionHandlingKey(tomb), 'ns/a');
    assert.equal(unwrapTombstone(tomb).metadata?.name, 'a');
  });
});

describe('Indexer', () => {
  test('keeps the namespace index current through add, update and delete', () => {
    const idx = new Indexer({ [NAMESPACE_INDEX]: namespaceIndexFunc });
    idx.add(pod('a', 'p1'));
    idx.add(pod('a', 'p2'));
    idx.add(pod('b', 'p1'));
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'a')), ['p1', 'p2']);
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'b')), ['p1']);
    assert.equal(idx.size, 3);
    idx.delete(pod('a', 'p1'));
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'a')), ['p2']);
    assert.equal(idx.getByKey('a/p1'), undefined);
    assert.equal(idx.get(pod('b', 'p1'))?.metadata?.namespace, 'b');
    assert.deepEqual(idx.listIndexFuncValues(NAMESPACE_INDEX).sort(), ['a', 'b']);
    assert.throws(() => idx.byIndex('nope', 'x'), /does not exist/);
  });

  test('moves an object between index values when it changes, and drops empty values', () => {
    const idx = new Indexer({ [CONTROLLER_UID_INDEX]: controllerUidIndexFunc, [OWNER_UID_INDEX]: ownerUidIndexFunc });
    idx.add(pod('ns', 'p', { owner: 'uid-1' }));
    idx.add(pod('ns', 'orphan'));
    idx.add(pod('ns', 'ref-only', { owner: 'uid-1', controller: false }));
    assert.deepEqual(names(idx.byIndex(CONTROLLER_UID_INDEX, 'uid-1')), ['p']);
    assert.deepEqual(names(idx.byIndex(CONTROLLER_UID_INDEX, ORPHAN_INDEX_KEY)), ['orphan', 'ref-only']);
    assert.deepEqual(names(idx.byIndex(OWNER_UID_INDEX, 'uid-1')), ['p', 'ref-only']);
    idx.update(pod('ns', 'p', { owner: 'uid-2' }));
    assert.deepEqual(idx.byIndex(CONTROLLER_UID_INDEX, 'uid-1'), []);
    assert.deepEqual(names(idx.byIndex(CONTROLLER_UID_INDEX, 'uid-2')), ['p']);
    assert.ok(!idx.listIndexFuncValues(CONTROLLER_UID_INDEX).includes('uid-1'));
    assert.deepEqual(names(idx.index(CONTROLLER_UID_INDEX, pod('x', 'y', { owner: 'uid-2' }))), ['p']);
  });

  test('replace swaps the content and rebuilds the indexes', () => {
    const idx = new Indexer({ [NAMESPACE_INDEX]: namespaceIndexFunc });
    idx.add(pod('a', 'old'));
    idx.replace([pod('b', 'new1'), pod('b', 'new2')]);
    assert.deepEqual(idx.byIndex(NAMESPACE_INDEX, 'a'), []);
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'b')), ['new1', 'new2']);
    assert.deepEqual(idx.listKeys().sort(), ['b/new1', 'b/new2']);
  });

  test('an update under the same index value hands out the new object, in the old position', () => {
    const idx = new Indexer({ [CONTROLLER_UID_INDEX]: controllerUidIndexFunc });
    idx.add(pod('ns', 'a', { owner: 'u' }));
    idx.add(pod('ns', 'b', { owner: 'u' }));
    const updated = pod('ns', 'a', { owner: 'u', labels: { v: '2' } });
    idx.update(updated);
    const got = idx.byIndex(CONTROLLER_UID_INDEX, 'u');
    assert.equal(got[0], updated);
    const seen: string[] = [];
    idx.forEachByIndex(CONTROLLER_UID_INDEX, 'u', (o, key) => seen.push(`${key} ${o.metadata?.labels?.['v'] ?? '-'}`));
    assert.deepEqual(seen, ['ns/a 2', 'ns/b -']);
    assert.deepEqual(idx.indexKeys(CONTROLLER_UID_INDEX, 'u'), ['ns/a', 'ns/b']);
  });

  test('subscribers hear of every change and of relists', () => {
    const idx = new Indexer();
    const heard: string[] = [];
    const sub = idx.subscribe({
      onChange: (key, oldObj, newObj) => heard.push(`${key} ${oldObj?.metadata?.labels?.['v'] ?? '-'} -> ${newObj?.metadata?.labels?.['v'] ?? '-'}`),
      onReplace: () => heard.push(`replace ${idx.size}`),
    });
    idx.add(pod('ns', 'a', { labels: { v: '1' } }));
    idx.update(pod('ns', 'a', { labels: { v: '2' } }));
    idx.delete(pod('ns', 'a'));
    idx.deleteByKey('ns/missing');
    idx.replace([pod('ns', 'x'), pod('ns', 'y')]);
    sub.dispose();
    idx.add(pod('ns', 'z'));
    assert.deepEqual(heard, ['ns/a - -> 1', 'ns/a 1 -> 2', 'ns/a 2 -> -', 'replace 2']);
  });

  test('indexes added later cover existing objects; redefining one fails', () => {
    const idx = new Indexer();
    idx.add(pod('a', 'p'));
    idx.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc });
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'a')), ['p']);
    assert.throws(() => idx.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc }), /indexer conflict/);
  });
});

describe('Lister', () => {
  test('lists by selector, by namespace and gets by name', () => {
    const idx = new Indexer({ [NAMESPACE_INDEX]: namespaceIndexFunc });
    idx.add(pod('a', 'web', { labels: { app: 'web' } }));
    idx.add(pod('a', 'db', { labels: { app: 'db' } }));
    idx.add(pod('b', 'web', { labels: { app: 'web' } }));
    const lister = new Lister(idx);
    assert.equal(lister.list().length, 3);
    assert.equal(lister.list(parseSelector('app=web')).length, 2);
    assert.deepEqual(names(lister.listNamespace('a')), ['db', 'web']);
    assert.deepEqual(names(lister.listNamespace('a', parseSelector('app=web'))), ['web']);
    assert.equal(lister.get('b', 'web')?.metadata?.namespace, 'b');
    assert.equal(lister.get('b', 'db'), undefined);
    const noIndex = new Lister(new Indexer());
    assert.deepEqual(noIndex.listNamespace('a'), []);
  });
});
