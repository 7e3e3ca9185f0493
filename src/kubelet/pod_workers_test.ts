import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/clock.ts';
import { PodWorkers } from './pod_workers.ts';

describe('PodWorkers', () => {
  test('one pod syncs one at a time; updates during a sync make exactly one more', async () => {
    const clock = new FakeClock();
    let running = 0;
    let maxRunning = 0;
    const calls: string[] = [];
    let release!: () => void;
    let gate = new Promise<void>((r) => { release = r; });
    const w = new PodWorkers(async (uid) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls.push(uid);
      await gate;
      running--;
      return { requeueAfterMs: 5000 };
    }, { clock });
    w.update('a');
    w.update('a');
    w.update('a');
    w.update('b');
    assert.deepEqual(calls, ['a', 'b']);
    const first = release;
    gate = Promise.resolve();
    first();
    await w.idle();
    assert.deepEqual(calls, ['a', 'b', 'a']);
    assert.equal(maxRunning, 2, 'different pods run in parallel');
    clock.step(5000);
    await w.idle();
    assert.deepEqual(calls.slice(3).sort(), ['a', 'b'], 'each asked to come back after 5 s');
    await w.dispose();
  });

  test('a failed sync is retried after a pause; a finished pod loses its worker', async () => {
    const clock = new FakeClock();
    let n = 0;
    const w = new PodWorkers(async () => {
      n++;
      if (n === 1) throw new Error('boom');
      return { done: true };
    }, { clock, errorBackoffMs: 1000 });
    w.update('a');
    await w.idle();
    assert.equal(n, 1);
    clock.step(1500);
    await w.idle();
    assert.equal(n, 2);
    assert.deepEqual(w.uids(), []);
    await w.dispose();
  });

  test('dispose waits for a sync that ends, and abandons one that does not end in time', async () => {
    const clock = new FakeClock();
    let releaseA!: () => void;
    const synced: string[] = [];
    const w = new PodWorkers(async (uid) => {
      if (uid === 'a') await new Promise<void>((r) => { releaseA = r; });
      synced.push(uid);
      return {};
    }, { clock, abandonAfterMs: 1000 });
    w.update('a');
    let disposed = false;
    const d = w.dispose().then(() => { disposed = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(disposed, false, 'waits for the sync in flight');
    releaseA();
    await d;
    assert.deepEqual(synced, ['a']);
    w.update('c');
    assert.deepEqual(synced, ['a'], 'no sync starts after dispose');

    const w2 = new PodWorkers(async (uid) => {
      if (uid === 'b') await new Promise<void>(() => undefined);
      return {};
    }, { clock, abandonAfterMs: 1000 });
    w2.update('b');
    let disposed2 = false;
    const d2 = w2.dispose().then(() => { disposed2 = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(disposed2, false);
    clock.step(1000);
    await d2;
    assert.equal(disposed2, true, 'a stuck sync is abandoned after abandonAfterMs');
  });
});
