// How long a failed item waits before its retry (client-go util/workqueue default_rate_limiters.go):
// per-item exponential backoff, a fast-then-slow limiter, an overall token bucket, the max of
// several, and the controllers' default: max(5 ms..1000 s per item, 10 qps burst 100 overall).
import { realClock, type Clock } from './clock.ts';
import { TokenBucket } from './token_bucket.ts';

/** Decides per-item retry delays. */
export interface RateLimiter<T> {
  /** The delay (ms) before `item` may be retried; counts a failure. */
  when(item: T): number;
  /** Forgets `item`'s failures (call on success). */
  forget(item: T): void;
  /** Failures counted for `item`. */
  numRequeues(item: T): number;
}

/** base * 2^failures, capped at max. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  #failures = new Map<T, number>();
  #baseMs: number;
  #maxMs: number;

  constructor(baseMs: number, maxMs: number) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) throw new Error(`ItemExponentialFailureRateLimiter: need 0 < baseMs <= maxMs, got ${baseMs}, ${maxMs}`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(item: T): number {
    const exp = this.#failures.get(item) ?? 0;
    this.#failures.set(item, exp + 1);
    const d = this.#baseMs * 2 ** exp;
    return d > this.#maxMs || !Number.isFinite(d) ? this.#maxMs : d;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** `fastMs` for the first `maxFastAttempts` failures of an item, then `slowMs`. */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  #failures = new Map<T, number>();
  #fastMs: number;
  #slowMs: number;
  #maxFast: number;

  constructor(fastMs: number, slowMs: number, maxFastAttempts: number) {
    this.#fastMs = fastMs;
    this.#slowMs = slowMs;
    this.#maxFast = maxFastAttempts;
  }

  when(item: T): number {
    const n = (this.#failures.get(item) ?? 0) + 1;
    this.#failures.set(item, n);
    return n <= this.#maxFast ? this.#fastMs : this.#slowMs;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** An overall token bucket shared by all items (it does not count per-item failures). */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  #bucket: TokenBucket;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.#bucket = new TokenBucket(qps, burst, clock);
  }

  when(_item: T): number {
    return this.#bucket.reserve();
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay any of `limiters` asks for. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  #limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    if (limiters.length === 0) throw new Error('MaxOfRateLimiter: needs at least one limiter');
    this.#limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** Controllers' default: per-item 5 ms doubling to 1000 s, and 10 qps (burst 100) overall. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1000 * 1000),
    new BucketRateLimiter<T>(10, 100, clock),
  );
}
