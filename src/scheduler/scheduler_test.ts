// The scheduler's loop and informer handlers: run() schedules what arrives and stops on dispose;
// node heartbeats do not touch the cache; a pod bound elsewhere leaves the queue for the cache.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../api/types/core_v1.ts';
import { FakeClock } from './framework/clock.ts';
import { MemoryListers } from './framework/listers.ts';
import { makeNode, makePod } from './framework/testing/wrappers.ts';
import { Scheduler, jsonValuesEqual, nodeSchedulingPropertiesChange, podSchedulingPropertiesChange } from './scheduler.ts';
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

  test('a reordered but equal node or pod is no scheduling event; a condition status flip is', () => {
    const n = makeNode().name('n1').capacity({ cpu: '1' }).label('a', '1').label('b', '2').obj();
    n.status!.conditions = [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:00Z' }];
    const reordered: Node = { ...n, metadata: { ...n.metadata, labels: Object.fromEntries(Object.entries(n.metadata!.labels!).reverse()) }, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:01:00Z' }] } };
    assert.deepEqual(nodeSchedulingPropertiesChange(reordered, n), []);
    const notReady: Node = { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'False' }] } };
    assert.deepEqual(nodeSchedulingPropertiesChange(notReady, n).map((e) => e.actionType), [ActionType.UpdateNodeCondition]);
    const p = makePod().name('p').node('n1').req({ cpu: '1', memory: '1Gi' }).obj();
    const same = JSON.parse(JSON.stringify(p));
    same.spec.containers[0].resources.requests = { memory: '1Gi', cpu: '1' };
    assert.deepEqual(podSchedulingPropertiesChange(same, p).map((e) => e.actionType), [ActionType.UpdatePodOther]);
  });
});

describe('jsonValuesEqual', () => {
  /** The old comparison (serialized equality) on values whose keys are sorted, so order cannot differ. */
  function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    }
    return v;
  }
  function reference(a: unknown, b: unknown): boolean {
    return JSON.stringify(canonical(a) ?? null) === JSON.stringify(canonical(b) ?? null);
  }

  test('matches serialized comparison on sorted keys, for random JSON values and their mutations', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const value = (depth: number): unknown => {
      switch (rnd(depth > 2 ? 4 : 7)) {
        case 0: return rnd(3);
        case 1: return ['a', 'b', ''][rnd(3)];
        case 2: return rnd(2) === 0;
        case 3: return rnd(4) === 0 ? undefined : null;
        case 4: case 5: return Array.from({ length: rnd(3) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [['x', 'y', 'z', 'w'][rnd(4)]!, value(depth + 1)]));
      }
    };
    const mutate = (v: unknown): unknown => {
      if (rnd(4) === 0) return value(2);
      if (Array.isArray(v)) return v.map((x) => (rnd(3) === 0 ? mutate(x) : x));
      if (v !== null && typeof v === 'object') {
        // Rebuilt in reverse key order: equal content, different order.
        return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, rnd(3) === 0 ? mutate(x) : x]));
      }
      return v;
    };
    let equalSeen = 0;
    for (let i = 0; i < 3000; i++) {
      const a = value(0);
      const b = rnd(2) === 0 ? mutate(a) : value(0);
      const want = reference(a, b);
      if (want) equalSeen++;
      assert.equal(jsonValuesEqual(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      assert.equal(jsonValuesEqual(b, a), want);
    }
    assert.ok(equalSeen > 150, `only ${equalSeen} equal pairs were tried`);
  });

  test('absent, undefined and null are alike; order of keys does not matter', () => {
    assert.equal(jsonValuesEqual(undefined, null), true);
    assert.equal(jsonValuesEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(jsonValuesEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
    assert.equal(jsonValuesEqual([1, 2], [2, 1]), false);
    assert.equal(jsonValuesEqual({ a: [] }, { a: {} }), false);
    assert.equal(jsonValuesEqual({ a: 1 }, { a: 1, b: null }), false);
    assert.equal(jsonValuesEqual('1', 1), false);
  });
});
