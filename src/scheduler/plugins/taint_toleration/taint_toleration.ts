// TaintToleration (plugins/tainttoleration): Filter keeps pods off nodes with NoSchedule/NoExecute
// taints they do not tolerate; Score prefers nodes with fewer untolerated PreferNoSchedule taints.

import type { Pod, Toleration } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  MaxNodeScore,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Plugin,
  type PluginStatus,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { defaultNormalizeScore } from '../../framework/normalize_score.ts';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint, tolerationsTolerateTaint } from '../../framework/taints.ts';

export const Name = 'TaintToleration';
const preScoreStateKey = `PreScore${Name}`;

class PreScoreState implements StateData {
  readonly tolerationsPreferNoSchedule: readonly Toleration[];
  constructor(t: readonly Toleration[]) {
    this.tolerationsPreferNoSchedule = t;
  }
  clone(): StateData {
    return this;
  }
}

/** Tolerations with effect PreferNoSchedule or no effect (which covers every effect). */
function tolerationsPreferNoSchedule(tolerations: readonly Toleration[] | undefined): Toleration[] {
  return (tolerations ?? []).filter((t) => (t.effect ?? '') === '' || t.effect === 'PreferNoSchedule');
}

/** Checks taints against tolerations. */
export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Name;

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeTaint } },
      { event: { resource: EventResource.Pod, actionType: ActionType.UpdatePodTolerations } },
    ];
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    if (nodeInfo.taints.length === 0) return null;
    const taint = findMatchingUntoleratedTaint(nodeInfo.taints, pod.spec?.tolerations, isDoNotScheduleTaint);
    if (taint === undefined) return null;
    return newStatus(Code.UnschedulableAndUnresolvable, `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    if (nodes.length === 0) return null;
    state.write(preScoreStateKey, new PreScoreState(tolerationsPreferNoSchedule(pod.spec?.tolerations)));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return 0;
    const s = state.read<PreScoreState>(preScoreStateKey);
    const tolerations = s?.tolerationsPreferNoSchedule ?? tolerationsPreferNoSchedule(pod.spec?.tolerations);
    let n = 0;
    for (const t of taints) {
      if (t.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, t)) n++;
    }
    return n;
  }

  normalizeScore(_state: CycleState, _pod: Pod, _nodes: readonly NodeInfo[], scores: number[]): PluginStatus {
    defaultNormalizeScore(MaxNodeScore, true, scores);
    return null;
  }
}

export function newTaintToleration(): Plugin {
  return new TaintToleration();
}
