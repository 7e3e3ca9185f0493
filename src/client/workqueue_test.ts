// The work queues: de-duplication, one worker per item, shutdown and drain; delays and per-item
// exponential backoff driven by a fake clock; the rate limiters and token bucket on their own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { DelayingQueue } from './delaying_queue.ts';
import {
  BucketRateLimiter, ItemExponentialFailureRateLimiter, ItemFastSlowRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter,
} from './default_rate_limiters.ts';
import { RateLimitingQueue } from './rate_limiting_queue.ts';
import { TokenBucket } from './token_bucket.ts';
import { WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  test('hands out items in FIFO order and queues an item once however often it is added', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    q.add('b');
    assert.equal(q.len(), 3);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), 'c');
    assert.equal(q.len(), 0);
    q.shutDown();
  });

  test('never hands an item to two workers: re-adds during processing wait for done()', async () => {
    const q = new WorkQueue<string>();
    q.add('k');
    const first = await q.get();
    assert.equal(first, 'k');
    q.add('k');
    q.add('k');
    assert.equal(q.len(), 0, 'an item being processed is not queued again yet');
    let second: string | undefined;
    const waiting = q.get().then((v) => { second = v; });
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined, 'a second worker must not receive k while it is processed');
    q.done('k');
    await waiting;
    assert.equal(second, 'k', 'the re-add is delivered once after done()');
    assert.equal(q.len(), 0);
    q.done('k');
    q.shutDown();
  });

  test('runs many workers without ever processing one key concurrently', async () => {
    const q = new WorkQueue<string>();
    const active = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        if (active.has(k)) overlaps++;
        active.add(k);
        await new Promise((r) => setImmediate(r));
        active.delete(k);
        processed++;
        q.done(k);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    for (let round = 0; round < 50; round++) {
      for (const k of ['a', 'b', 'c']) q.add(k);
      await new Promise((r) => setImmediate(r));
    }
    await q.shutDownWithDrain();
    await Promise.all(workers);
    assert.equal(overlaps, 0);
    assert.ok(processed >= 3);
  });

  test('wakes waiting workers with undefined on shutdown, after the queue drains', async () => {
    const q = new WorkQueue<number>();
    const idle = q.get();
    q.add(1);
    assert.equal(await idle, 1);
    q.add(2);
    q.shutDown();
    q.add(3);
    assert.equal(await q.get(), 2, 'items queued before shutdown are still handed out');
    assert.equal(await q.get(), undefined);
    assert.ok(q.shuttingDown());
  });

  test('shutDownWithDrain waits for items in processing', async () => {
    const q = new WorkQueue<string>();
    q.add('x');
    const item = (await q.get())!;
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => { drained = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    q.done(item);
    await drain;
    assert.equal(drained, true);
  });
});

describe('DelayingQueue', () => {
  test('adds items when their delay passes, earliest first, keeping the earlier of two delays', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('late', 100);
    q.addAfter('early', 50);
    q.addAfter('late', 200); // later than the pending 100 ms: ignored
    q.addAfter('now', 0);
    assert.equal(await q.get(), 'now');
    assert.equal(q.waitingLen(), 2);
    clock.step(49);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'early');
    q.addAfter('late', 10); // earlier than the pending 100 ms: moves it up
    clock.step(10);
    assert.equal(await q.get(), 'late');
    clock.step(1000);
    assert.equal(q.len(), 0, 'the superseded 100 ms entry must not add it twice');
    q.shutDown();
    assert.equal(clock.waiters, 0, 'shutdown cancels the timer');
  });

  test('drops waiting items on shutdown', () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('a', 10);
    q.shutDown();
    clock.step(100);
    assert.equal(q.len(), 0);
    assert.equal(q.waitingLen(), 0);
  });
});

describe('RateLimitingQueue', () => {
  test('backs off per item exponentially from 5 ms, and forget() resets it', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = clock.now();
      q.addRateLimited('k');
      assert.equal(q.len(), 0);
      // Step 1 ms at a time until the item shows up, to measure the delay.
      while (q.len() === 0) clock.step(1);
      delays.push(clock.now() - before);
      assert.equal(await q.get(), 'k');
      q.done('k');
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(q.numRequeues('k'), 5);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
    const before = clock.now();
    q.addRateLimited('k');
    while (q.len() === 0) clock.step(1);
    assert.equal(clock.now() - before, 5);
    q.shutDown();
  });

  test('the overall bucket (10 qps, burst 100) slows a storm of distinct failing items', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>(clock);
    for (let i = 0; i < 100; i++) assert.equal(limiter.when(`k${i}`), 5);
    assert.equal(limiter.when('k100'), 100, 'the 101st token is 100 ms away');
    assert.equal(limiter.when('k101'), 200);
  });
});

describe('rate limiters', () => {
  test('exponential failure limiter caps at its maximum', () => {
    const l = new ItemExponentialFailureRateLimiter<string>(5, 1000 * 1000);
    let d = 0;
    for (let i = 0; i < 40; i++) d = l.when('x');
    assert.equal(d, 1000 * 1000);
    assert.equal(l.numRequeues('x'), 40);
    assert.equal(l.when('y'), 5);
  });

  test('fast-slow limiter switches after maxFastAttempts', () => {
    const l = new ItemFastSlowRateLimiter<string>(5, 10_000, 3);
    assert.deepEqual([l.when('a'), l.when('a'), l.when('a'), l.when('a')], [5, 5, 5, 10_000]);
    l.forget('a');
    assert.equal(l.when('a'), 5);
  });

  test('max-of limiter takes the longest delay and forgets everywhere', () => {
    const clock = new FakeClock();
    const l = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1, 100), new BucketRateLimiter(1, 1, clock));
    assert.equal(l.when('a'), 1);
    assert.equal(l.when('a'), 1000);
    assert.equal(l.numRequeues('a'), 2);
    l.forget('a');
    assert.equal(l.numRequeues('a'), 0);
  });

  test('token bucket refills at qps up to burst', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(2, 3, clock);
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), false);
    clock.step(499);
    assert.equal(b.tryAccept(), false);
    clock.step(1);
    assert.equal(b.tryAccept(), true);
    clock.step(60_000);
    assert.equal(b.tokens(), 3);
    assert.throws(() => new TokenBucket(0, 1, clock), /qps must be > 0/);
  });
});
