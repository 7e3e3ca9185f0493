// Fan-out of committed events to the watches of an in-process driver (memory, sqlite). The driver
// publishes each commit's events right after it commits; a new watch is registered together with
// its catch-up events in the same synchronous step, so no event is missed or delivered twice.
import { logger } from '../base/log.ts';
import type { StorageError, Watch, WatchEvent, WatchSink } from './types.ts';

const log = logger('storage');

/** Most events handed to one onEvents call, so a long catch-up arrives in digestible batches. */
const MAX_BATCH = 1000;

/** One registered watch; events queue here and are delivered on a microtask. */
class Watcher implements Watch {
  readonly #hub: WatchHub;
  readonly #prefix: string;
  readonly #exact: boolean;
  readonly #sink: WatchSink;
  /** Newest revision queued so far: later publishes skip anything at or below it. */
  lastRevision: number;
  #pending: WatchEvent[] = [];
  /** Revision to confirm with onProgress after the pending events, if requested. */
  #progress: number | undefined;
  #error: StorageError | undefined;
  #scheduled = false;
  #disposed = false;

  constructor(hub: WatchHub, prefix: string, exact: boolean, sink: WatchSink, fromRevision: number) {
    this.#hub = hub;
    this.#prefix = prefix;
    this.#exact = exact;
    this.#sink = sink;
    this.lastRevision = fromRevision;
  }

  matches(key: string): boolean {
    return this.#exact ? key === this.#prefix : key.startsWith(this.#prefix);
  }

  /** Queues events (already in revision order) that this watch has not seen. */
  enqueue(events: readonly WatchEvent[]): void {
    if (this.#disposed || this.#error) return;
    let added = false;
    for (const ev of events) {
      if (ev.revision <= this.lastRevision || !this.matches(ev.kv.key)) continue;
      this.#pending.push(ev);
      this.lastRevision = ev.revision;
      added = true;
    }
    if (added) this.#schedule();
  }

  /** Ends the watch with an error, after the events already queued. */
  fail(err: StorageError): void {
    if (this.#disposed || this.#error) return;
    this.#error = err;
    this.#hub.remove(this);
    this.#schedule();
  }

  /** Every event up to the store's current revision is already queued: confirm it after them. */
  requestProgress(): void {
    if (this.#disposed || this.#error) return;
    this.#progress = Math.max(this.#hub.revision(), this.lastRevision);
    this.#schedule();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pending = [];
    this.#hub.remove(this);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#deliver());
  }

  #deliver(): void {
    this.#scheduled = false;
    while (!this.#disposed && this.#pending.length > 0) {
      const batch = this.#pending.length <= MAX_BATCH ? this.#pending : this.#pending.slice(0, MAX_BATCH);
      this.#pending = batch === this.#pending ? [] : this.#pending.slice(MAX_BATCH);
      try {
        this.#sink.onEvents(batch);
      } catch (err) {
        // A throwing consumer must not take the store down; it only loses this batch's ack.
        log.error('watch consumer threw', { err });
      }
    }
    if (!this.#disposed && this.#progress !== undefined) {
      const revision = this.#progress;
      this.#progress = undefined;
      try {
        this.#sink.onProgress?.(revision);
      } catch (err) {
        log.error('watch consumer threw', { err });
      }
    }
    if (!this.#disposed && this.#error) {
      this.#disposed = true;
      try {
        this.#sink.onError(this.#error);
      } catch (err) {
        log.error('watch consumer threw', { err });
      }
    }
  }
}

/** The watches of one store. */
export class WatchHub {
  readonly #watchers = new Set<Watcher>();
  /** The store's current revision (commits publish before they acknowledge, so it is never ahead of delivery). */
  readonly revision: () => number;

  constructor(revision: () => number) {
    this.revision = revision;
  }

  /** Number of live watches (drivers skip building events nobody will receive). */
  get size(): number {
    return this.#watchers.size;
  }

  /**
   * Registers a watch for every event with revision > fromRevision. `catchUp` holds the events
   * (fromRevision, current] the caller read from history in the same synchronous step.
   */
  add(prefix: string, exact: boolean, sink: WatchSink, fromRevision: number, catchUp: readonly WatchEvent[]): Watch {
    const w = new Watcher(this, prefix, exact, sink, fromRevision);
    this.#watchers.add(w);
    w.enqueue(catchUp);
    return w;
  }

  /** Returns a watch that only reports `err` (asynchronously, like every other delivery). */
  failed(sink: WatchSink, err: StorageError): Watch {
    const w = new Watcher(this, '/', false, sink, 0);
    w.fail(err);
    return w;
  }

  /** Hands the events of one commit, in revision order, to every matching watch. */
  publish(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    for (const w of this.#watchers) w.enqueue(events);
  }

  /** Ends every watch with `err` (queued events are delivered first). */
  failAll(err: StorageError): void {
    for (const w of [...this.#watchers]) w.fail(err);
  }

  /** Used by a watcher leaving the hub. */
  remove(w: Watcher): void {
    this.#watchers.delete(w);
  }
}
