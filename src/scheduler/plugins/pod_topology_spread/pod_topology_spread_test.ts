// PodTopologySpread against cases from upstream's filtering_test.go (TestSingleConstraint) and
// scoring_test.go, plus the cluster default constraints built from a ReplicaSet's selector.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../../api/types/core_v1.ts';
import { MemoryListers } from '../../framework/listers.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework, scoreEach } from '../../framework/testing/wrappers.ts';
import { ErrReasonConstraintsNotMatch, ErrReasonNodeLabelNotMatch, Name, newPodTopologySpread } from './pod_topology_spread.ts';

const registry = new Map([[Name, newPodTopologySpread]]);

function nodes(noZoneOnB = false): Node[] {
  const n = (name: string, zone: string | null): Node => {
    const w = makeNode().name(name).label('node', name);
    if (zone !== null) w.label('zone', zone);
    return w.obj();
  };
  return [n('node-a', 'zone1'), n('node-b', noZoneOnB ? null : 'zone1'), n('node-x', 'zone2'), n('node-y', 'zone2')];
}

function existing(counts: Record<string, number>, namespace = 'default'): Pod[] {
  const out: Pod[] = [];
  for (const [node, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) out.push(makePod().name(`p-${node}-${i}`).namespace(namespace).node(node).labels({ foo: '' }).obj());
  }
  return out;
}

function filter(pod: Pod, pods: Pod[], ns: Node[]): Record<string, string> {
  const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: ns, pods });
  const out: Record<string, string> = {};
  for (const [n, s] of filterEach(fwk, snapshot, pod).byNode) out[n] = s === null ? 'fit' : `${s.code}:${s.reasons.join(',')}`;
  return out;
}

const fail = `2:${ErrReasonConstraintsNotMatch}`;
const missing = `3:${ErrReasonNodeLabelNotMatch}`;

describe('PodTopologySpread Filter', () => {
  const incoming = (maxSkew: number, key: string, extra = {}) =>
    makePod().name('p').namespace('default').labels({ foo: '' }).spreadConstraint(maxSkew, key, 'DoNotSchedule', {}, extra);
  const withFooExists = (p: ReturnType<typeof incoming>): Pod => {
    const pod = p.obj();
    for (const c of pod.spec!.topologySpreadConstraints!) c.labelSelector = { matchExpressions: [{ key: 'foo', operator: 'Exists' }] };
    return pod;
  };

  test('no existing pods: every node fits', () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'zone')), [], nodes()), { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' });
  });

  test('pods in another namespace are not counted', () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'zone')), existing({ 'node-a': 1, 'node-b': 1 }, 'ns1'), nodes()), { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' });
  });

  test('pods spread across zones as 2/2: every node fits', () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'zone')), existing({ 'node-a': 1, 'node-b': 1, 'node-x': 1, 'node-y': 1 }), nodes()), { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' });
  });

  test("pods spread across zones as 1/2 because node-b has no 'zone' label", () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'zone')), existing({ 'node-a': 1, 'node-b': 1, 'node-x': 1, 'node-y': 1 }), nodes(true)), { 'node-a': 'fit', 'node-b': missing, 'node-x': fail, 'node-y': fail });
  });

  test("no node has the 'rack' label", () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'rack')), [], nodes()), { 'node-a': missing, 'node-b': missing, 'node-x': missing, 'node-y': missing });
  });

  test('pods spread across nodes as 2/1/0/3: only node-x fits', () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'node')), existing({ 'node-a': 2, 'node-b': 1, 'node-y': 3 }), nodes()), { 'node-a': fail, 'node-b': fail, 'node-x': 'fit', 'node-y': fail });
  });

  test('pods spread across nodes as 2/1/0/3 with maxSkew 2: node-b and node-x fit', () => {
    assert.deepEqual(filter(withFooExists(incoming(2, 'node')), existing({ 'node-a': 2, 'node-b': 1, 'node-y': 3 }), nodes()), { 'node-a': fail, 'node-b': 'fit', 'node-x': 'fit', 'node-y': fail });
  });

  test('with fewer domains than minDomains the global minimum is 0', () => {
    assert.deepEqual(filter(withFooExists(incoming(1, 'zone', { minDomains: 3 })), existing({ 'node-a': 1, 'node-b': 1, 'node-x': 1, 'node-y': 1 }), nodes()), { 'node-a': fail, 'node-b': fail, 'node-x': fail, 'node-y': fail });
  });

  test("an incoming pod that doesn't match its own selector is not counted", () => {
    const pod = makePod().name('p').namespace('default').labels({ other: '' }).spreadConstraint(1, 'node', 'DoNotSchedule', { foo: '' }).obj();
    assert.deepEqual(filter(pod, existing({ 'node-a': 1, 'node-b': 1, 'node-x': 0, 'node-y': 1 }), nodes()), { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' });
  });

  test('a pod without constraints and without owners skips the filter', () => {
    assert.deepEqual(filter(makePod().namespace('default').obj(), existing({ 'node-a': 3 }), nodes()), { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' });
  });
});

describe('PodTopologySpread Score', () => {
  const twoNodes = (): Node[] => [makeNode().name('node-a').label('node', 'node-a').obj(), makeNode().name('node-b').label('node', 'node-b').obj()];

  test('no existing pods: every node scores 100', () => {
    const pod = makePod().namespace('default').labels({ foo: '' }).spreadConstraint(1, 'node', 'ScheduleAnyway', { foo: '' }).obj();
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: twoNodes() });
    assert.deepEqual([...scoreEach(fwk, snapshot, pod).values()], [100, 100]);
  });

  test('2/1 pods over two nodes favor the emptier one', () => {
    // weight ln(2+2); raw a = round(2*1.386) = 3, b = round(1.386) = 1; normalized 100*(3+1-s)/3.
    for (const key of ['node', 'kubernetes.io/hostname']) {
      const pod = makePod().namespace('default').labels({ foo: '' }).spreadConstraint(1, key, 'ScheduleAnyway', { foo: '' }).obj();
      const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: twoNodes(), pods: existing({ 'node-a': 2, 'node-b': 1 }) });
      const scores = scoreEach(fwk, snapshot, pod);
      assert.deepEqual([scores.get('node-a'), scores.get('node-b')], [33, 100], key);
    }
  });

  test('system default constraints spread the pods of a ReplicaSet', () => {
    const listers = new MemoryListers().add({ kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { foo: '' } } } } as never);
    const owned = (name: string, node?: string): Pod => {
      const w = makePod().name(name).namespace('default').labels({ foo: '' });
      if (node) w.node(node);
      const p = w.obj();
      p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
      return p;
    };
    // The nodes have no zone label, so only the hostname default (maxSkew 3, weight ln 4) scores:
    // a = round(2*1.386 + 2) = 5, b = round(0 + 2) = 2 -> 100*(5+2-s)/5.
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: twoNodes(), pods: [owned('e1', 'node-a'), owned('e2', 'node-a')], listers });
    const scores = scoreEach(fwk, snapshot, owned('p'));
    assert.deepEqual([scores.get('node-a'), scores.get('node-b')], [40, 100]);
  });
});
