// Rate limiting of syncs, after upstream's async.BoundedFrequencyRunner: requests coalesce, runs
// never overlap and start at least minInterval apart, a periodic run happens every maxInterval,
// and a failed run can ask to be retried later.

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

/** Options of a BoundedFrequencyRunner. */
export interface RunnerOptions {
  /** Least time between the starts of two runs (0: back to back, still coalesced). */
  minIntervalMs: number;
  /** A run happens at least this often (0: never unrequested). */
  maxIntervalMs: number;
  timers?: Timers;
  /** Called when `fn` throws (a run that throws is not retried unless it asks). */
  onError?: (err: unknown) => void;
}

/** Runs `fn` on request, at a bounded frequency. */
export class BoundedFrequencyRunner implements Disposable {
  readonly #fn: () => Promise<void>;
  readonly #min: number;
  readonly #max: number;
  readonly #timers: Timers;
  readonly #onError: (err: unknown) => void;
  #pending = false;
  #running = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  #retryAt: number | null = null;
  #timer: unknown = null;
  #timerDue = Number.POSITIVE_INFINITY;
  #idleWaiters: (() => void)[] = [];
  #disposed = false;
  #started = false;

  constructor(fn: () => Promise<void>, opts: RunnerOptions) {
    for (const k of ['minIntervalMs', 'maxIntervalMs'] as const) {
      if (!Number.isFinite(opts[k]) || opts[k] < 0) throw new RangeError(`BoundedFrequencyRunner: ${k} must be >= 0, got ${opts[k]}`);
    }
    this.#fn = fn;
    this.#min = opts.minIntervalMs;
    this.#max = opts.maxIntervalMs;
    this.#timers = opts.timers ?? realTimers;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Starts the periodic schedule (requests work before this too). */
  start(): void {
    this.#started = true;
    this.#schedule();
  }

  /** Asks for a run as soon as the minimum interval allows; requests made meanwhile coalesce. */
  run(): void {
    if (this.#disposed) return;
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a run no later than `ms` from now (used after a failed run). */
  retryAfter(ms: number): void {
    if (this.#disposed) return;
    const at = this.#timers.now() + ms;
    if (this.#retryAt === null || at < this.#retryAt) this.#retryAt = at;
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

  #nextDue(): number {
    let due = Number.POSITIVE_INFINITY;
    if (this.#pending) due = Math.max(this.#timers.now(), this.#lastStart + this.#min);
    if (this.#retryAt !== null) due = Math.min(due, Math.max(this.#retryAt, this.#lastStart + this.#min));
    if (this.#started && this.#max > 0) due = Math.min(due, Math.max(this.#timers.now(), this.#lastStart + this.#max));
    return due;
  }

  #schedule(): void {
    if (this.#disposed || this.#running) return;
    const due = this.#nextDue();
    if (due === this.#timerDue) return;
    this.#clearTimer();
    if (due === Number.POSITIVE_INFINITY) return;
    this.#timerDue = due;
    // Even a due-now run goes through a timer, so synchronous bursts of requests coalesce.
    this.#timer = this.#timers.setTimeout(() => this.#fire(), Math.max(0, due - this.#timers.now()));
  }

  #fire(): void {
    this.#timer = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (this.#disposed || this.#running) return;
    // Timers may fire a hair early; a millisecond of slack keeps us from rescheduling forever.
    const now = this.#timers.now() + 1;
    if (this.#retryAt !== null && now >= this.#retryAt) {
      this.#retryAt = null;
      this.#pending = true;
    }
    if (this.#started && this.#max > 0 && now >= this.#lastStart + this.#max) this.#pending = true;
    if (!this.#pending || now < this.#lastStart + this.#min) {
      this.#schedule();
      return;
    }
    this.#pending = false;
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
