// The scheduling queue with a fake clock: exponential backoff from 1s to 10s, parking rejected pods
// until an event their rejecting plugins registered for, the move-request cycle, gated pods, the
// unschedulable timeout and priority order.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock } from '../framework/clock.ts';
import { ActionType, Code, EventResource, newStatus, type ClusterEventWithHint } from '../framework/interface.ts';
import type { QueuedPodInfo } from '../framework/pod_info.ts';
import { makePod } from '../framework/testing/wrappers.ts';
import { PrioritySort } from '../plugins/priority_sort/priority_sort.ts';
import { SchedulingQueue } from './scheduling_queue.ts';

const nodeAdd = { resource: EventResource.Node, actionType: ActionType.Add } as const;
const pvcAdd = { resource: EventResource.PersistentVolumeClaim, actionType: ActionType.Add } as const;

function newQueue(clock: FakeClock, hints: Record<string, ClusterEventWithHint[]> = { NodeResourcesFit: [{ event: nodeAdd }] }): SchedulingQueue {
  const sort = new PrioritySort();
  return new SchedulingQueue({
    clock,
    less: (a, b) => sort.less(a, b),
    eventsToRegister: new Map([['default-scheduler', new Map(Object.entries(hints))]]),
    preEnqueue: (pod) => ((pod.spec?.schedulingGates ?? []).length > 0 ? newStatus(Code.UnschedulableAndUnresolvable, 'gated').withPlugin('SchedulingGates') : null),
  });
}

/** Pops the pod and fails it as `plugins` would. */
function failWith(q: SchedulingQueue, ...plugins: string[]): QueuedPodInfo {
  const p = q.pop();
  assert.ok(p, 'a pod to pop');
  const cycle = q.schedulingCycle;
  for (const pl of plugins) p.unschedulablePlugins.add(pl);
  q.addUnschedulableIfNotPresent(p, cycle);
  return p;
}

describe('SchedulingQueue', () => {
  test('backoff doubles from 1s per attempt and stops at 10s', () => {
    const q = newQueue(new FakeClock());
    q.add(makePod().name('p').obj());
    const p = q.pop()!;
    const got: number[] = [];
    for (let attempts = 0; attempts <= 6; attempts++) {
      p.attempts = attempts;
      got.push(q.backoffDuration(p));
    }
    assert.deepEqual(got, [0, 1000, 2000, 4000, 8000, 10000, 10000]);
  });

  test('pops higher priority first, then the earlier pod', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.add(makePod().name('low').priority(1).obj());
    clock.step(1);
    q.add(makePod().name('high1').priority(10).obj());
    clock.step(1);
    q.add(makePod().name('high2').priority(10).obj());
    assert.deepEqual([q.pop(), q.pop(), q.pop()].map((p) => p?.pod.metadata?.name), ['high1', 'high2', 'low']);
  });

  test('a rejected pod waits in unschedulablePods until a matching event, then backs off', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    assert.equal(q.whereIs(pod), 'unschedulable');

    q.moveAllToActiveOrBackoffQueue(pvcAdd, null, {});
    assert.equal(q.whereIs(pod), 'unschedulable', 'an event NodeResourcesFit did not register for');

    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, {});
    assert.equal(q.whereIs(pod), 'backoff', 'first attempt failed less than 1s ago');
    clock.step(999);
    q.flushBackoffQCompleted();
    assert.equal(q.whereIs(pod), 'backoff');
    clock.step(1);
    q.flushBackoffQCompleted();
    assert.equal(q.whereIs(pod), 'active');
  });

  test('after its backoff has passed, a matching event moves the pod straight to activeQ', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    clock.step(1500);
    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, {});
    assert.equal(q.whereIs(pod), 'active');
  });

  test('a queueing hint may skip the event', () => {
    const clock = new FakeClock();
    const q = newQueue(clock, { NodeResourcesFit: [{ event: nodeAdd, queueingHintFn: (_pod, _old, node) => ((node as { big?: boolean }).big ? 'Queue' : 'QueueSkip') }] });
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    clock.step(2000);
    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, { big: false });
    assert.equal(q.whereIs(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, { big: true });
    assert.equal(q.whereIs(pod), 'active');
  });

  test('an event during the pod\'s cycle sends it to backoff instead of parking it', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    const p = q.pop()!;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoffQueue(pvcAdd, null, {});
    p.unschedulablePlugins.add('NodeResourcesFit');
    q.addUnschedulableIfNotPresent(p, cycle);
    assert.equal(q.whereIs(pod), 'backoff');
  });

  test('a failure no plugin is blamed for (an error) backs off', () => {
    const q = newQueue(new FakeClock());
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q);
    assert.equal(q.whereIs(pod), 'backoff');
  });

  test('the second failure backs off for 2s', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q);
    clock.step(1000);
    q.flushBackoffQCompleted();
    failWith(q);
    clock.step(1999);
    q.flushBackoffQCompleted();
    assert.equal(q.whereIs(pod), 'backoff');
    clock.step(1);
    q.flushBackoffQCompleted();
    assert.equal(q.whereIs(pod), 'active');
  });

  test('pods parked longer than 5 minutes are retried anyway', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    clock.step(5 * 60 * 1000);
    q.flushUnschedulablePodsLeftover();
    assert.equal(q.whereIs(pod), 'unschedulable');
    clock.step(1);
    q.flushUnschedulablePodsLeftover();
    assert.equal(q.whereIs(pod), 'active');
  });

  test('run() flushes each backoff when it ends and dispose() stops it', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.run();
    const pod = makePod().name('p').obj();
    q.add(pod);
    clock.step(300);
    failWith(q);
    clock.step(999);
    assert.equal(q.whereIs(pod), 'backoff');
    // A once-a-second poll started at 0 would only see it at 2000.
    clock.step(1);
    assert.equal(q.whereIs(pod), 'active');
    q.dispose();
    assert.equal(clock.pendingTimers, 0);
  });

  test('a backoff ending before the pending flush re-arms it', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.run();
    const a = makePod().name('a').obj();
    const b = makePod().name('b').obj();
    q.add(a);
    failWith(q);
    clock.step(1000);
    assert.equal(q.whereIs(a), 'active');
    failWith(q); // a's second failure: back at 3000
    q.add(b);
    failWith(q); // b: back at 2000, before the flush armed for a
    clock.step(1000);
    assert.equal(q.whereIs(b), 'active');
    assert.equal(q.whereIs(a), 'backoff');
    clock.step(1000);
    assert.equal(q.whereIs(a), 'active');
    q.dispose();
    assert.equal(clock.pendingTimers, 0);
  });

  test('requeueAfterBackoff sends a parked pod to backoff, or to activeQ once its backoff is over', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    q.requeueAfterBackoff([pod]);
    assert.equal(q.whereIs(pod), 'backoff');
    clock.step(1000);
    q.flushBackoffQCompleted();
    failWith(q, 'NodeResourcesFit');
    clock.step(2000);
    q.requeueAfterBackoff([pod]);
    assert.equal(q.whereIs(pod), 'active');
    q.requeueAfterBackoff([makePod().name('unknown').obj()]);
  });

  test('a pod a PreEnqueue plugin holds back comes out when that plugin requeues it', () => {
    const clock = new FakeClock();
    let waiting = true;
    const q = new SchedulingQueue({
      clock,
      eventsToRegister: new Map([['default-scheduler', new Map([['NodeResourcesFit', [{ event: nodeAdd }]]])]]),
      preEnqueue: () => (waiting ? newStatus(Code.UnschedulableAndUnresolvable, 'waiting').withPlugin('DefaultPreemption') : null),
    });
    const pod = makePod().name('p').obj();
    waiting = false;
    q.add(pod);
    waiting = true;
    failWith(q, 'NodeResourcesFit');
    clock.step(1000);
    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, {});
    assert.equal(q.whereIs(pod), 'unschedulable', 'held back by PreEnqueue');
    waiting = false;
    q.requeueAfterBackoff([pod]);
    assert.equal(q.whereIs(pod), 'active');
  });

  test('a gated pod waits outside activeQ until its gates are removed', () => {
    const q = newQueue(new FakeClock());
    const gated = makePod().name('p').schedulingGates('example.com/wait').obj();
    q.add(gated);
    assert.equal(q.whereIs(gated), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(nodeAdd, null, {});
    assert.equal(q.whereIs(gated), 'unschedulable', 'cluster events do not release gated pods');
    const ungated: Pod = { ...gated, metadata: { ...gated.metadata, resourceVersion: '2' }, spec: { ...gated.spec!, schedulingGates: [] } };
    q.update(gated, ungated);
    assert.equal(q.whereIs(ungated), 'active');
  });

  test('an update to a parked pod retries it', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = makePod().name('p').obj();
    q.add(pod);
    failWith(q, 'NodeResourcesFit');
    clock.step(1000);
    const updated: Pod = { ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } };
    q.update(pod, updated);
    assert.equal(q.whereIs(updated), 'active');
  });

  test('delete removes the pod wherever it is', () => {
    const q = newQueue(new FakeClock());
    const pod = makePod().name('p').obj();
    q.add(pod);
    q.delete(pod);
    assert.equal(q.whereIs(pod), undefined);
    assert.equal(q.pop(), undefined);
  });

  test('a bound pod retries only pods whose affinity matches it', () => {
    const clock = new FakeClock();
    const q = newQueue(clock, { InterPodAffinity: [{ event: { resource: EventResource.Pod, actionType: ActionType.Add } }] });
    const wantsWeb = makePod().name('a').namespace('default').podAffinity('zone', { app: 'web' }).obj();
    const other = makePod().name('b').namespace('default').obj();
    q.add(wantsWeb);
    q.add(other);
    failWith(q, 'InterPodAffinity');
    failWith(q, 'InterPodAffinity');
    clock.step(2000);
    q.assignedPodAdded(makePod().name('web').namespace('default').node('n1').labels({ app: 'web' }).obj());
    assert.equal(q.whereIs(wantsWeb), 'active');
    assert.equal(q.whereIs(other), 'unschedulable');
  });

  test('waitForPod resolves once a pod is added', async () => {
    const q = newQueue(new FakeClock());
    const waiting = q.waitForPod();
    q.add(makePod().name('p').obj());
    await waiting;
    assert.equal(q.activeCount, 1);
  });
});
