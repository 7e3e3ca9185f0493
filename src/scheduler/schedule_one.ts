// One scheduling attempt (pkg/scheduler/schedule_one.go): refresh the snapshot, PreFilter, Filter
// until enough feasible nodes are found (percentageOfNodesToScore), PostFilter (preemption) when none
// fits, PreScore/Score, pick a host among the best, assume the pod in the cache, Reserve and Permit.
// The scheduling cycle is synchronous; the binding cycle (WaitOnPermit, PreBind, Bind) runs async.

import type { Pod, PodCondition } from '../api/types/core_v1.ts';
import type { Cache } from './cache/cache.ts';
import type { Snapshot } from './cache/snapshot.ts';
import { CycleState } from './framework/cycle_state.ts';
import { Diagnosis, FitError, NodeToStatus } from './framework/fit_error.ts';
import type { Framework } from './framework/framework.ts';
import { Code, Status, asStatus, newStatus, type PluginStatus } from './framework/interface.ts';
import type { NodeInfo } from './framework/node_info.ts';
import { QueuedPodInfo } from './framework/pod_info.ts';
import type { NominatingInfo } from './queue/nominator.ts';
import { QueueEvents, type SchedulingQueue } from './queue/scheduling_queue.ts';

/** At least this many nodes are evaluated per cycle (minFeasibleNodesToFind). */
export const minFeasibleNodesToFind = 100;
/** The adaptive percentage never drops below this (minFeasibleNodesPercentageToFind). */
export const minFeasibleNodesPercentageToFind = 5;
/** Event notes longer than this are cut (validation.NoteLengthLimit). */
export const noteLengthLimit = 1024;

/** ErrNoNodesAvailable's text. */
export const ErrNoNodesAvailable = 'no nodes available to schedule pods';

/** Where a pod should go. */
export interface ScheduleResult {
  readonly suggestedHost: string;
  /** Nodes filtered (feasible or not). */
  readonly evaluatedNodes: number;
  readonly feasibleNodes: number;
}

/** The event recorder seam (events.EventRecorder): the wiring posts events.k8s.io Events. */
export interface EventRecorder {
  eventf(regarding: Pod, related: Pod | null, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void;
}

/** The pod-status seam: writes status.conditions and status.nominatedNodeName (a status patch). */
export interface PodStatusUpdater {
  updatePodStatus(pod: Pod, update: PodStatusUpdate): Promise<void>;
}

/** The status fields to write; only present fields change. */
export interface PodStatusUpdate {
  readonly conditions?: PodCondition[];
  readonly nominatedNodeName?: string;
}

/** What schedule_one needs from the scheduler it runs in. */
export interface SchedulingContext {
  readonly cache: Cache;
  readonly snapshot: Snapshot;
  readonly queue: SchedulingQueue;
  readonly profiles: ReadonlyMap<string, Framework>;
  readonly events: EventRecorder;
  readonly podStatus: PodStatusUpdater;
  /** The live pod from the informer, or undefined when it is gone. */
  lookupPod(pod: Pod): Pod | undefined;
  /** The scheduler-wide percentageOfNodesToScore (0 = adaptive). */
  readonly percentageOfNodesToScore: number;
  /** Where the next Filter pass starts, so every node gets its turn. */
  nextStartNodeIndex: number;
  /** Random integer in [0, n). */
  randomInt(n: number): number;
  now(): number;
  /** Binding cycles still running (awaited on shutdown). */
  readonly inFlightBindings: Set<Promise<void>>;
  /**
   * nominatedNodeName values written to pods whose informer copy does not show them yet, by uid.
   * Upstream writes the status before the next cycle starts, so its informer is rarely behind;
   * ours patches in the background, and this keeps a nomination from being lost meanwhile.
   */
  readonly pendingNominations: Map<string, string>;
  logError(message: string, err: unknown): void;
}

/** numFeasibleNodesToFind: how many feasible nodes end the Filter search. */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let pct = percentage;
  if (pct === 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < minFeasibleNodesPercentageToFind) pct = minFeasibleNodesPercentageToFind;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < minFeasibleNodesToFind ? minFeasibleNodesToFind : n;
}

/** truncateMessage: cut to the event note limit with " ..." appended. */
export function truncateMessage(message: string): string {
  if (message.length <= noteLengthLimit) return message;
  return `${message.slice(0, noteLengthLimit - 4)} ...`;
}

const clearNominatedNode: NominatingInfo = { mode: 'Override', nominatedNodeName: '' };

/** Filters nodes (starting at nextStartNodeIndex) until enough feasible ones are found. */
function findNodesThatPassFilters(sched: SchedulingContext, fwk: Framework, state: CycleState, pod: Pod, diagnosis: Diagnosis, nodes: readonly NodeInfo[], allNodesCount: number): NodeInfo[] {
  const numAll = nodes.length;
  let toFind = numFeasibleNodesToFind(fwk.percentageOfNodesToScore ?? sched.percentageOfNodesToScore, numAll);
  if (!fwk.hasScorePlugins()) toFind = 1;
  const feasible: NodeInfo[] = [];
  if (numAll === 0) return feasible;
  const start = sched.nextStartNodeIndex % numAll;
  if (!fwk.hasFilterPlugins()) {
    for (let i = 0; i < toFind && i < numAll; i++) feasible.push(nodes[(start + i) % numAll] as NodeInfo);
    return feasible;
  }
  let processed = 0;
  for (let i = 0; i < numAll; i++) {
    const ni = nodes[(start + i) % numAll] as NodeInfo;
    const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
    processed++;
    if (s === null) {
      feasible.push(ni);
      if (feasible.length >= toFind) break;
      continue;
    }
    if (s.code === Code.Error) throw s.asError();
    diagnosis.nodeToStatus.set(ni.name, s);
    diagnosis.addPluginStatus(s);
  }
  if (allNodesCount > 0) sched.nextStartNodeIndex = (sched.nextStartNodeIndex + processed) % allNodesCount;
  return feasible;
}

/** findNodesThatFitPod: PreFilter, then the nominated node, then Filter over all (or the pre-filtered) nodes. */
function findNodesThatFitPod(sched: SchedulingContext, fwk: Framework, state: CycleState, pod: Pod): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
  const diagnosis = new Diagnosis();
  const allNodes = sched.snapshot.nodeInfoList;
  const pre = fwk.runPreFilterPlugins(state, pod);
  for (const p of pre.pluginsWithNodes) diagnosis.unschedulablePlugins.add(p);
  if (pre.status !== null && !pre.status.isSuccess()) {
    if (!pre.status.isRejected()) throw pre.status.asError();
    diagnosis.nodeToStatus.setAbsentNodesStatus(pre.status);
    diagnosis.preFilterMsg = pre.status.message();
    diagnosis.addPluginStatus(pre.status);
    return { feasible: [], diagnosis };
  }
  const nominated = pod.status?.nominatedNodeName ?? '';
  if (nominated !== '') {
    const ni = sched.snapshot.get(nominated);
    if (ni !== undefined) {
      const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
      if (s === null) return { feasible: [ni], diagnosis };
      if (s.code === Code.Error) sched.logError(`evaluation failed on nominated node ${nominated}`, s.asError());
      else {
        diagnosis.nodeToStatus.set(ni.name, s);
        diagnosis.addPluginStatus(s);
      }
    }
  }
  let nodes: readonly NodeInfo[] = allNodes;
  if (pre.result !== null && pre.result.nodeNames !== null) {
    const subset: NodeInfo[] = [];
    for (const name of pre.result.nodeNames) {
      const ni = sched.snapshot.get(name);
      if (ni !== undefined) subset.push(ni);
    }
    nodes = subset;
    const plugins = [...diagnosis.unschedulablePlugins].sort();
    diagnosis.nodeToStatus.setAbsentNodesStatus(newStatus(Code.UnschedulableAndUnresolvable, `node(s) didn't satisfy plugin(s) [${plugins.join(' ')}]`));
  }
  const feasible = findNodesThatPassFilters(sched, fwk, state, pod, diagnosis, nodes, allNodes.length);
  return { feasible, diagnosis };
}

/**
 * selectHost: a uniformly random node among those with the highest total score (reservoir
 * sampling, as upstream's heap walk amounts to).
 */
export function selectHost(nodes: readonly NodeInfo[], totals: readonly number[], randomInt: (n: number) => number): string {
  let best = -Infinity;
  let selected = -1;
  let ties = 0;
  for (let i = 0; i < totals.length; i++) {
    const t = totals[i] as number;
    if (t > best) {
      best = t;
      selected = i;
      ties = 1;
    } else if (t === best) {
      ties++;
      if (randomInt(ties) === 0) selected = i;
    }
  }
  if (selected < 0) throw new Error('empty priorityList');
  return (nodes[selected] as NodeInfo).name;
}

/** schedulePod: the algorithm part of the cycle; throws FitError when no node fits. */
export function schedulePod(sched: SchedulingContext, fwk: Framework, state: CycleState, pod: Pod): ScheduleResult {
  sched.cache.updateSnapshot(sched.snapshot);
  const numNodes = sched.snapshot.numNodes();
  if (numNodes === 0) throw new NoNodesAvailableError();
  const { feasible, diagnosis } = findNodesThatFitPod(sched, fwk, state, pod);
  if (feasible.length === 0) throw new FitError(pod, numNodes, diagnosis);
  if (feasible.length === 1) {
    return { suggestedHost: (feasible[0] as NodeInfo).name, evaluatedNodes: 1 + diagnosis.nodeToStatus.size, feasibleNodes: 1 };
  }
  let totals: number[];
  if (!fwk.hasScorePlugins()) {
    totals = new Array<number>(feasible.length).fill(1);
  } else {
    const pre = fwk.runPreScorePlugins(state, pod, feasible);
    if (pre !== null && !pre.isSuccess()) throw pre.asError();
    totals = fwk.runScorePlugins(state, pod, feasible);
  }
  return {
    suggestedHost: selectHost(feasible, totals, (n) => sched.randomInt(n)),
    evaluatedNodes: feasible.length + diagnosis.nodeToStatus.size,
    feasibleNodes: feasible.length,
  };
}

/** ErrNoNodesAvailable. */
export class NoNodesAvailableError extends Error {
  readonly code = 'NoNodesAvailable';
  constructor() {
    super(ErrNoNodesAvailable);
    this.name = 'NoNodesAvailableError';
  }
}

/** The outcome of a scheduling cycle. */
type CycleOutcome =
  | { ok: true; result: ScheduleResult; assumed: QueuedPodInfo }
  | { ok: false; status: Status; nominatingInfo: NominatingInfo | null; podInfo: QueuedPodInfo };

function fitErrorStatus(code: Code, host: string, pod: Pod, s: Status): Status {
  const d = new Diagnosis();
  d.nodeToStatus = new NodeToStatus();
  d.nodeToStatus.set(host, s);
  d.addPluginStatus(s);
  return new Status(code, [], new FitError(pod, 1, d));
}

/** schedulingCycle: everything up to and including Permit, synchronously. */
export function schedulingCycle(sched: SchedulingContext, fwk: Framework, state: CycleState, qpi: QueuedPodInfo): CycleOutcome {
  const pod = qpi.pod;
  let result: ScheduleResult;
  try {
    result = schedulePod(sched, fwk, state, pod);
  } catch (err) {
    if (err instanceof NoNodesAvailableError) {
      return { ok: false, status: new Status(Code.UnschedulableAndUnresolvable, [], err), nominatingInfo: clearNominatedNode, podInfo: qpi };
    }
    if (!(err instanceof FitError)) {
      sched.logError(`error selecting node for pod ${pod.metadata?.namespace}/${pod.metadata?.name}`, err);
      return { ok: false, status: asStatus(err), nominatingInfo: clearNominatedNode, podInfo: qpi };
    }
    if (!fwk.hasPostFilterPlugins()) {
      return { ok: false, status: new Status(Code.Unschedulable, [], err), nominatingInfo: clearNominatedNode, podInfo: qpi };
    }
    const { result: pf, status } = fwk.runPostFilterPlugins(state, pod, err.diagnosis.nodeToStatus);
    err.setPostFilterMsg(status.message());
    if (status.code === Code.Error) sched.logError(`PostFilter failed for pod ${pod.metadata?.namespace}/${pod.metadata?.name}`, status.asError());
    const nominating: NominatingInfo | null = pf !== null && pf.nominatedNodeName !== null ? { mode: 'Override', nominatedNodeName: pf.nominatedNodeName } : null;
    return { ok: false, status: new Status(Code.Unschedulable, [], err), nominatingInfo: nominating, podInfo: qpi };
  }

  const host = result.suggestedHost;
  const assumedPod: Pod = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName: host } };
  const assumed = new QueuedPodInfo(qpi.podInfo.withPod(assumedPod), qpi.timestamp);
  assumed.attempts = qpi.attempts;
  assumed.initialAttemptTimestamp = qpi.initialAttemptTimestamp;
  try {
    sched.cache.assumePod(assumed.podInfo);
  } catch (err) {
    return { ok: false, status: asStatus(err), nominatingInfo: clearNominatedNode, podInfo: assumed };
  }
  sched.queue.deleteNominatedPodIfExists(assumedPod);

  const forget = (): void => {
    try {
      sched.cache.forgetPod(assumedPod);
    } catch (err) {
      sched.logError('scheduler cache ForgetPod failed', err);
    }
  };
  const reserve = fwk.runReservePluginsReserve(state, assumedPod, host);
  if (reserve !== null && !reserve.isSuccess()) {
    fwk.runReservePluginsUnreserve(state, assumedPod, host);
    forget();
    const status = reserve.isRejected() ? fitErrorStatus(reserve.code, host, pod, reserve) : reserve;
    return { ok: false, status, nominatingInfo: clearNominatedNode, podInfo: assumed };
  }
  const permit = fwk.runPermitPlugins(state, assumedPod, host);
  if (permit !== null && !permit.isSuccess() && !permit.isWait()) {
    fwk.runReservePluginsUnreserve(state, assumedPod, host);
    forget();
    const status = permit.isRejected() ? fitErrorStatus(permit.code, host, pod, permit) : permit;
    return { ok: false, status, nominatingInfo: clearNominatedNode, podInfo: assumed };
  }
  return { ok: true, result, assumed };
}

/** bindingCycle: WaitOnPermit, PreBind, Bind, the Scheduled event, PostBind. */
export async function bindingCycle(sched: SchedulingContext, fwk: Framework, state: CycleState, result: ScheduleResult, assumed: QueuedPodInfo): Promise<PluginStatus> {
  const pod = assumed.pod;
  const host = result.suggestedHost;
  const permit = await fwk.waitOnPermit(pod);
  if (permit !== null && !permit.isSuccess()) {
    return permit.isRejected() ? fitErrorStatus(permit.code, host, pod, permit) : permit;
  }
  sched.queue.done(assumed.podInfo.uid);
  const pre = await fwk.runPreBindPlugins(state, pod, host);
  if (pre !== null && !pre.isSuccess()) return pre;
  const bind = await fwk.runBindPlugins(state, pod, host);
  try {
    sched.cache.finishBinding(pod);
  } catch (err) {
    sched.logError('scheduler cache FinishBinding failed', err);
  }
  if (bind !== null && !bind.isSuccess()) return bind;
  sched.events.eventf(pod, null, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''} to ${host}`);
  fwk.runPostBindPlugins(state, pod, host);
  return null;
}

/**
 * The PodScheduled condition and nominatedNodeName changes to write (updatePod): nothing when the
 * condition is unchanged and the nomination need not move. Returns null when there is nothing to do.
 */
export function podStatusUpdate(pod: Pod, condition: PodCondition | null, nominating: NominatingInfo | null, now: string): PodStatusUpdate | null {
  const current = pod.status?.nominatedNodeName ?? '';
  const nnnChange = nominating !== null && nominating.mode === 'Override' && current !== nominating.nominatedNodeName;
  let conditions: PodCondition[] | undefined;
  if (condition !== null) {
    const existing = pod.status?.conditions ?? [];
    const i = existing.findIndex((c) => c.type === condition.type);
    const next: PodCondition = { ...condition };
    if (i < 0) {
      next.lastTransitionTime ??= now;
      conditions = [...existing, next];
    } else {
      const old = existing[i] as PodCondition;
      next.lastTransitionTime = old.status === next.status ? old.lastTransitionTime ?? now : now;
      const same = old.status === next.status && (old.reason ?? '') === (next.reason ?? '') && (old.message ?? '') === (next.message ?? '') &&
        (old.lastProbeTime ?? null) === (next.lastProbeTime ?? null) && old.lastTransitionTime === next.lastTransitionTime;
      if (!same) conditions = existing.map((c, j) => (j === i ? next : c));
    }
  }
  if (conditions === undefined && !nnnChange) return null;
  return {
    ...(conditions !== undefined ? { conditions } : {}),
    ...(nnnChange ? { nominatedNodeName: (nominating as NominatingInfo).nominatedNodeName } : {}),
  };
}

/**
 * handleSchedulingFailure: puts the pod back in the queue (unless it is gone or bound meanwhile),
 * records the nomination, emits FailedScheduling and writes PodScheduled=False.
 */
export function handleSchedulingFailure(sched: SchedulingContext, fwk: Framework, qpi: QueuedPodInfo, status: Status, nominating: NominatingInfo | null, podSchedulingCycle: number): void {
  const pod = qpi.pod;
  const reason = status.isRejected() ? 'Unschedulable' : 'SchedulerError';
  const err = status.error;
  if (err instanceof FitError) {
    qpi.unschedulablePlugins = err.diagnosis.unschedulablePlugins;
    qpi.pendingPlugins = err.diagnosis.pendingPlugins;
  } else if (!(err instanceof NoNodesAvailableError)) {
    sched.logError(`error scheduling pod ${pod.metadata?.namespace}/${pod.metadata?.name}; retrying`, status.asError());
  }
  const cached = sched.lookupPod(pod);
  if (cached === undefined || (cached.spec?.nodeName ?? '') !== '') {
    sched.queue.done(qpi.podInfo.uid);
  } else {
    // Requeue the informer's version, without the assumed nodeName.
    if (qpi.podInfo.pod !== cached) {
      const pi = qpi.podInfo.withPod(qpi.podInfo.pod);
      pi.update(cached);
      qpi.podInfo = pi;
    }
    sched.queue.addUnschedulableIfNotPresent(qpi, podSchedulingCycle);
  }
  const uid = qpi.podInfo.uid;
  const pending = sched.pendingNominations.get(uid);
  // A Noop nomination reads the pod's status; one we wrote and have not seen back counts as there.
  const forNominator = nominating === null && pending !== undefined && pending !== (qpi.pod.status?.nominatedNodeName ?? '')
    ? { mode: 'Override' as const, nominatedNodeName: pending }
    : nominating;
  sched.queue.addNominatedPod(qpi.podInfo, forNominator);
  const msg = status.message();
  sched.events.eventf(pod, null, 'Warning', 'FailedScheduling', 'Scheduling', truncateMessage(msg));
  const condition: PodCondition = { type: 'PodScheduled', status: 'False', reason, message: msg };
  const update = podStatusUpdate(cached ?? pod, condition, nominating, new Date(sched.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (update !== null) {
    const nnn = update.nominatedNodeName;
    if (nnn !== undefined) sched.pendingNominations.set(uid, nnn);
    sched.podStatus.updatePodStatus(cached ?? pod, update).catch((e: unknown) => {
      if (nnn !== undefined && sched.pendingNominations.get(uid) === nnn) sched.pendingNominations.delete(uid);
      sched.logError(`error updating pod ${pod.metadata?.namespace}/${pod.metadata?.name}`, e);
    });
  }
}

/** handleBindingCycleError: undo the assumption, let other pods retry, then handle the failure. */
function handleBindingCycleError(sched: SchedulingContext, fwk: Framework, state: CycleState, assumed: QueuedPodInfo, host: string, status: Status, podSchedulingCycle: number): void {
  const pod = assumed.pod;
  fwk.runReservePluginsUnreserve(state, pod, host);
  let forgotten = true;
  try {
    sched.cache.forgetPod(pod);
  } catch (err) {
    forgotten = false;
    sched.logError('scheduler cache ForgetPod failed', err);
  }
  if (forgotten) {
    // The assumed pod held resources; releasing them is like a delete for pods waiting on them.
    const uid = assumed.podInfo.uid;
    sched.queue.moveAllToActiveOrBackoffQueue(QueueEvents.AssignedPodDelete, pod, null, status.isRejected() ? (p) => p.metadata?.uid !== uid : undefined);
  }
  handleSchedulingFailure(sched, fwk, assumed, status, clearNominatedNode, podSchedulingCycle);
}

/**
 * ScheduleOne: pops one pod and runs its scheduling cycle; the binding cycle continues in the
 * background. Returns false when the queue had no pod.
 */
export function scheduleOne(sched: SchedulingContext): boolean {
  const qpi = sched.queue.pop();
  if (qpi === undefined) return false;
  const podSchedulingCycle = sched.queue.schedulingCycle;
  const pod = qpi.pod;
  const fwk = sched.profiles.get(pod.spec?.schedulerName ?? 'default-scheduler');
  if (fwk === undefined) {
    sched.logError(`profile not found for scheduler name ${JSON.stringify(pod.spec?.schedulerName ?? '')}`, null);
    sched.queue.done(qpi.podInfo.uid);
    return true;
  }
  if (pod.metadata?.deletionTimestamp) {
    sched.events.eventf(pod, null, 'Warning', 'FailedScheduling', 'Scheduling', `skip schedule deleting pod: ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
    sched.queue.done(qpi.podInfo.uid);
    return true;
  }
  if (sched.cache.isAssumedPod(pod)) {
    sched.queue.done(qpi.podInfo.uid);
    return true;
  }
  const state = new CycleState();
  const outcome = schedulingCycle(sched, fwk, state, qpi);
  if (!outcome.ok) {
    handleSchedulingFailure(sched, fwk, outcome.podInfo, outcome.status, outcome.nominatingInfo, podSchedulingCycle);
    return true;
  }
  const { result, assumed } = outcome;
  const p: Promise<void> = bindingCycle(sched, fwk, state, result, assumed)
    .then((status) => {
      if (status !== null && !status.isSuccess()) handleBindingCycleError(sched, fwk, state, assumed, result.suggestedHost, status, podSchedulingCycle);
    })
    .catch((err: unknown) => handleBindingCycleError(sched, fwk, state, assumed, result.suggestedHost, asStatus(err), podSchedulingCycle))
    .finally(() => {
      sched.inFlightBindings.delete(p);
    });
  sched.inFlightBindings.add(p);
  return true;
}
