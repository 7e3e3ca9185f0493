// NodeAffinity (plugins/nodeaffinity): Filter applies the pod's nodeSelector and required node
// affinity (plus a scheduler-enforced addedAffinity from the profile's args); Score sums the weights
// of the preferred terms a node matches. PreFilter narrows the nodes when terms pin metadata.name.

import type { NodeAffinity as NodeAffinitySpec, Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  MaxNodeScore,
  asStatus,
  newStatus,
  type ClusterEventWithHint,
  type Status,
  type EnqueueExtensions,
  type FilterPlugin,
  type Plugin,
  type PluginStatus,
  type PreFilterResult,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interface.ts';
import { LazyErrorNodeSelector, PreferredSchedulingTerms, RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { defaultNormalizeScore } from '../../framework/normalize_score.ts';

export const Name = 'NodeAffinity';
/** The Filter reason when the pod's own selector or affinity does not match. */
export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";
/** The Filter reason when the profile's addedAffinity does not match. */
export const ErrReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";
/** The PreFilter reason when metadata.name terms leave no node. */
export const ErrReasonConflict = 'pod affinity terms conflict';

const preFilterStateKey = `PreFilter${Name}`;
const preScoreStateKey = `PreScore${Name}`;

/** NodeAffinityArgs. */
export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinitySpec;
}

class PreFilterState implements StateData {
  readonly required: RequiredNodeAffinity;
  constructor(required: RequiredNodeAffinity) {
    this.required = required;
  }
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  readonly preferred: PreferredSchedulingTerms | null;
  constructor(preferred: PreferredSchedulingTerms | null) {
    this.preferred = preferred;
  }
  clone(): StateData {
    return this;
  }
}

function podPreferredTerms(pod: Pod): PreferredSchedulingTerms | null {
  const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  return preferred === undefined ? null : new PreferredSchedulingTerms(preferred);
}

/** Node selection by labels and fields. */
export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Name;
  private readonly addedNodeSelector: LazyErrorNodeSelector | null;
  private readonly addedPrefSchedTerms: PreferredSchedulingTerms | null;

  constructor(args: NodeAffinityArgs = {}) {
    const added = args.addedAffinity;
    this.addedNodeSelector = added?.requiredDuringSchedulingIgnoredDuringExecution
      ? new LazyErrorNodeSelector(added.requiredDuringSchedulingIgnoredDuringExecution)
      : null;
    this.addedPrefSchedTerms = added?.preferredDuringSchedulingIgnoredDuringExecution
      ? new PreferredSchedulingTerms(added.preferredDuringSchedulingIgnoredDuringExecution)
      : null;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [{ event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeLabel } }];
  }

  preFilter(state: CycleState, pod: Pod): readonly [PreFilterResult | null, PluginStatus] {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required === undefined && this.addedNodeSelector === null && pod.spec?.nodeSelector === undefined) {
      return [null, newStatus(Code.Skip)];
    }
    state.write(preFilterStateKey, new PreFilterState(new RequiredNodeAffinity(pod)));
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return [null, null];
    // Terms are ORed; a term pins nodes only through metadata.name In requirements (ANDed within it).
    let nodeNames: Set<string> | null = null;
    for (const t of terms) {
      let termNames: Set<string> | null = null;
      for (const r of t.matchFields ?? []) {
        if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
        const s = new Set(r.values ?? []);
        termNames = termNames === null ? s : intersect(termNames, s);
      }
      if (termNames === null) return [null, null];
      nodeNames = nodeNames === null ? termNames : new Set([...nodeNames, ...termNames]);
    }
    if (nodeNames !== null && nodeNames.size === 0) return [null, newStatus(Code.UnschedulableAndUnresolvable, ErrReasonConflict)];
    if (nodeNames !== null) return [{ nodeNames }, null];
    return [null, null];
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    if (this.addedNodeSelector !== null && !this.addedNodeSelector.match(nodeInfo)) {
      return newStatus(Code.UnschedulableAndUnresolvable, ErrReasonEnforced);
    }
    const s = state.read<PreFilterState>(preFilterStateKey);
    const required = s?.required ?? new RequiredNodeAffinity(pod);
    if (!required.match(nodeInfo)) return newStatus(Code.UnschedulableAndUnresolvable, ErrReasonPod);
    return null;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    if (nodes.length === 0) return null;
    let preferred: PreferredSchedulingTerms | null;
    try {
      preferred = podPreferredTerms(pod);
    } catch (err) {
      return asStatus(err);
    }
    if (preferred === null && this.addedPrefSchedTerms === null) return newStatus(Code.Skip);
    state.write(preScoreStateKey, new PreScoreState(preferred));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    let count = 0;
    if (this.addedPrefSchedTerms !== null) count += this.addedPrefSchedTerms.score(nodeInfo);
    let preferred = state.read<PreScoreState>(preScoreStateKey)?.preferred;
    if (preferred === undefined) {
      try {
        preferred = podPreferredTerms(pod);
      } catch (err) {
        return asStatus(err);
      }
    }
    if (preferred !== null) count += preferred.score(nodeInfo);
    return count;
  }

  normalizeScore(_state: CycleState, _pod: Pod, _nodes: readonly NodeInfo[], scores: number[]): PluginStatus {
    defaultNormalizeScore(MaxNodeScore, false, scores);
    return null;
  }
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

export function newNodeAffinity(args: unknown): Plugin {
  return new NodeAffinity((args ?? {}) as NodeAffinityArgs);
}
