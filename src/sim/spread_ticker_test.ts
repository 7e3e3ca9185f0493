// Tests of SpreadTicker on a fake clock: keys spread evenly over the interval, every key runs once
// per interval, concurrency is bounded, and a key still running skips its next round.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/clock.ts';
import { SpreadTicker } from './spread_ticker.ts';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SpreadTicker', () => {
  test('1,000 keys run once per interval each, spread evenly over it', async () => {
    const clock = new FakeClock();
    const runs = new Map<number, number>();
    const perSlot: number[] = [];
    let slot = 0;
    const ticker = new SpreadTicker<number>(async (k) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      perSlot[slot] = (perSlot[slot] ?? 0) + 1;
    }, { intervalMs: 10_000, clock, concurrency: 1000 });
    for (let i = 0; i < 1000; i++) ticker.add(i);
    // Ten intervals in 100 ms slots: keys due exactly at the end of the last slot run an eleventh time.
    for (slot = 0; slot < 100 * 10; slot++) {
      clock.step(100);
      await flush();
    }
    assert.equal(runs.size, 1000);
    assert.ok([...runs.values()].every((n) => n === 10 || n === 11), 'each key ran once per interval');
    // Evenly spread: 10 per 100 ms slot on average; the golden-ratio offsets keep every slot close to that.
    assert.ok(Math.max(...perSlot) <= 20, `busiest 100 ms slot had ${Math.max(...perSlot)} runs`);
    assert.ok(Math.min(...perSlot) >= 5, `quietest 100 ms slot had ${Math.min(...perSlot)} runs`);
    await ticker.dispose();
    assert.equal(clock.waiters, 0, 'no timer left behind');
  });

  test('never more than `concurrency` runs in flight; a key still running skips its round', async () => {
    const clock = new FakeClock();
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const ticker = new SpreadTicker<number>(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => release.push(resolve));
      inFlight--;
    }, { intervalMs: 1000, clock, concurrency: 4 });
    for (let i = 0; i < 20; i++) ticker.add(i);
    clock.step(999);
    await flush();
    assert.equal(inFlight, 4);
    clock.step(1000); // every key is due again while 16 are queued and 4 running
    await flush();
    assert.equal(ticker.stats.skipped, 20);
    while (release.length > 0) {
      release.shift()!();
      await flush();
    }
    assert.equal(peak, 4);
    assert.equal(ticker.stats.runs, 20);
    await ticker.dispose();
  });

  test('a failing run is counted and the key keeps ticking; removed keys stop', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const ticker = new SpreadTicker<string>(async (k) => {
      seen.push(k);
      if (k === 'bad') throw new Error('boom');
    }, { intervalMs: 1000, clock });
    ticker.add('bad');
    ticker.add('gone');
    clock.step(1000);
    await flush();
    ticker.remove('gone');
    clock.step(1000);
    await flush();
    assert.deepEqual(seen.sort(), ['bad', 'bad', 'gone']);
    assert.equal(ticker.stats.failures, 2);
    await ticker.dispose();
  });

  test('trigger runs a key at once, besides its rounds, and never twice at a time', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    let release: (() => void) | undefined;
    const ticker = new SpreadTicker<string>(async (k) => {
      seen.push(k);
      if (k === 'slow' && release === undefined) await new Promise<void>((resolve) => { release = resolve; });
    }, { intervalMs: 60_000, clock });
    ticker.add('a');
    ticker.add('slow');
    ticker.trigger('a');
    ticker.trigger('unknown');
    await flush();
    assert.deepEqual(seen, ['a']);
    ticker.trigger('slow');
    ticker.trigger('slow');
    await flush();
    assert.deepEqual(seen, ['a', 'slow'], 'a running key is not triggered again');
    release!();
    await flush();
    clock.step(60_000);
    await flush();
    assert.deepEqual(seen.sort(), ['a', 'a', 'slow', 'slow'], 'periodic rounds go on');
    await ticker.dispose();
  });

  test('options are checked up front', () => {
    assert.throws(() => new SpreadTicker(async () => {}, { intervalMs: 0 }), { message: 'SpreadTicker: intervalMs must be > 0, got 0' });
    assert.throws(() => new SpreadTicker(async () => {}, { intervalMs: 1, concurrency: 0 }), /concurrency must be an integer >= 1, got 0/);
  });
});
