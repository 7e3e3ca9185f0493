// PodTopologySpread (plugins/podtopologyspread): spreads matching pods across topology domains.
// DoNotSchedule constraints filter (filtering.ts), ScheduleAnyway constraints score (scoring.ts);
// pods without constraints get the cluster defaults (hostname maxSkew 3, zone maxSkew 5, both
// ScheduleAnyway) with a selector taken from the services and controller owning the pod.

import type { Pod, TopologySpreadConstraint } from '../../../api/types/core_v1.ts';
import type { CycleState } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  asStatus,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type Plugin,
  type PluginStatus,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ScorePlugin,
  type Status,
} from '../../framework/interface.ts';
import { FoldCache } from '../../framework/node_fold.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import type { PodInfo } from '../../framework/pod_info.ts';
import { defaultSelector, filterTopologySpreadConstraints, systemDefaultConstraints, type SpreadConstraint } from './common.ts';
import { SpreadCountFold } from './counts.ts';
import { PreFilterState, calPreFilterState, filterNode } from './filtering.ts';
import { PreScoreState, initPreScoreState, normalizeScores, scoreNode } from './scoring.ts';

export const Name = 'PodTopologySpread';
export { ErrReasonConstraintsNotMatch, ErrReasonNodeLabelNotMatch } from './filtering.ts';

const preFilterStateKey = `PreFilter${Name}`;
const preScoreStateKey = `PreScore${Name}`;

/** PodTopologySpreadArgs. */
export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  /** System (the built-in defaults) or List (defaultConstraints). */
  defaultingType?: 'System' | 'List';
}

/** Topology spread constraints. */
export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions, PreFilterExtensions {
  readonly name = Name;
  private readonly handle: Handle;
  private readonly defaultConstraints: readonly TopologySpreadConstraint[];
  /** True when the defaults are the system ones, which tolerate nodes without a zone label. */
  private readonly systemDefaulted: boolean;
  /** Matching-pod totals kept across cycles, by constraint set and what of the pod they depend on. */
  private readonly folds = new FoldCache<SpreadCountFold>(16);

  constructor(args: PodTopologySpreadArgs, handle: Handle) {
    this.handle = handle;
    if ((args.defaultingType ?? 'System') === 'System') {
      this.defaultConstraints = systemDefaultConstraints;
      this.systemDefaulted = true;
    } else {
      this.defaultConstraints = args.defaultConstraints ?? [];
      this.systemDefaulted = false;
    }
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.Pod, actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete } },
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint } },
    ];
  }

  /** The pod's constraints with this action, or the defaults when it has none (getConstraints). */
  private constraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    const labels = pod.metadata?.labels ?? {};
    if (own.length > 0) return filterTopologySpreadConstraints(own, labels, action);
    const defaults = filterTopologySpreadConstraints(this.defaultConstraints, labels, action);
    if (defaults.length === 0) return defaults;
    const selector = defaultSelector(pod, this.handle.listers);
    if (!selector.nothing && selector.requirements.length === 0) return [];
    for (const c of defaults) c.selector = selector;
    return defaults;
  }

  /** The matching-pod totals for these constraints and pods like this one, brought up to date. */
  private countFold(pod: Pod, constraints: readonly SpreadConstraint[], requireAllTopologies: boolean, allNodes: readonly NodeInfo[]): SpreadCountFold {
    const fold = this.folds.get(SpreadCountFold.key(constraints, pod, requireAllTopologies), () => new SpreadCountFold(constraints, pod, requireAllTopologies));
    fold.refresh(this.handle.snapshotSharedLister().nodeInfos(), allNodes);
    return fold;
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): readonly [PreFilterResult | null, PluginStatus] {
    let constraints: SpreadConstraint[];
    try {
      constraints = this.constraints(pod, 'DoNotSchedule');
    } catch (err) {
      return [null, asStatus(new Error(`get constraints from pod: ${err instanceof Error ? err.message : String(err)}`))];
    }
    if (constraints.length === 0) return [null, newStatus(Code.Skip)];
    state.write(preFilterStateKey, calPreFilterState(pod, constraints, this.countFold(pod, constraints, true, nodes)));
    return [null, null];
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    s.updateWithPod(podInfoToAdd.pod, podToSchedule, nodeInfo, 1);
    return null;
  }

  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    s.updateWithPod(podInfoToRemove.pod, podToSchedule, nodeInfo, -1);
    return null;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    if (s.constraints.length === 0) return null;
    const r = filterNode(s, nodeInfo);
    if (r === null) return null;
    return newStatus(r.unresolvable ? Code.UnschedulableAndUnresolvable : Code.Unschedulable, r.reason);
  }

  preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): PluginStatus {
    const allNodes = this.handle.snapshotSharedLister().nodeInfos().list();
    if (allNodes.length === 0) return newStatus(Code.Skip);
    const s = new PreScoreState();
    try {
      s.constraints = this.constraints(pod, 'ScheduleAnyway');
    } catch (err) {
      return asStatus(new Error(`calculating preScoreState: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (s.constraints.length === 0) return newStatus(Code.Skip);
    // Only non-default rules require every topology label, so zone-less nodes still spread by hostname.
    const requireAllTopologies = (pod.spec?.topologySpreadConstraints ?? []).length > 0 || !this.systemDefaulted;
    initPreScoreState(s, filteredNodes, requireAllTopologies, this.countFold(pod, s.constraints, requireAllTopologies, allNodes));
    state.write(preScoreStateKey, s);
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preScoreStateKey}" from cycleState: not found`));
    return scoreNode(s, pod, nodeInfo);
  }

  normalizeScore(state: CycleState, _pod: Pod, nodes: readonly NodeInfo[], scores: number[]): PluginStatus {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preScoreStateKey}" from cycleState: not found`));
    normalizeScores(s, nodes, scores);
    return null;
  }
}

export function newPodTopologySpread(args: unknown, handle: Handle): Plugin {
  return new PodTopologySpread((args ?? {}) as PodTopologySpreadArgs, handle);
}
