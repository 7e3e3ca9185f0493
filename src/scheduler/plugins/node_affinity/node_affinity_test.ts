// NodeAffinity against upstream's TestNodeAffinity (Filter and PreFilterResult) and
// TestNodeAffinityPriority tables.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Affinity, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from '../../../api/types/core_v1.ts';
import { CycleState } from '../../framework/cycle_state.ts';
import { Code } from '../../framework/interface.ts';
import { makeNode, makePod, multiPoint, newTestFramework, scoreEach } from '../../framework/testing/wrappers.ts';
import { ErrReasonConflict, ErrReasonEnforced, ErrReasonPod, Name, newNodeAffinity, type NodeAffinityArgs } from './node_affinity.ts';

const registry = new Map([[Name, newNodeAffinity]]);

function podWith(nodeSelector: Record<string, string> | undefined, terms: NodeSelectorTerm[] | undefined): Pod {
  const pod = makePod().name('p').obj();
  if (nodeSelector) pod.spec!.nodeSelector = nodeSelector;
  if (terms !== undefined) pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } };
  return pod;
}

function run(pod: Pod, nodeName: string, labels: Record<string, string>, args?: NodeAffinityArgs): { pre: { code: Code; reasons: readonly string[] } | null; filter: string | null; nodeNames: string[] | null } {
  const node = makeNode().name(nodeName);
  for (const [k, v] of Object.entries(labels)) node.label(k, v);
  const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [node.obj()], pluginArgs: new Map([[Name, args ?? {}]]) });
  const state = new CycleState();
  const pre = fwk.runPreFilterPlugins(state, pod);
  const nodeNames = pre.result?.nodeNames ? [...pre.result.nodeNames].sort() : null;
  if (pre.status !== null) return { pre: { code: pre.status.code, reasons: pre.status.reasons }, filter: null, nodeNames };
  const s = fwk.runFilterPlugins(state, pod, snapshot.nodeInfoList[0]!);
  if (s !== null) assert.equal(s.code, Code.UnschedulableAndUnresolvable);
  return { pre: null, filter: s === null ? null : s.reasons.join(', '), nodeNames };
}

describe('NodeAffinity Filter', () => {
  const inTerm = (key: string, operator: string, values?: string[]): NodeSelectorTerm => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
  const cases: Array<{ name: string; pod: Pod; labels: Record<string, string>; nodeName?: string; want: string | null; nodeNames?: string[] | null; args?: NodeAffinityArgs }> = [
    { name: 'missing labels', pod: podWith({ foo: 'bar' }, undefined), labels: {}, want: ErrReasonPod },
    { name: 'same labels', pod: podWith({ foo: 'bar' }, undefined), labels: { foo: 'bar' }, want: null },
    { name: 'node labels are superset', pod: podWith({ foo: 'bar' }, undefined), labels: { foo: 'bar', baz: 'blah' }, want: null },
    { name: 'node labels are subset', pod: podWith({ foo: 'bar', baz: 'blah' }, undefined), labels: { foo: 'bar' }, want: ErrReasonPod },
    { name: 'In operator that matches the node', pod: podWith(undefined, [inTerm('foo', 'In', ['bar', 'value2'])]), labels: { foo: 'bar' }, want: null },
    { name: 'Gt operator that matches the node', pod: podWith(undefined, [inTerm('kernel-version', 'Gt', ['0204'])]), labels: { 'kernel-version': '0206' }, want: null },
    { name: 'NotIn operator that matches the node', pod: podWith(undefined, [inTerm('mem-type', 'NotIn', ['DDR', 'DDR2'])]), labels: { 'mem-type': 'DDR3' }, want: null },
    { name: 'Exists operator that matches the node', pod: podWith(undefined, [inTerm('GPU', 'Exists')]), labels: { GPU: 'NVIDIA-GRID-K1' }, want: null },
    { name: "affinity that doesn't match the node's labels", pod: podWith(undefined, [inTerm('foo', 'In', ['value1', 'value2'])]), labels: { foo: 'bar' }, want: ErrReasonPod },
    { name: 'an empty NodeSelectorTerm list matches no node', pod: podWith(undefined, []), labels: { foo: 'bar' }, want: ErrReasonPod },
    { name: 'a term with empty matchExpressions matches no node', pod: podWith(undefined, [{ matchExpressions: [] }]), labels: { foo: 'bar' }, want: ErrReasonPod },
    { name: 'no affinity schedules anywhere', pod: podWith(undefined, undefined), labels: { foo: 'bar' }, want: null },
    { name: 'multiple matchExpressions ANDed that match', pod: podWith(undefined, [{ matchExpressions: [{ key: 'GPU', operator: 'Exists' }, { key: 'GPU', operator: 'NotIn', values: ['AMD', 'INTER'] }] }]), labels: { GPU: 'NVIDIA-GRID-K1' }, want: null },
    { name: "multiple matchExpressions ANDed that don't match", pod: podWith(undefined, [{ matchExpressions: [{ key: 'GPU', operator: 'Exists' }, { key: 'GPU', operator: 'In', values: ['AMD', 'INTER'] }] }]), labels: { GPU: 'NVIDIA-GRID-K1' }, want: ErrReasonPod },
    { name: 'multiple NodeSelectorTerms ORed', pod: podWith(undefined, [inTerm('foo', 'In', ['bar', 'value2']), inTerm('diffkey', 'In', ['wrong', 'value2'])]), labels: { foo: 'bar' }, want: null },
    { name: 'affinity and nodeSelector both satisfied', pod: podWith({ foo: 'bar' }, [inTerm('foo', 'Exists')]), labels: { foo: 'bar' }, want: null },
    { name: 'affinity matches but nodeSelector does not', pod: podWith({ foo: 'bar' }, [inTerm('foo', 'Exists')]), labels: { foo: 'barrrrrr' }, want: ErrReasonPod },
    { name: 'an invalid value in an affinity term', pod: podWith(undefined, [inTerm('foo', 'NotIn', ['invalid value: ___@#$%^'])]), labels: { foo: 'bar' }, want: ErrReasonPod },
    { name: 'matchFields In that matches the node', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }] }]), nodeName: 'node1', labels: {}, want: null, nodeNames: ['node1'] },
    { name: 'matchFields In that does not match the node', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }] }]), nodeName: 'node2', labels: {}, want: ErrReasonPod, nodeNames: ['node1'] },
    { name: 'two terms: matchFields does not match, matchExpressions does', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }] }, inTerm('foo', 'In', ['bar'])]), nodeName: 'node2', labels: { foo: 'bar' }, want: null, nodeNames: null },
    { name: 'one term: matchFields does not match, matchExpressions does', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }], matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] }]), nodeName: 'node2', labels: { foo: 'bar' }, want: ErrReasonPod, nodeNames: ['node1'] },
    { name: 'one term: both matchFields and matchExpressions match', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }], matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] }]), nodeName: 'node1', labels: { foo: 'bar' }, want: null, nodeNames: ['node1'] },
    { name: 'two terms with matchFields to node names', pod: podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node2'] }] }]), nodeName: 'node2', labels: {}, want: null, nodeNames: ['node1', 'node2'] },
    { name: 'matches added affinity and the pod affinity', pod: podWith(undefined, [inTerm('zone', 'In', ['foo'])]), labels: { zone: 'foo' }, want: null, args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [inTerm('zone', 'In', ['foo'])] } } } },
    { name: "matches added affinity but not the pod's", pod: podWith(undefined, [inTerm('zone', 'In', ['bar'])]), labels: { zone: 'foo' }, want: ErrReasonPod, args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [inTerm('zone', 'In', ['foo'])] } } } },
    { name: "doesn't match added affinity", pod: podWith(undefined, undefined), labels: { zone: 'foo' }, want: ErrReasonEnforced, args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [inTerm('zone', 'In', ['bar'])] } } } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = run(c.pod, c.nodeName ?? 'node1', c.labels, c.args);
      assert.equal(r.pre, null);
      assert.equal(r.filter, c.want);
      if (c.nodeNames !== undefined) assert.deepEqual(r.nodeNames, c.nodeNames);
    });
  }

  test('conflicting metadata.name requirements reject the pod in PreFilter', () => {
    const pod = podWith(undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }, { key: 'metadata.name', operator: 'In', values: ['node2'] }] }]);
    assert.deepEqual(run(pod, 'node1', {}).pre, { code: Code.UnschedulableAndUnresolvable, reasons: [ErrReasonConflict] });
  });

  test('a pod without selector or required affinity skips the filter', () => {
    const { fwk } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [] });
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, makePod().obj());
    assert.ok(state.skipFilterPlugins.has(Name));
  });
});

describe('NodeAffinity Score', () => {
  const pref = (weight: number, ...exprs: Array<[string, string]>): PreferredSchedulingTerm => ({ weight, preference: { matchExpressions: exprs.map(([key, v]) => ({ key, operator: 'In', values: [v] })) } });
  const affinity1: Affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref(2, ['foo', 'bar'])] } };
  const affinity2: Affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref(2, ['foo', 'bar']), pref(4, ['key', 'value']), pref(5, ['foo', 'bar'], ['key', 'value'], ['az', 'az1'])] } };
  const label1 = { foo: 'bar' };
  const label2 = { key: 'value' };
  const label3 = { az: 'az1' };
  const label4 = { abc: 'az11', def: 'az22' };
  const label5 = { foo: 'bar', key: 'value', az: 'az1' };
  const cases: Array<{ name: string; affinity?: Affinity; nodes: Array<Record<string, string>>; want: number[] }> = [
    { name: 'all nodes are the same when the pod has no node affinity', nodes: [label1, label2, label3], want: [0, 0, 0] },
    { name: 'no node matches the preferred terms', affinity: affinity1, nodes: [label4, label2, label3], want: [0, 0, 0] },
    { name: 'only machine1 matches', affinity: affinity1, nodes: [label1, label2, label3], want: [100, 0, 0] },
    { name: 'all machines match with different priorities', affinity: affinity2, nodes: [label1, label5, label2], want: [18, 100, 36] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const nodes = c.nodes.map((labels, i) => {
        const n = makeNode().name(`machine${i + 1}`);
        for (const [k, v] of Object.entries(labels)) n.label(k, v);
        return n.obj();
      });
      const pod = makePod().obj();
      if (c.affinity) pod.spec!.affinity = c.affinity;
      const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes });
      const scores = scoreEach(fwk, snapshot, pod);
      assert.deepEqual(nodes.map((n) => scores.get(n.metadata!.name!)), c.want);
    });
  }
});
