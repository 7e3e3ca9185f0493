// Exponential backoff with jitter that starts over after a quiet period (apimachinery's
// wait.NewExponentialBackoffManager): how a reflector paces relists and re-watches after failures.
import { jitter, type Clock } from './clock.ts';

/** Settings of a backoff manager. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A wait requested this long after the previous one starts from initialMs again. */
  readonly resetMs: number;
  readonly factor: number;
  /** Each wait is stretched by up to this fraction at random. */
  readonly jitter: number;
  readonly clock: Clock;
}

/** Hands out successive waits. */
export class BackoffManager {
  #opts: BackoffOptions;
  #next: number;
  #lastStart: number | undefined;

  constructor(opts: BackoffOptions) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs) || !(opts.factor >= 1)) {
      throw new Error(`BackoffManager: need 0 < initialMs <= maxMs and factor >= 1, got ${JSON.stringify({ ...opts, clock: undefined })}`);
    }
    this.#opts = opts;
    this.#next = opts.initialMs;
  }

  /** The next wait in ms. */
  next(): number {
    const now = this.#opts.clock.now();
    if (this.#lastStart === undefined || now - this.#lastStart > this.#opts.resetMs) this.#next = this.#opts.initialMs;
    this.#lastStart = now;
    const d = this.#opts.jitter > 0 ? jitter(this.#next, this.#opts.jitter) : this.#next;
    this.#next = Math.min(this.#next * this.#opts.factor, this.#opts.maxMs);
    return Math.min(d, this.#opts.maxMs * (1 + this.#opts.jitter));
  }
}
