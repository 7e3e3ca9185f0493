// Follows a watch cache from inside the API server (the legacy token filler, the node graph, the
// CSR loop): current objects first, then every change; after a relist closes the watch, the
// follower is reset and re-subscribed, so in-process loops survive storage watch failures.
import type { Disposable } from '../../base/disposable.ts';
import type { CacheEvent, WatchCache } from '../watch_cache.ts';

/** Calls `onEvent` for every object and change of `cache` until disposed; `onReset` before a resubscription. */
export function followCache(cache: WatchCache, onEvent: (e: CacheEvent) => void, onReset: () => void = () => undefined): Disposable {
  let disposed = false;
  let current: Disposable | undefined;
  const subscribe = (): void => {
    if (disposed) return;
    current = cache.watch({}, {
      onEvent,
      onClose: (err) => {
        current = undefined;
        // A close without error is the cache being disposed: nothing to follow any more.
        if (disposed || err === undefined) return;
        onReset();
        cache.start().then(subscribe, () => undefined);
      },
    });
  };
  subscribe();
  return {
    dispose: () => {
      disposed = true;
      current?.dispose();
      current = undefined;
    },
  };
}
