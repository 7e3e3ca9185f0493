// NodeResourcesFit (plugins/noderesources/fit.go): Filter checks the pod's effective requests (init
// containers, sidecars and overhead included) against what the node has left, reporting every
// shortfall ("Insufficient cpu", "Too many pods"); Score applies the configured scoring strategy
// (LeastAllocated by default, MostAllocated, RequestedToCapacityRatio) over cpu and memory.

import type { Node, Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  asStatus,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Plugin,
  type PluginStatus,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueueingHint,
  type ScorePlugin,
} from '../../framework/interface.ts';
import { NodeInfo } from '../../framework/node_info.ts';
import { ResourceAllocationScorer, defaultResourceSpecs, type ResourceSpec } from '../../framework/resource_allocation.ts';
import { Resource, isExtendedResourceName, podRequests } from '../../framework/resources.ts';
import { scorerFor, type ScoringStrategy } from './scoring.ts';

export const Name = 'NodeResourcesFit';
const preFilterStateKey = `PreFilter${Name}`;
const preScoreStateKey = `PreScore${Name}`;

/** NodeResourcesFitArgs. */
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

/** The defaults upstream applies to NodeResourcesFitArgs. */
export function defaultNodeResourcesFitArgs(): Required<NodeResourcesFitArgs> {
  return {
    ignoredResources: [],
    ignoredResourceGroups: [],
    scoringStrategy: { type: 'LeastAllocated', resources: defaultResourceSpecs.map((r) => ({ ...r })) },
  };
}

/** One resource the node is short of (InsufficientResource). */
export interface InsufficientResource {
  readonly resourceName: string;
  readonly reason: string;
  readonly requested: number;
  readonly used: number;
  readonly capacity: number;
}

class PreFilterState implements StateData {
  readonly requests: Resource;
  constructor(requests: Resource) {
    this.requests = requests;
  }
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  readonly podRequests: readonly number[];
  constructor(r: readonly number[]) {
    this.podRequests = r;
  }
  clone(): StateData {
    return this;
  }
}

function hasAnyRequest(r: Resource): boolean {
  if (r.milliCPU !== 0 || r.memory !== 0 || r.ephemeralStorage !== 0) return true;
  return r.scalarResources !== null && r.scalarResources.size > 0;
}

/**
 * Every resource the node lacks for the pod (fitsRequest). Pod count is checked first and always;
 * the rest only for resources the pod requests.
 */
export function fitsRequest(
  podRequest: Resource,
  nodeInfo: NodeInfo,
  ignoredExtendedResources: ReadonlySet<string> = new Set(),
  ignoredResourceGroups: ReadonlySet<string> = new Set(),
): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.pods.length, capacity: alloc.allowedPodNumber });
  }
  if (!hasAnyRequest(podRequest)) return out;
  if (podRequest.milliCPU > 0 && podRequest.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: podRequest.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (podRequest.memory > 0 && podRequest.memory > alloc.memory - used.memory) {
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: podRequest.memory, used: used.memory, capacity: alloc.memory });
  }
  if (podRequest.ephemeralStorage > 0 && podRequest.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({
      resourceName: 'ephemeral-storage', reason: 'Insufficient ephemeral-storage', requested: podRequest.ephemeralStorage,
      used: used.ephemeralStorage, capacity: alloc.ephemeralStorage });
  }
  if (podRequest.scalarResources !== null) {
    for (const [name, q] of podRequest.scalarResources) {
      if (q === 0) continue;
      if (isExtendedResourceName(name)) {
        const group = name.split('/')[0] as string;
        if (ignoredExtendedResources.has(name) || ignoredResourceGroups.has(group)) continue;
      }
      if (q > alloc.scalar(name) - used.scalar(name)) {
        out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: q, used: used.scalar(name), capacity: alloc.scalar(name) });
      }
    }
  }
  return out;
}

/** True when the pod certainly fits (no scalar resources involved); false means "run fitsRequest". */
function fitsQuickly(req: Resource, nodeInfo: NodeInfo): boolean {
  if (req.scalarResources !== null) return false;
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  return nodeInfo.numPods + 1 <= alloc.allowedPodNumber &&
    req.milliCPU <= alloc.milliCPU - used.milliCPU &&
    req.memory <= alloc.memory - used.memory &&
    req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage;
}

/** Resource requests against node capacity. */
export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Name;
  private readonly ignoredResources: ReadonlySet<string>;
  private readonly ignoredResourceGroups: ReadonlySet<string>;
  private readonly scorer: ResourceAllocationScorer;

  constructor(args: NodeResourcesFitArgs = {}) {
    const defaults = defaultNodeResourcesFitArgs();
    this.ignoredResources = new Set(args.ignoredResources ?? []);
    this.ignoredResourceGroups = new Set(args.ignoredResourceGroups ?? []);
    const strategy = args.scoringStrategy ?? defaults.scoringStrategy;
    const resources: readonly ResourceSpec[] = strategy.resources && strategy.resources.length > 0 ? strategy.resources : defaultResourceSpecs;
    this.scorer = new ResourceAllocationScorer(resources, scorerFor(strategy), false);
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.Pod, actionType: ActionType.Delete | ActionType.UpdatePodScaleDown } },
      {
        event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeAllocatable | ActionType.UpdateNodeTaint | ActionType.UpdateNodeLabel },
        queueingHintFn: (pod, oldObj, newObj) => this.isSchedulableAfterNodeChange(pod, oldObj, newObj),
      },
    ];
  }

  /**
   * A changed node is worth a retry only if the pod would fit on it were it empty and, for an
   * update, one of the resources the pod asks for (or the pod count) grew.
   */
  private isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const modified = newObj as Node | null;
    if (!modified) return 'QueueSkip';
    const modifiedInfo = new NodeInfo();
    modifiedInfo.setNode(modified);
    const req = podRequests(pod);
    if (fitsRequest(req, modifiedInfo).length > 0) return 'QueueSkip';
    const original = oldObj as Node | null;
    if (!original) return 'Queue';
    const before = Resource.fromList(original.status?.allocatable as Record<string, unknown> | undefined);
    const after = modifiedInfo.allocatable;
    if (after.allowedPodNumber > before.allowedPodNumber) return 'Queue';
    if ((req.milliCPU > 0 && after.milliCPU > before.milliCPU) || (req.memory > 0 && after.memory > before.memory) ||
      (req.ephemeralStorage > 0 && after.ephemeralStorage > before.ephemeralStorage)) return 'Queue';
    for (const [name, q] of req.scalarResources ?? []) {
      if (q !== 0 && after.scalar(name) > before.scalar(name)) return 'Queue';
    }
    return 'QueueSkip';
  }

  preFilter(state: CycleState, pod: Pod): readonly [PreFilterResult | null, PluginStatus] {
    state.write(preFilterStateKey, new PreFilterState(podRequests(pod)));
    return [null, null];
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
    // Most nodes fit: check without allocating, and only list the shortfalls for the ones that do not.
    if (fitsQuickly(s.requests, nodeInfo)) return null;
    const insufficient = fitsRequest(s.requests, nodeInfo, this.ignoredResources, this.ignoredResourceGroups);
    if (insufficient.length === 0) return null;
    return newStatus(Code.Unschedulable, ...insufficient.map((r) => r.reason));
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    state.write(preScoreStateKey, new PreScoreState(this.scorer.podRequestList(pod)));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const requests = state.read<PreScoreState>(preScoreStateKey)?.podRequests ?? this.scorer.podRequestList(pod);
    return this.scorer.score(nodeInfo, requests);
  }
}

export function newNodeResourcesFit(args: unknown): Plugin {
  return new NodeResourcesFit((args ?? {}) as NodeResourcesFitArgs);
}
