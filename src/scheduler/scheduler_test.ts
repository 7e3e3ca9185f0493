// The scheduler's loop and informer handlers: run() schedules what arrives and stops on dispose;
// node heartbeats do not touch the cache; a pod bound elsewhere leaves the queue for the cache.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../api/types/core_v1.ts';
import { FakeClock } from './framework/clock.ts';
import { MemoryListers } from './framework/listers.ts';
import { makeNode, makePod } from './framework/testing/wrappers.ts';
import { Scheduler, nodeSchedulingPropertiesChange, podSchedulingPropertiesChange } from './scheduler.ts';
import { ActionType, EventResource } from './framework/interface.ts';

function newScheduler(onBind: (pod: string, node: string) => void): Scheduler {
  return new Scheduler({
    listers: new MemoryListers(),
    binder: { bind: async (pod, node) => onBind(pod.metadata?.name ?? '', node) },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: async () => {} },
    preemption: { preemptPod: async () => {}, clearNominatedNodeName: async () => {} },
  }, { clock: new FakeClock() });
}

describe('Scheduler', () => {
  test('run() schedules pods as they arrive and returns after dispose()', async () => {
    let resolveBound!: (v: string) => void;
    const bound = new Promise<string>((r) => { resolveBound = r; });
    const sched = newScheduler((pod, node) => resolveBound(`${pod}->${node}`));
    sched.onNodeAdd(makeNode().name('n1').capacity({ cpu: '1', memory: '1Gi' }).obj());
    const running = sched.run();
    sched.onPodAdd(makePod().name('p').namespace('default').obj());
    assert.equal(await bound, 'p->n1');
    await sched.dispose();
    await running;
  });

  test('a heartbeat-only node update leaves the cache alone', () => {
    const sched = newScheduler(() => {});
    const n: Node = makeNode().name('n1').capacity({ cpu: '1' }).obj();
    n.status!.conditions = [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:00Z' }];
    sched.onNodeAdd(n);
    const gen = (sched.cache as unknown as { nodes: Map<string, { info: { generation: number } }> }).nodes.get('n1')!.info.generation;
    const beat: Node = { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:10Z' }] } };
    sched.onNodeUpdate(n, beat);
    assert.equal((sched.cache as unknown as { nodes: Map<string, { info: { generation: number } }> }).nodes.get('n1')!.info.generation, gen);
  });

  test('a pod bound by someone else leaves the queue and enters the cache', () => {
    const sched = newScheduler(() => {});
    sched.onNodeAdd(makeNode().name('n1').capacity({ cpu: '4' }).obj());
    const pod = makePod().name('p').namespace('default').req({ cpu: '1' }).obj();
    sched.onPodAdd(pod);
    assert.equal(sched.queue.whereIs(pod), 'active');
    sched.onPodUpdate(pod, { ...pod, spec: { ...pod.spec!, nodeName: 'n1' } });
    assert.equal(sched.queue.whereIs(pod), undefined);
    assert.equal(sched.cache.podCount(), 1);
  });

  test('terminal pods are not in the cache', () => {
    const sched = newScheduler(() => {});
    sched.onNodeAdd(makeNode().name('n1').capacity({ cpu: '4' }).obj());
    const pod = makePod().name('p').namespace('default').node('n1').req({ cpu: '1' }).obj();
    sched.onPodAdd(pod);
    sched.onPodUpdate(pod, { ...pod, status: { phase: 'Succeeded' } });
    assert.equal(sched.cache.podCount(), 0);
  });

  test('node and pod updates are classified into scheduling events', () => {
    const n = makeNode().name('n1').capacity({ cpu: '1' }).obj();
    const tainted = makeNode().name('n1').capacity({ cpu: '2' }).taint({ key: 'k', effect: 'NoSchedule' }).obj();
    assert.deepEqual(nodeSchedulingPropertiesChange(tainted, n).map((e) => e.actionType), [ActionType.UpdateNodeAllocatable, ActionType.UpdateNodeTaint]);
    const p = makePod().name('p').node('n1').obj();
    const relabeled = { ...p, metadata: { ...p.metadata, labels: { a: 'b' } } };
    assert.deepEqual(podSchedulingPropertiesChange(relabeled, p), [{ resource: EventResource.AssignedPod, actionType: ActionType.UpdatePodLabel }]);
  });
});
