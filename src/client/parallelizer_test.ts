// parallelizeUntil: every item once with at most `workers` in flight; after a failure no new item
// starts, the ones already running finish, and the first error is thrown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parallelizeUntil } from './parallelizer.ts';

describe('parallelizeUntil', () => {
  test('runs every item once, never more than `workers` at a time', async () => {
    let inFlight = 0, max = 0;
    const done: number[] = [];
    await parallelizeUntil(3, Array.from({ length: 20 }, (_, i) => i), async (item) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setImmediate(r));
      done.push(item);
      inFlight--;
    });
    assert.equal(max, 3);
    assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    await parallelizeUntil(4, [], async () => { throw new Error('never called'); });
  });

  test('stops handing out items after a failure and throws the first error once the rest settle', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    await assert.rejects(parallelizeUntil(2, [0, 1, 2, 3, 4, 5], async (item) => {
      started.push(item);
      await new Promise((r) => setImmediate(r));
      if (item === 1) throw new Error(`item ${item} failed`);
      if (item === 2) throw new Error('later failure');
      finished.push(item);
    }), /item 1 failed/);
    assert.deepEqual(started, [0, 1, 2]);
    assert.deepEqual(finished, [0]);
  });
});
