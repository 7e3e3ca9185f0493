// TaintToleration against upstream's TestTaintTolerationFilter and TestTaintTolerationScore tables.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from '../../../api/types/core_v1.ts';
import { Code } from '../../framework/interface.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework, scoreEach } from '../../framework/testing/wrappers.ts';
import { Name, newTaintToleration } from './taint_toleration.ts';

const registry = new Map([[Name, newTaintToleration]]);

function filter(tolerations: Toleration[], taints: Taint[]): { code: Code; reasons: readonly string[] } | null {
  const node = makeNode().name('nodeA');
  for (const t of taints) node.taint(t);
  const pod = makePod().name('pod1');
  for (const t of tolerations) pod.toleration(t);
  const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [node.obj()] });
  const s = filterEach(fwk, snapshot, pod.obj()).byNode.get('nodeA') ?? null;
  return s === null ? null : { code: s.code, reasons: s.reasons };
}

describe('TaintToleration Filter', () => {
  const cases: Array<{ name: string; tolerations: Toleration[]; taints: Taint[]; want: string | null }> = [
    { name: "a pod having no tolerations can't be scheduled onto a node with nonempty taints", tolerations: [], taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }], want: 'node(s) had untolerated taint {dedicated: user1}' },
    { name: 'a pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule', tolerations: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }], taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }], want: null },
    { name: "a pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule", tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }], taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }], want: 'node(s) had untolerated taint {dedicated: user1}' },
    { name: 'a toleration with operator Exists tolerates the taint', tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }], taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }], want: null },
    { name: 'multiple tolerations tolerate all of multiple taints', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }, { key: 'foo', operator: 'Exists', effect: 'NoSchedule' }], taints: [{ key: 'dedicated', value: 'user2', effect: 'NoSchedule' }, { key: 'foo', value: 'bar', effect: 'NoSchedule' }], want: null },
    { name: "key and value match but the (non-empty) effect doesn't", tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }], taints: [{ key: 'foo', value: 'blah', effect: 'NoSchedule' }], want: 'node(s) had untolerated taint {foo: blah}' },
    { name: 'an empty toleration effect matches a NoSchedule taint', tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar' }], taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }], want: null },
    { name: 'a PreferNoSchedule taint never filters', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }], taints: [{ key: 'dedicated', value: 'user1', effect: 'PreferNoSchedule' }], want: null },
    { name: 'no toleration and only a PreferNoSchedule taint', tolerations: [], taints: [{ key: 'dedicated', value: 'user1', effect: 'PreferNoSchedule' }], want: null },
    { name: 'a NoExecute taint filters like NoSchedule', tolerations: [], taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], want: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = filter(c.tolerations, c.taints);
      if (c.want === null) assert.equal(got, null);
      else assert.deepEqual(got, { code: Code.UnschedulableAndUnresolvable, reasons: [c.want] });
    });
  }
});

describe('TaintToleration Score', () => {
  const prefer = (key: string, value: string): Taint => ({ key, value, effect: 'PreferNoSchedule' });
  const cases: Array<{ name: string; tolerations: Toleration[]; nodes: Taint[][]; want: number[] }> = [
    { name: 'nodes with tolerated taints score higher than nodes with intolerable ones', tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }], nodes: [[prefer('foo', 'bar')], [prefer('foo', 'blah')]], want: [100, 0] },
    { name: 'nodes whose taints are all tolerated score the same whatever their number', tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'PreferNoSchedule' }, { key: 'disk-type', operator: 'Equal', value: 'ssd', effect: 'PreferNoSchedule' }], nodes: [[], [prefer('cpu-type', 'arm64')], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]], want: [100, 100, 100] },
    { name: 'the more intolerable taints a node has, the lower it scores', tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }], nodes: [[], [prefer('cpu-type', 'arm64')], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]], want: [100, 50, 0] },
    { name: 'only PreferNoSchedule taints and tolerations count', tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' }, { key: 'disk-type', operator: 'Equal', value: 'ssd', effect: 'NoSchedule' }], nodes: [[], [{ key: 'cpu-type', value: 'arm64', effect: 'NoSchedule' }], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]], want: [100, 100, 0] },
    { name: 'without tolerations the untainted node wins', tolerations: [], nodes: [[], [prefer('cpu-type', 'arm64')]], want: [100, 0] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const nodes = c.nodes.map((taints, i) => {
        const n = makeNode().name(`node${i}`);
        for (const t of taints) n.taint(t);
        return n.obj();
      });
      const pod = makePod().name('pod1');
      for (const t of c.tolerations) pod.toleration(t);
      const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes });
      const scores = scoreEach(fwk, snapshot, pod.obj());
      assert.deepEqual(nodes.map((n) => scores.get(n.metadata?.name ?? '')), c.want);
    });
  }
});
