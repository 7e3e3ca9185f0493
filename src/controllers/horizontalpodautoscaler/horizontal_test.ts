// Unit tests of the HPA's replica calculation, limits and behavior policies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { convertDesiredReplicasWithRules, scaleDownLimit, scaleUpLimit, withScaleDownDefaults, withScaleUpDefaults } from './horizontal.ts';
import { ReplicaCalculator, type PodMetricsInfo } from './replica_calculator.ts';

const NOW = Date.UTC(2024, 0, 1, 12);
const LONG_AGO = new Date(NOW - 3600_000).toISOString();

function pod(name: string, opts: { ready?: boolean; phase?: string; cpu?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', resources: opts.cpu === '' ? {} : { requests: { cpu: opts.cpu ?? '100m' } } }] },
    status: { phase: opts.phase ?? 'Running', startTime: LONG_AGO, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: LONG_AGO }] },
  };
}

function calc(usage: Record<string, number>): ReplicaCalculator {
  return new ReplicaCalculator({
    async getResourceMetric() {
      const metrics: PodMetricsInfo = new Map(Object.entries(usage).map(([n, v]) => [n, { timestamp: NOW, windowMs: 30_000, value: v }]));
      return { metrics, timestamp: NOW };
    },
  });
}

describe('replica calculator', () => {
  test('utilization over requests against the target, within tolerance', async () => {
    const pods = [pod('a'), pod('b')];
    const up = await calc({ a: 200, b: 200 }).getResourceReplicas(2, 50, 'cpu', 'ns', 'app=web', pods, '', NOW);
    assert.deepEqual([up.replicas, up.utilization, up.rawUtilization], [8, 200, 200]);
    const same = await calc({ a: 52, b: 54 }).getResourceReplicas(2, 50, 'cpu', 'ns', 'app=web', pods, '', NOW);
    assert.equal(same.replicas, 2);
    const down = await calc({ a: 10, b: 10 }).getResourceReplicas(4, 50, 'cpu', 'ns', 'app=web', pods, '', NOW);
    assert.equal(down.replicas, 1);
  });

  test('missing pods count as at target on scale-down and as idle on scale-up', async () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    // a alone at 10%: missing b, c at 100% each -> ratio 1.4 would flip direction: keep current.
    const r = await calc({ a: 10 }).getResourceReplicas(3, 50, 'cpu', 'ns', 'app=web', pods, '', NOW);
    assert.equal(r.replicas, 3);
    const up = await calc({ a: 300 }).getResourceReplicas(3, 50, 'cpu', 'ns', 'app=web', pods, '', NOW);
    assert.equal(up.replicas, 6);
  });

  test('errors carry upstream wording', async () => {
    await assert.rejects(calc({ a: 1 }).getResourceReplicas(1, 50, 'cpu', 'ns', 'app=web', [pod('a', { cpu: '' })], '', NOW), /missing request for cpu in container c of Pod a/);
    await assert.rejects(calc({}).getResourceReplicas(1, 50, 'cpu', 'ns', 'app=web', [], '', NOW), /no pods returned by selector while calculating replica count/);
    await assert.rejects(calc({}).getResourceReplicas(1, 50, 'cpu', 'ns', 'app=web', [pod('a', { phase: 'Pending' })], '', NOW), /did not receive metrics for targeted pods \(pods might be unready\)/);
  });

  test('average value targets', async () => {
    const r = await calc({ a: 300, b: 100 }).getRawResourceReplicas(2, 100, 'cpu', 'ns', 'app=web', [pod('a'), pod('b')], '', NOW);
    assert.deepEqual([r.replicas, r.rawUtilization], [4, 200]);
  });
});

describe('replica limits', () => {
  test('without behavior: min, max and at most max(2x, 4) up', () => {
    assert.deepEqual(convertDesiredReplicasWithRules(2, 8, 1, 10), [4, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']);
    assert.deepEqual(convertDesiredReplicasWithRules(5, 12, 1, 10), [10, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count']);
    assert.deepEqual(convertDesiredReplicasWithRules(5, 0, 2, 10), [2, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count']);
    assert.deepEqual(convertDesiredReplicasWithRules(5, 6, 2, 10), [6, 'DesiredWithinRange', 'the desired count is within the acceptable range']);
  });

  test('behavior policies: the default scale-up is max(4 pods, 100%) per 15 s', () => {
    const up = withScaleUpDefaults(undefined);
    assert.equal(scaleUpLimit(2, [], up, NOW), 6);
    assert.equal(scaleUpLimit(10, [], up, NOW), 20);
    // 3 pods already added within the period count against it.
    assert.equal(scaleUpLimit(10, [{ change: 3, at: NOW - 5000, outdated: false }], up, NOW), 14);
    const down = withScaleDownDefaults({ policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, 300);
    assert.equal(down.stabilizationWindowSeconds, 300);
    assert.equal(scaleDownLimit(5, [], down, NOW), 4);
    assert.equal(scaleDownLimit(5, [], { ...down, selectPolicy: 'Disabled' }, NOW), 5);
  });
});
