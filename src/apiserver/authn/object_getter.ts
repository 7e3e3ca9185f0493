// How the authenticators read the objects a credential refers to (Secrets, ServiceAccounts, Pods,
// Nodes): from the API server's watch caches first, with a storage read when the cache has not
// seen an object yet, as upstream's token getter falls back from informers to a live lookup.
import { resourceFor } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { ApiError } from '../errors.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';

/** The core resources credentials point at. */
export type CredentialResource = 'secrets' | 'serviceaccounts' | 'pods' | 'nodes';

/** Reads one object; undefined when it does not exist. */
export interface ObjectGetter {
  get(resource: CredentialResource, namespace: string, name: string): Promise<KObject | undefined>;
}

/** An ObjectGetter over the server's registries. */
export function storeObjectGetter(storeFor: (info: ResourceInfo) => GenericStore): ObjectGetter {
  return {
    async get(resource, namespace, name) {
      const store = storeFor(resourceFor('', 'v1', resource)!);
      const cached = store.cache.get(store.key(namespace, name));
      if (cached) return cached.obj;
      try {
        return await store.get(namespace, name);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      }
    },
  };
}

/** An ObjectGetter over a fixed set of objects, keyed "resource/namespace/name" (tests). */
export function mapObjectGetter(objects: Record<string, KObject>): ObjectGetter {
  return { get: (resource, namespace, name) => Promise.resolve(objects[`${resource}/${namespace}/${name}`]) };
}
