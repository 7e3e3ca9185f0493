// PodTopologySpread scoring (podtopologyspread/scoring.go): for ScheduleAnyway constraints, a node's
// raw score is the (log-weighted) number of matching pods in its topology domains (totals kept across
// cycles, counts.ts); normalization flips it so the least crowded nodes score 100.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { StateData } from '../../framework/cycle_state.ts';
import { MaxNodeScore } from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import {
  LabelHostname,
  countMatchingOnNode,
  nodeLabelsMatchSpreadConstraints,
  type SpreadConstraint,
} from './common.ts';

/** What PreScore computed for Score. */
export class PreScoreState implements StateData {
  constraints: SpreadConstraint[] = [];
  /** Per constraint, the NodeInfo memo key of its matching-pod count (see countMatchingOnNode). */
  countKeys: readonly string[] = [];
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

/** Per constraint, matching pods by topology value over the nodes this pod counts (a SpreadCountFold). */
export interface DomainTotals {
  readonly domains: readonly ReadonlyMap<string, { readonly pods: number }>[];
  /** Per constraint, matchCountKey of its selector in the pod's namespace. */
  readonly countKeys: readonly string[];
}

/**
 * Fills the state for the filtered nodes; the counts of their domains come from `totals`, kept
 * over all nodes for these constraints and this pod's node inclusion.
 */
export function initPreScoreState(
  s: PreScoreState,
  filteredNodes: readonly NodeInfo[],
  requireAllTopologies: boolean,
  totals: DomainTotals,
): void {
  const n = s.constraints.length;
  s.countKeys = totals.countKeys;
  s.topologyValueToPodCounts = s.constraints.map(() => new Map<string, number>());
  const topoSize = new Array<number>(n).fill(0);
  for (const ni of filteredNodes) {
    if (requireAllTopologies && !nodeLabelsMatchSpreadConstraints(ni.labels, s.constraints)) {
      s.ignoredNodes.add(ni.name);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const c = s.constraints[i] as SpreadConstraint;
      // Hostname counts are taken per node in Score.
      if (c.topologyKey === LabelHostname) continue;
      const v = ni.labels[c.topologyKey] ?? '';
      const m = s.topologyValueToPodCounts[i] as Map<string, number>;
      if (!m.has(v)) {
        m.set(v, 0);
        topoSize[i] = (topoSize[i] as number) + 1;
      }
    }
  }
  s.topologyNormalizingWeight = s.constraints.map((c, i) => {
    const size = c.topologyKey === LabelHostname ? filteredNodes.length - s.ignoredNodes.size : (topoSize[i] as number);
    return topologyNormalizingWeight(size);
  });
  // Only the domains of candidate nodes are counted.
  for (let i = 0; i < n; i++) {
    const m = s.topologyValueToPodCounts[i] as Map<string, number>;
    const d = totals.domains[i] as ReadonlyMap<string, { readonly pods: number }>;
    for (const v of m.keys()) m.set(v, d.get(v)?.pods ?? 0);
  }
}

/** The raw score of one node. */
export function scoreNode(s: PreScoreState, pod: Pod, nodeInfo: NodeInfo): number {
  if (s.ignoredNodes.size > 0 && s.ignoredNodes.has(nodeInfo.name)) return 0;
  let score = 0;
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i] as SpreadConstraint;
    const v = nodeInfo.labels[c.topologyKey];
    if (v === undefined) continue;
    const cnt = c.topologyKey === LabelHostname
      ? countMatchingOnNode(nodeInfo, c.selector, pod.metadata?.namespace ?? '', s.countKeys[i] as string)
      : (s.topologyValueToPodCounts[i] as Map<string, number>).get(v) ?? 0;
    score += scoreForCount(cnt, c.maxSkew, s.topologyNormalizingWeight[i] as number);
  }
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
