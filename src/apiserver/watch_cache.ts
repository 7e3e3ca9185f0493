// The watch cache of one storage prefix (one resource): a single storage watch keeps every current
// object in memory plus a window of recent events, so LIST (resourceVersion "0", NotOlderThan and
// consistent reads) and WATCH are served from memory, as upstream's cacher does.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { KeyValue, Store, Watch, WatchEvent as StorageEvent } from '../storage/types.ts';
import type { StorageError } from '../storage/types.ts';
import { newResourceExpired, newTimeout, ApiError } from './errors.ts';

const log = logger('watch-cache');

/** An object as the cache holds it: decoded once, never mutated; `json` is its serialized form. */
export interface CachedObject {
  readonly key: string;
  readonly obj: Record<string, unknown>;
  readonly revision: number;
  /** JSON text of obj (with metadata.resourceVersion), computed once on first use. */
  json(): string;
}

/** One event in the cache's history. */
export interface CacheEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly revision: number;
  readonly object: CachedObject;
  /** For MODIFIED and DELETED: the object before. */
  readonly prev?: CachedObject;
}

/** Decodes a stored value into an object, setting metadata.resourceVersion from the revision. */
export type Decoder = (kv: KeyValue) => Record<string, unknown>;

/** Receives the events of one cache watcher; `onClose` ends it (with an error when it failed). */
export interface CacheWatcherSink {
  onEvent(event: CacheEvent): void;
  onClose(err?: ApiError): void;
}

/** Options of a cache watch. */
export interface CacheWatchOptions {
  /** undefined: send ADDED for every current object first; N: only events after revision N. */
  readonly fromRevision?: number;
  /** Key prefix to restrict to (a namespace), or an exact key. */
  readonly keyPrefix?: string;
}

/** Default number of events kept for resuming watches. */
export const DEFAULT_HISTORY_CAPACITY = 100_000;

function makeCached(key: string, obj: Record<string, unknown>, revision: number): CachedObject {
  let text: string | undefined;
  return {
    key, obj, revision,
    json: () => (text ??= JSON.stringify(obj)),
  };
}

/** The watch cache for one prefix. Call start() before use and dispose() at the end. */
export class WatchCache implements Disposable {
  readonly prefix: string;
  #store: Store;
  #decode: Decoder;
  #items = new Map<string, CachedObject>();
  /** #items sorted by key; undefined after a change until the next list. */
  #sorted: CachedObject[] | undefined;
  #history: CacheEvent[] = [];
  #historyStart = 0; // index of the oldest live element in #history (amortised shift)
  /** Oldest revision R such that every event after R is in history. */
  #oldest = 0;
  #revision = 0;
  #watch: Watch | undefined;
  #watchers = new Set<{ sink: CacheWatcherSink; keyPrefix: string }>();
  #waiters: Array<{ revision: number; resolve: () => void }> = [];
  #ready: Promise<void> | undefined;
  #disposed = false;

  #capacity: number;

  constructor(store: Store, prefix: string, decode: Decoder, historyCapacity = DEFAULT_HISTORY_CAPACITY) {
    this.#capacity = historyCapacity;
    this.#store = store;
    this.prefix = prefix;
    this.#decode = decode;
  }

  /** Lists the prefix and starts the storage watch; resolves when the cache is filled. */
  start(): Promise<void> {
    this.#ready ??= this.#fill();
    return this.#ready;
  }

  /** The newest revision the cache has applied. */
  get revision(): number {
    return this.#revision;
  }

  /** Number of cached objects. */
  get size(): number {
    return this.#items.size;
  }

  async #fill(): Promise<void> {
    const items = new Map<string, CachedObject>();
    let cont: string | undefined;
    let revision = 0;
    do {
      const page = await this.#store.list(this.prefix, { limit: 10_000, continue: cont });
      revision = page.revision;
      for (const kv of page.kvs) {
        const obj = this.#decodeSafe(kv);
        if (obj) items.set(kv.key, makeCached(kv.key, obj, kv.modRevision));
      }
      cont = page.continue;
    } while (cont);
    this.#items = items;
    this.#sorted = undefined;
    this.#history = [];
    this.#historyStart = 0;
    this.#revision = revision;
    this.#oldest = revision;
    this.#watch = this.#store.watch(this.prefix, { fromRevision: revision }, {
      onEvents: (events) => this.#apply(events),
      onError: (err) => this.#onWatchError(err),
      onProgress: (revision) => {
        if (revision > this.#revision) {
          this.#revision = revision;
          this.#wake();
        }
      },
    });
  }

  #decodeSafe(kv: KeyValue): Record<string, unknown> | undefined {
    try {
      return this.#decode(kv);
    } catch (err) {
      log.error('cannot decode stored object; skipping it', { key: kv.key, err: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  #apply(events: readonly StorageEvent[]): void {
    for (const ev of events) {
      if (ev.revision <= this.#revision) continue;
      const prev = this.#items.get(ev.kv.key);
      let cacheEvent: CacheEvent | undefined;
      if (ev.type === 'DELETED') {
        this.#items.delete(ev.kv.key);
        const last = prev ?? (ev.prevKv ? this.#cachedFrom(ev.prevKv) : undefined);
        if (last) {
          // A DELETED event carries the last state with the delete's resourceVersion, as upstream.
          const obj = structuredClone(last.obj) as Record<string, unknown>;
          setResourceVersion(obj, ev.revision);
          cacheEvent = { type: 'DELETED', revision: ev.revision, object: makeCached(ev.kv.key, obj, ev.revision), prev: last };
        }
      } else {
        const obj = this.#decodeSafe(ev.kv);
        if (obj) {
          const cached = makeCached(ev.kv.key, obj, ev.revision);
          this.#items.set(ev.kv.key, cached);
          cacheEvent = prev
            ? { type: 'MODIFIED', revision: ev.revision, object: cached, prev }
            : { type: 'ADDED', revision: ev.revision, object: cached };
        }
      }
      this.#revision = ev.revision;
      this.#sorted = undefined;
      if (cacheEvent) {
        this.#history.push(cacheEvent);
        if (this.#history.length - this.#historyStart > this.#capacity) {
          this.#oldest = this.#history[this.#historyStart]!.revision;
          this.#historyStart++;
          if (this.#historyStart > this.#capacity / 2) {
            this.#history = this.#history.slice(this.#historyStart);
            this.#historyStart = 0;
          }
        }
        for (const w of this.#watchers) {
          if (cacheEvent.object.key.startsWith(w.keyPrefix)) w.sink.onEvent(cacheEvent);
        }
      }
    }
    this.#wake();
  }

  #cachedFrom(kv: KeyValue): CachedObject | undefined {
    const obj = this.#decodeSafe(kv);
    return obj ? makeCached(kv.key, obj, kv.modRevision) : undefined;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const still: Array<{ revision: number; resolve: () => void }> = [];
    for (const w of this.#waiters) {
      if (w.revision <= this.#revision) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  #onWatchError(err: StorageError): void {
    if (this.#disposed) return;
    log.warn('storage watch failed; relisting', { prefix: this.prefix, err: err.message });
    // Watchers cannot be continued across a relist: close them so clients re-watch.
    const expired = newResourceExpired(`watch of ${this.prefix} was interrupted; please re-watch`);
    for (const w of this.#watchers) w.sink.onClose(expired);
    this.#watchers.clear();
    this.#watch?.dispose();
    this.#ready = this.#fill().catch((e: unknown) => {
      log.error('relist failed', { prefix: this.prefix, err: e instanceof Error ? e.message : String(e) });
      this.#ready = undefined;
    });
  }

  /** Waits until the cache has applied `revision` (or times out with upstream's 504). */
  async waitForRevision(revision: number, timeoutMs = 3000): Promise<void> {
    await this.start();
    if (revision <= this.#revision) return;
    this.#watch?.requestProgress();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(newTooLargeResourceVersion(revision, this.#revision));
      }, timeoutMs);
      const waiter = { revision, resolve: () => { clearTimeout(timer); resolve(); } };
      this.#waiters.push(waiter);
    });
  }

  /** Waits until the cache is as fresh as storage (a consistent read from cache). */
  async sync(): Promise<void> {
    await this.start();
    const current = await this.#store.currentRevision();
    if (current <= this.#revision) return;
    // Writes elsewhere in the store moved the revision on; ask the watch to confirm progress.
    this.#watch?.requestProgress();
    await this.waitForRevision(current, 5000);
  }

  /** Current objects under keyPrefix (the whole cache when omitted), sorted by key. */
  list(keyPrefix = this.prefix): CachedObject[] {
    // The sorted view is rebuilt only after a change, so repeated lists of a quiet resource are cheap.
    if (this.#sorted === undefined) {
      this.#sorted = [...this.#items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    if (keyPrefix === this.prefix) return this.#sorted.slice();
    const out: CachedObject[] = [];
    for (const v of this.#sorted) if (v.key.startsWith(keyPrefix)) out.push(v);
    return out;
  }

  /** One object by key. */
  get(key: string): CachedObject | undefined {
    return this.#items.get(key);
  }

  /**
   * Starts a watch. With fromRevision, replays history after it (410 Expired when it is older than
   * the window); without, sends the current objects as ADDED first. Events then follow live.
   */
  watch(opts: CacheWatchOptions, sink: CacheWatcherSink): Disposable {
    const keyPrefix = opts.keyPrefix ?? this.prefix;
    const watcher = { sink, keyPrefix };
    if (opts.fromRevision === undefined) {
      for (const o of this.list(keyPrefix)) sink.onEvent({ type: 'ADDED', revision: o.revision, object: o });
    } else {
      const from = opts.fromRevision;
      if (from < this.#oldest) {
        throw newResourceExpired(`too old resource version: ${from} (${this.#oldest})`);
      }
      if (from > this.#revision) {
        // Future revision: deliver everything after it once it arrives (events > from only).
        const filtered: CacheWatcherSink = {
          onEvent: (e) => { if (e.revision > from) sink.onEvent(e); },
          onClose: (e) => sink.onClose(e),
        };
        watcher.sink = filtered;
      } else {
        for (let i = this.#firstIndexAfter(from); i < this.#history.length; i++) {
          const e = this.#history[i]!;
          if (e.object.key.startsWith(keyPrefix)) sink.onEvent(e);
        }
      }
    }
    this.#watchers.add(watcher);
    return { dispose: () => { this.#watchers.delete(watcher); } };
  }

  /** Index in #history of the first event with revision > rev (binary search). */
  #firstIndexAfter(rev: number): number {
    let lo = this.#historyStart, hi = this.#history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#history[mid]!.revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Stops the storage watch and closes every watcher. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#watch?.dispose();
    for (const w of this.#watchers) w.sink.onClose();
    this.#watchers.clear();
  }
}

/** Sets metadata.resourceVersion on a decoded object. */
export function setResourceVersion(obj: Record<string, unknown>, revision: number): void {
  const meta = (obj['metadata'] ??= {}) as Record<string, unknown>;
  meta['resourceVersion'] = String(revision);
}

/** Upstream's 504 for a resourceVersion newer than anything seen. */
export function newTooLargeResourceVersion(requested: number, current: number): ApiError {
  const err = newTimeout(`Too large resource version: ${requested}, current: ${current}`, 1);
  err.status.details = { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 };
  return err;
}

