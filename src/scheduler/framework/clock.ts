// The time source of the scheduler (queue backoff, permit timeouts): injectable so tests drive it
// with FakeClock instead of sleeping.

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void;
}

/** Milliseconds and timers. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const h = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(h) };
  },
};

/** A clock that moves only when told to; due timers fire inside step(). */
export class FakeClock implements Clock {
  private t: number;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.t + Math.max(0, ms), fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Advances time by `ms`, firing due timers in time order. */
  step(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: (typeof this.timers)[number] | undefined;
      for (const x of this.timers) if (x.at <= end && (next === undefined || x.at < next.at)) next = x;
      if (next === undefined) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.t = end;
  }

  /** Number of pending timers. */
  get pendingTimers(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}
