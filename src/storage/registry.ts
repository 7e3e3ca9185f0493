// Storage drivers register here by scheme (kine's drivers/registry.go); callers open a store from
// an endpoint string and never switch on the driver themselves.
import type { Store } from './types.ts';

/** What a driver needs to open a store. */
export interface OpenOptions {
  /** The endpoint, e.g. "sqlite:///var/lib/tkube/db/state.db", "etcd://127.0.0.1:2379", "memory://". */
  readonly endpoint: string;
  /** History older than this is compacted (default 5 minutes). */
  readonly compactionWindowMs?: number;
}

/** Opens a store for an endpoint of the driver's scheme. */
export type DriverFactory = (url: URL, opts: OpenOptions) => Promise<Store>;

const drivers = new Map<string, DriverFactory>();

/** Registers a driver for a URL scheme (without the colon). */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  if (drivers.has(scheme)) throw new Error(`storage driver for scheme ${scheme} registered twice`);
  drivers.set(scheme, factory);
}

/** Opens a store; throws a clear error for an unknown scheme or a malformed endpoint. */
export async function openStore(opts: OpenOptions): Promise<Store> {
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch {
    // "etcd://h1:2379,h2:2379" is no valid URL; drivers read opts.endpoint for such lists.
    const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(opts.endpoint);
    if (!m) {
      throw new Error(`invalid datastore endpoint ${JSON.stringify(opts.endpoint)}: expected scheme://…, e.g. sqlite:///path/state.db or etcd://127.0.0.1:2379`);
    }
    url = new URL(`${m[1]!.toLowerCase()}://list`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const factory = drivers.get(scheme);
  if (!factory) {
    throw new Error(`unsupported datastore scheme ${JSON.stringify(scheme)}: supported are ${[...drivers.keys()].sort().join(', ')}`);
  }
  return factory(url, opts);
}
