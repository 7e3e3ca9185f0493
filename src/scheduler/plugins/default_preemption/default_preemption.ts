// DefaultPreemption (plugins/defaultpreemption + framework/preemption): when no node fits, look for
// nodes where evicting lower-priority pods would make room, keep as few and as unimportant victims as
// possible (PDB-violating ones reprieved first), pick the best node and nominate the pod to it. The
// victims' deletions go through the PreemptionApi seam in the background; until they finish and the
// snapshot no longer shows the victims, the pod does not preempt again.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { PodDisruptionBudget } from '../../../api/types/policy_v1.ts';
import type { CycleState } from '../../framework/cycle_state.ts';
import { FitError, Diagnosis, NodeToStatus } from '../../framework/fit_error.ts';
import {
  Code,
  Status,
  asStatus,
  newStatus,
  type Handle,
  type NodeToStatusReader,
  type Plugin,
  type PluginStatus,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreEnqueuePlugin,
  ActionType,
  EventResource,
  type ClusterEventWithHint,
  type EnqueueExtensions,
} from '../../framework/interface.ts';
import { NodeInfo } from '../../framework/node_info.ts';
import { podPriority, type PodInfo } from '../../framework/pod_info.ts';
import { podRequests, type Resource } from '../../framework/resources.ts';
import { filterPodsWithPDBViolation, pickOneNodeForPreemption, sortByImportance, type Victims } from './victims.ts';

export const Name = 'DefaultPreemption';
const NodeResourcesFitName = 'NodeResourcesFit';

/** DefaultPreemptionArgs. */
export interface DefaultPreemptionArgs {
  /** Dry-run at least this percentage of the potential nodes (default 10). */
  minCandidateNodesPercentage?: number;
  /** ... and at least this many (default 100). */
  minCandidateNodesAbsolute?: number;
}

/** A node where preemption would work, with its victims. */
export interface Candidate {
  readonly name: string;
  readonly victims: Victims;
}

/** Victims being evicted for a preemptor. */
interface InFlightPreemption {
  readonly node: string;
  /** Uids of the victims deleted through the API. */
  readonly victims: ReadonlySet<string>;
  /** True until every deletion call has returned. */
  deleting: boolean;
}

/** True when the snapshot still holds one of the victims on their node. */
function victimsRemain(h: Handle, p: InFlightPreemption): boolean {
  const ni = h.snapshotSharedLister().nodeInfos().get(p.node);
  if (ni === undefined) return false;
  for (const pi of ni.pods) if (p.victims.has(pi.uid)) return true;
  return false;
}

/** Whether the pod's termination was caused by scheduler preemption (DisruptionTarget condition). */
function podTerminatingByPreemption(p: Pod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget');
  return c !== undefined && c.status === 'True' && c.reason === 'PreemptionByScheduler';
}

/** Preemption as a PostFilter plugin, and a PreEnqueue gate holding preemptors while their victims are deleted. */
export class DefaultPreemption implements PostFilterPlugin, PreEnqueuePlugin, EnqueueExtensions {
  readonly name = Name;
  private readonly handle: Handle;
  private readonly minCandidateNodesPercentage: number;
  private readonly minCandidateNodesAbsolute: number;
  /**
   * Preemptions not yet seen through, by preemptor uid: while the deletions run, and after, until
   * the snapshot no longer holds the victims (the API may confirm a delete before the informer
   * delivers it; until then the victims still look like they occupy the node).
   */
  private readonly inFlight = new Map<string, InFlightPreemption>();
  private sinceSweep = 0;
  /** Where dry runs remove and add back pods. */
  private readonly scratch = new NodeInfo();
  /** The random offset into the potential nodes; replaceable so tests are deterministic. */
  offsetRand: (n: number) => number = (n) => Math.floor(Math.random() * n);

  constructor(args: DefaultPreemptionArgs, handle: Handle) {
    this.handle = handle;
    this.minCandidateNodesPercentage = args.minCandidateNodesPercentage ?? 10;
    this.minCandidateNodesAbsolute = args.minCandidateNodesAbsolute ?? 100;
  }

  /**
   * Victims are deleted in the background (as upstream's async preemption does): until those calls
   * return, retrying the preemptor could only fail again and double its backoff, so it waits, and
   * is requeued when they finish.
   */
  preEnqueue(pod: Pod): PluginStatus {
    const p = this.inFlight.get(pod.metadata?.uid ?? '');
    if (p !== undefined && this.preemptionRunning(p)) {
      return newStatus(Code.UnschedulableAndUnresolvable, 'waiting for the preemption for this pod to be finished');
    }
    return null;
  }

  /** A held preemptor is worth another look when its last victim leaves the cache (upstream's async preemption hint). */
  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [{
      event: { resource: EventResource.AssignedPod, actionType: ActionType.Delete },
      queueingHintFn: (pod, oldObj) => {
        const p = this.inFlight.get(pod.metadata?.uid ?? '');
        const victim = (oldObj as Pod | null)?.metadata?.uid ?? '';
        return p !== undefined && p.victims.has(victim) && !this.preemptionRunning(p) ? 'Queue' : 'QueueSkip';
      },
    }];
  }

  /** True until the deletion calls have returned and the scheduler's cache no longer holds any victim. */
  private preemptionRunning(p: InFlightPreemption): boolean {
    if (p.deleting) return true;
    for (const uid of p.victims) if (this.handle.podInCache(uid)) return true;
    return false;
  }

  postFilter(state: CycleState, pod: Pod, m: NodeToStatusReader): { result: PostFilterResult | null; status: PluginStatus } {
    const { result, status } = this.preempt(state, pod, m);
    const msg = status === null ? '' : status.message();
    if (status !== null && msg.length > 0) return { result, status: new Status(status.code, [`preemption: ${msg}`]) };
    return { result, status };
  }

  /** Evaluator.Preempt. */
  preempt(state: CycleState, podIn: Pod, m: NodeToStatusReader): { result: PostFilterResult | null; status: PluginStatus } {
    // Now and then, not per call: with many preemptions under way a sweep costs a scan of each node.
    if (this.inFlight.size > 0 && ++this.sinceSweep >= 64) {
      this.sinceSweep = 0;
      this.sweep();
    }
    const pod = this.handle.listers.pod(podIn.metadata?.namespace ?? '', podIn.metadata?.name ?? '') ?? podIn;
    const nnn = pod.status?.nominatedNodeName ?? '';
    const eligible = this.podEligibleToPreemptOthers(pod, nnn === '' ? null : m.get(nnn));
    if (!eligible.ok) return { result: null, status: newStatus(Code.Unschedulable, eligible.reason) };

    const allNodes = this.handle.snapshotSharedLister().nodeInfos().list();
    let found: { candidates: Candidate[]; statuses: NodeToStatus };
    try {
      found = this.findCandidates(state, allNodes, pod, m);
    } catch (err) {
      return { result: null, status: asStatus(err) };
    }
    if (found.candidates.length === 0) {
      const d = new Diagnosis();
      d.nodeToStatus = found.statuses;
      d.nodeToStatus.setAbsentNodesStatus(newStatus(Code.UnschedulableAndUnresolvable, 'Preemption is not helpful for scheduling'));
      const fitError = new FitError(pod, allNodes.length, d);
      // Nominating "" clears a stale nominatedNodeName.
      return { result: { nominatedNodeName: '' }, status: newStatus(Code.Unschedulable, fitError.message) };
    }
    const best = this.selectCandidate(found.candidates);
    if (best === undefined || best.name === '') return { result: null, status: newStatus(Code.Unschedulable, 'no candidate node for preemption') };
    this.prepareCandidate(best, pod);
    return { result: { nominatedNodeName: best.name }, status: new Status(Code.Success) };
  }

  /** PodEligibleToPreemptOthers. */
  podEligibleToPreemptOthers(pod: Pod, nominatedNodeStatus: Status | null): { ok: boolean; reason: string } {
    if (pod.spec?.preemptionPolicy === 'Never') return { ok: false, reason: 'not eligible due to preemptionPolicy=Never.' };
    const nnn = pod.status?.nominatedNodeName ?? '';
    const uid = pod.metadata?.uid ?? '';
    if (nnn !== '' || this.inFlight.has(uid)) {
      // Re-preempt when the nominated node turned out hopeless.
      if (nominatedNodeStatus !== null && nominatedNodeStatus.code === Code.UnschedulableAndUnresolvable) return { ok: true, reason: '' };
      if (this.stillTerminating(uid)) return { ok: false, reason: 'not eligible due to a terminating pod on the nominated node.' };
      const ni = this.handle.snapshotSharedLister().nodeInfos().get(nnn);
      if (ni !== undefined) {
        const prio = podPriority(pod);
        for (const p of ni.pods) {
          if (podPriority(p.pod) < prio && podTerminatingByPreemption(p.pod)) {
            return { ok: false, reason: 'not eligible due to a terminating pod on the nominated node.' };
          }
        }
      }
    }
    return { ok: true, reason: '' };
  }

  /** True while the preemptor's victims are being deleted or are still on the node in the snapshot. */
  private stillTerminating(uid: string): boolean {
    const p = this.inFlight.get(uid);
    if (p === undefined) return false;
    if (p.deleting || victimsRemain(this.handle, p)) return true;
    this.inFlight.delete(uid);
    return false;
  }

  /** Forgets finished preemptions whose victims are gone (their preemptors may never ask again). */
  private sweep(): void {
    for (const [uid, p] of this.inFlight) if (!p.deleting && !victimsRemain(this.handle, p)) this.inFlight.delete(uid);
  }

  /** How many candidates to dry-run (calculateNumCandidates). */
  calculateNumCandidates(numNodes: number): number {
    let n = Math.trunc((numNodes * this.minCandidateNodesPercentage) / 100);
    if (n < this.minCandidateNodesAbsolute) n = this.minCandidateNodesAbsolute;
    if (n > numNodes) n = numNodes;
    return n;
  }

  /** findCandidates: dry-runs preemption on nodes whose failure was resolvable. */
  findCandidates(state: CycleState, allNodes: readonly NodeInfo[], pod: Pod, m: NodeToStatusReader): { candidates: Candidate[]; statuses: NodeToStatus } {
    if (allNodes.length === 0) throw new Error('no nodes available');
    const potential = m.nodesForStatusCode(allNodes, Code.Unschedulable);
    if (potential.length === 0) {
      if ((pod.status?.nominatedNodeName ?? '') !== '') {
        this.handle.preemptionApi.clearNominatedNodeName([pod]).catch((err: unknown) => this.handle.reportError('cannot clear nominatedNodeName', err));
      }
      return { candidates: [], statuses: new NodeToStatus() };
    }
    const pdbs = this.handle.listers.podDisruptionBudgets();
    const offset = this.offsetRand(potential.length);
    const num = this.calculateNumCandidates(potential.length);
    return this.dryRunPreemption(state, pod, potential, pdbs, offset, num);
  }

  /** DryRunPreemption: candidates without PDB violations first. */
  dryRunPreemption(state: CycleState, pod: Pod, potential: readonly NodeInfo[], pdbs: readonly PodDisruptionBudget[], offset: number, num: number): { candidates: Candidate[]; statuses: NodeToStatus } {
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const statuses = new NodeToStatus();
    const errors: Error[] = [];
    // Plugins whose PreFilter state follows added and removed pods need a copy per node; the others
    // only read it, so one state serves every node.
    const cloneState = this.handle.hasPreFilterExtensions(state);
    // Nodes NodeResourcesFit rejects even with every potential victim gone are no candidates: they
    // are set aside unexamined, and examined for their statuses only if no node is a candidate.
    const quickCheck = this.handle.hasFilterPlugin(NodeResourcesFitName);
    const request = quickCheck ? podRequests(pod) : null;
    const setAside: NodeInfo[] = [];
    for (let i = 0; i < potential.length; i++) {
      const original = potential[(offset + i) % potential.length] as NodeInfo;
      if (request !== null && this.cannotFitAfterEvictions(pod, request, original)) {
        setAside.push(original);
        continue;
      }
      const r = this.selectVictimsOnNode(cloneState ? state.clone() : state, pod, original, pdbs);
      if (r.status === null && r.victims.length > 0) {
        const c = { name: original.name, victims: { pods: r.victims, numPDBViolations: r.numViolating } };
        if (r.numViolating === 0) nonViolating.push(c);
        else violating.push(c);
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= num) break;
        continue;
      }
      const status = r.status ?? asStatus(new Error(`expected at least one victim pod on node "${original.name}"`));
      if (status.code === Code.Error) errors.push(status.asError());
      statuses.set(original.name, status);
    }
    const candidates = [...nonViolating, ...violating];
    if (candidates.length === 0) {
      for (const original of setAside) {
        const r = this.selectVictimsOnNode(cloneState ? state.clone() : state, pod, original, pdbs);
        const status = r.status ?? asStatus(new Error(`expected at least one victim pod on node "${original.name}"`));
        if (status.code === Code.Error) errors.push(status.asError());
        statuses.set(original.name, status);
      }
      if (errors.length > 0) throw errors[0] as Error;
    }
    return { candidates, statuses };
  }

  /**
   * True when NodeResourcesFit would reject the pod on `ni` even after every pod of lower priority
   * left, with the pods nominated to the node at the pod's priority or above counted as there (as
   * runFilterPluginsWithNominatedPods counts them): pod count, cpu or memory alone already fail.
   */
  cannotFitAfterEvictions(pod: Pod, request: Resource, ni: NodeInfo): boolean {
    const prio = podPriority(pod);
    const uid = pod.metadata?.uid;
    let cpu = ni.requested.milliCPU;
    let memory = ni.requested.memory;
    let pods = ni.numPods;
    for (const pi of ni.pods) {
      if (podPriority(pi.pod) >= prio) continue;
      cpu -= pi.requests.milliCPU;
      memory -= pi.requests.memory;
      pods--;
    }
    for (const pi of this.handle.nominator.nominatedPodsForNode(ni.name)) {
      if (podPriority(pi.pod) < prio || pi.uid === uid) continue;
      cpu += pi.requests.milliCPU;
      memory += pi.requests.memory;
      pods++;
    }
    const alloc = ni.allocatable;
    return pods + 1 > alloc.allowedPodNumber ||
      (request.milliCPU > 0 && request.milliCPU > alloc.milliCPU - cpu) ||
      (request.memory > 0 && request.memory > alloc.memory - memory);
  }

  /**
   * SelectVictimsOnNode: removes every lower-priority pod, checks the pod fits, then adds back as
   * many as possible from the most important down (PDB-violating ones first); what cannot come back
   * are the victims. Works on a scratch copy of `original`, which it leaves untouched; `state` is
   * changed when PreFilter extensions are active (pass a clone). Returns a null status on success.
   */
  selectVictimsOnNode(state: CycleState, pod: Pod, original: NodeInfo, pdbs: readonly PodDisruptionBudget[]): { victims: Pod[]; numViolating: number; status: Status | null } {
    const prio = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const pi of original.pods) if (podPriority(pi.pod) < prio) potential.push(pi);
    if (potential.length === 0) {
      return { victims: [], numViolating: 0, status: newStatus(Code.UnschedulableAndUnresolvable, 'No preemption victims found for incoming pod') };
    }
    // The candidate keeps only names and pods, so one scratch NodeInfo serves every dry run.
    const nodeInfo = this.scratch;
    nodeInfo.copyFrom(original);
    try {
      for (const pi of potential) this.removeFromNode(state, pod, pi, nodeInfo);
      const fits = this.handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
      if (fits !== null && !fits.isSuccess()) return { victims: [], numViolating: 0, status: fits };
      sortByImportance(potential, Date.now());
      const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
      const victims: PodInfo[] = [];
      let numViolating = 0;
      for (const pi of violating) {
        if (!this.reprieve(state, pod, pi, nodeInfo)) {
          victims.push(pi);
          numViolating++;
        }
      }
      for (const pi of nonViolating) if (!this.reprieve(state, pod, pi, nodeInfo)) victims.push(pi);
      if (violating.length > 0 && nonViolating.length > 0) sortByImportance(victims, Date.now());
      return { victims: victims.map((v) => v.pod), numViolating, status: null };
    } catch (err) {
      return { victims: [], numViolating: 0, status: asStatus(err) };
    }
  }

  private removeFromNode(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): void {
    nodeInfo.removePod(pi.uid);
    const s = this.handle.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
    if (s !== null && !s.isSuccess()) throw s.asError();
  }

  /** Puts the pod back if the preemptor still fits; false (and the pod stays out) otherwise. */
  private reprieve(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): boolean {
    nodeInfo.addPodInfo(pi);
    const s0 = this.handle.runPreFilterExtensionAddPod(state, pod, pi, nodeInfo);
    if (s0 !== null && !s0.isSuccess()) throw s0.asError();
    const s = this.handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (s === null || s.isSuccess()) return true;
    this.removeFromNode(state, pod, pi, nodeInfo);
    return false;
  }

  /** SelectCandidate. */
  selectCandidate(candidates: readonly Candidate[]): Candidate | undefined {
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
    const byName = new Map(candidates.map((c) => [c.name, c.victims] as const));
    const name = pickOneNodeForPreemption(byName, Date.now());
    return candidates.find((c) => c.name === name) ?? candidates[0];
  }

  /**
   * prepareCandidate: rejects victims waiting at Permit, deletes the others through the API (in the
   * background) and clears the nominations of lower-priority pods nominated to the node.
   */
  prepareCandidate(c: Candidate, pod: Pod): void {
    const h = this.handle;
    const uid = pod.metadata?.uid ?? '';
    const calls: Promise<void>[] = [];
    const deleted: string[] = [];
    for (const victim of c.victims.pods) {
      if (victim.metadata?.deletionTimestamp) continue;
      const waiting = h.getWaitingPod(victim.metadata?.uid ?? '');
      if (waiting !== undefined) {
        waiting.reject(this.name, 'preempted');
        continue;
      }
      calls.push(h.preemptionApi.preemptPod(victim, pod, c.name));
      deleted.push(victim.metadata?.uid ?? '');
    }
    const prio = podPriority(pod);
    const lower = h.nominator.nominatedPodsForNode(c.name).filter((pi) => podPriority(pi.pod) < prio).map((pi) => pi.pod);
    if (lower.length > 0) {
      h.preemptionApi.clearNominatedNodeName(lower).catch((err: unknown) => h.reportError('cannot clear nominatedNodeName', err));
    }
    if (calls.length === 0) return;
    const inFlight: InFlightPreemption = { node: c.name, victims: new Set(deleted), deleting: true };
    this.inFlight.set(uid, inFlight);
    Promise.all(calls).then(
      () => {
        inFlight.deleting = false;
        h.requeueAfterBackoff([pod]);
      },
      (err: unknown) => {
        // A failed deletion leaves the preemptor free to try again.
        if (this.inFlight.get(uid) === inFlight) this.inFlight.delete(uid);
        h.reportError(`preemption of victims for pod ${pod.metadata?.namespace}/${pod.metadata?.name} failed`, err);
        h.requeueAfterBackoff([pod]);
      },
    );
  }
}

export function newDefaultPreemption(args: unknown, handle: Handle): Plugin {
  return new DefaultPreemption((args ?? {}) as DefaultPreemptionArgs, handle);
}
