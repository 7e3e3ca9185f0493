// A token bucket (golang.org/x/time/rate's Limiter, as client-go's flowcontrol uses it): `qps`
// tokens per second refill up to `burst`. tryAccept() takes a token if there is one; reserve()
// always takes one and says how long to wait for it (tokens may go negative).
import type { Clock } from './clock.ts';

/** A clock-driven token bucket. */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
    if (!(qps > 0)) throw new Error(`TokenBucket: qps must be > 0, got ${qps}`);
    if (!(Number.isInteger(burst) && burst >= 1)) throw new Error(`TokenBucket: burst must be an integer >= 1, got ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes a token if one is available now. */
  tryAccept(): boolean {
    this.#advance();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes a token, returning the wait in ms until it is really available (0 if at once). */
  reserve(): number {
    this.#advance();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.qps) * 1000;
  }

  /** Tokens available now (may be negative after reservations). */
  tokens(): number {
    this.#advance();
    return this.#tokens;
  }

  #advance(): void {
    const now = this.#clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
      this.#last = now;
    }
  }
}
