// The controllers' queue (client-go util/workqueue rate_limiting_queue.go): a delaying queue whose
// addRateLimited() waits as long as the rate limiter says, so failing keys back off per item while
// forget() on success resets them.
import { DelayingQueue, type DelayingQueueOptions } from './delaying_queue.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './default_rate_limiters.ts';

/** Options of a rate-limiting queue. */
export interface RateLimitingQueueOptions<T> extends DelayingQueueOptions {
  /** Default: defaultControllerRateLimiter on the queue's clock. */
  readonly rateLimiter?: RateLimiter<T>;
}

/** DelayingQueue plus per-item rate-limited retries. */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  #limiter: RateLimiter<T>;

  constructor(opts: RateLimitingQueueOptions<T> = {}) {
    super(opts);
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Adds `item` after the rate limiter's delay (counting a failure). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.#limiter.when(item));
  }

  /** Stops tracking `item`'s failures (it is still processed if queued). */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  /** How many times `item` was re-added through addRateLimited since the last forget. */
  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
