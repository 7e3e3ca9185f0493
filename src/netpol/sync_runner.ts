// Coalescing of syncs, in the spirit of upstream's async.BoundedFrequencyRunner (a smaller copy of
// src/proxy/sync_runner.ts, which components may not import): requests made while a run is due or
// in flight merge into one run, runs never overlap and start at least minInterval apart, and a
// periodic run happens every period.

import type { Disposable } from '../base/disposable.ts';

/** Clock and timers, injectable so tests need no sleeps. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's real timers. */
export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Options of a SyncRunner. */
export interface SyncRunnerOptions {
  /** Least time between the starts of two runs (0: back to back, still coalesced). */
  minIntervalMs: number;
  /** After start(), a run happens at least this often (0: only on request). */
  periodMs: number;
  timers?: Timers;
  /** Called when the run function throws. */
  onError?: (err: unknown) => void;
}

/** Runs `fn` on request, coalesced and rate-limited. */
export class SyncRunner implements Disposable {
  readonly #fn: () => Promise<void>;
  readonly #min: number;
  readonly #period: number;
  readonly #timers: Timers;
  readonly #onError: (err: unknown) => void;
  #pending = false;
  #running = false;
  #started = false;
  #disposed = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  #retryAt = Number.POSITIVE_INFINITY;
  #timer: unknown = null;
  #timerDue = Number.POSITIVE_INFINITY;
  #idleWaiters: (() => void)[] = [];

  constructor(fn: () => Promise<void>, opts: SyncRunnerOptions) {
    for (const k of ['minIntervalMs', 'periodMs'] as const) {
      if (!Number.isFinite(opts[k]) || opts[k] < 0) throw new RangeError(`SyncRunner: ${k} must be >= 0, got ${opts[k]}`);
    }
    this.#fn = fn;
    this.#min = opts.minIntervalMs;
    this.#period = opts.periodMs;
    this.#timers = opts.timers ?? realTimers;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Starts the periodic schedule (requests are served before this too). */
  start(): void {
    this.#started = true;
    this.#schedule();
  }

  /** Asks for a run as soon as the minimum interval allows. */
  run(): void {
    if (this.#disposed) return;
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a run no later than `ms` from now (after a failed run). */
  retryAfter(ms: number): void {
    if (this.#disposed) return;
    this.#retryAt = Math.min(this.#retryAt, this.#timers.now() + ms);
    this.#schedule();
  }

  /** Resolves once no run is in flight or requested. */
  idle(): Promise<void> {
    if (!this.#running && !this.#pending) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
    this.#pending = false;
    if (!this.#running) this.#notifyIdle();
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }

  #schedule(): void {
    if (this.#disposed || this.#running) return;
    const now = this.#timers.now();
    const earliest = this.#lastStart + this.#min;
    let due = Math.max(this.#retryAt, earliest);
    if (this.#pending) due = Math.min(due, Math.max(now, earliest));
    if (this.#started && this.#period > 0) due = Math.min(due, Math.max(now, this.#lastStart + this.#period));
    if (due === this.#timerDue) return;
    this.#clearTimer();
    if (due === Number.POSITIVE_INFINITY) return;
    this.#timerDue = due;
    // Even a due-now run goes through a timer, so a synchronous burst of requests coalesces.
    this.#timer = this.#timers.setTimeout(() => this.#fire(), Math.max(0, due - now));
  }

  #fire(): void {
    this.#timer = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (this.#disposed || this.#running) return;
    this.#pending = false;
    this.#retryAt = Number.POSITIVE_INFINITY;
    this.#running = true;
    this.#lastStart = this.#timers.now();
    void this.#fn()
      .catch((err: unknown) => this.#onError(err))
      .finally(() => {
        this.#running = false;
        this.#schedule();
        if (!this.#pending) this.#notifyIdle();
      });
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
