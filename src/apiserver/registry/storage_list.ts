// Paginated LIST straight from storage: pages keep the snapshot revision of the first page (the
// continue token carries it), and a selector keeps fetching until `limit` objects matched, as
// upstream's etcd3 store does.
import type { Selection } from '../selection.ts';
import type { KObject } from './strategy.ts';
import { decodeStored, type GenericStore } from './generic_store.ts';

/** One page. */
export interface StoragePage {
  readonly items: KObject[];
  readonly revision: number;
  readonly continue?: string;
  readonly remaining?: number;
}

/** Lists matching objects from storage; limit 0 means all. */
export async function listFromStorage(store: GenericStore, sel: Selection, opts: { limit: number; continue: string; revision: number }): Promise<StoragePage> {
  const raw = store.rawStore;
  const prefix = store.keyPrefix(sel.namespace);
  const items: KObject[] = [];
  let cont: string | undefined = opts.continue || undefined;
  let revision = opts.revision || undefined;
  for (;;) {
    const want = opts.limit > 0 ? Math.max(opts.limit - items.length, 1) : 0;
    const page = await raw.list(prefix, { limit: want, continue: cont, revision: cont ? undefined : revision });
    revision = page.revision;
    for (const kv of page.kvs) {
      const obj = decodeStored(kv);
      if (sel.matches(obj)) items.push(obj);
    }
    cont = page.continue;
    if (!cont) return { items, revision };
    if (opts.limit > 0 && items.length >= opts.limit) {
      return { items, revision, continue: cont, remaining: sel.trivial ? page.remaining : undefined };
    }
  }
}
