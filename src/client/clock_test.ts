// The fake clock fires timers in due order, sleep() honours abort signals, and the metav1 time
// formats match Go's (seconds for Time, microseconds for MicroTime).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, formatMicroTime, formatTime, parseTime, realClock, sleep } from './clock.ts';

describe('FakeClock', () => {
  test('fires due timers in time order and skips cancelled ones', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@30'), 30);
    clock.setTimer(() => fired.push('a@10'), 10);
    const cancelled = clock.setTimer(() => fired.push('never'), 20);
    clock.setTimer(() => fired.push('c@30'), 30);
    cancelled.dispose();
    clock.step(29);
    assert.deepEqual(fired, ['a@10']);
    clock.step(1);
    assert.deepEqual(fired, ['a@10', 'b@30', 'c@30']);
    assert.equal(clock.now(), 1030);
    assert.equal(clock.hasWaiters(), false);
  });

  test('timers set by a firing timer fire in the same step when due', () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    clock.setTimer(() => {
      at.push(clock.now());
      clock.setTimer(() => at.push(clock.now()), 5);
    }, 5);
    clock.step(20);
    assert.deepEqual(at, [5, 10]);
    assert.throws(() => clock.setTime(0), /cannot go back/);
  });

  test('sleep resolves on the clock and rejects when aborted', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = sleep(clock, 100).then(() => { done = true; });
    clock.step(100);
    await p;
    assert.ok(done);
    const ac = new AbortController();
    const q = sleep(clock, 100, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(q, /stop/);
    assert.equal(clock.waiters, 0);
    await sleep(realClock, 1);
  });
});

describe('time formats', () => {
  test('Time has seconds, MicroTime microseconds, both UTC', () => {
    const ms = Date.UTC(2024, 4, 6, 7, 8, 9, 123);
    assert.equal(formatTime(ms), '2024-05-06T07:08:09Z');
    assert.equal(formatMicroTime(ms), '2024-05-06T07:08:09.123000Z');
    assert.equal(parseTime('2024-05-06T07:08:09.123000Z'), ms);
    assert.equal(parseTime(''), undefined);
    assert.equal(parseTime('garbage'), undefined);
  });
});
