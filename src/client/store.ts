// Object keys and tombstones of the informer cache (client-go tools/cache store.go): objects are
// keyed "namespace/name" (or "name" when cluster-scoped), and a delete the cache learnt about only
// by relisting is delivered as a DeletedFinalStateUnknown holding the last state it knew.
import type { KubeObject } from './resource_client.ts';

/** Computes an object's cache key. */
export type KeyFunc = (obj: KubeObject) => string;

/** A delete observed only through a relist: `obj` is the last known state, possibly stale. */
export class DeletedFinalStateUnknown<T = KubeObject> {
  readonly key: string;
  readonly obj: T;
  constructor(key: string, obj: T) {
    this.key = key;
    this.obj = obj;
  }
}

/** "namespace/name", or "name" for cluster-scoped objects (MetaNamespaceKeyFunc). */
export function metaNamespaceKey(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** The key of an object or of a tombstone (DeletionHandlingMetaNamespaceKeyFunc). */
export function deletionHandlingKey(obj: KubeObject | DeletedFinalStateUnknown): string {
  return obj instanceof DeletedFinalStateUnknown ? obj.key : metaNamespaceKey(obj);
}

/** Splits "namespace/name" (or "name") into its parts. */
export function splitKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1) return { namespace: '', name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
}

/** "namespace/name" from parts. */
export function joinKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The object inside a delete notification, whether it came straight or as a tombstone. */
export function unwrapTombstone<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}
