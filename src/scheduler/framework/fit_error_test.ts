// FitError's message: the "0/N nodes are available" line users read, built from per-node reasons
// (sorted histogram), the PreFilter message or the preemption message, byte for byte as upstream.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnosis, FitError, NodeToStatus } from './fit_error.ts';
import { Code, newStatus } from './interface.ts';

const pod = { metadata: { name: 'p', namespace: 'default' } };

describe('FitError message', () => {
  test('sorts the reasons histogram and joins it with commas', () => {
    const d = new Diagnosis();
    d.nodeToStatus.set('n1', newStatus(Code.UnschedulableAndUnresolvable, 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'));
    d.nodeToStatus.set('n2', newStatus(Code.Unschedulable, 'Insufficient cpu'));
    d.nodeToStatus.set('n3', newStatus(Code.Unschedulable, 'Insufficient cpu'));
    const e = new FitError(pod, 3, d);
    e.setPostFilterMsg('preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    assert.equal(e.message, '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
  });

  test('counts every reason of a multi-reason status', () => {
    const d = new Diagnosis();
    d.nodeToStatus.set('n1', newStatus(Code.Unschedulable, 'Insufficient cpu', 'Insufficient memory'));
    d.nodeToStatus.set('n2', newStatus(Code.Unschedulable, 'Insufficient memory'));
    assert.equal(new FitError(pod, 2, d).message, '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.');
  });

  test('sorts by bytes, so 10 comes before 9 as upstream prints it', () => {
    const d = new Diagnosis();
    for (let i = 0; i < 10; i++) d.nodeToStatus.set(`a${i}`, newStatus(Code.Unschedulable, 'Insufficient cpu'));
    for (let i = 0; i < 9; i++) d.nodeToStatus.set(`b${i}`, newStatus(Code.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector"));
    assert.equal(new FitError(pod, 19, d).message, "0/19 nodes are available: 10 Insufficient cpu, 9 node(s) didn't match Pod's node affinity/selector.");
  });

  test('uses the PreFilter message instead of the per-node reasons', () => {
    const d = new Diagnosis();
    d.preFilterMsg = 'pod has unbound immediate PersistentVolumeClaims';
    d.nodeToStatus.setAbsentNodesStatus(newStatus(Code.UnschedulableAndUnresolvable, 'pod has unbound immediate PersistentVolumeClaims'));
    const e = new FitError(pod, 3, d);
    e.setPostFilterMsg('preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    assert.equal(e.message, '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
  });

  test('counts nodes without an explicit status with the absent-nodes status', () => {
    const m = new NodeToStatus(newStatus(Code.UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]"));
    m.set('n1', newStatus(Code.Unschedulable, 'Too many pods'));
    const d = new Diagnosis();
    d.nodeToStatus = m;
    assert.equal(new FitError(pod, 4, d).message, "0/4 nodes are available: 1 Too many pods, 3 node(s) didn't satisfy plugin(s) [NodeAffinity].");
  });

  test('nodesForStatusCode lists explicit and absent nodes with the code', () => {
    const m = new NodeToStatus(newStatus(Code.Unschedulable, 'x'));
    m.set('a', newStatus(Code.UnschedulableAndUnresolvable, 'y'));
    const nodes = ['a', 'b', 'c'].map((name) => ({ name })) as never[];
    assert.deepEqual(m.nodesForStatusCode(nodes, Code.Unschedulable).map((n: { name: string }) => n.name), ['b', 'c']);
    assert.deepEqual(m.nodesForStatusCode(nodes, Code.UnschedulableAndUnresolvable).map((n: { name: string }) => n.name), ['a']);
  });
});
