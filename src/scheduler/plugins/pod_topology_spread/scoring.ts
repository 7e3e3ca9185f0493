// PodTopologySpread scoring (podtopologyspread/scoring.go): for ScheduleAnyway constraints, a node's
// raw score is the (log-weighted) number of matching pods in its topology domains; normalization
// flips it so the least crowded nodes score 100.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { StateData } from '../../framework/cycle_state.ts';
import { MaxNodeScore } from '../../framework/interface.ts';
import { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import {
  LabelHostname,
  countPodsMatchSelector,
  matchNodeInclusionPolicies,
  nodeLabelsMatchSpreadConstraints,
  type SpreadConstraint,
} from './common.ts';

/** What PreScore computed for Score. */
export class PreScoreState implements StateData {
  constraints: SpreadConstraint[] = [];
  /** Names of nodes missing some constraint's topology key; they score 0. */
  readonly ignoredNodes = new Set<string>();
  /** Per constraint: topology value -> matching pods (hostname constraints are counted in Score). */
  topologyValueToPodCounts: Map<string, number>[] = [];
  topologyNormalizingWeight: number[] = [];

  clone(): StateData {
    return this;
  }
}

/** log(size + 2): smaller topologies are not watered down by bigger ones. */
export function topologyNormalizingWeight(size: number): number {
  return Math.log(size + 2);
}

/** count * weight + (maxSkew - 1). */
export function scoreForCount(cnt: number, maxSkew: number, tpWeight: number): number {
  return cnt * tpWeight + (maxSkew - 1);
}

/** Fills the state for the filtered nodes and counts pods over all nodes. */
export function initPreScoreState(
  s: PreScoreState,
  pod: Pod,
  filteredNodes: readonly NodeInfo[],
  allNodes: readonly NodeInfo[],
  requireAllTopologies: boolean,
): void {
  const n = s.constraints.length;
  s.topologyValueToPodCounts = s.constraints.map(() => new Map<string, number>());
  const topoSize = new Array<number>(n).fill(0);
  for (const ni of filteredNodes) {
    if (requireAllTopologies && !nodeLabelsMatchSpreadConstraints(ni.labels, s.constraints)) {
      s.ignoredNodes.add(ni.name);
      continue;
    }
    s.constraints.forEach((c, i) => {
      if (c.topologyKey === LabelHostname) return;
      const v = ni.labels[c.topologyKey] ?? '';
      const m = s.topologyValueToPodCounts[i] as Map<string, number>;
      if (!m.has(v)) {
        m.set(v, 0);
        topoSize[i] = (topoSize[i] as number) + 1;
      }
    });
  }
  s.topologyNormalizingWeight = s.constraints.map((c, i) => {
    const size = c.topologyKey === LabelHostname ? filteredNodes.length - s.ignoredNodes.size : (topoSize[i] as number);
    return topologyNormalizingWeight(size);
  });
  const required = new RequiredNodeAffinity(pod);
  const ns = pod.metadata?.namespace ?? '';
  for (const ni of allNodes) {
    if (requireAllTopologies && !nodeLabelsMatchSpreadConstraints(ni.labels, s.constraints)) continue;
    s.constraints.forEach((c, i) => {
      const m = s.topologyValueToPodCounts[i] as Map<string, number>;
      const v = ni.labels[c.topologyKey] ?? '';
      // Only domains of candidate nodes matter; hostname counts are taken in Score. (Looked up
      // before the inclusion policies, which cost a node-affinity match per node.)
      const cur = m.get(v);
      if (cur === undefined) return;
      if (!matchNodeInclusionPolicies(c, pod, ni, required)) return;
      m.set(v, cur + countPodsMatchSelector(ni.pods, c.selector, ns));
    });
  }
}

/** The raw score of one node. */
export function scoreNode(s: PreScoreState, pod: Pod, nodeInfo: NodeInfo): number {
  if (s.ignoredNodes.has(nodeInfo.name)) return 0;
  let score = 0;
  const ns = pod.metadata?.namespace ?? '';
  s.constraints.forEach((c, i) => {
    const v = nodeInfo.labels[c.topologyKey];
    if (v === undefined) return;
    const cnt = c.topologyKey === LabelHostname
      ? countPodsMatchSelector(nodeInfo.pods, c.selector, ns)
      : (s.topologyValueToPodCounts[i] as Map<string, number>).get(v) ?? 0;
    score += scoreForCount(cnt, c.maxSkew, s.topologyNormalizingWeight[i] as number);
  });
  return Math.round(score);
}

/** Flips raw scores into 0..100, ignored nodes 0 (NormalizeScore). */
export function normalizeScores(s: PreScoreState, nodes: readonly NodeInfo[], scores: number[]): void {
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  const ignored = new Array<boolean>(scores.length);
  for (let i = 0; i < scores.length; i++) {
    ignored[i] = s.ignoredNodes.has((nodes[i] as NodeInfo).name);
    if (ignored[i]) continue;
    const x = scores[i] as number;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  for (let i = 0; i < scores.length; i++) {
    if (ignored[i]) {
      scores[i] = 0;
      continue;
    }
    if (max === 0) {
      scores[i] = MaxNodeScore;
      continue;
    }
    scores[i] = Math.trunc((MaxNodeScore * (max + min - (scores[i] as number))) / max);
  }
}
