// The time seam of the client framework (k8s.io/utils/clock in spirit): work queues, informers,
// leader election, events and expectations read time and set timers only through a Clock, so tests
// drive them with a FakeClock instead of sleeping.
import type { Disposable } from '../base/disposable.ts';

/** A pending timer; disposing it cancels the callback. */
export interface ClockTimer extends Disposable {
  dispose(): void;
}

/** Wall time and one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or less: as soon as possible). */
  setTimer(fn: () => void, ms: number): ClockTimer;
}

/** The process clock (Date.now and setTimeout). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { dispose: () => clearTimeout(handle) };
  },
};

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire in due order inside step()/setTime(). */
export class FakeClock implements Clock {
  #now: number;
  #timers: FakeTimer[] = [];
  #seq = 0;

  constructor(startMs: number = Date.UTC(2024, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): ClockTimer {
    const t: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { dispose: () => { t.cancelled = true; this.#timers = this.#timers.filter((x) => x !== t); } };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  step(ms: number): void {
    if (!(ms >= 0)) throw new Error(`FakeClock.step: ms must be >= 0, got ${ms}`);
    this.setTime(this.#now + ms);
  }

  /** Moves time to `ms` (never backwards), firing due timers in order. */
  setTime(ms: number): void {
    if (ms < this.#now) throw new Error(`FakeClock.setTime: cannot go back from ${this.#now} to ${ms}`);
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      if (!due.cancelled) due.fn();
    }
    this.#now = ms;
  }

  /** Number of timers waiting to fire. */
  get waiters(): number {
    return this.#timers.length;
  }

  /** True when some timer is waiting. */
  hasWaiters(): boolean {
    return this.#timers.length > 0;
  }
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.dispose();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `base * (1 + random * maxFactor)`, as wait.Jitter does. */
export function jitter(baseMs: number, maxFactor: number): number {
  const f = maxFactor <= 0 ? 1 : maxFactor;
  return baseMs + Math.random() * f * baseMs;
}

/** RFC 3339 with microseconds in UTC, as metav1.MicroTime serializes ("2024-01-01T00:00:00.000000Z"). */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC 3339 seconds in UTC, as metav1.Time serializes ("2024-01-01T00:00:00Z"). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds of a metav1.Time or MicroTime string, or undefined when absent or malformed. */
export function parseTime(s: string | null | undefined): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}
