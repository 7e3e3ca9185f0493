// The scheduling queue (backend/queue/scheduling_queue.go): activeQ (ordered by the QueueSort plugin),
// podBackoffQ (pods waiting out 1s..10s of exponential backoff) and unschedulablePods (parked until a
// cluster event one of their rejecting plugins registered for arrives, or 5 minutes pass). Queueing
// hints are event matching plus the optional hint functions plugins register.

import type { Pod } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { realClock, type Clock, type TimerHandle } from '../framework/clock.ts';
import {
  ActionType,
  EventResource,
  eventMatches,
  type ClusterEvent,
  type ClusterEventWithHint,
  type PluginStatus,
} from '../framework/interface.ts';
import { PodInfo, QueuedPodInfo } from '../framework/pod_info.ts';
import { KeyedHeap } from './heap.ts';
import { Nominator, type NominatingInfo } from './nominator.ts';

/** Default initial backoff (podInitialBackoffSeconds). */
export const DefaultPodInitialBackoffMs = 1000;
/** Default maximum backoff (podMaxBackoffSeconds). */
export const DefaultPodMaxBackoffMs = 10_000;
/** How long a pod may sit in unschedulablePods before it is retried anyway. */
export const DefaultPodMaxInUnschedulablePodsDurationMs = 5 * 60 * 1000;
/** A backoffQ flush may run this much after the backoff that asked for it ends, so flushes batch. */
const BACKOFF_TIMER_SLACK_MS = 10;

/** Events the queue itself generates. */
export const QueueEvents = {
  /** A pod waited too long in unschedulablePods. */
  UnschedulableTimeout: { resource: EventResource.WildCard, actionType: ActionType.All, label: 'UnschedulableTimeout' },
  /** Something asked to retry everything. */
  ForceActivate: { resource: EventResource.WildCard, actionType: ActionType.All, label: 'ForceActivate' },
  AssignedPodAdd: { resource: EventResource.AssignedPod, actionType: ActionType.Add, label: 'AssignedPodAdd' },
  AssignedPodDelete: { resource: EventResource.AssignedPod, actionType: ActionType.Delete, label: 'AssignedPodDelete' },
} as const satisfies Record<string, ClusterEvent>;

/** One plugin's interest in an event, per profile (QueueingHintFunction). */
interface HintEntry {
  readonly pluginName: string;
  readonly registration: ClusterEventWithHint;
}

/** Options of the queue. */
export interface SchedulingQueueOptions {
  readonly clock?: Clock;
  /** Orders activeQ (the QueueSort plugin); FIFO by timestamp when absent. */
  readonly less?: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  readonly podInitialBackoffMs?: number;
  readonly podMaxBackoffMs?: number;
  readonly podMaxInUnschedulablePodsDurationMs?: number;
  /** Scheduler name -> plugin name -> registered events. */
  readonly eventsToRegister?: ReadonlyMap<string, ReadonlyMap<string, readonly ClusterEventWithHint[]>>;
  /** Runs the profile's PreEnqueue plugins for the pod; a non-null status gates it. */
  readonly preEnqueue?: (pod: Pod) => PluginStatus;
  /** Namespace labels, for matching cross-namespace affinity terms against assigned pods. */
  readonly namespaceLabels?: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /** PreEnqueue plugins whose gates may lift on the cluster events they registered (their hints decide). */
  readonly gatingPluginsWithEvents?: readonly string[];
  /** The nominator the frameworks also read; a new one when absent. */
  readonly nominator?: Nominator;
}

const podTopologySpreadName = 'PodTopologySpread';

type Strategy = 'skip' | 'afterBackoff' | 'immediately';

function uidOf(pod: Pod): string {
  return pod.metadata?.uid ?? '';
}

/** The three sub-queues and the nominator (PriorityQueue). */
export class SchedulingQueue implements Disposable {
  readonly nominator: Nominator;
  private readonly clock: Clock;
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulablePods = new Map<string, QueuedPodInfo>();
  /** Pods popped and not yet done (in a scheduling or binding cycle). */
  private readonly inFlight = new Set<string>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly hints: ReadonlyMap<string, readonly HintEntry[]>;
  private readonly gatingPlugins: ReadonlySet<string>;
  private readonly preEnqueue: (pod: Pod) => PluginStatus;
  private readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  private schedCycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private waiters: Array<() => void> = [];
  private timers: TimerHandle[] = [];
  private running = false;
  /** The pending flush of backoffQ and when it fires (clock ms). */
  private backoffTimer: TimerHandle | null = null;
  private backoffTimerAt = Infinity;

  constructor(options: SchedulingQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    const less = options.less ?? ((a: QueuedPodInfo, b: QueuedPodInfo) => a.timestamp < b.timestamp);
    this.activeQ = new KeyedHeap((p) => p.podInfo.uid, less);
    this.backoffQ = new KeyedHeap((p) => p.podInfo.uid, (a, b) => this.backoffTime(a) < this.backoffTime(b));
    this.initialBackoffMs = options.podInitialBackoffMs ?? DefaultPodInitialBackoffMs;
    this.maxBackoffMs = options.podMaxBackoffMs ?? DefaultPodMaxBackoffMs;
    this.maxInUnschedulableMs = options.podMaxInUnschedulablePodsDurationMs ?? DefaultPodMaxInUnschedulablePodsDurationMs;
    this.preEnqueue = options.preEnqueue ?? (() => null);
    this.namespaceLabels = options.namespaceLabels ?? (() => undefined);
    this.nominator = options.nominator ?? new Nominator();
    const hints = new Map<string, HintEntry[]>();
    for (const [schedulerName, byPlugin] of options.eventsToRegister ?? new Map()) {
      const list: HintEntry[] = [];
      for (const [pluginName, regs] of byPlugin) for (const r of regs) list.push({ pluginName, registration: r });
      hints.set(schedulerName, list);
    }
    this.hints = hints;
    // Gates lift on events only for PreEnqueue plugins that named their events (SchedulingGates
    // names none: its gate lifts when the pod changes).
    this.gatingPlugins = new Set(options.gatingPluginsWithEvents ?? []);
  }

  /**
   * Starts the flushes: completed backoffs when the earliest one ends (upstream polls every second,
   * which only adds up to a second to each backoff), long-unschedulable pods every 30s.
   */
  run(): void {
    this.running = true;
    this.armBackoffTimer();
    // Each periodic task keeps one slot holding its pending timer, so the list does not grow per tick.
    const every = (ms: number, fn: () => void): void => {
      const slot = this.timers.length;
      const tick = (): void => {
        if (this.closed) return;
        fn();
        this.timers[slot] = this.clock.setTimer(ms, tick);
      };
      this.timers.push(this.clock.setTimer(ms, tick));
    };
    every(30_000, () => this.flushUnschedulablePodsLeftover());
  }

  /** Stops the flushes and wakes every waiter (Close). */
  dispose(): void {
    this.closed = true;
    this.backoffTimer?.cancel();
    this.backoffTimer = null;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.wake();
  }

  // ---- sizes, for tests and metrics ----

  get activeCount(): number {
    return this.activeQ.size;
  }

  get backoffCount(): number {
    return this.backoffQ.size;
  }

  get unschedulableCount(): number {
    return this.unschedulablePods.size;
  }

  /** The scheduling cycle counter (incremented by every pop). */
  get schedulingCycle(): number {
    return this.schedCycle;
  }

  /** Where the pod is: 'active', 'backoff', 'unschedulable' or undefined. */
  whereIs(pod: Pod): 'active' | 'backoff' | 'unschedulable' | undefined {
    const uid = uidOf(pod);
    if (this.activeQ.has(uid)) return 'active';
    if (this.backoffQ.has(uid)) return 'backoff';
    if (this.unschedulablePods.has(uid)) return 'unschedulable';
    return undefined;
  }

  // ---- backoff ----

  /** calculateBackoffDuration: initial * 2^(attempts-1), capped; none before the first attempt. */
  backoffDuration(p: QueuedPodInfo): number {
    if (p.attempts === 0) return 0;
    let d = this.initialBackoffMs;
    for (let i = 1; i < p.attempts; i++) {
      if (d > this.maxBackoffMs - d) return this.maxBackoffMs;
      d += d;
    }
    return d;
  }

  private backoffTime(p: QueuedPodInfo): number {
    return p.timestamp + this.backoffDuration(p);
  }

  private isPodBackingOff(p: QueuedPodInfo): boolean {
    if (p.gated) return false;
    return this.backoffTime(p) > this.clock.now();
  }

  // ---- adding ----

  private newQueuedPodInfo(pod: Pod): QueuedPodInfo {
    return new QueuedPodInfo(new PodInfo(pod), this.clock.now());
  }

  /**
   * Runs PreEnqueue and puts the pod in activeQ; a gated pod goes to unschedulablePods instead.
   * Returns true when it landed in activeQ.
   */
  private moveToActiveQ(p: QueuedPodInfo): boolean {
    const s = this.preEnqueue(p.pod);
    if (s !== null && !s.isSuccess()) {
      p.gated = true;
      p.gatingPlugin = s.plugin;
      p.unschedulablePlugins.add(s.plugin);
      this.unschedulablePods.set(p.podInfo.uid, p);
      return false;
    }
    if (p.gated) {
      // Un-gated: the first attempt starts now.
      p.gated = false;
      p.gatingPlugin = '';
      if (p.initialAttemptTimestamp === null) p.timestamp = this.clock.now();
    }
    this.unschedulablePods.delete(p.podInfo.uid);
    this.backoffQ.delete(p.podInfo.uid);
    this.activeQ.addOrUpdate(p);
    this.wake();
    return true;
  }

  /** A new unscheduled pod (Add). */
  add(pod: Pod): void {
    const p = this.newQueuedPodInfo(pod);
    const uid = p.podInfo.uid;
    this.backoffQ.delete(uid);
    this.unschedulablePods.delete(uid);
    this.moveToActiveQ(p);
    this.nominator.add(p.podInfo, null);
  }

  /** Pods to retry at once, e.g. asked for by a plugin (Activate). */
  activate(pods: readonly Pod[]): void {
    for (const pod of pods) {
      const uid = uidOf(pod);
      const p = this.unschedulablePods.get(uid) ?? this.backoffQ.get(uid);
      if (p === undefined) continue;
      this.unschedulablePods.delete(uid);
      this.backoffQ.delete(uid);
      this.moveToActiveQ(p);
    }
  }

  /**
   * Parked pods whose gate may have lifted without a cluster event (a plugin's own work finished):
   * to backoffQ while backing off, else through PreEnqueue to activeQ.
   */
  requeueAfterBackoff(pods: readonly Pod[]): void {
    for (const pod of pods) {
      const p = this.unschedulablePods.get(uidOf(pod));
      if (p === undefined) continue;
      this.unschedulablePods.delete(p.podInfo.uid);
      if (this.isPodBackingOff(p)) this.addToBackoffQ(p);
      else this.moveToActiveQ(p);
    }
  }

  /** An unscheduled pod changed (Update). */
  update(oldPod: Pod | null, newPod: Pod): void {
    const uid = uidOf(newPod);
    const inActive = this.activeQ.get(uid);
    if (inActive !== undefined) {
      inActive.podInfo.update(newPod);
      this.activeQ.addOrUpdate(inActive);
      this.nominator.update(oldPod ?? newPod, inActive.podInfo);
      return;
    }
    const inBackoff = this.backoffQ.get(uid);
    if (inBackoff !== undefined) {
      inBackoff.podInfo.update(newPod);
      this.addToBackoffQ(inBackoff);
      this.nominator.update(oldPod ?? newPod, inBackoff.podInfo);
      return;
    }
    const parked = this.unschedulablePods.get(uid);
    if (parked !== undefined) {
      parked.podInfo.update(newPod);
      this.nominator.update(oldPod ?? newPod, parked.podInfo);
      if (oldPod === null || isPodUpdated(oldPod, newPod)) {
        if (this.isPodBackingOff(parked)) {
          this.unschedulablePods.delete(uid);
          this.addToBackoffQ(parked);
          return;
        }
        this.unschedulablePods.delete(uid);
        this.moveToActiveQ(parked);
      }
      return;
    }
    if (this.inFlight.has(uid)) return;
    const p = this.newQueuedPodInfo(newPod);
    this.moveToActiveQ(p);
  }

  /** The pod was deleted or scheduled by someone else (Delete). */
  delete(pod: Pod): void {
    const uid = uidOf(pod);
    this.nominator.delete(pod);
    this.activeQ.delete(uid);
    this.backoffQ.delete(uid);
    this.unschedulablePods.delete(uid);
  }

  // ---- popping ----

  /** The next pod to schedule, or undefined when activeQ is empty (non-blocking Pop). */
  pop(): QueuedPodInfo | undefined {
    const p = this.activeQ.pop();
    if (p === undefined) return undefined;
    p.attempts++;
    if (p.initialAttemptTimestamp === null) p.initialAttemptTimestamp = this.clock.now();
    this.schedCycle++;
    p.unschedulablePlugins.clear();
    p.pendingPlugins.clear();
    this.inFlight.add(p.podInfo.uid);
    return p;
  }

  /** Resolves when activeQ has a pod or the queue is closed (the blocking half of Pop). */
  waitForPod(): Promise<void> {
    if (this.activeQ.size > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** The pod's scheduling (and binding) attempt is over (Done). */
  done(uid: string): void {
    this.inFlight.delete(uid);
  }

  /**
   * Puts back a pod that failed to schedule (AddUnschedulableIfNotPresent): to backoffQ if an event
   * arrived since its cycle started or no plugin is to blame, else to unschedulablePods.
   */
  addUnschedulableIfNotPresent(p: QueuedPodInfo, podSchedulingCycle: number): void {
    const uid = p.podInfo.uid;
    this.inFlight.delete(uid);
    if (this.activeQ.has(uid) || this.backoffQ.has(uid) || this.unschedulablePods.has(uid)) return;
    p.timestamp = this.clock.now();
    const rejectors = p.unschedulablePlugins.size + p.pendingPlugins.size;
    if (this.moveRequestCycle >= podSchedulingCycle || rejectors === 0) {
      this.addToBackoffQ(p);
    } else {
      this.unschedulablePods.set(uid, p);
    }
    this.nominator.add(p.podInfo, null);
  }

  /** Moves pods whose backoff expired to activeQ (flushBackoffQCompleted). */
  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.backoffQ.peek();
      if (top === undefined || this.backoffTime(top) > now) break;
      this.backoffQ.pop();
      this.moveToActiveQ(top);
    }
    this.armBackoffTimer();
  }

  private addToBackoffQ(p: QueuedPodInfo): void {
    this.backoffQ.addOrUpdate(p);
    this.armBackoffTimer();
  }

  /** Makes sure a flush is due when the earliest backoff in backoffQ ends (timers coalesce to BACKOFF_TIMER_SLACK_MS). */
  private armBackoffTimer(): void {
    if (!this.running || this.closed) return;
    const top = this.backoffQ.peek();
    if (top === undefined) return;
    const at = this.backoffTime(top);
    if (this.backoffTimer !== null && this.backoffTimerAt <= at + BACKOFF_TIMER_SLACK_MS) return;
    this.backoffTimer?.cancel();
    this.backoffTimerAt = at;
    this.backoffTimer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.backoffTimer = null;
      this.backoffTimerAt = Infinity;
      this.flushBackoffQCompleted();
    });
  }

  /** Retries pods that sat in unschedulablePods too long (flushUnschedulablePodsLeftover). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const stale: QueuedPodInfo[] = [];
    for (const p of this.unschedulablePods.values()) {
      if (now - p.timestamp > this.maxInUnschedulableMs) stale.push(p);
    }
    if (stale.length > 0) this.movePodsToActiveOrBackoffQueue(stale, QueueEvents.UnschedulableTimeout, null, null);
  }

  // ---- cluster events ----

  /** An event that may make parked pods schedulable (MoveAllToActiveOrBackoffQueue). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, oldObj: unknown, newObj: unknown, preCheck?: (pod: Pod) => boolean): void {
    const pods: QueuedPodInfo[] = [];
    for (const p of this.unschedulablePods.values()) {
      // Gated pods are looked at only if their gating plugin registered for events at all.
      if (p.gated && !this.gatingPlugins.has(p.gatingPlugin)) continue;
      if (preCheck === undefined || preCheck(p.pod)) pods.push(p);
    }
    this.movePodsToActiveOrBackoffQueue(pods, event, oldObj, newObj);
  }

  /** A pod was bound: only pods that could care about another pod are worth retrying (AssignedPodAdded). */
  assignedPodAdded(pod: Pod): void {
    this.movePodsToActiveOrBackoffQueue(this.podsWithCrossTopologyTerm(pod), QueueEvents.AssignedPodAdd, null, pod);
  }

  /** A bound pod changed (AssignedPodUpdated); scale-downs may free resources for anyone. */
  assignedPodUpdated(oldPod: Pod, newPod: Pod, event: ClusterEvent): void {
    if ((event.actionType & ActionType.UpdatePodScaleDown) !== 0) {
      this.moveAllToActiveOrBackoffQueue(event, oldPod, newPod);
    } else {
      this.movePodsToActiveOrBackoffQueue(this.podsWithCrossTopologyTerm(newPod), event, oldPod, newPod);
    }
  }

  private podsWithCrossTopologyTerm(pod: Pod): QueuedPodInfo[] {
    const ns = pod.metadata?.namespace ?? '';
    const nsLabels = this.namespaceLabels(ns) ?? null;
    const out: QueuedPodInfo[] = [];
    for (const p of this.unschedulablePods.values()) {
      if (p.unschedulablePlugins.has(podTopologySpreadName) && p.podInfo.namespace === ns) {
        out.push(p);
        continue;
      }
      if (p.podInfo.requiredAffinityTerms.some((t) => t.matches(pod, nsLabels))) out.push(p);
    }
    return out;
  }

  private movePodsToActiveOrBackoffQueue(pods: readonly QueuedPodInfo[], event: ClusterEvent, oldObj: unknown, newObj: unknown): void {
    for (const p of pods) {
      // A gated pod moves when the pod itself changes (update()), when its gating plugin requeues it
      // (requeueAfterBackoff), or on an event that plugin's hints say may lift the gate.
      if (p.gated) {
        if (this.gatingPluginHint(p, event, oldObj, newObj)) {
          this.unschedulablePods.delete(p.podInfo.uid);
          this.moveToActiveQ(p);
        }
        continue;
      }
      const strategy = this.isPodWorthRequeuing(p, event, oldObj, newObj);
      if (strategy === 'skip') continue;
      this.unschedulablePods.delete(p.podInfo.uid);
      if (strategy === 'afterBackoff' && this.isPodBackingOff(p)) {
        this.addToBackoffQ(p);
        continue;
      }
      this.moveToActiveQ(p);
    }
    this.moveRequestCycle = this.schedCycle;
  }

  /** True when the plugin gating `p` registered for `event` and its hint (if any) says Queue. */
  private gatingPluginHint(p: QueuedPodInfo, event: ClusterEvent, oldObj: unknown, newObj: unknown): boolean {
    if (!this.gatingPlugins.has(p.gatingPlugin)) return false;
    for (const { pluginName, registration } of this.hints.get(p.pod.spec?.schedulerName ?? 'default-scheduler') ?? []) {
      if (pluginName !== p.gatingPlugin || !eventMatches(registration.event, event)) continue;
      let hint = 'Queue';
      try {
        hint = registration.queueingHintFn?.(p.pod, oldObj, newObj) ?? 'Queue';
      } catch {
        hint = 'Queue';
      }
      if (hint === 'Queue') return true;
    }
    return false;
  }

  private isPodWorthRequeuing(p: QueuedPodInfo, event: ClusterEvent, oldObj: unknown, newObj: unknown): Strategy {
    if (p.unschedulablePlugins.size === 0 && p.pendingPlugins.size === 0) return 'afterBackoff';
    if (event.resource === EventResource.WildCard) return 'afterBackoff';
    const entries = this.hints.get(p.pod.spec?.schedulerName ?? 'default-scheduler');
    if (entries === undefined) return 'afterBackoff';
    let strategy: Strategy = 'skip';
    for (const { pluginName, registration } of entries) {
      const pending = p.pendingPlugins.has(pluginName);
      if (!pending && !p.unschedulablePlugins.has(pluginName)) continue;
      if (!eventMatches(registration.event, event)) continue;
      let hint = 'Queue';
      if (registration.queueingHintFn) {
        try {
          hint = registration.queueingHintFn(p.pod, oldObj, newObj);
        } catch {
          hint = 'Queue';
        }
      }
      if (hint === 'QueueSkip') continue;
      if (pending) return 'immediately';
      if (p.pendingPlugins.size === 0) return 'afterBackoff';
      strategy = 'afterBackoff';
    }
    return strategy;
  }

  // ---- nominations ----

  /** Records a nomination from PostFilter (AddNominatedPod). */
  addNominatedPod(pi: PodInfo, info: NominatingInfo | null): void {
    this.nominator.add(pi, info);
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    this.nominator.delete(pod);
  }

  /** Every pod in the queue (PendingPods), for debugging. */
  pendingPods(): Pod[] {
    return [
      ...this.activeQ.list().map((p) => p.pod),
      ...this.backoffQ.list().map((p) => p.pod),
      ...[...this.unschedulablePods.values()].map((p) => p.pod),
    ];
  }
}

/** isPodUpdated: a change other than status, resourceVersion, generation or managedFields. */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod): unknown => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata ?? {};
    return { metadata: meta, spec: p.spec };
  };
  return JSON.stringify(strip(oldPod)) !== JSON.stringify(strip(newPod));
}
