// The watch cache of one storage prefix (one resource): a single storage watch keeps every current
// object in memory plus a window of recent events, so LIST (resourceVersion "0", NotOlderThan and
// consistent reads) and WATCH are served from memory, as upstream's cacher does.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { KeyValue, Store, Watch, WatchEvent as StorageEvent } from '../storage/types.ts';
import type { StorageError } from '../storage/types.ts';
import { newResourceExpired, newTimeout, ApiError } from './errors.ts';
import { withResourceVersion } from './stored_json.ts';
import { copyJson } from '../api/json_copy.ts';

const log = logger('watch-cache');

/**
 * TKUBE_FREEZE_CACHE=1 deep-freezes every cached object, so that code changing one (which the
 * registry's updates and adopted writes rely on nobody doing) throws in tests instead of
 * corrupting the cache silently. Off by default: freezing costs a walk per object.
 */
const FREEZE_AUDIT = process.env['TKUBE_FREEZE_CACHE'] === '1';

function deepFreezeAudit(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreezeAudit((v as Record<string, unknown>)[k]);
}

/** An object as the cache holds it: decoded once, never mutated; serialized at most once. */
export interface CachedObject {
  readonly key: string;
  readonly obj: Record<string, unknown>;
  readonly revision: number;
  /** The served JSON (with metadata.resourceVersion), computed once on first use and shared. */
  bytes(): Buffer;
  /** The same as text. */
  json(): string;
  /** A fresh deep copy of obj, for callers that change it. */
  copy(): Record<string, unknown>;
  /** The watch line `{"type":…,"object":…}\n` of this object, encoded once for the first type asked. */
  frame(type: CacheEvent['type']): Buffer;
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

/** An object's stored bytes, and its served JSON at a revision (undefined: splice it from the stored bytes). */
export interface EncodedForCache {
  readonly stored: Uint8Array;
  served(revision: number): Buffer | undefined;
}

/** An object a registry is writing: its event takes the object rather than decoding the bytes. */
interface Adoption {
  readonly obj: Record<string, unknown>;
  readonly encoded: EncodedForCache;
}

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

const FRAME_HEADS: Record<CacheEvent['type'], Buffer> = {
  ADDED: Buffer.from('{"type":"ADDED","object":'),
  MODIFIED: Buffer.from('{"type":"MODIFIED","object":'),
  DELETED: Buffer.from('{"type":"DELETED","object":'),
};
const FRAME_TAIL = Buffer.from('}\n');

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * A cached object. Its served bytes are the stored bytes with resourceVersion spliced in (see
 * stored_json.ts); `obj` is decoded eagerly for live objects and lazily for DELETED events.
 */
class Cached implements CachedObject {
  readonly key: string;
  readonly revision: number;
  #obj: Record<string, unknown> | undefined;
  #load: (() => Record<string, unknown>) | undefined;
  /** Stored bytes (without resourceVersion), until the served bytes exist. */
  #stored: Buffer | undefined;
  #bytes: Buffer | undefined;
  #text: string | undefined;
  #frame: Buffer | undefined;
  #frameType: CacheEvent['type'] | undefined;
  #encoded: EncodedForCache | undefined;

  constructor(key: string, revision: number, obj: Record<string, unknown> | (() => Record<string, unknown>), stored: Uint8Array | undefined, encoded?: EncodedForCache) {
    this.key = key;
    this.revision = revision;
    if (typeof obj === 'function') this.#load = obj;
    else this.#obj = obj;
    if (FREEZE_AUDIT && this.#obj) deepFreezeAudit(this.#obj);
    this.#stored = stored && stored.length > 0 ? asBuffer(stored) : undefined;
    this.#encoded = encoded;
  }

  get obj(): Record<string, unknown> {
    if (this.#obj === undefined) {
      this.#obj = this.#load!();
      this.#load = undefined;
    }
    return this.#obj;
  }

  bytes(): Buffer {
    if (this.#bytes === undefined) {
      const spliced = this.#encoded?.served(this.revision) ?? (this.#stored && withResourceVersion(this.#stored, this.revision));
      this.#bytes = spliced ?? Buffer.from(JSON.stringify(this.obj));
      this.#stored = undefined;
      this.#encoded = undefined;
    }
    return this.#bytes;
  }

  json(): string {
    return (this.#text ??= this.bytes().toString('utf8'));
  }

  copy(): Record<string, unknown> {
    // What parsing the served bytes would give, several times cheaper (json_copy.ts).
    return copyJson(this.obj);
  }

  frame(type: CacheEvent['type']): Buffer {
    if (this.#frameType === type) return this.#frame!;
    const head = FRAME_HEADS[type];
    const body = this.bytes();
    const frame = Buffer.concat([head, body, FRAME_TAIL], head.length + body.length + FRAME_TAIL.length);
    if (this.#frameType === undefined) {
      // The object's bytes live on inside its (first) frame: one buffer per object, not two.
      this.#frame = frame;
      this.#frameType = type;
      this.#bytes = frame.subarray(head.length, head.length + body.length);
    }
    return frame;
  }
}

/** The watch cache for one prefix. Call start() before use and dispose() at the end. */
export class WatchCache implements Disposable {
  readonly prefix: string;
  #store: Store;
  #decode: Decoder;
  #items = new Map<string, CachedObject>();
  /** Keys of #items in order; undefined after an add or a delete until the next list. */
  #sortedKeys: string[] | undefined;
  #history: CacheEvent[] = [];
  #historyStart = 0; // index of the oldest live element in #history (amortised shift)
  /** Oldest revision R such that every event after R is in history. */
  #oldest = 0;
  #revision = 0;
  #watch: Watch | undefined;
  #watchers = new Set<{ sink: CacheWatcherSink; keyPrefix: string }>();
  #waiters: Array<{ revision: number; resolve: () => void }> = [];
  /** Objects being written, by key (see adopt). */
  #adopting = new Map<string, Adoption>();
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
        if (obj) items.set(kv.key, new Cached(kv.key, kv.modRevision, obj, kv.value));
      }
      cont = page.continue;
    } while (cont);
    this.#items = items;
    this.#sortedKeys = undefined;
    this.#adopting.clear();
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
      const key = ev.kv.key;
      const prev = this.#items.get(key);
      let cacheEvent: CacheEvent | undefined;
      if (ev.type === 'DELETED') {
        if (this.#items.delete(key)) this.#sortedKeys = undefined;
        const last = prev ?? (ev.prevKv ? this.#cachedFrom(ev.prevKv) : undefined);
        if (last) {
          // A DELETED event carries the last state with the delete's resourceVersion, as upstream.
          const revision = ev.revision;
          const lastValue = ev.prevKv?.value ?? (ev.kv.value.length > 0 ? ev.kv.value : undefined);
          const object = new Cached(key, revision, () => {
            const obj = copyJson(last.obj);
            setResourceVersion(obj, revision);
            return obj;
          }, lastValue);
          cacheEvent = { type: 'DELETED', revision, object, prev: last };
        }
      } else {
        const adopted = this.#adopted(key, ev.kv.value);
        const obj = adopted !== undefined ? adopted.obj : this.#decodeSafe(ev.kv);
        if (obj) {
          if (adopted !== undefined) setResourceVersion(obj, ev.revision);
          const cached = new Cached(key, ev.revision, obj, ev.kv.value, adopted?.encoded);
          this.#items.set(key, cached);
          if (!prev) this.#sortedKeys = undefined;
          cacheEvent = prev
            ? { type: 'MODIFIED', revision: ev.revision, object: cached, prev }
            : { type: 'ADDED', revision: ev.revision, object: cached };
        }
      }
      this.#revision = ev.revision;
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
          if (key.startsWith(w.keyPrefix)) w.sink.onEvent(cacheEvent);
        }
      }
    }
    this.#wake();
  }

  /**
   * A registry is about to write `obj` as `stored` under `key`: when the write's event brings
   * exactly these bytes, the cache keeps `obj` (which decodes to the same object) instead of
   * decoding them again. The object is the cache's from then on: nobody may change it.
   */
  adopt(key: string, obj: Record<string, unknown>, encoded: EncodedForCache): void {
    this.#adopting.set(key, { obj, encoded });
  }

  /** The write of `obj` failed: forget it (unless another write of the key took its place). */
  abandon(key: string, obj: Record<string, unknown>): void {
    if (this.#adopting.get(key)?.obj === obj) this.#adopting.delete(key);
  }

  /** The adopted object whose bytes an event brings, if any (taken out of the pending ones). */
  #adopted(key: string, value: Uint8Array): Adoption | undefined {
    const a = this.#adopting.get(key);
    if (a === undefined) return undefined;
    const stored = a.encoded.stored;
    if (stored !== value && (stored.length !== value.length || !asBuffer(stored).equals(value))) return undefined;
    this.#adopting.delete(key);
    return a;
  }

  #cachedFrom(kv: KeyValue): CachedObject | undefined {
    const obj = this.#decodeSafe(kv);
    return obj ? new Cached(kv.key, kv.modRevision, obj, kv.value) : undefined;
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
    // Key order changes only when objects come or go, so lists between those are a walk, and a
    // namespace's objects are found by binary search.
    const keys = (this.#sortedKeys ??= [...this.#items.keys()].sort());
    let lo = 0;
    if (keyPrefix !== this.prefix) {
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keys[mid]! < keyPrefix) lo = mid + 1;
        else hi = mid;
      }
    }
    const out: CachedObject[] = [];
    for (let i = lo; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.startsWith(keyPrefix)) break;
      out.push(this.#items.get(k)!);
    }
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
  const rv = String(revision);
  // A written object the watch cache adopted already carries it (and is the cache's now).
  if (meta['resourceVersion'] !== rv) meta['resourceVersion'] = rv;
}

/** Upstream's 504 for a resourceVersion newer than anything seen. */
export function newTooLargeResourceVersion(requested: number, current: number): ApiError {
  const err = newTimeout(`Too large resource version: ${requested}, current: ${current}`, 1);
  err.status.details = { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 };
  return err;
}

