import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PodStatus } from '../api/types/core_v1.ts';
import { mergePodStatus } from './status_manager.ts';

const T1 = Date.UTC(2025, 0, 1, 0, 0, 0);
const T2 = T1 + 60_000;

describe('mergePodStatus', () => {
  test('a condition keeps its transition time while its status stays, and gets a new one when it flips', () => {
    const first = mergePodStatus(undefined, { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] }, T1);
    assert.equal(first.conditions?.[0]?.lastTransitionTime, '2025-01-01T00:00:00Z');
    assert.equal(first.startTime, '2025-01-01T00:00:00Z');
    const second = mergePodStatus(first, { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] }, T2);
    assert.equal(second.conditions?.[0]?.lastTransitionTime, '2025-01-01T00:01:00Z');
    assert.equal(second.conditions?.[1]?.lastTransitionTime, '2025-01-01T00:00:00Z');
    assert.equal(second.startTime, '2025-01-01T00:00:00Z');
  });

  test('the QoS class and conditions the kubelet does not own are kept as they are', () => {
    const old: PodStatus = { qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-12-31T00:00:00Z' }] };
    const next = mergePodStatus(old, { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'x' }, { type: 'PodScheduled', status: 'True' }] }, T1);
    assert.equal(next.qosClass, 'Burstable');
    assert.deepEqual(next.conditions?.[0], { type: 'DisruptionTarget', status: 'True', reason: 'x' });
    assert.equal(next.conditions?.[1]?.lastTransitionTime, '2024-12-31T00:00:00Z');
  });
});
