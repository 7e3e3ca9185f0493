// Tests of the bounded-frequency sync runner on a fake clock: coalescing, the minimum interval,
// no overlapping runs, periodic runs and retries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedFrequencyRunner, type Timers } from './sync_runner.ts';

/** A manual clock: timers fire only inside advance(). */
class FakeTimers implements Timers {
  #now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward by `ms`, firing due timers in order and letting promise callbacks run. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function counter(): { fn: () => Promise<void>; starts: number[]; clock?: FakeTimers } {
  const c: { fn: () => Promise<void>; starts: number[]; clock?: FakeTimers } = {
    starts: [],
    fn: async () => {
      c.starts.push(c.clock!.now());
    },
  };
  return c;
}

test('requests made together coalesce into one run', async () => {
  const clock = new FakeTimers();
  const c = counter();
  c.clock = clock;
  const r = new BoundedFrequencyRunner(c.fn, { minIntervalMs: 0, maxIntervalMs: 0, timers: clock });
  r.run();
  r.run();
  r.run();
  await clock.advance(0);
  assert.deepEqual(c.starts, [0]);
  await r.idle();
  r.dispose();
});

test('runs start at least minInterval apart; requests in between coalesce', async () => {
  const clock = new FakeTimers();
  const c = counter();
  c.clock = clock;
  const r = new BoundedFrequencyRunner(c.fn, { minIntervalMs: 1000, maxIntervalMs: 0, timers: clock });
  r.run();
  await clock.advance(0);
  await clock.advance(100);
  r.run();
  await clock.advance(200);
  r.run();
  await clock.advance(5000);
  assert.deepEqual(c.starts, [0, 1000]);
  r.dispose();
});

test('a request during a run starts another run after it, never concurrently', async () => {
  const clock = new FakeTimers();
  let active = 0;
  let maxActive = 0;
  let release: (() => void) | undefined;
  let runs = 0;
  const fn = async (): Promise<void> => {
    runs++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((resolve) => (release = resolve));
    active--;
  };
  const r = new BoundedFrequencyRunner(fn, { minIntervalMs: 0, maxIntervalMs: 0, timers: clock });
  r.run();
  await clock.advance(0);
  r.run();
  await clock.advance(10);
  assert.equal(runs, 1);
  release!();
  await clock.advance(0);
  assert.equal(runs, 2);
  release!();
  await clock.advance(0);
  await r.idle();
  assert.equal(maxActive, 1);
  r.dispose();
});

test('periodic runs happen every maxInterval once started; retryAfter brings one forward', async () => {
  const clock = new FakeTimers();
  const c = counter();
  c.clock = clock;
  const r = new BoundedFrequencyRunner(c.fn, { minIntervalMs: 100, maxIntervalMs: 10_000, timers: clock });
  r.start();
  await clock.advance(25_000);
  assert.deepEqual(c.starts, [0, 10_000, 20_000]);
  r.retryAfter(500);
  await clock.advance(1000);
  assert.deepEqual(c.starts, [0, 10_000, 20_000, 25_500]);
  r.dispose();
  assert.equal(clock.pending, 0);
});

test('errors are reported and do not stop later runs', async () => {
  const clock = new FakeTimers();
  const errors: unknown[] = [];
  let n = 0;
  const r = new BoundedFrequencyRunner(
    async () => {
      if (++n === 1) throw new Error('boom');
    },
    { minIntervalMs: 0, maxIntervalMs: 0, timers: clock, onError: (e) => errors.push(e) },
  );
  r.run();
  await clock.advance(0);
  r.run();
  await clock.advance(0);
  assert.equal(n, 2);
  assert.equal((errors[0] as Error).message, 'boom');
  r.dispose();
});

test('negative intervals are rejected', () => {
  assert.throws(() => new BoundedFrequencyRunner(async () => {}, { minIntervalMs: -1, maxIntervalMs: 0 }), /minIntervalMs must be >= 0, got -1/);
});
