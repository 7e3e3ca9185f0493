import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/clock.ts';
import { Backoff, formatGoDuration } from './backoff.ts';

describe('Backoff', () => {
  test('a crash-looping container waits 10 s, then 20 s, 40 s, ... up to 5 min', () => {
    const clock = new FakeClock();
    const b = new Backoff({ clock });
    const delays: number[] = [];
    assert.equal(b.isInBackOffSince('k', clock.now()), false, 'the first exit restarts at once');
    b.next('k', clock.now());
    delays.push(b.get('k'));
    for (let i = 0; i < 7; i++) {
      clock.step(1000); // runs a second, then exits again
      const exitedAt = clock.now();
      assert.equal(b.isInBackOffSince('k', exitedAt), true, `exit ${i + 1} waits`);
      clock.step(b.get('k'));
      assert.equal(b.isInBackOffSince('k', exitedAt), false, `exit ${i + 1} restarts once the delay passed`);
      b.next('k', exitedAt);
      delays.push(b.get('k'));
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  test('a container that ran longer than twice the maximum starts over at 10 s', () => {
    const clock = new FakeClock();
    const b = new Backoff({ clock });
    b.next('k', clock.now());
    b.next('k', clock.now());
    assert.equal(b.get('k'), 20_000);
    clock.step(10 * 60_000 + 1);
    b.next('k', clock.now());
    assert.equal(b.get('k'), 10_000);
  });

  test('image pulls count from the last failed attempt', () => {
    const clock = new FakeClock();
    const b = new Backoff({ clock });
    assert.equal(b.isInBackOffSinceUpdate('img', clock.now()), false);
    b.next('img', clock.now());
    clock.step(9_999);
    assert.equal(b.isInBackOffSinceUpdate('img', clock.now()), true);
    clock.step(1);
    assert.equal(b.isInBackOffSinceUpdate('img', clock.now()), false);
  });

  test('keys of a pod that went away are forgotten', () => {
    const b = new Backoff({ clock: new FakeClock() });
    b.next('web_default_uid-1_c_abc', 0);
    b.next('web_default_uid-2_c_abc', 0);
    b.resetContaining('_uid-1_');
    assert.equal(b.get('web_default_uid-1_c_abc'), 0);
    assert.equal(b.get('web_default_uid-2_c_abc'), 10_000);
  });

  test('options are checked', () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), /initialMs/);
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), /maxMs/);
  });

  test('durations print as Go prints them', () => {
    assert.equal(formatGoDuration(10_000), '10s');
    assert.equal(formatGoDuration(80_000), '1m20s');
    assert.equal(formatGoDuration(300_000), '5m0s');
  });
});
