// InterPodAffinity against cases from upstream's filtering_test.go (TestRequiredAffinitySingleNode,
// TestRequiredAffinityMultipleNodes) and scoring_test.go (TestPreferredAffinity).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../../api/types/core_v1.ts';
import { MemoryListers } from '../../framework/listers.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework, scoreEach } from '../../framework/testing/wrappers.ts';
import {
  ErrReasonAffinityRulesNotMatch,
  ErrReasonAntiAffinityRulesNotMatch,
  ErrReasonExistingAntiAffinityRulesNotMatch,
  Name,
  newInterPodAffinity,
} from './inter_pod_affinity.ts';

const registry = new Map([[Name, newInterPodAffinity]]);

function filter(pod: Pod, pods: Pod[], nodes: Node[], listers?: MemoryListers): Map<string, string | null> {
  const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes, pods, ...(listers ? { listers } : {}) });
  const r = filterEach(fwk, snapshot, pod);
  return new Map([...r.byNode].map(([n, s]) => [n, s === null ? null : `${s.code}:${s.reasons.join(',')}`]));
}

describe('InterPodAffinity Filter', () => {
  const machine1 = () => makeNode().name('machine1').label('region', 'r1').label('zone', 'z11').obj();
  const existing = () => makePod().name('e').namespace('default').node('machine1').labels({ service: 'securityscan' });
  const incoming = () => makePod().name('p').namespace('default').labels({ security: 'S1' });
  const cases: Array<{ name: string; pod: Pod; pods: Pod[]; want: string | null }> = [
    { name: 'a pod without required pod affinity fits a node without pods', pod: incoming().obj(), pods: [], want: null },
    { name: 'required affinity (In) matching the existing pod', pod: incoming().podAffinity('region', { service: 'securityscan' }).obj(), pods: [existing().obj()], want: null },
    { name: "required affinity that doesn't match the existing pod", pod: incoming().podAffinity('region', { service: 'antivirusscan' }).obj(), pods: [existing().obj()], want: `3:${ErrReasonAffinityRulesNotMatch}` },
    { name: 'required affinity with a topology key the node lacks', pod: incoming().podAffinity('notexist', { service: 'securityscan' }).obj(), pods: [existing().obj()], want: `3:${ErrReasonAffinityRulesNotMatch}` },
    { name: 'required anti-affinity matching the existing pod', pod: incoming().podAntiAffinity('zone', { service: 'securityscan' }).obj(), pods: [existing().obj()], want: `2:${ErrReasonAntiAffinityRulesNotMatch}` },
    { name: "the existing pod's anti-affinity rejects the incoming pod", pod: incoming().obj(), pods: [existing().podAntiAffinity('zone', { security: 'S1' }).obj()], want: `2:${ErrReasonExistingAntiAffinityRulesNotMatch}` },
    { name: "the existing pod's anti-affinity does not match the incoming pod", pod: incoming().obj(), pods: [existing().podAntiAffinity('zone', { security: 'S2' }).obj()], want: null },
    { name: 'the first pod of a group with affinity to itself is allowed', pod: incoming().podAffinity('region', { security: 'S1' }).obj(), pods: [], want: null },
    { name: 'affinity to labels no pod has, and not its own, is not allowed', pod: incoming().podAffinity('region', { security: 'S2' }).obj(), pods: [], want: `3:${ErrReasonAffinityRulesNotMatch}` },
    { name: 'pods in another namespace do not match by default', pod: incoming().podAffinity('region', { service: 'securityscan' }).obj(), pods: [existing().namespace('other').obj()], want: `3:${ErrReasonAffinityRulesNotMatch}` },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(filter(c.pod, c.pods, [machine1()]).get('machine1'), c.want));
  }

  test('an empty namespaceSelector matches pods in every namespace', () => {
    const pod = incoming().podAffinity('region', { service: 'securityscan' }).obj();
    pod.spec!.affinity!.podAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!.namespaceSelector = {};
    assert.equal(filter(pod, [existing().namespace('other').obj()], [machine1()]).get('machine1'), null);
  });

  test('a namespaceSelector selects namespaces by label', () => {
    const pod = incoming().podAffinity('region', { service: 'securityscan' }).obj();
    pod.spec!.affinity!.podAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!.namespaceSelector = { matchLabels: { team: 'a' } };
    const listers = new MemoryListers().add({ kind: 'Namespace', metadata: { name: 'other', labels: { team: 'a' } } }, { kind: 'Namespace', metadata: { name: 'default' } });
    assert.equal(filter(pod, [existing().namespace('other').obj()], [machine1()], listers).get('machine1'), null);
  });

  test('anti-affinity by zone keeps the pod out of every node in the zone', () => {
    const nodes = [
      makeNode().name('machine1').label('zone', 'z1').obj(),
      makeNode().name('machine2').label('zone', 'z1').obj(),
      makeNode().name('machine3').label('zone', 'z2').obj(),
    ];
    const got = filter(incoming().podAntiAffinity('zone', { service: 'securityscan' }).obj(), [existing().obj()], nodes);
    assert.deepEqual([...got], [
      ['machine1', `2:${ErrReasonAntiAffinityRulesNotMatch}`],
      ['machine2', `2:${ErrReasonAntiAffinityRulesNotMatch}`],
      ['machine3', null],
    ]);
  });

  test('affinity by region admits every node in the region of a matching pod', () => {
    const nodes = [
      makeNode().name('machine1').label('region', 'r1').obj(),
      makeNode().name('machine2').label('region', 'r1').obj(),
      makeNode().name('machine3').label('region', 'r2').obj(),
    ];
    const got = filter(incoming().podAffinity('region', { service: 'securityscan' }).obj(), [existing().obj()], nodes);
    assert.deepEqual([...got].map(([n, s]) => [n, s === null]), [['machine1', true], ['machine2', true], ['machine3', false]]);
  });
});

describe('InterPodAffinity Score', () => {
  const nodes = () => [
    makeNode().name('machine1').label('region', 'China').obj(),
    makeNode().name('machine2').label('region', 'India').obj(),
    makeNode().name('machine3').label('az', 'az1').obj(),
  ];
  const s1 = () => makePod().namespace('default').node('machine1').labels({ security: 'S1' });
  const run = (pod: Pod, pods: Pod[]): number[] => {
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: nodes(), pods });
    const scores = scoreEach(fwk, snapshot, pod);
    return ['machine1', 'machine2', 'machine3'].map((n) => scores.get(n) as number);
  };

  test('all nodes score 0 when no pod has affinity', () => {
    assert.deepEqual(run(makePod().namespace('default').obj(), [s1().obj()]), [0, 0, 0]);
  });

  test('preferred affinity favors the region of the matching pod', () => {
    assert.deepEqual(run(makePod().namespace('default').podAffinity('region', { security: 'S1' }, 'preferred', 5).obj(), [s1().obj()]), [100, 0, 0]);
  });

  test('preferred anti-affinity avoids the region of the matching pod', () => {
    assert.deepEqual(run(makePod().namespace('default').podAntiAffinity('region', { security: 'S1' }, 'preferred', 5).obj(), [s1().obj()]), [0, 100, 100]);
  });

  test("an existing pod's preferred affinity for the incoming pod counts too", () => {
    const existing = makePod().namespace('default').node('machine2').podAffinity('region', { app: 'web' }, 'preferred', 3).obj();
    assert.deepEqual(run(makePod().namespace('default').labels({ app: 'web' }).obj(), [existing]), [0, 100, 0]);
  });

  test("an existing pod's required affinity counts with hardPodAffinityWeight", () => {
    const existing = makePod().namespace('default').node('machine1').podAffinity('region', { app: 'web' }).obj();
    assert.deepEqual(run(makePod().namespace('default').labels({ app: 'web' }).obj(), [existing]), [100, 0, 0]);
  });
});
