import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { neverStarted, PodTerminations, terminatedStatus } from './terminations.ts';

describe('pod terminations', () => {
  test('a request kicks the worker and resolves when finished; dispose resolves the rest', async () => {
    const kicked: string[] = [];
    const t = new PodTerminations((uid) => kicked.push(uid));
    let done = false;
    const p = t.request({ metadata: { uid: 'u1' } }, { graceSeconds: 1, reason: 'Evicted', message: 'm' }).then(() => { done = true; });
    assert.deepEqual(kicked, ['u1']);
    assert.equal(t.pending('u1')?.reason, 'Evicted');
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    t.finish('u1');
    await p;
    assert.equal(t.has('u1'), false);
    const q = t.request({ metadata: { uid: 'u2' } }, { graceSeconds: 1, reason: 'Evicted', message: 'm' });
    t.dispose();
    await q;
  });

  test('the terminated status is Failed with reason, message and the condition replaced', () => {
    const s = terminatedStatus(
      { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'DisruptionTarget', status: 'False' }] },
      { graceSeconds: 1, reason: 'Evicted', message: 'low', condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'low' } },
      Date.UTC(2024, 0, 1),
    );
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'Evicted');
    assert.equal(s.message, 'low');
    assert.deepEqual(s.conditions, [
      { type: 'Ready', status: 'True' },
      { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'low', lastTransitionTime: '2024-01-01T00:00:00Z' },
    ]);
  });

  test('only a pod that never started is subject to admission', () => {
    assert.equal(neverStarted(undefined), true);
    assert.equal(neverStarted({ phase: 'Pending' }), true);
    assert.equal(neverStarted({ phase: 'Running', startTime: '2024-01-01T00:00:00Z' }), false);
  });
});
