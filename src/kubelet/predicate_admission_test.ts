// The kubelet's predicate admission against upstream's reasons and messages: resources next to
// the admitted pods (pods count first), required node affinity, host ports, NoExecute taints
// (static pods exempt), and admission when everything fits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../api/types/core_v1.ts';
import { admitPredicates } from './predicate_admission.ts';

function node(extra: { pods?: string; taints?: NonNullable<Node['spec']>['taints']; labels?: Record<string, string> } = {}): Node {
  return {
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', ...extra.labels } },
    spec: { ...(extra.taints ? { taints: extra.taints } : {}) },
    status: { allocatable: { cpu: '2', memory: '4Gi', pods: extra.pods ?? '110', 'ephemeral-storage': '10Gi' } },
  };
}

function pod(name: string, requests: Record<string, string> = {}, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `${name}-uid` },
    spec: { nodeName: 'n1', ...spec, containers: [{ name: 'c', image: 'busybox', resources: { requests }, ...(spec.containers?.[0] ?? {}) }] },
  };
}

describe('admitPredicates', () => {
  test('a pod that fits next to the others is admitted', () => {
    assert.deepEqual(admitPredicates(pod('p', { cpu: '1' }), node(), [pod('a', { cpu: '500m' })], false), { admit: true });
  });

  test('too much cpu: OutOfcpu with the requested, used and capacity in millicores', () => {
    assert.deepEqual(admitPredicates(pod('p', { cpu: '1500m' }), node(), [pod('a', { cpu: '1' })], false), {
      admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    });
  });

  test('too much memory: OutOfmemory in bytes', () => {
    const r = admitPredicates(pod('p', { memory: '5Gi' }), node(), [], false);
    assert.deepEqual(r, { admit: false, reason: 'OutOfmemory', message: `Node didn't have enough resource: memory, requested: ${5 * 1024 ** 3}, used: 0, capacity: ${4 * 1024 ** 3}` });
  });

  test('the pod count is checked first: OutOfpods', () => {
    const r = admitPredicates(pod('p', { cpu: '5' }), node({ pods: '1' }), [pod('a')], false);
    assert.deepEqual(r, { admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1" });
  });

  test('a node selector that does not match: NodeAffinity', () => {
    assert.deepEqual(admitPredicates(pod('p', {}, { nodeSelector: { disk: 'ssd' } }), node(), [], false), {
      admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
    assert.deepEqual(admitPredicates(pod('p', {}, { nodeSelector: { disk: 'ssd' } }), node({ labels: { disk: 'ssd' } }), [], false), { admit: true });
  });

  test('a host port another admitted pod holds: NodePorts', () => {
    const withPort = (name: string): Pod => pod(name, {}, { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    assert.deepEqual(admitPredicates(withPort('p'), node(), [withPort('a')], false), {
      admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
    });
  });

  test('an untolerated NoExecute taint rejects all but static pods; NoSchedule is the scheduler\'s business', () => {
    const tainted = node({ taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }] });
    assert.deepEqual(admitPredicates(pod('p'), tainted, [], false), {
      admit: false, reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    });
    assert.deepEqual(admitPredicates(pod('p'), tainted, [], true), { admit: true });
    assert.deepEqual(admitPredicates(pod('p', {}, { tolerations: [{ key: 'k', operator: 'Exists' }] }), tainted, [], false), { admit: true });
    assert.deepEqual(admitPredicates(pod('p'), node({ taints: [{ key: 'k', effect: 'NoSchedule' }] }), [], false), { admit: true });
  });
});
