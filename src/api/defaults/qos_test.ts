// Tests of the pod QoS class computation.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeQOSClass } from './qos.ts';

function pod(containers: unknown[], initContainers: unknown[] = []): Record<string, unknown> {
  return { spec: { containers, initContainers } };
}
const res = (requests?: object, limits?: object) => ({ name: 'c', resources: { requests, limits } });

describe('computeQOSClass', () => {
  test('no cpu or memory requests or limits is BestEffort', () => {
    assert.equal(computeQOSClass(pod([{ name: 'c' }])), 'BestEffort');
    assert.equal(computeQOSClass(pod([res({ 'nvidia.com/gpu': '1' }, { 'nvidia.com/gpu': '1' })])), 'BestEffort');
    assert.equal(computeQOSClass(pod([res({ cpu: '0' })])), 'BestEffort');
    assert.equal(computeQOSClass({}), 'BestEffort');
  });

  test('equal cpu and memory limits and requests in every container is Guaranteed', () => {
    const full = res({ cpu: '1', memory: '1Gi' }, { cpu: '1000m', memory: '1024Mi' });
    assert.equal(computeQOSClass(pod([full, full], [full])), 'Guaranteed');
  });

  test('anything in between is Burstable', () => {
    assert.equal(computeQOSClass(pod([res({ cpu: '100m' })])), 'Burstable');
    assert.equal(computeQOSClass(pod([res({ cpu: '1', memory: '1Gi' }, { cpu: '2', memory: '1Gi' })])), 'Burstable');
    assert.equal(computeQOSClass(pod([res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), { name: 'other' }])), 'Burstable');
    assert.equal(computeQOSClass(pod([res(undefined, { cpu: '1' })])), 'Burstable');
    const full = res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' });
    assert.equal(computeQOSClass(pod([full], [res({ cpu: '1' })])), 'Burstable');
  });
});
