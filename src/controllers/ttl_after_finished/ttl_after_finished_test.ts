// Unit tests of the TTL-after-finished controller's timing: when a finished Job expires, and that
// unfinished Jobs or Jobs without a TTL are left alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../api/types/batch_v1.ts';
import { formatTime } from '../../client/clock.ts';
import { jobFinishTime, needsCleanup, timeLeft } from './ttl_after_finished.ts';

const T = Date.UTC(2024, 0, 1);

function job(ttl: number | undefined, finished: 'Complete' | 'Failed' | undefined): Job {
  return {
    metadata: { name: 'j', namespace: 'default' },
    spec: { template: { spec: { containers: [] } }, ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
    status: finished ? { conditions: [{ type: finished, status: 'True', lastTransitionTime: formatTime(T) }] } : {},
  };
}

describe('TTL after finished', () => {
  test('a finished Job expires ttlSecondsAfterFinished after its terminal condition', () => {
    assert.equal(jobFinishTime(job(10, 'Complete')), T);
    assert.equal(timeLeft(job(10, 'Complete'), T + 4000), 6000);
    assert.equal(timeLeft(job(10, 'Failed'), T + 10_000), 0);
    assert.equal(timeLeft(job(0, 'Complete'), T), 0);
  });

  test('unfinished Jobs and Jobs without a TTL need no cleanup', () => {
    assert.equal(needsCleanup(job(10, undefined)), false);
    assert.equal(needsCleanup(job(undefined, 'Complete')), false);
    const deleting = job(10, 'Complete');
    deleting.metadata!.deletionTimestamp = formatTime(T);
    assert.equal(needsCleanup(deleting), false);
    assert.equal(timeLeft(job(undefined, 'Complete'), T), undefined);
  });
});
