// The informer cache (client-go tools/cache thread_safe_store.go + index.go): objects by key plus
// named indexes from index values to keys, kept current on every add/update/delete/replace. Common
// index functions: by namespace, by controller owner UID (with orphans under one key), by any owner.
import type { OwnerReference } from '../api/types/meta_v1.ts';
import type { KubeObject } from './resource_client.ts';
import { metaNamespaceKey, type KeyFunc } from './store.ts';

/** Maps an object to the values it is indexed under. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** Index functions by index name. */
export type Indexers<T> = Readonly<Record<string, IndexFunc<T>>>;

/** Name of the namespace index (cache.NamespaceIndex). */
export const NAMESPACE_INDEX = 'namespace';
/** Name of the controller-owner index (upstream's pod index is "podControllerUID"). */
export const CONTROLLER_UID_INDEX = 'controllerUID';
/** Name of the any-owner index (what the garbage collector needs). */
export const OWNER_UID_INDEX = 'ownerUID';
/** Index value of objects without a controller, so controllers can list orphans to adopt. */
export const ORPHAN_INDEX_KEY = '_ORPHAN_POD';

/** Indexes by metadata.namespace (MetaNamespaceIndexFunc). */
export function namespaceIndexFunc(obj: KubeObject): readonly string[] {
  return [obj.metadata?.namespace ?? ''];
}

/** The ownerReference with controller: true, if any (metav1.GetControllerOf). */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  const refs = obj.metadata?.ownerReferences;
  if (refs === undefined) return undefined;
  for (let i = 0; i < refs.length; i++) {
    if (refs[i]!.controller === true) return refs[i];
  }
  return undefined;
}

/** Indexes by the controller owner's UID; objects without one go under ORPHAN_INDEX_KEY. */
export function controllerUidIndexFunc(obj: KubeObject): readonly string[] {
  const ref = controllerRefOf(obj);
  return [ref ? ref.uid : ORPHAN_INDEX_KEY];
}

/** Indexes by every owner's UID. */
export function ownerUidIndexFunc(obj: KubeObject): readonly string[] {
  return (obj.metadata?.ownerReferences ?? []).map((r) => r.uid);
}

/**
 * Told of every change to an indexer's content, synchronously and after its indexes were updated,
 * for views a controller keeps beside the cache (e.g. counts it would otherwise recompute per sync).
 */
export interface IndexerListener<T> {
  /** `oldObj` is undefined for an addition, `newObj` for a deletion. */
  onChange(key: string, oldObj: T | undefined, newObj: T | undefined): void;
  /** The whole content was replaced (a relist): rebuild from list(). */
  onReplace(): void;
}

/** An object cache with indexes. */
export class Indexer<T extends KubeObject = KubeObject> {
  #items = new Map<string, T>();
  #indexers = new Map<string, IndexFunc<T>>();
  /**
   * index name → index value → key → object. Holding the objects (not only keys, as client-go does)
   * lets byIndex skip a lookup per object: controllers read every pod of a large owner this way.
   */
  #indices = new Map<string, Map<string, Map<string, T>>>();
  #keyFunc: KeyFunc;
  #listeners = new Set<IndexerListener<T>>();

  constructor(indexers: Indexers<T> = {}, keyFunc: KeyFunc = metaNamespaceKey) {
    this.#keyFunc = keyFunc;
    this.addIndexers(indexers);
  }

  /** The key this cache files `obj` under. */
  keyOf(obj: T): string {
    return this.#keyFunc(obj);
  }

  /** Adds index functions; existing objects are indexed at once. Redefining an index is an error. */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
      this.#indexers.set(name, fn);
      const index = new Map<string, Map<string, T>>();
      this.#indices.set(name, index);
      for (const [key, obj] of this.#items) addToIndex(index, fn(obj), key, obj);
    }
  }

  /** Names of the defined indexes. */
  indexNames(): string[] {
    return [...this.#indexers.keys()];
  }

  /** True when an index of this name is defined. */
  hasIndex(name: string): boolean {
    return this.#indexers.has(name);
  }

  /** Inserts or replaces `obj`; returns the previous object under its key, if any. */
  add(obj: T): T | undefined {
    const key = this.#keyFunc(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#updateIndices(old, obj, key);
    for (const l of this.#listeners) l.onChange(key, old, obj);
    return old;
  }

  /** Same as add (kept for client-go's vocabulary). */
  update(obj: T): T | undefined {
    return this.add(obj);
  }

  /** Removes the object under `obj`'s key; returns what was there. */
  delete(obj: T): T | undefined {
    return this.deleteByKey(this.#keyFunc(obj));
  }

  /** Removes the object under `key`; returns what was there. */
  deleteByKey(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    this.#updateIndices(old, undefined, key);
    for (const l of this.#listeners) l.onChange(key, old, undefined);
    return old;
  }

  /** The stored object with `obj`'s key. */
  get(obj: T): T | undefined {
    return this.#items.get(this.#keyFunc(obj));
  }

  /** The stored object under `key` ("namespace/name" or "name"). */
  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** Every stored object (a fresh array; the objects are shared, so never mutate them). */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** Every key. */
  listKeys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Replaces the whole content (a relist) and rebuilds the indexes. */
  replace(objs: readonly T[]): void {
    this.#items = new Map();
    for (const o of objs) this.#items.set(this.#keyFunc(o), o);
    for (const [name, fn] of this.#indexers) {
      const index = new Map<string, Map<string, T>>();
      for (const [key, obj] of this.#items) addToIndex(index, fn(obj), key, obj);
      this.#indices.set(name, index);
    }
    for (const l of this.#listeners) l.onReplace();
  }

  /** Adds a listener of content changes; dispose the result to remove it. */
  subscribe(listener: IndexerListener<T>): { dispose(): void } {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  }

  /** Objects whose `indexName` values include `value`. */
  byIndex(indexName: string, value: string): T[] {
    const objs = this.#index(indexName).get(value);
    return objs ? [...objs.values()] : [];
  }

  /** Calls `fn` for each object (and its key) whose `indexName` values include `value` (byIndex without the array). */
  forEachByIndex(indexName: string, value: string, fn: (obj: T, key: string) => void): void {
    const objs = this.#index(indexName).get(value);
    if (objs) for (const [k, o] of objs) fn(o, k);
  }

  /** Keys whose `indexName` values include `value`. */
  indexKeys(indexName: string, value: string): string[] {
    return [...(this.#index(indexName).get(value)?.keys() ?? [])];
  }

  /** Objects sharing any `indexName` value with `obj`. */
  index(indexName: string, obj: T): T[] {
    const fn = this.#indexers.get(indexName);
    if (!fn) throw new Error(`Index with name ${indexName} does not exist`);
    const seen = new Set<string>();
    const out: T[] = [];
    for (const v of fn(obj)) {
      for (const [k, o] of this.#index(indexName).get(v) ?? []) {
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(o);
      }
    }
    return out;
  }

  /** Every value present in an index. */
  listIndexFuncValues(indexName: string): string[] {
    return [...this.#index(indexName).keys()];
  }

  #index(name: string): Map<string, Map<string, T>> {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`Index with name ${name} does not exist`);
    return index;
  }

  #updateIndices(oldObj: T | undefined, newObj: T | undefined, key: string): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      const oldValues = oldObj === undefined ? [] : fn(oldObj);
      const newValues = newObj === undefined ? [] : fn(newObj);
      // The common case: the object stays under the same single value.
      if (oldValues.length === 1 && newValues.length === 1 && oldValues[0] === newValues[0]) {
        index.get(oldValues[0]!)!.set(key, newObj!);
        continue;
      }
      removeFromIndex(index, oldValues, key);
      if (newObj !== undefined) addToIndex(index, newValues, key, newObj);
    }
  }
}

function addToIndex<T>(index: Map<string, Map<string, T>>, values: readonly string[], key: string, obj: T): void {
  for (const v of values) {
    let objs = index.get(v);
    if (!objs) {
      objs = new Map();
      index.set(v, objs);
    }
    objs.set(key, obj);
  }
}

function removeFromIndex<T>(index: Map<string, Map<string, T>>, values: readonly string[], key: string): void {
  for (const v of values) {
    const set = index.get(v);
    if (!set) continue;
    set.delete(key);
    // Drop empty sets so values that come and go (UIDs) do not accumulate forever.
    if (set.size === 0) index.delete(v);
  }
}
