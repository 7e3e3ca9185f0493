// DefaultPreemption after upstream's default_preemption_test.go: victims are the fewest and least
// important pods (PDB-protected ones reprieved first), the node choice follows the tie-break chain,
// and the PostFilter messages are upstream's.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../../api/types/core_v1.ts';
import type { PodDisruptionBudget } from '../../../api/types/policy_v1.ts';
import { CycleState } from '../../framework/cycle_state.ts';
import type { Framework } from '../../framework/framework.ts';
import { NodeToStatus } from '../../framework/fit_error.ts';
import { Code, newStatus, type FilterPlugin, type PluginFactory } from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { podRequests } from '../../framework/resources.ts';
import { MemoryListers } from '../../framework/listers.ts';
import { makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { DefaultPreemption, Name, newDefaultPreemption } from './default_preemption.ts';
import { pickOneNodeForPreemption, type Victims } from './victims.ts';

// Stand-ins for NodeResourcesFit (cpu only) and TaintToleration with their messages and codes:
// plugins are tested alone, so preemption brings its own filters.
const fakeFit: PluginFactory = () => ({
  name: 'NodeResourcesFit',
  filter: (_s: CycleState, pod: Pod, ni: NodeInfo) =>
    podRequests(pod).milliCPU > ni.allocatable.milliCPU - ni.requested.milliCPU ? newStatus(Code.Unschedulable, 'Insufficient cpu') : null,
} as FilterPlugin);
const fakeTaints: PluginFactory = () => ({
  name: 'TaintToleration',
  filter: (_s: CycleState, _pod: Pod, ni: NodeInfo) =>
    ni.taints.length > 0 ? newStatus(Code.UnschedulableAndUnresolvable, `node(s) had untolerated taint {${ni.taints[0]!.key}: ${ni.taints[0]!.value ?? ''}}`) : null,
} as FilterPlugin);

const registry = new Map<string, PluginFactory>([
  ['NodeResourcesFit', fakeFit],
  ['TaintToleration', fakeTaints],
  [Name, newDefaultPreemption],
]);

function setup(nodes: Node[], pods: Pod[], pdbs: PodDisruptionBudget[] = []) {
  const listers = new MemoryListers();
  for (const p of pdbs) listers.add({ kind: 'PodDisruptionBudget', ...p });
  const calls: string[] = [];
  const { fwk, snapshot } = newTestFramework({
    registry, plugins: multiPoint('TaintToleration', 'NodeResourcesFit', Name), nodes, pods, listers,
    preemptionApi: {
      preemptPod: async (victim, preemptor, node) => { calls.push(`${victim.metadata?.name}@${node} by ${preemptor.metadata?.name}`); },
      clearNominatedNodeName: async () => {},
    },
  });
  const plugin = fwk.plugin(Name) as DefaultPreemption;
  plugin.offsetRand = () => 0;
  return { fwk, snapshot, plugin, calls };
}

/** PreFilter and Filter on every node, then PostFilter, as a cycle runs them for an unschedulable pod. */
function runPostFilter(fwk: Framework, snapshot: ReturnType<typeof newTestFramework>['snapshot'], preemptor: Pod) {
  const state = new CycleState();
  fwk.runPreFilterPlugins(state, preemptor);
  const m = new NodeToStatus();
  for (const ni of snapshot.nodeInfoList) {
    const s = fwk.runFilterPlugins(state, preemptor, ni);
    if (s !== null) m.set(ni.name, s);
  }
  return fwk.runPostFilterPlugins(state, preemptor, m);
}

function postFilter(nodes: Node[], pods: Pod[], preemptor: Pod, pdbs: PodDisruptionBudget[] = []) {
  const { fwk, snapshot, calls } = setup(nodes, pods, pdbs);
  return { ...runPostFilter(fwk, snapshot, preemptor), calls };
}

const node = (name: string, cpu = '4') => makeNode().name(name).capacity({ cpu, memory: '100' }).obj();
const pod = (name: string, nodeName: string, priority: number, cpu: string) =>
  makePod().name(name).namespace('default').node(nodeName).priority(priority).req({ cpu, memory: '1' });

describe('DefaultPreemption victims', () => {
  test('only the lowest-priority pods that must go are victims', () => {
    const { fwk, snapshot, plugin } = setup([node('node1')], [pod('lowA', 'node1', 0, '2').obj(), pod('lowB', 'node1', 10, '2').obj()]);
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, preemptor);
    const r = plugin.selectVictimsOnNode(state, preemptor, snapshot.nodeInfoList[0]!.snapshot(), []);
    assert.equal(r.status, null);
    assert.deepEqual(r.victims.map((v) => v.metadata?.name), ['lowA']);
  });

  test('pods of equal or higher priority are never victims', () => {
    const { fwk, snapshot, plugin } = setup([node('node1')], [pod('same', 'node1', 100, '2').obj(), pod('high', 'node1', 200, '2').obj()]);
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, preemptor);
    const r = plugin.selectVictimsOnNode(state, preemptor, snapshot.nodeInfoList[0]!.snapshot(), []);
    assert.equal(r.status?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(r.status?.reasons, ['No preemption victims found for incoming pod']);
  });

  test('a pod protected by a PDB is reprieved before an unprotected one', () => {
    const a = pod('a', 'node1', 0, '2').labels({ app: 'a' }).startTime('2024-01-01T00:00:00Z').obj();
    const b = pod('b', 'node1', 0, '2').labels({ app: 'b' }).startTime('2024-01-02T00:00:00Z').obj();
    const pdb: PodDisruptionBudget = { metadata: { name: 'pdb-a', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'a' } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } };
    const { fwk, snapshot, plugin } = setup([node('node1')], [a, b], [pdb]);
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, preemptor);
    const r = plugin.selectVictimsOnNode(state, preemptor, snapshot.nodeInfoList[0]!.snapshot(), [pdb]);
    assert.deepEqual({ victims: r.victims.map((v) => v.metadata?.name), numViolating: r.numViolating }, { victims: ['b'], numViolating: 0 });
  });

  test('when only PDB-protected pods can make room, they are victims and counted as violations', () => {
    const a = pod('a', 'node1', 0, '4').labels({ app: 'a' }).obj();
    const pdb: PodDisruptionBudget = { metadata: { name: 'pdb-a', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'a' } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } };
    const { fwk, snapshot, plugin } = setup([node('node1')], [a], [pdb]);
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, preemptor);
    const r = plugin.selectVictimsOnNode(state, preemptor, snapshot.nodeInfoList[0]!.snapshot(), [pdb]);
    assert.deepEqual({ victims: r.victims.map((v) => v.metadata?.name), numViolating: r.numViolating }, { victims: ['a'], numViolating: 1 });
  });
});

describe('DefaultPreemption node choice', () => {
  const v = (prios: number[], pdbViolations = 0, start = '2024-01-01T00:00:00Z'): Victims => ({
    pods: prios.map((p, i) => makePod().name(`v${i}`).priority(p).startTime(start).obj()),
    numPDBViolations: pdbViolations,
  });
  const cases: Array<{ name: string; nodes: Record<string, Victims>; want: string }> = [
    { name: 'fewest PDB violations first', nodes: { node1: v([1], 1), node2: v([5], 0) }, want: 'node2' },
    { name: 'then the lowest highest-priority victim', nodes: { node1: v([10, 1]), node2: v([5, 5]) }, want: 'node2' },
    { name: 'then the smallest sum of priorities', nodes: { node1: v([5, 5]), node2: v([5, 1]) }, want: 'node2' },
    { name: 'negative priorities do not make more victims look cheaper', nodes: { node1: v([-10, -10]), node2: v([-10]) }, want: 'node2' },
    { name: 'then the latest start of the highest-priority victims', nodes: { node1: v([5], 0, '2024-01-01T00:00:00Z'), node2: v([5], 0, '2024-02-01T00:00:00Z') }, want: 'node2' },
    { name: 'ties go to the first candidate', nodes: { node1: v([5]), node2: v([5]) }, want: 'node1' },
  ];
  for (const c of cases) test(c.name, () => assert.equal(pickOneNodeForPreemption(new Map(Object.entries(c.nodes)), Date.now()), c.want));
});

describe('DefaultPreemption PostFilter', () => {
  test('nominates the node with the least important victims and deletes them', () => {
    const nodes = [node('node1'), node('node2')];
    const pods = [pod('hi1', 'node1', 50, '4').obj(), pod('lo2', 'node2', 1, '4').obj()];
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const r = postFilter(nodes, pods, preemptor);
    assert.equal(r.status.code, Code.Success);
    assert.deepEqual(r.result, { nominatedNodeName: 'node2' });
    assert.deepEqual(r.calls, ['lo2@node2 by p']);
  });

  test('higher-priority pods everywhere: no preemption victims found', () => {
    const nodes = [node('node1'), node('node2')];
    const pods = [pod('a', 'node1', 500, '4').obj(), pod('b', 'node2', 500, '4').obj()];
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const r = postFilter(nodes, pods, preemptor);
    assert.equal(r.status.code, Code.Unschedulable);
    assert.equal(r.status.message(), 'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
    assert.deepEqual(r.result, { nominatedNodeName: '' });
  });

  test('nodes rejected for unresolvable reasons are not worth preempting on', () => {
    const nodes = [makeNode().name('node1').capacity({ cpu: '4', memory: '100' }).taint({ key: 'k', value: 'v', effect: 'NoSchedule' }).obj(), node('node2', '1')];
    const preemptor = makePod().name('p').namespace('default').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const r = postFilter(nodes, [pod('lo', 'node2', 0, '1').obj()], preemptor);
    assert.equal(r.status.message(), 'preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling.');
  });

  test('preemptionPolicy Never is not eligible', () => {
    const preemptor = makePod().name('p').namespace('default').priority(100).preemptionPolicy('Never').req({ cpu: '8', memory: '1' }).obj();
    const r = postFilter([node('node1')], [pod('lo', 'node1', 0, '4').obj()], preemptor);
    assert.equal(r.status.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
  });

  test('a nominated node with a victim still terminating blocks another preemption', () => {
    const victim = pod('lo', 'node1', 0, '4').terminating().obj();
    victim.status!.conditions = [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }];
    const preemptor = makePod().name('p').namespace('default').priority(100).nominatedNodeName('node1').req({ cpu: '2', memory: '1' }).obj();
    const r = postFilter([node('node1')], [victim], preemptor);
    assert.equal(r.status.message(), 'preemption: not eligible due to a terminating pod on the nominated node.');
  });

  test('victims deleted through the API but still in the snapshot block another preemption', async () => {
    const { fwk, snapshot, calls } = setup([node('node1')], [pod('lo', 'node1', 0, '4').uid('lo-uid').obj()]);
    const preemptor = makePod().name('p').namespace('default').uid('p-uid').priority(100).req({ cpu: '2', memory: '1' }).obj();
    const run = () => runPostFilter(fwk, snapshot, preemptor);
    assert.deepEqual(run().result, { nominatedNodeName: 'node1' });
    // The deletion call has returned, yet the informer has not delivered it.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(run().status.message(), 'preemption: not eligible due to a terminating pod on the nominated node.');
    assert.deepEqual(calls, ['lo@node1 by p']);
    snapshot.get('node1')!.removePod('lo-uid');
    // Gone: eligible again (and the freed node needs no preemption).
    assert.equal(run().status.message(), 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  });

  test('the preemptor waits at PreEnqueue until its victims are deleted, then is requeued', async () => {
    let release!: () => void;
    const deleted = new Promise<void>((resolve) => { release = resolve; });
    const requeued: string[] = [];
    const { fwk, snapshot } = newTestFramework({
      registry, plugins: multiPoint('TaintToleration', 'NodeResourcesFit', Name), nodes: [node('node1')], pods: [pod('lo', 'node1', 0, '4').uid('lo-uid').obj()],
      preemptionApi: { preemptPod: () => deleted, clearNominatedNodeName: async () => {} },
      requeueAfterBackoff: (pods) => requeued.push(...pods.map((p) => p.metadata?.name ?? '')),
    });
    const preemptor = makePod().name('p').namespace('default').uid('p-uid').priority(100).req({ cpu: '2', memory: '1' }).obj();
    assert.equal(fwk.runPreEnqueuePlugins(preemptor), null);
    assert.deepEqual(runPostFilter(fwk, snapshot, preemptor).result, { nominatedNodeName: 'node1' });
    const held = fwk.runPreEnqueuePlugins(preemptor);
    assert.equal(held?.code, Code.UnschedulableAndUnresolvable);
    assert.equal(held?.message(), 'waiting for the preemption for this pod to be finished');
    assert.equal(held?.plugin, Name);
    assert.deepEqual(requeued, []);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(requeued, ['p']);
    // The calls returned but the victim is still cached: held until its deletion is seen, which the
    // plugin's queueing hint reports.
    assert.equal(fwk.runPreEnqueuePlugins(preemptor)?.message(), 'waiting for the preemption for this pod to be finished');
    const hint = (fwk.plugin(Name) as DefaultPreemption).eventsToRegister()[0]!.queueingHintFn!;
    const victim = snapshot.nodeInfoList[0]!.pods[0]!.pod;
    assert.equal(hint(preemptor, victim, null), 'QueueSkip');
    snapshot.get('node1')!.removePod('lo-uid');
    assert.equal(hint(preemptor, victim, null), 'Queue');
    assert.equal(hint(preemptor, makePod().name('other').uid('other').obj(), null), 'QueueSkip');
    assert.equal(fwk.runPreEnqueuePlugins(preemptor), null);
  });

  test('calculateNumCandidates: 10% of the nodes, at least 100, at most all', () => {
    const plugin = new DefaultPreemption({}, setup([], []).fwk);
    assert.deepEqual([plugin.calculateNumCandidates(50), plugin.calculateNumCandidates(500), plugin.calculateNumCandidates(5000)], [50, 100, 500]);
  });
});
