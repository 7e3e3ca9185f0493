// Tests of the coalescing sync runner with fake timers: bursts coalesce, runs keep the minimum
// interval and never overlap, the period applies after start(), retries are honoured, dispose stops all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncRunner, type Timers } from './sync_runner.ts';

interface Timer {
  fn: () => void;
  at: number;
}

function fakeTimers(): Timers & { now_: number; timers: Timer[]; advance(ms: number): Promise<void> } {
  const t = {
    now_: 0,
    timers: [] as Timer[],
    now: () => t.now_,
    setTimeout(fn: () => void, ms: number) {
      const timer = { fn, at: t.now_ + ms };
      t.timers.push(timer);
      return timer;
    },
    clearTimeout(h: unknown) {
      const i = t.timers.indexOf(h as Timer);
      if (i >= 0) t.timers.splice(i, 1);
    },
    /** Moves the clock, firing due timers in order and letting runs settle. */
    async advance(ms: number) {
      const end = t.now_ + ms;
      for (;;) {
        t.timers.sort((a, b) => a.at - b.at);
        const next = t.timers[0];
        if (!next || next.at > end) break;
        t.timers.shift();
        t.now_ = Math.max(t.now_, next.at);
        next.fn();
        await new Promise((r) => setImmediate(r));
      }
      t.now_ = end;
    },
  };
  return t;
}

test('a burst of requests coalesces into one run, and runs keep the minimum interval', async () => {
  const timers = fakeTimers();
  const starts: number[] = [];
  const r = new SyncRunner(async () => void starts.push(timers.now()), { minIntervalMs: 100, periodMs: 0, timers });
  for (let i = 0; i < 10; i++) r.run();
  await timers.advance(0);
  assert.deepEqual(starts, [0]);
  r.run();
  r.run();
  await timers.advance(50);
  assert.deepEqual(starts, [0], 'not before the minimum interval');
  await timers.advance(50);
  assert.deepEqual(starts, [0, 100]);
  r.dispose();
});

test('runs never overlap; a request during a run runs once after it', async () => {
  const timers = fakeTimers();
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => {};
  let runs = 0;
  const r = new SyncRunner(
    async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((res) => (release = res));
      active--;
    },
    { minIntervalMs: 0, periodMs: 0, timers },
  );
  r.run();
  await timers.advance(0);
  r.run();
  r.run();
  await timers.advance(10);
  assert.equal(runs, 1);
  release();
  await new Promise((res) => setImmediate(res));
  await timers.advance(0);
  assert.equal(runs, 2);
  release();
  await r.idle();
  assert.equal(maxActive, 1);
  r.dispose();
});

test('after start() a run happens every period; retryAfter brings one forward; dispose clears timers', async () => {
  const timers = fakeTimers();
  const starts: number[] = [];
  const errors: unknown[] = [];
  const r = new SyncRunner(
    async () => {
      starts.push(timers.now());
      if (starts.length === 2) throw new Error('boom');
    },
    { minIntervalMs: 10, periodMs: 1000, timers, onError: (e) => errors.push(e) },
  );
  r.start();
  await timers.advance(0);
  await timers.advance(1000);
  assert.deepEqual(starts, [0, 1000]);
  assert.equal(errors.length, 1);
  r.retryAfter(200);
  await timers.advance(200);
  assert.deepEqual(starts, [0, 1000, 1200]);
  r.dispose();
  assert.equal(timers.timers.length, 0);
  r.run();
  await timers.advance(5000);
  assert.equal(starts.length, 3);
  assert.throws(() => new SyncRunner(async () => {}, { minIntervalMs: -1, periodMs: 0 }), /minIntervalMs must be >= 0, got -1/);
});
