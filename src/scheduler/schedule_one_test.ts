// The scheduling cycle end to end on in-memory seams: placement and the Scheduled event, the
// FailedScheduling message with preemption's part, PodScheduled=False, preemption nominating a node,
// binding failures, and numFeasibleNodesToFind's adaptive percentage.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../api/types/core_v1.ts';
import { FakeClock } from './framework/clock.ts';
import { MemoryListers } from './framework/listers.ts';
import { makeNode, makePod } from './framework/testing/wrappers.ts';
import { numFeasibleNodesToFind, podStatusUpdate, truncateMessage } from './schedule_one.ts';
import { Scheduler, type PodStatusUpdate } from './scheduler.ts';

interface Recorded {
  events: string[];
  statuses: Array<{ pod: string; update: PodStatusUpdate }>;
  bound: string[];
  preempted: string[];
}

function newScheduler(nodes: Node[], pods: Pod[], opts: { bindFails?: boolean; clock?: FakeClock } = {}) {
  const listers = new MemoryListers();
  const rec: Recorded = { events: [], statuses: [], bound: [], preempted: [] };
  const sched: Scheduler = new Scheduler({
    listers,
    binder: {
      bind: async (pod, node) => {
        if (opts.bindFails) throw new Error('binding rejected');
        rec.bound.push(`${pod.metadata?.name}->${node}`);
      },
    },
    events: { eventf: (pod, _rel, type, reason, _action, msg) => rec.events.push(`${type} ${reason} ${pod.metadata?.name}: ${msg}`) },
    podStatus: { updatePodStatus: async (pod, update) => { rec.statuses.push({ pod: pod.metadata?.name ?? '', update }); } },
    preemption: {
      preemptPod: async (victim, preemptor, node) => { rec.preempted.push(`${victim.metadata?.name}@${node} for ${preemptor.metadata?.name}`); },
      clearNominatedNodeName: async () => {},
    },
  }, { clock: opts.clock ?? new FakeClock(), random: () => 0 });
  for (const n of nodes) sched.onNodeAdd(n);
  for (const p of pods) {
    listers.add({ kind: 'Pod', ...p });
    sched.onPodAdd(p);
  }
  const add = (p: Pod): void => {
    listers.add({ kind: 'Pod', ...p });
    sched.onPodAdd(p);
  };
  return { sched, rec, listers, add };
}

async function drain(sched: Scheduler): Promise<void> {
  while (sched.scheduleOne()) { /* schedule everything that is ready */ }
  await Promise.allSettled([...sched.inFlightBindings]);
}

const node = (name: string, cpu: string) => makeNode().name(name).capacity({ cpu, memory: '8Gi', pods: '110' });
const running = (name: string, nodeName: string, cpu: string, priority = 0) =>
  makePod().name(name).namespace('default').node(nodeName).priority(priority).req({ cpu }).obj();

describe('scheduleOne', () => {
  test('places a pod, binds it and records Scheduled', async () => {
    const { sched, rec, add } = newScheduler([node('n1', '4').obj()], []);
    add(makePod().name('web').namespace('default').req({ cpu: '1' }).obj());
    await drain(sched);
    assert.deepEqual(rec.bound, ['web->n1']);
    assert.deepEqual(rec.events, ['Normal Scheduled web: Successfully assigned default/web to n1']);
    await sched.dispose();
  });

  test('LeastAllocated spreads pods over equal nodes', async () => {
    const { sched, rec, add } = newScheduler([node('n1', '4').obj(), node('n2', '4').obj()], []);
    for (let i = 0; i < 4; i++) add(makePod().name(`p${i}`).namespace('default').req({ cpu: '1' }).obj());
    await drain(sched);
    const perNode = new Map<string, number>();
    for (const b of rec.bound) perNode.set(b.split('->')[1]!, (perNode.get(b.split('->')[1]!) ?? 0) + 1);
    assert.deepEqual([...perNode.values()], [2, 2]);
    await sched.dispose();
  });

  test('an unschedulable pod gets upstream\'s message as event and PodScheduled condition', async () => {
    const nodes = [
      node('cp', '8').taint({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }).obj(),
      node('n2', '1').obj(),
      node('n3', '1').obj(),
    ];
    const { sched, rec, add } = newScheduler(nodes, [running('a', 'n2', '1'), running('b', 'n3', '1')]);
    const pod = makePod().name('big').namespace('default').req({ cpu: '2' }).obj();
    add(pod);
    await drain(sched);
    const msg = '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    assert.deepEqual(rec.events, [`Warning FailedScheduling big: ${msg}`]);
    assert.equal(rec.statuses.length, 1);
    const cond = rec.statuses[0]!.update.conditions![0]!;
    assert.deepEqual({ type: cond.type, status: cond.status, reason: cond.reason, message: cond.message }, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg });
    assert.equal(sched.queue.whereIs(pod), 'unschedulable');
    await sched.dispose();
  });

  test('a node joining moves the parked pod back and it schedules after its backoff', async () => {
    const clock = new FakeClock();
    const { sched, rec, add } = newScheduler([node('n1', '1').obj()], [], { clock });
    const pod = makePod().name('big').namespace('default').req({ cpu: '2' }).obj();
    add(pod);
    await drain(sched);
    assert.equal(sched.queue.whereIs(pod), 'unschedulable');
    sched.onNodeAdd(node('n2', '4').obj());
    // It failed once, so it first waits out 1s of backoff.
    assert.equal(sched.queue.whereIs(pod), 'backoff');
    clock.step(1000);
    sched.queue.flushBackoffQCompleted();
    await drain(sched);
    assert.deepEqual(rec.bound, ['big->n2']);
    await sched.dispose();
  });

  test('a high-priority pod preempts the lowest-priority pod, is nominated, then lands there', async () => {
    const clock = new FakeClock();
    const batch = running('batch', 'n2', '2', 1);
    const { sched, rec, add, listers } = newScheduler([node('n1', '2').obj(), node('n2', '2').obj()], [running('important', 'n1', '2', 100), batch], { clock });
    const urgent = makePod().name('urgent').namespace('default').priority(1000).req({ cpu: '2' }).obj();
    add(urgent);
    await drain(sched);
    assert.deepEqual(rec.preempted, ['batch@n2 for urgent']);
    assert.ok(rec.statuses.some((s) => s.pod === 'urgent' && s.update.nominatedNodeName === 'n2'));
    // A successful preemption adds nothing to the message.
    assert.equal(rec.events[0], 'Warning FailedScheduling urgent: 0/2 nodes are available: 2 Insufficient cpu.');
    // The status write comes back through the informer; then the victim goes away.
    const nominated: Pod = { ...urgent, metadata: { ...urgent.metadata, resourceVersion: '2' }, status: { nominatedNodeName: 'n2' } };
    listers.add({ kind: 'Pod', ...nominated });
    sched.onPodUpdate(urgent, nominated);
    sched.onPodDelete(batch);
    clock.step(1000);
    sched.queue.flushBackoffQCompleted();
    await drain(sched);
    assert.deepEqual(rec.bound, ['urgent->n2']);
    await sched.dispose();
  });

  test('a nomination whose status write has not come back yet survives a retry', async () => {
    const clock = new FakeClock();
    const batch = makePod().name('batch').namespace('default').uid('batch-uid').node('n2').priority(1).req({ cpu: '2' }).obj();
    const { sched, rec, add } = newScheduler([node('n1', '2').obj(), node('n2', '2').obj()], [running('important', 'n1', '2', 100), batch], { clock });
    const urgent = makePod().name('urgent').namespace('default').uid('urgent-uid').priority(1000).req({ cpu: '2' }).obj();
    add(urgent);
    await drain(sched);
    assert.deepEqual(rec.preempted, ['batch@n2 for urgent']);
    assert.equal(sched.queue.nominator.nominatedNodeName('urgent-uid'), 'n2');
    // A tainted node that would fit comes before the informer shows the nomination or the victim's
    // deletion: the pod waits for its preemption (not retried, nothing preempted again) and the
    // nomination holds.
    const events = rec.events.length;
    sched.onNodeAdd(node('n3', '8').taint({ key: 'k', effect: 'NoSchedule' }).obj());
    clock.step(1000);
    sched.queue.flushBackoffQCompleted();
    await drain(sched);
    assert.equal(rec.events.length, events);
    assert.equal(sched.queue.whereIs(urgent), 'unschedulable');
    assert.deepEqual(rec.preempted, ['batch@n2 for urgent']);
    assert.equal(sched.queue.nominator.nominatedNodeName('urgent-uid'), 'n2');
    // The victim's deletion reaches the cache: the pod goes round again and lands on the freed node.
    sched.onPodDelete(batch);
    await drain(sched);
    assert.deepEqual(rec.bound, ['urgent->n2']);
    await sched.dispose();
  });

  test('a failed binding forgets the assumed pod and retries it', async () => {
    const { sched, rec, add } = newScheduler([node('n1', '4').obj()], [], { bindFails: true });
    const pod = makePod().name('web').namespace('default').req({ cpu: '1' }).obj();
    add(pod);
    await drain(sched);
    assert.equal(sched.cache.isAssumedPod(pod), false);
    assert.equal(sched.queue.whereIs(pod), 'backoff');
    assert.deepEqual(rec.events, ['Warning FailedScheduling web: running Bind plugin "DefaultBinder": binding rejected']);
    assert.equal(rec.statuses[0]!.update.conditions![0]!.reason, 'SchedulerError');
    await sched.dispose();
  });

  test('with no nodes the pod waits', async () => {
    const { sched, rec, add } = newScheduler([], []);
    add(makePod().name('p').namespace('default').obj());
    await drain(sched);
    assert.deepEqual(rec.events, ['Warning FailedScheduling p: no nodes available to schedule pods']);
    await sched.dispose();
  });

  test('pods for another scheduler are ignored', async () => {
    const { sched, rec, add } = newScheduler([node('n1', '4').obj()], []);
    add(makePod().name('p').namespace('default').schedulerName('other').obj());
    await drain(sched);
    assert.deepEqual(rec.bound, []);
    await sched.dispose();
  });

  test('a pod being deleted is skipped', async () => {
    const { sched, rec, add } = newScheduler([node('n1', '4').obj()], []);
    add(makePod().name('p').namespace('default').terminating().obj());
    await drain(sched);
    assert.deepEqual(rec.events, ['Warning FailedScheduling p: skip schedule deleting pod: default/p']);
    await sched.dispose();
  });
});

describe('numFeasibleNodesToFind', () => {
  const cases: Array<[number, number, number]> = [
    [0, 10, 10], [0, 100, 100], [0, 1000, 420], [0, 5000, 500], [0, 6000, 300], [10, 5000, 500], [1, 5000, 100], [100, 1000, 1000],
  ];
  for (const [pct, n, want] of cases) test(`${n} nodes at ${pct}% -> ${want}`, () => assert.equal(numFeasibleNodesToFind(pct, n), want));
});

describe('podStatusUpdate', () => {
  const cond = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm' };
  test('adds the condition with a transition time', () => {
    assert.deepEqual(podStatusUpdate(makePod().obj(), cond, null, 'T1'), { conditions: [{ ...cond, lastTransitionTime: 'T1' }] });
  });
  test('nothing to write when the condition is unchanged', () => {
    const pod = makePod().obj();
    pod.status!.conditions = [{ ...cond, lastTransitionTime: 'T0' }];
    assert.equal(podStatusUpdate(pod, cond, null, 'T1'), null);
  });
  test('a changed message keeps the transition time', () => {
    const pod = makePod().obj();
    pod.status!.conditions = [{ ...cond, lastTransitionTime: 'T0' }];
    assert.deepEqual(podStatusUpdate(pod, { ...cond, message: 'n' }, null, 'T1'), { conditions: [{ ...cond, message: 'n', lastTransitionTime: 'T0' }] });
  });
  test('sets nominatedNodeName only when it changes', () => {
    const pod = makePod().nominatedNodeName('n1').obj();
    assert.equal(podStatusUpdate(pod, null, { mode: 'Override', nominatedNodeName: 'n1' }, 'T'), null);
    assert.deepEqual(podStatusUpdate(pod, null, { mode: 'Override', nominatedNodeName: '' }, 'T'), { nominatedNodeName: '' });
  });
  test('event messages are cut at 1024 characters', () => {
    const long = 'x'.repeat(2000);
    assert.equal(truncateMessage(long).length, 1024);
    assert.ok(truncateMessage(long).endsWith(' ...'));
  });
});
