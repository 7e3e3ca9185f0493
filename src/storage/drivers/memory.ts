// The memory driver (memory://): the Store contract in plain data structures, for unit tests and
// as the executable reference of the semantics the durable drivers must match. Nothing persists.
import { Compactor, startCompactor } from '../compactor.ts';
import { encodeContinue } from '../continue_token.ts';
import { closedError, compareKeys, planList, readRevision } from '../driver_common.ts';
import { validateKey, validatePrefix, validateValue } from '../keys.ts';
import { registerDriver } from '../registry.ts';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError, StorageError,
} from '../types.ts';
import type {
  DeleteResult, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions,
  WatchSink, WriteResult,
} from '../types.ts';
import { WatchHub } from '../watch_hub.ts';

/** One version of a key; value null marks a delete. */
interface Version {
  readonly revision: number;
  readonly createRevision: number;
  readonly value: Uint8Array | null;
}

/** Options of a memory store. */
export interface MemoryStoreOptions {
  /** History window for the automatic compactor; 0 or less disables it (default 5 minutes). */
  readonly compactionWindowMs?: number;
}

/** A store that lives in this process's memory. */
export class MemoryStore implements Store {
  readonly driver = 'memory';
  /** Versions per key, oldest first. */
  readonly #keys = new Map<string, Version[]>();
  /** Every key of #keys, in byte order. */
  #sorted: string[] = [];
  /** Every event with revision >= the compacted revision, in order (watch catch-up). */
  #events: WatchEvent[] = [];
  #revision = 0;
  #compacted = 0;
  #closed = false;
  readonly #hub = new WatchHub(() => this.#revision);
  readonly #compactor: Compactor | undefined;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#compactor = startCompactor(this, opts.compactionWindowMs);
  }

  async create(key: string, value: Uint8Array): Promise<WriteResult> {
    this.#open();
    validateKey(key);
    validateValue(key, value);
    const latest = this.#latest(key);
    if (latest) throw new KeyExistsError(key);
    const revision = ++this.#revision;
    const v: Version = { revision, createRevision: revision, value: Uint8Array.from(value) };
    this.#append(key, v);
    this.#emit({ type: 'ADDED', revision, kv: toKv(key, v) });
    return { revision };
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<WriteResult> {
    this.#open();
    validateKey(key);
    validateValue(key, value);
    const latest = this.#latest(key);
    if (!latest) throw new NotFoundError(key);
    if (latest.revision !== expectedModRevision) throw new ConflictError(key, expectedModRevision, toKv(key, latest));
    const revision = ++this.#revision;
    const v: Version = { revision, createRevision: latest.createRevision, value: Uint8Array.from(value) };
    this.#append(key, v);
    this.#emit({ type: 'MODIFIED', revision, kv: toKv(key, v), prevKv: toKv(key, latest) });
    return { revision };
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    this.#open();
    validateKey(key);
    const latest = this.#latest(key);
    if (!latest) throw new NotFoundError(key);
    if (expectedModRevision !== undefined && latest.revision !== expectedModRevision) {
      throw new ConflictError(key, expectedModRevision, toKv(key, latest));
    }
    const revision = ++this.#revision;
    this.#append(key, { revision, createRevision: latest.createRevision, value: null });
    const prevKv = toKv(key, latest);
    this.#emit({ type: 'DELETED', revision, kv: { ...prevKv, modRevision: revision }, prevKv });
    return { revision, prevKv };
  }

  async get(key: string, opts?: { readonly revision?: number }): Promise<GetResult> {
    this.#open();
    validateKey(key);
    const revision = readRevision(opts?.revision, this.#revision, this.#compacted);
    const v = this.#at(key, revision);
    return v ? { kv: toKv(key, v), revision } : { revision };
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    this.#open();
    validatePrefix(prefix);
    const plan = planList(prefix, opts, this.#revision, this.#compacted);
    const kvs: KeyValue[] = [];
    let remaining = 0;
    const from = plan.afterKey ?? prefix;
    for (let i = this.#lowerBound(from); i < this.#sorted.length; i++) {
      const key = this.#sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (plan.afterKey !== undefined && key === plan.afterKey) continue;
      const v = this.#at(key, plan.revision);
      if (!v) continue;
      if (plan.limit === 0 || kvs.length < plan.limit) kvs.push(toKv(key, v));
      else remaining++;
    }
    if (remaining === 0) return { kvs, revision: plan.revision, remaining: 0 };
    const afterKey = kvs[kvs.length - 1]!.key;
    return { kvs, revision: plan.revision, continue: encodeContinue({ revision: plan.revision, afterKey, prefix }), remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#open();
    validatePrefix(prefix);
    let n = 0;
    for (let i = this.#lowerBound(prefix); i < this.#sorted.length; i++) {
      const key = this.#sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (this.#latest(key)) n++;
    }
    return n;
  }

  async currentRevision(): Promise<number> {
    this.#open();
    return this.#revision;
  }

  watch(prefix: string, opts: WatchOptions, sink: WatchSink): Watch {
    try {
      this.#open();
      if (opts.exact) validateKey(prefix);
      else validatePrefix(prefix);
      const from = opts.fromRevision;
      if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`fromRevision must be a non-negative integer, got ${from}`);
      if (from < this.#compacted) throw new CompactedError(from, this.#compacted);
      const start = this.#eventIndexAfter(from);
      return this.#hub.add(prefix, opts.exact === true, sink, from, this.#events.slice(start));
    } catch (err) {
      if (err instanceof StorageError) return this.#hub.failed(sink, err);
      throw err;
    }
  }

  async compact(revision: number): Promise<void> {
    this.#open();
    if (revision > this.#revision) throw new FutureRevisionError(revision, this.#revision);
    if (revision <= this.#compacted) return;
    const dropped: string[] = [];
    for (const [key, versions] of this.#keys) {
      // Keep the newest version at or below `revision` (the state there), unless it is an older delete.
      let i = versions.length - 1;
      while (i >= 0 && versions[i]!.revision > revision) i--;
      if (i < 0) continue;
      const keep = versions[i]!.value === null && versions[i]!.revision < revision ? i + 1 : i;
      versions.splice(0, keep);
      if (versions.length === 0) {
        this.#keys.delete(key);
        dropped.push(key);
      }
    }
    if (dropped.length > 0) {
      const gone = new Set(dropped);
      this.#sorted = this.#sorted.filter((k) => !gone.has(k));
    }
    this.#events = this.#events.slice(this.#eventIndexAfter(revision - 1));
    this.#compacted = revision;
  }

  async compactedRevision(): Promise<number> {
    this.#open();
    return this.#compacted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#compactor?.dispose();
    this.#hub.failAll(closedError(this.driver));
  }

  #open(): void {
    if (this.#closed) throw closedError(this.driver);
  }

  /** The live version of a key now, if any. */
  #latest(key: string): Version | undefined {
    const versions = this.#keys.get(key);
    const v = versions?.[versions.length - 1];
    return v && v.value !== null ? v : undefined;
  }

  /** The live version of a key at `revision`, if any. */
  #at(key: string, revision: number): Version | undefined {
    const versions = this.#keys.get(key);
    if (!versions) return undefined;
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (versions[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    const v = versions[lo - 1];
    return v && v.value !== null ? v : undefined;
  }

  #append(key: string, v: Version): void {
    const versions = this.#keys.get(key);
    if (versions) {
      versions.push(v);
      return;
    }
    this.#keys.set(key, [v]);
    this.#sorted.splice(this.#lowerBound(key), 0, key);
  }

  #emit(ev: WatchEvent): void {
    this.#events.push(ev);
    this.#hub.publish([ev]);
  }

  /** Index of the first key >= `key` in #sorted. */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.#sorted[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first event with revision > `revision`. */
  #eventIndexAfter(revision: number): number {
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#events[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function toKv(key: string, v: Version): KeyValue {
  return { key, value: v.value ?? new Uint8Array(0), createRevision: v.createRevision, modRevision: v.revision };
}

registerDriver('memory', async (_url, opts) => new MemoryStore({ compactionWindowMs: opts.compactionWindowMs }));
