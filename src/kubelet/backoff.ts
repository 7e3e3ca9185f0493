// Per-key exponential backoff (client-go's flowcontrol.Backoff) for crash-looping containers and
// failing image pulls: 10 s doubling to 5 min; an entry whose last update is older than twice the
// maximum starts over, which is how "reset after 10 min running" falls out.
import { realClock, type Clock } from '../client/clock.ts';

/** Options of Backoff. */
export interface BackoffOptions {
  /** First delay (default 10 s). */
  readonly initialMs?: number;
  /** Longest delay (default 5 min). */
  readonly maxMs?: number;
  readonly clock?: Clock;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/** Backoff state per key. */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs)) {
      throw new Error(`BackoffOptions: want 0 < initialMs <= maxMs, got ${this.initialMs} and ${this.maxMs}`);
    }
    this.#clock = opts.clock ?? realClock;
  }

  /** The backoff's clock time, for callers computing event times. */
  now(): number {
    return this.#clock.now();
  }

  /** The current delay of `key` (0 when unknown). */
  get(key: string): number {
    return this.#entries.get(key)?.backoffMs ?? 0;
  }

  /** Moves `key` to its next delay: the initial one if new or expired at `eventTime`, else doubled. */
  next(key: string, eventTime: number): void {
    const e = this.#entries.get(key);
    if (!e || this.#expired(eventTime, e.lastUpdate)) {
      this.#entries.set(key, { backoffMs: this.initialMs, lastUpdate: this.#clock.now() });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
    e.lastUpdate = this.#clock.now();
  }

  /** True while less than the key's delay has passed since `eventTime` (e.g. a container's exit). */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.#entries.get(key);
    if (!e || this.#expired(eventTime, e.lastUpdate)) return false;
    return this.#clock.now() - eventTime < e.backoffMs;
  }

  /** True while less than the key's delay has passed since its last update (image pulls). */
  isInBackOffSinceUpdate(key: string, eventTime: number): boolean {
    const e = this.#entries.get(key);
    if (!e || this.#expired(eventTime, e.lastUpdate)) return false;
    return eventTime - e.lastUpdate < e.backoffMs;
  }

  /** When the key's current backoff, counted from `since`, runs out (for requeueing). */
  expiresAt(key: string, since: number): number {
    return since + this.get(key);
  }

  /** Forgets `key`. */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key containing `part` (e.g. the UID of a pod that went away). */
  resetContaining(part: string): void {
    for (const k of this.#entries.keys()) if (k.includes(part)) this.#entries.delete(k);
  }

  /** Drops entries not updated for twice the maximum (upstream's GC). */
  gc(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#entries) if (this.#expired(now, e.lastUpdate)) this.#entries.delete(k);
  }

  #expired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.maxMs * 2;
  }
}

/** A duration as Go's time.Duration.String prints whole seconds ("10s", "1m20s", "5m0s"). */
export function formatGoDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
