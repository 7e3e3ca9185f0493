// The scheduling framework's contracts (pkg/scheduler/framework/interface.go): Status and its codes,
// one small interface per extension point, the cluster events a plugin registers for, and the
// Handle through which plugins see the snapshot, the listers and the API seams the wiring provides.
// Plugins import this folder only; everything else in src/scheduler implements these contracts.

import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import type { CycleState } from './cycle_state.ts';
import type { ClusterListers } from './listers.ts';
import type { NodeInfo } from './node_info.ts';
import type { PodInfo, QueuedPodInfo } from './pod_info.ts';

// ---- Status -------------------------------------------------------------------------------------

/** Status codes, upstream's order and values. */
export const Code = {
  Success: 0,
  Error: 1,
  Unschedulable: 2,
  UnschedulableAndUnresolvable: 3,
  Wait: 4,
  Skip: 5,
  Pending: 6,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames: readonly string[] = ['Success', 'Error', 'Unschedulable', 'UnschedulableAndUnresolvable', 'Wait', 'Skip', 'Pending'];

/** The name of a code, as Code.String() prints it. */
export function codeName(code: Code): string {
  return codeNames[code] ?? `Code(${code})`;
}

/**
 * The outcome of running a plugin: a code, the reasons users read, the plugin that said so.
 * Plugins return `null` for Success (Go's nil *Status), so passing nodes allocate nothing.
 */
export class Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The error behind a Code.Error status, if any. */
  readonly error: Error | null;
  /** Set by the framework to the plugin that returned the status. */
  plugin = '';

  constructor(code: Code, reasons: readonly string[] = [], error: Error | null = null) {
    this.code = code;
    this.reasons = reasons;
    this.error = error;
  }

  /** All reasons (the error's message first), as Status.Reasons. */
  allReasons(): readonly string[] {
    return this.error !== null ? [this.error.message, ...this.reasons] : this.reasons;
  }

  /** The reasons joined with ", " (Status.Message). */
  message(): string {
    return this.allReasons().join(', ');
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  /** Unschedulable, UnschedulableAndUnresolvable or Pending: the pod was turned away. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }

  isWait(): boolean {
    return this.code === Code.Wait;
  }

  isSkip(): boolean {
    return this.code === Code.Skip;
  }

  /** Records the plugin that produced the status and returns it. */
  withPlugin(name: string): this {
    this.plugin = name;
    return this;
  }

  /** The status as an Error (AsError): the wrapped error or one carrying the message. */
  asError(): Error {
    return this.error ?? new Error(this.message());
  }
}

/** A plugin's answer: null means Success. */
export type PluginStatus = Status | null;

/** NewStatus(code, reasons...). */
export function newStatus(code: Code, ...reasons: string[]): Status {
  return new Status(code, reasons);
}

/** AsStatus(err): an Error status carrying the error. */
export function asStatus(err: unknown): Status {
  return new Status(Code.Error, [], err instanceof Error ? err : new Error(String(err)));
}

/** True for null and for Code.Success. */
export function isSuccess(s: Status | null | undefined): boolean {
  return s === null || s === undefined || s.code === Code.Success;
}

/** The code of a possibly-null status. */
export function statusCode(s: Status | null | undefined): Code {
  return s === null || s === undefined ? Code.Success : s.code;
}

/** True when the status turns the pod away (see Status.isRejected). */
export function isRejected(s: Status | null | undefined): boolean {
  return s !== null && s !== undefined && s.isRejected();
}

/** The highest score a Score plugin may give after normalization. */
export const MaxNodeScore = 100;
/** The lowest score. */
export const MinNodeScore = 0;

// ---- Cluster events -----------------------------------------------------------------------------

/** Kinds of objects whose changes can make a rejected pod schedulable (EventResource). */
export const EventResource = {
  Pod: 'Pod',
  AssignedPod: 'AssignedPod',
  UnschedulablePod: 'UnschedulablePod',
  Node: 'Node',
  PersistentVolume: 'PersistentVolume',
  PersistentVolumeClaim: 'PersistentVolumeClaim',
  CSINode: 'CSINode',
  CSIDriver: 'CSIDriver',
  CSIStorageCapacity: 'CSIStorageCapacity',
  StorageClass: 'StorageClass',
  Namespace: 'Namespace',
  WildCard: '*',
} as const;
export type EventResource = (typeof EventResource)[keyof typeof EventResource];

/** What happened to the object, as bits (ActionType). */
export const ActionType = {
  Add: 1 << 0,
  Delete: 1 << 1,
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  UpdatePodLabel: 1 << 7,
  UpdatePodScaleDown: 1 << 8,
  UpdatePodTolerations: 1 << 9,
  UpdatePodSchedulingGatesEliminated: 1 << 10,
  UpdatePodGeneratedResourceClaim: 1 << 11,
  /** A pod update none of the specific bits describe. */
  UpdatePodOther: 1 << 12,
  /** Any update (the union of the Update* bits). */
  Update: 0b1111111111100,
  All: (1 << 13) - 1,
} as const;

/** One kind of change to the cluster. */
export interface ClusterEvent {
  readonly resource: EventResource;
  readonly actionType: number;
  /** A label for logs, e.g. "NodeAdd". */
  readonly label?: string;
}

/** Whether an event may make the pod schedulable (QueueingHint). */
export type QueueingHint = 'Queue' | 'QueueSkip';

/** Decides, for one rejected pod and one event, whether to retry it. */
export type QueueingHintFn = (pod: Pod, oldObj: unknown, newObj: unknown) => QueueingHint;

/** An event a plugin registers for, with an optional finer check. */
export interface ClusterEventWithHint {
  readonly event: ClusterEvent;
  readonly queueingHintFn?: QueueingHintFn;
}

/** True when a registered event covers an incoming one (ClusterEvent.Match). */
export function eventMatches(registered: ClusterEvent, incoming: ClusterEvent): boolean {
  if ((registered.actionType & incoming.actionType) === 0) return false;
  if (registered.resource === EventResource.WildCard || registered.resource === incoming.resource) return true;
  // "Pod" covers both assigned and unschedulable pods.
  return registered.resource === EventResource.Pod &&
    (incoming.resource === EventResource.AssignedPod || incoming.resource === EventResource.UnschedulablePod);
}

// ---- Extension points ---------------------------------------------------------------------------

/** Every plugin has a name, the one profiles refer to. */
export interface Plugin {
  readonly name: string;
}

/** Plugins that say which cluster events can make a pod they rejected schedulable. */
export interface EnqueueExtensions {
  eventsToRegister(): readonly ClusterEventWithHint[];
}

/** Runs before a pod enters the active queue; a rejection parks it (e.g. scheduling gates). */
export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): PluginStatus;
}

/** Orders the active queue; exactly one per profile. */
export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** PreFilter may narrow the nodes to consider; null nodeNames means all nodes. */
export interface PreFilterResult {
  readonly nodeNames: ReadonlySet<string> | null;
}

/** Lets the framework tell a PreFilter plugin about pods added or removed while evaluating a node. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): PluginStatus;
}

/** Computes per-pod state once per cycle; Skip means its Filter need not run for this pod. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): readonly [PreFilterResult | null, PluginStatus];
  preFilterExtensions?(): PreFilterExtensions | null;
}

/** Decides whether the pod may run on one node. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus;
}

/** Per-node statuses from Filter, with one status standing for every node not listed. */
export interface NodeToStatusReader {
  get(nodeName: string): Status;
  /** The nodes (from `nodes`) whose status has the given code. */
  nodesForStatusCode(nodes: readonly NodeInfo[], code: Code): NodeInfo[];
}

/** What a PostFilter plugin asks for: the node to nominate ("" clears the nomination). */
export interface PostFilterResult {
  readonly nominatedNodeName: string | null;
}

/** Runs when no node fits (preemption). */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatusReader): { result: PostFilterResult | null; status: PluginStatus };
}

/** Computes per-pod scoring state once per cycle; Skip means its Score need not run. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus;
}

/** Ranks a feasible node: a number, or a Status on failure. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status;
  /** Rescales `scores` (parallel to `nodes`) in place into [0, MaxNodeScore]. */
  normalizeScore?(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: number[]): PluginStatus;
}

/** Claims (and on failure releases) resources for the chosen node before binding. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): PluginStatus;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Approves, rejects or delays (Wait with a timeout) the binding. */
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string): { status: PluginStatus; timeoutMs: number };
}

/** Work before binding (e.g. binding volumes). */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus>;
}

/** Binds the pod; Skip passes to the next bind plugin. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus>;
}

/** Informational, after a successful bind. */
export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): void;
}

// ---- What plugins can see and call --------------------------------------------------------------

/** The per-cycle snapshot's node view (NodeInfoLister). */
export interface NodeInfoLister {
  list(): readonly NodeInfo[];
  /** Nodes hosting at least one pod with (anti-)affinity terms. */
  havePodsWithAffinityList(): readonly NodeInfo[];
  /** Nodes hosting at least one pod with required anti-affinity terms. */
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** The nodes changed since the node set last changed, oldest first; null when not tracked. */
  changeLog?(): NodeChangeLog | null;
}

/** Nodes whose contents a snapshot refresh replaced (entries repeat); a new epoch means start over. */
export interface NodeChangeLog {
  readonly epoch: number;
  readonly nodes: readonly NodeInfo[];
}

/** The snapshot as plugins see it (SharedLister). */
export interface SharedLister {
  nodeInfos(): NodeInfoLister;
  /** True when a scheduled pod uses the PVC "<namespace>/<name>". */
  isPVCUsedByPods(key: string): boolean;
}

/** Pods nominated to nodes by preemption, not yet bound (PodNominator). */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
}

/** Binds a pod to a node through the API (pods/binding); the wiring implements it. */
export interface Binder {
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** The API calls preemption makes; the wiring implements them over src/client. */
export interface PreemptionApi {
  /**
   * Marks the victim with the DisruptionTarget condition, deletes it (gracefully) and records the
   * "Preempted" event on it.
   */
  preemptPod(victim: Pod, preemptor: Pod, nodeName: string): Promise<void>;
  /** Clears status.nominatedNodeName of the given pods. */
  clearNominatedNodeName(pods: readonly Pod[]): Promise<void>;
}

/** One unbound WaitForFirstConsumer claim and how to satisfy it: a matching PV, or provisioning (null). */
export interface VolumeBindingDecision {
  readonly claim: PersistentVolumeClaim;
  readonly volume: PersistentVolume | null;
}

/** The API calls volume binding makes at PreBind; the wiring implements them over src/client. */
export interface VolumeBindingApi {
  /**
   * Binds each claim on the chosen node: PV claimRef for a static match, the
   * volume.kubernetes.io/selected-node annotation for provisioning; resolves once all are bound.
   */
  bindPodVolumes(pod: Pod, nodeName: string, decisions: readonly VolumeBindingDecision[]): Promise<void>;
}

/** A pod held at Permit. */
export interface WaitingPod {
  readonly pod: Pod;
  allow(plugin: string): void;
  reject(plugin: string, message: string): void;
}

/** The framework as plugins see it (framework.Handle). */
export interface Handle {
  snapshotSharedLister(): SharedLister;
  readonly listers: ClusterListers;
  readonly binder: Binder;
  readonly preemptionApi: PreemptionApi;
  readonly volumeBindingApi: VolumeBindingApi;
  readonly nominator: PodNominator;
  /** Runs the profile's Filter plugins, accounting for pods nominated to the node. */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus;
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus;
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): PluginStatus;
  /** True when some PreFilter plugin that ran (not skipped) updates its state as pods are added or removed. */
  hasPreFilterExtensions(state: CycleState): boolean;
  getWaitingPod(uid: string): WaitingPod | undefined;
  /** True while the scheduler's cache (fed by the informers, unlike the cycle's snapshot) holds the pod. */
  podInCache(uid: string): boolean;
  /** True when the profile runs the named Filter plugin. */
  hasFilterPlugin(name: string): boolean;
  /**
   * Moves parked pods back towards scheduling as a cluster event about them would: to backoffQ while
   * their backoff lasts, else to activeQ (PreEnqueue runs again). For plugins whose PreEnqueue gate
   * lifts without a cluster event.
   */
  requeueAfterBackoff(pods: readonly Pod[]): void;
  /** Logs a failure that is not the pod's fault (API errors in background work). */
  reportError(message: string, err: unknown): void;
}

/** Builds a plugin from its args (already defaulted and validated) and the framework handle. */
export type PluginFactory = (args: unknown, handle: Handle) => Plugin;
