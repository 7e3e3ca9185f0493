// The scheduler (pkg/scheduler/scheduler.go + eventhandlers.go) over plain JSON objects: one
// framework per profile, the cache, the snapshot and the queue, the informer event handlers that
// feed them, and the loop that schedules pods. The seams the API wiring implements (binding, events,
// pod status, preemption, volume binding, listers) are the interfaces exported here.

import type { Node, Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger as baseLogger, type Logger } from '../base/log.ts';
import { Cache } from './cache/cache.ts';
import { Snapshot } from './cache/snapshot.ts';
import { defaultSchedulerConfig, type SchedulerConfig } from './config.ts';
import { realClock, type Clock } from './framework/clock.ts';
import { Framework } from './framework/framework.ts';
import {
  ActionType,
  EventResource,
  type Binder,
  type ClusterEvent,
  type ClusterEventWithHint,
  type PreemptionApi,
  type VolumeBindingApi,
} from './framework/interface.ts';
import type { ClusterListers } from './framework/listers.ts';
import type { Registry } from './framework/registry.ts';
import { inTreeRegistry } from './plugins/registry.ts';
import { Nominator } from './queue/nominator.ts';
import { QueueEvents, SchedulingQueue } from './queue/scheduling_queue.ts';
import { scheduleOne, type EventRecorder, type PodStatusUpdater, type SchedulingContext } from './schedule_one.ts';

export type { Binder, PreemptionApi, VolumeBindingApi, VolumeBindingDecision } from './framework/interface.ts';
export type { ClusterListers } from './framework/listers.ts';
export type { EventRecorder, PodStatusUpdate, PodStatusUpdater } from './schedule_one.ts';

/** What the API wiring provides: writes (binding, events, status, preemption) and informer reads. */
export interface SchedulerSeams {
  /** POST pods/binding. */
  readonly binder: Binder;
  /** FailedScheduling / Scheduled / Preempted events. */
  readonly events: EventRecorder;
  /** PodScheduled condition and nominatedNodeName (status patch). */
  readonly podStatus: PodStatusUpdater;
  /** Victim deletion and nomination clearing. */
  readonly preemption: PreemptionApi;
  /** PV/PVC updates for WaitForFirstConsumer claims; optional until volume binding is wired. */
  readonly volumeBinding?: VolumeBindingApi;
  /** Informer caches: pods, namespaces, services and controllers, PVCs/PVs/classes, PDBs. */
  readonly listers: ClusterListers;
}

/** Options of the scheduler. */
export interface SchedulerOptions {
  readonly config?: SchedulerConfig;
  /** Extra out-of-tree plugins are merged into the in-tree registry by the caller. */
  readonly registry?: Registry;
  readonly clock?: Clock;
  /** A uniform random number in [0, 1); tests make it deterministic. */
  readonly random?: () => number;
  readonly log?: Logger;
}

function assigned(pod: Pod): boolean {
  return (pod.spec?.nodeName ?? '') !== '';
}

function terminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * Semantic equality of JSON values (reflect.DeepEqual as upstream's handlers use it): key order does
 * not matter, and absent, undefined and null are alike. Runs on every pod and node update, so it
 * walks the values instead of serializing both sides.
 */
export function jsonValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonValuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    const v = ao[k];
    if (v === undefined) continue;
    n++;
    if (!jsonValuesEqual(v, bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) n--;
  return n === 0;
}

const same = jsonValuesEqual;

/** The events a pod update amounts to (PodSchedulingPropertiesChange). */
export function podSchedulingPropertiesChange(newPod: Pod, oldPod: Pod): ClusterEvent[] {
  const resource = assigned(newPod) ? EventResource.AssignedPod : EventResource.UnschedulablePod;
  const events: ClusterEvent[] = [];
  if (!same(newPod.metadata?.labels, oldPod.metadata?.labels)) events.push({ resource, actionType: ActionType.UpdatePodLabel });
  if (!same(newPod.spec?.containers?.map((c) => c.resources?.requests), oldPod.spec?.containers?.map((c) => c.resources?.requests)) ||
    !same(newPod.status?.containerStatuses?.map((c) => c.allocatedResources), oldPod.status?.containerStatuses?.map((c) => c.allocatedResources))) {
    events.push({ resource, actionType: ActionType.UpdatePodScaleDown });
  }
  if ((oldPod.spec?.schedulingGates ?? []).length > 0 && (newPod.spec?.schedulingGates ?? []).length === 0) {
    events.push({ resource, actionType: ActionType.UpdatePodSchedulingGatesEliminated });
  }
  if (!same(newPod.spec?.tolerations, oldPod.spec?.tolerations)) events.push({ resource, actionType: ActionType.UpdatePodTolerations });
  if (events.length === 0) events.push({ resource, actionType: ActionType.UpdatePodOther });
  return events;
}

/** True when the nodes' conditions have the same types and statuses, in order (heartbeats change neither). */
function sameConditionStatuses(a: Node, b: Node): boolean {
  const ac = a.status?.conditions ?? [];
  const bc = b.status?.conditions ?? [];
  if (ac.length !== bc.length) return false;
  for (let i = 0; i < ac.length; i++) {
    if (ac[i]!.type !== bc[i]!.type || ac[i]!.status !== bc[i]!.status) return false;
  }
  return true;
}

/** The events a node update amounts to (nodeSchedulingPropertiesChange). */
export function nodeSchedulingPropertiesChange(newNode: Node, oldNode: Node): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  const node = EventResource.Node;
  if ((newNode.spec?.unschedulable ?? false) !== (oldNode.spec?.unschedulable ?? false)) events.push({ resource: node, actionType: ActionType.UpdateNodeTaint });
  if (!same(newNode.status?.allocatable, oldNode.status?.allocatable)) events.push({ resource: node, actionType: ActionType.UpdateNodeAllocatable });
  if (!same(newNode.metadata?.labels, oldNode.metadata?.labels)) events.push({ resource: node, actionType: ActionType.UpdateNodeLabel });
  if (!same(newNode.spec?.taints, oldNode.spec?.taints)) events.push({ resource: node, actionType: ActionType.UpdateNodeTaint });
  if (!sameConditionStatuses(newNode, oldNode)) events.push({ resource: node, actionType: ActionType.UpdateNodeCondition });
  if (!same(newNode.metadata?.annotations, oldNode.metadata?.annotations)) events.push({ resource: node, actionType: ActionType.UpdateNodeAnnotation });
  return events;
}

/** The scheduler: call the on* handlers from informers, then run(). */
export class Scheduler implements SchedulingContext, Disposable {
  readonly cache: Cache;
  readonly snapshot = new Snapshot();
  readonly queue: SchedulingQueue;
  readonly profiles = new Map<string, Framework>();
  readonly events: EventRecorder;
  readonly podStatus: PodStatusUpdater;
  readonly percentageOfNodesToScore: number;
  readonly inFlightBindings = new Set<Promise<void>>();
  readonly pendingNominations = new Map<string, string>();
  nextStartNodeIndex = 0;
  private readonly listers: ClusterListers;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private disposed = false;

  constructor(seams: SchedulerSeams, options: SchedulerOptions = {}) {
    const config = options.config ?? defaultSchedulerConfig();
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? baseLogger('scheduler');
    this.listers = seams.listers;
    this.events = seams.events;
    this.podStatus = seams.podStatus;
    this.percentageOfNodesToScore = config.percentageOfNodesToScore;
    this.cache = new Cache({ clock: this.clock });
    const registry = options.registry ?? inTreeRegistry();
    const nominator = new Nominator((pod) => this.lookupPod(pod));
    for (const profile of config.profiles) {
      const fwk = new Framework(registry, profile, {
        snapshot: this.snapshot,
        listers: seams.listers,
        binder: seams.binder,
        preemptionApi: seams.preemption,
        ...(seams.volumeBinding ? { volumeBindingApi: seams.volumeBinding } : {}),
        nominator,
        clock: this.clock,
        log: this.log,
        requeueAfterBackoff: (pods) => this.queue.requeueAfterBackoff(pods),
        podInCache: (uid) => this.cache.hasPod(uid),
      });
      this.profiles.set(profile.schedulerName, fwk);
    }
    if (this.profiles.size === 0) throw new Error('at least one profile is required');
    const events = new Map<string, ReadonlyMap<string, readonly ClusterEventWithHint[]>>();
    for (const [name, fwk] of this.profiles) events.set(name, fwk.eventsToRegister());
    // All profiles share one queue, so it sorts by the first profile's QueueSort (config.ts checks they agree).
    const first = this.profiles.values().next().value as Framework;
    this.queue = new SchedulingQueue({
      clock: this.clock,
      less: first.queueSortLess(),
      podInitialBackoffMs: config.podInitialBackoffSeconds * 1000,
      podMaxBackoffMs: config.podMaxBackoffSeconds * 1000,
      eventsToRegister: events,
      // SchedulingGates' gate lifts only when the pod itself changes, which update() handles.
      gatingPluginsWithEvents: [...this.profiles.values()].flatMap((f) => f.preEnqueuePluginsWithEvents()).filter((n) => n !== 'SchedulingGates'),
      preEnqueue: (pod) => this.profiles.get(pod.spec?.schedulerName ?? 'default-scheduler')?.runPreEnqueuePlugins(pod) ?? null,
      namespaceLabels: (ns) => this.listers.namespace(ns)?.metadata?.labels,
      nominator,
    });
  }

  lookupPod(pod: Pod): Pod | undefined {
    return this.listers.pod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
  }

  randomInt(n: number): number {
    return Math.floor(this.random() * n);
  }

  now(): number {
    return this.clock.now();
  }

  logError(message: string, err: unknown): void {
    this.log.error(message, err === null || err === undefined ? undefined : { err: err instanceof Error ? err.message : String(err) });
  }

  /** True when one of the profiles schedules this pod. */
  responsibleForPod(pod: Pod): boolean {
    return this.profiles.has(pod.spec?.schedulerName ?? 'default-scheduler');
  }

  // ---- informer event handlers (eventhandlers.go) ----

  onPodAdd(pod: Pod): void {
    if (terminal(pod)) return;
    if (assigned(pod)) {
      this.guard(() => this.cache.addPod(pod));
      this.queue.assignedPodAdded(pod);
    } else if (this.responsibleForPod(pod)) {
      this.queue.add(pod);
    }
  }

  onPodUpdate(oldPod: Pod, newPod: Pod): void {
    if (this.pendingNominations.size > 0) this.seenNomination(newPod);
    const wasAssigned = assigned(oldPod);
    if (terminal(newPod)) {
      if (!terminal(oldPod)) this.onPodDelete(oldPod);
      return;
    }
    if (!wasAssigned && assigned(newPod)) {
      // Bound (by us or someone else): it leaves the queue and enters the cache.
      if (this.responsibleForPod(oldPod)) this.queue.delete(oldPod);
      this.onPodAdd(newPod);
      return;
    }
    if (wasAssigned) {
      if (oldPod.metadata?.uid !== newPod.metadata?.uid) {
        this.onPodDelete(oldPod);
        this.onPodAdd(newPod);
        return;
      }
      this.guard(() => this.cache.updatePod(oldPod, newPod));
      for (const evt of podSchedulingPropertiesChange(newPod, oldPod)) this.queue.assignedPodUpdated(oldPod, newPod, evt);
      return;
    }
    if (!this.responsibleForPod(newPod)) return;
    if (oldPod.metadata?.resourceVersion !== undefined && oldPod.metadata.resourceVersion === newPod.metadata?.resourceVersion) return;
    if (this.cache.isAssumedPod(newPod)) return;
    this.queue.update(oldPod, newPod);
  }

  /** Drops the pending nomination once the pod shows it (or no longer needs one). */
  private seenNomination(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const pending = this.pendingNominations.get(uid);
    if (pending === undefined) return;
    if (assigned(pod) || (pod.status?.nominatedNodeName ?? '') === pending) this.pendingNominations.delete(uid);
  }

  onPodDelete(pod: Pod): void {
    this.pendingNominations.delete(pod.metadata?.uid ?? '');
    if (assigned(pod)) {
      this.guard(() => this.cache.removePod(pod));
      this.queue.moveAllToActiveOrBackoffQueue(QueueEvents.AssignedPodDelete, pod, null);
      return;
    }
    this.queue.delete(pod);
    const fwk = this.profiles.get(pod.spec?.schedulerName ?? 'default-scheduler');
    fwk?.getWaitingPod(pod.metadata?.uid ?? '')?.reject('', 'removed');
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue({ resource: EventResource.Node, actionType: ActionType.Add, label: 'NodeAdd' }, null, node);
  }

  onNodeUpdate(oldNode: Node, newNode: Node): void {
    const events = nodeSchedulingPropertiesChange(newNode, oldNode);
    // Heartbeats change nothing the scheduler reads; skipping them keeps the snapshot refresh small.
    if (events.length === 0 && same(newNode.status?.images, oldNode.status?.images)) return;
    this.cache.updateNode(oldNode, newNode);
    for (const evt of events) this.queue.moveAllToActiveOrBackoffQueue(evt, oldNode, newNode);
  }

  onNodeDelete(node: Node): void {
    this.guard(() => this.cache.removeNode(node));
    this.queue.moveAllToActiveOrBackoffQueue({ resource: EventResource.Node, actionType: ActionType.Delete, label: 'NodeDelete' }, node, null);
  }

  /** Other objects plugins registered for (PV, PVC, StorageClass, Namespace, CSI objects). */
  onClusterEvent(event: ClusterEvent, oldObj: unknown, newObj: unknown): void {
    this.queue.moveAllToActiveOrBackoffQueue(event, oldObj, newObj);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logError('scheduler cache update failed', err);
    }
  }

  // ---- running ----

  /** Schedules one pod if one is ready; false when the active queue is empty. */
  scheduleOne(): boolean {
    return scheduleOne(this);
  }

  /** Schedules pods until disposed, yielding to the event loop every few milliseconds. */
  async run(): Promise<void> {
    this.queue.run();
    while (!this.disposed) {
      await this.queue.waitForPod();
      if (this.disposed) break;
      const start = performance.now();
      while (!this.disposed && performance.now() - start < 10) {
        if (!this.scheduleOne()) break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Stops the loop, rejects pods waiting at Permit and waits for binding cycles to finish. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.queue.dispose();
    for (const fwk of this.profiles.values()) fwk.rejectWaitingPods('scheduler is shutting down');
    await Promise.allSettled([...this.inFlightBindings]);
  }
}
