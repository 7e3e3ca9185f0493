// Periodic work for thousands of keys (node Lease renewals, node status reports) spread evenly over
// the period instead of firing together: each key gets its own offset, one timer serves them all,
// and at most `concurrency` runs are in flight. A key still queued or running when it falls due
// again skips that round, so a slow API server sees less traffic, never a growing backlog.
import type { Disposable } from '../base/disposable.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';

/** Options of a SpreadTicker. */
export interface SpreadTickerOptions {
  /** Period of each key, ms. */
  readonly intervalMs: number;
  /** Runs in flight at most (default 16). */
  readonly concurrency?: number;
  /** Due keys closer than this are run together in one timer callback (default interval/500, at least 5 ms). */
  readonly granularityMs?: number;
  readonly clock?: Clock;
}

/** Counters, for tests and reports. */
export interface SpreadTickerStats {
  runs: number;
  failures: number;
  /** Rounds skipped because the key's previous run had not finished. */
  skipped: number;
}

interface Entry<K> {
  readonly key: K;
  due: number;
  pending: boolean;
  removed: boolean;
}

// Offsets follow the golden-ratio sequence: any number of keys, added in any order, stays evenly spread.
const GOLDEN = 0.6180339887498949;

/** Runs `work(key)` once per interval for every key added. */
export class SpreadTicker<K> implements Disposable {
  readonly stats: SpreadTickerStats = { runs: 0, failures: 0, skipped: 0 };
  #work: (key: K) => Promise<void>;
  #interval: number;
  #concurrency: number;
  #granularity: number;
  #clock: Clock;
  #entries = new Map<K, Entry<K>>();
  #heap: Entry<K>[] = [];
  #ready: Entry<K>[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;
  #seq = 0;
  #disposed = false;

  constructor(work: (key: K) => Promise<void>, opts: SpreadTickerOptions) {
    if (!(opts.intervalMs > 0)) throw new Error(`SpreadTicker: intervalMs must be > 0, got ${opts.intervalMs}`);
    const c = opts.concurrency ?? 16;
    if (!(Number.isInteger(c) && c >= 1)) throw new Error(`SpreadTicker: concurrency must be an integer >= 1, got ${c}`);
    this.#work = work;
    this.#interval = opts.intervalMs;
    this.#concurrency = c;
    this.#granularity = opts.granularityMs ?? Math.max(5, opts.intervalMs / 500);
    this.#clock = opts.clock ?? realClock;
  }

  /** Starts ticking `key`: first run after its offset within one interval. */
  add(key: K): void {
    if (this.#disposed || this.#entries.has(key)) return;
    const offset = ((this.#seq++ * GOLDEN) % 1) * this.#interval;
    const e: Entry<K> = { key, due: this.#clock.now() + offset, pending: false, removed: false };
    this.#entries.set(key, e);
    this.#push(e);
    this.#arm();
  }

  /**
   * Runs `key` as soon as a slot is free, besides its periodic rounds (as a kubelet posts a status
   * that someone else changed without waiting for its next report); nothing if it is queued or running.
   */
  trigger(key: K): void {
    const e = this.#entries.get(key);
    if (!e || e.pending || this.#disposed) return;
    e.pending = true;
    this.#ready.push(e);
    this.#pump();
  }

  /** Stops ticking `key` (a run in flight finishes). */
  remove(key: K): void {
    const e = this.#entries.get(key);
    if (!e) return;
    e.removed = true;
    this.#entries.delete(key);
  }

  /** Number of keys ticking. */
  get size(): number {
    return this.#entries.size;
  }

  /** Resolves once no run is queued or in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0 && this.#ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops the timer and waits for runs in flight. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#timer?.dispose();
    this.#timer = undefined;
    this.#ready = [];
    this.#heap = [];
    this.#entries.clear();
    await this.whenIdle();
  }

  #arm(): void {
    if (this.#disposed) return;
    while (this.#heap.length > 0 && this.#heap[0]!.removed) this.#pop();
    const top = this.#heap[0];
    if (!top) return;
    const at = Math.max(top.due, this.#clock.now());
    if (this.#timer && this.#timerAt <= at) return;
    this.#timer?.dispose();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(() => this.#fire(), at - this.#clock.now());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const horizon = this.#clock.now() + this.#granularity;
    while (this.#heap.length > 0 && this.#heap[0]!.due <= horizon) {
      const e = this.#pop()!;
      if (e.removed) continue;
      e.due += this.#interval;
      this.#push(e);
      if (e.pending) {
        this.stats.skipped++;
        continue;
      }
      e.pending = true;
      this.#ready.push(e);
    }
    this.#pump();
    this.#arm();
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#ready.length > 0) {
      const e = this.#ready.shift()!;
      if (e.removed) {
        e.pending = false;
        continue;
      }
      this.#inFlight++;
      this.stats.runs++;
      Promise.resolve().then(() => this.#work(e.key)).catch(() => {
        this.stats.failures++;
      }).finally(() => {
        e.pending = false;
        this.#inFlight--;
        if (!this.#disposed) this.#pump();
        if (this.#inFlight === 0 && this.#ready.length === 0) for (const w of this.#idle.splice(0)) w();
      });
    }
  }

  #push(e: Entry<K>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= h[i]!.due) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Entry<K> | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
