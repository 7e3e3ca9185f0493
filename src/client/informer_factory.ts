// Shared informers by resource (client-go informers.SharedInformerFactory): every component asks the
// factory for the resources it needs, so one list+watch per resource serves them all; start() runs
// them and waitForCacheSync() waits, bounded, for their first lists.
import type { Disposable } from '../base/disposable.ts';
import type { Clock } from './clock.ts';
import { NAMESPACE_INDEX, namespaceIndexFunc, type Indexers } from './indexer.ts';
import type { ListerWatcher } from './reflector.ts';
import type { RestClient } from './rest_client.ts';
import { apiVersionOf, groupResourceOf, type ResourceDescriptor } from './resource_descriptor.ts';
import type { KubeObject, ResourceClient } from './resource_client.ts';
import { SharedIndexInformer, waitForCacheSync } from './shared_informer.ts';

/** Options of a factory; they apply to every informer it makes. */
export interface InformerFactoryOptions {
  /** Restricts namespaced resources to one namespace (default: all). */
  readonly namespace?: string;
  /** Default resync period of handlers, ms (0: never). */
  readonly defaultResyncMs?: number;
  /** Added to every list and watch (client-go's tweakListOptions). */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Applied to each object before caching (e.g. strip managedFields). */
  readonly transform?: (obj: KubeObject) => KubeObject;
  readonly clock?: Clock;
  /** Passed to each reflector. */
  readonly pageSize?: number;
  readonly minWatchTimeoutSeconds?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

/** Per-informer options given on first request. */
export interface InformerOptions<T> {
  /** Indexes besides the namespace index every factory informer has. */
  readonly indexers?: Indexers<T>;
  /** Narrower selectors for this informer only (makes a separate informer per selector pair). */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** A ListerWatcher over a resource client with fixed selectors. */
export function listerWatcherFor<T extends KubeObject>(rc: ResourceClient<T>, selectors: { labelSelector?: string; fieldSelector?: string } = {}): ListerWatcher<T> {
  const sel = {
    ...(selectors.labelSelector ? { labelSelector: selectors.labelSelector } : {}),
    ...(selectors.fieldSelector ? { fieldSelector: selectors.fieldSelector } : {}),
  };
  return {
    list: (opts) => rc.list({ ...opts, ...sel }),
    watch: (opts) => rc.watch({ ...opts, ...sel }),
  };
}

/** Makes and owns shared informers. */
export class SharedInformerFactory implements Disposable {
  #client: RestClient;
  #opts: InformerFactoryOptions;
  #informers = new Map<string, SharedIndexInformer<KubeObject>>();
  #disposed = false;

  constructor(client: RestClient, opts: InformerFactoryOptions = {}) {
    this.#client = client;
    this.#opts = opts;
  }

  /** The shared informer of `desc` (created on first request; later requests may add indexers). */
  informerFor<T extends KubeObject = KubeObject>(desc: ResourceDescriptor, opts: InformerOptions<T> = {}): SharedIndexInformer<T> {
    if (this.#disposed) throw new Error('SharedInformerFactory: already shut down');
    const labelSelector = joinSelectors(this.#opts.labelSelector, opts.labelSelector);
    const fieldSelector = joinSelectors(this.#opts.fieldSelector, opts.fieldSelector);
    const id = `${apiVersionOf(desc)}/${desc.resource}?l=${labelSelector ?? ''}&f=${fieldSelector ?? ''}`;
    const existing = this.#informers.get(id) as SharedIndexInformer<T> | undefined;
    if (existing) {
      const missing = Object.fromEntries(Object.entries(opts.indexers ?? {}).filter(([n]) => !existing.indexer.indexNames().includes(n)));
      if (Object.keys(missing).length > 0) existing.addIndexers(missing);
      return existing;
    }
    const o = this.#opts;
    const rc = this.#client.resource<T>(desc, o.namespace);
    const informer = new SharedIndexInformer<T>(listerWatcherFor(rc, { labelSelector, fieldSelector }), {
      name: groupResourceOf(desc),
      apiVersion: apiVersionOf(desc),
      ...(desc.kind !== undefined ? { kind: desc.kind } : {}),
      indexers: { [NAMESPACE_INDEX]: namespaceIndexFunc, ...opts.indexers },
      ...(o.defaultResyncMs !== undefined ? { resyncPeriodMs: o.defaultResyncMs } : {}),
      ...(o.transform !== undefined ? { transform: o.transform as unknown as (obj: T) => T } : {}),
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
      ...(o.pageSize !== undefined ? { pageSize: o.pageSize } : {}),
      ...(o.minWatchTimeoutSeconds !== undefined ? { minWatchTimeoutSeconds: o.minWatchTimeoutSeconds } : {}),
      ...(o.backoffInitialMs !== undefined ? { backoffInitialMs: o.backoffInitialMs } : {}),
      ...(o.backoffMaxMs !== undefined ? { backoffMaxMs: o.backoffMaxMs } : {}),
    });
    this.#informers.set(id, informer as unknown as SharedIndexInformer<KubeObject>);
    return informer;
  }

  /** Starts every informer requested so far that is not running yet (call again after requesting more). */
  start(): void {
    if (this.#disposed) throw new Error('SharedInformerFactory: already shut down');
    for (const i of this.#informers.values()) i.run();
  }

  /** Waits for every started informer's first list; false when `timeoutMs` passes first. */
  waitForCacheSync(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const started = [...this.#informers.values()].filter((i) => i.started);
    return waitForCacheSync(started, timeoutMs, signal);
  }

  /** Every informer made so far. */
  informers(): SharedIndexInformer<KubeObject>[] {
    return [...this.#informers.values()];
  }

  /** Stops every informer. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all([...this.#informers.values()].map((i) => i.dispose()));
  }
}

function joinSelectors(a: string | undefined, b: string | undefined): string | undefined {
  const parts = [a, b].filter((s): s is string => typeof s === 'string' && s !== '');
  return parts.length === 0 ? undefined : parts.join(',');
}
