// The scheduler's pod status patches carry only what changed: a new or different PodScheduled
// condition, a nominatedNodeName set or removed (null), nothing at all when nothing changes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodCondition } from '../../api/types/core_v1.ts';
import { podStatusPatch } from './pod_status.ts';

const unschedulable: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available.', lastTransitionTime: '2024-01-01T00:00:00Z' };

function pod(status: Pod['status']): Pod {
  return { metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [] }, status };
}

describe('podStatusPatch', () => {
  test('a new condition is sent alone, without the unchanged ones', () => {
    const ready: PodCondition = { type: 'Initialized', status: 'True' };
    assert.deepEqual(podStatusPatch(pod({ conditions: [ready] }), { conditions: [ready, unschedulable] }), { status: { conditions: [unschedulable] } });
  });

  test('an identical condition and nomination make no patch', () => {
    const p = pod({ conditions: [unschedulable], nominatedNodeName: 'n1' });
    assert.equal(podStatusPatch(p, { conditions: [{ ...unschedulable }], nominatedNodeName: 'n1' }), null);
  });

  test('a changed message is sent', () => {
    const changed = { ...unschedulable, message: '0/2 nodes are available.' };
    assert.deepEqual(podStatusPatch(pod({ conditions: [unschedulable] }), { conditions: [changed] }), { status: { conditions: [changed] } });
  });

  test('clearing the nomination deletes the field; setting it sends the name', () => {
    assert.deepEqual(podStatusPatch(pod({ nominatedNodeName: 'n1' }), { nominatedNodeName: '' }), { status: { nominatedNodeName: null } });
    assert.deepEqual(podStatusPatch(pod({}), { nominatedNodeName: 'n2' }), { status: { nominatedNodeName: 'n2' } });
    assert.equal(podStatusPatch(pod({}), { nominatedNodeName: '' }), null);
  });
});
