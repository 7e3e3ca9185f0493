// Read access to an informer's cache in client-go lister style: list by label selector, list one
// namespace through the namespace index, get by namespace and name. Objects are shared with the
// cache: callers copy (structuredClone) before modifying.
import { everything, matches, type Selector } from '../api/labels.ts';
import { NAMESPACE_INDEX, type Indexer } from './indexer.ts';
import type { KubeObject } from './resource_client.ts';
import { joinKey } from './store.ts';

/** A typed view of an indexer. */
export class Lister<T extends KubeObject = KubeObject> {
  #indexer: Indexer<T>;

  constructor(indexer: Indexer<T>) {
    this.#indexer = indexer;
  }

  /** Every cached object matching `selector` (default: all). */
  list(selector: Selector = everything()): T[] {
    return filter(this.#indexer.list(), selector);
  }

  /** Cached objects of one namespace matching `selector` (uses the namespace index when present). */
  listNamespace(namespace: string, selector: Selector = everything()): T[] {
    const items = this.#indexer.hasIndex(NAMESPACE_INDEX)
      ? this.#indexer.byIndex(NAMESPACE_INDEX, namespace)
      : this.#indexer.list().filter((o) => (o.metadata?.namespace ?? '') === namespace);
    return filter(items, selector);
  }

  /** The cached object, or undefined; `namespace` is '' for cluster-scoped resources. */
  get(namespace: string, name: string): T | undefined {
    return this.#indexer.getByKey(joinKey(namespace, name));
  }
}

function filter<T extends KubeObject>(items: T[], selector: Selector): T[] {
  if (selector.requirements.length === 0 && !selector.nothing) return items;
  return items.filter((o) => matches(selector, o.metadata?.labels));
}
