// InterPodAffinity scoring (interpodaffinity/scoring.go): sums, per topology pair, the weights of
// preferred terms between the incoming pod and existing pods in both directions (plus existing pods'
// required affinity at hardPodAffinityWeight), then scales the node totals min..max into 0..100.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import { Code, MaxNodeScore, newStatus, type Handle, type PluginStatus, type Status } from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo, type AffinityTerm, type WeightedAffinityTerm } from '../../framework/pod_info.ts';
import { FoldCache } from '../../framework/node_fold.ts';
import { TermCountFold, TermGroupFold } from './folds.ts';
import { mergeAffinityTermNamespaces, namespaceLabelsOf } from './namespaces.ts';

/** InterPodAffinityArgs. */
export interface InterPodAffinityArgs {
  /** Weight of existing pods' required affinity terms the incoming pod matches (default 1). */
  hardPodAffinityWeight?: number;
  /** Skip existing pods' preferences when the incoming pod has no affinity of its own. */
  ignorePreferredTermsOfExistingPods?: boolean;
}

const preScoreStateKey = 'PreScoreInterPodAffinity';

/** topologyKey -> value -> summed weight. */
type TopologyScore = Map<string, Map<string, number>>;

class PreScoreState implements StateData {
  readonly topologyScore: TopologyScore;
  constructor(t: TopologyScore) {
    this.topologyScore = t;
  }
  clone(): StateData {
    return this;
  }
}

function add(score: TopologyScore, key: string, value: string, weight: number): void {
  let byValue = score.get(key);
  if (byValue === undefined) score.set(key, (byValue = new Map()));
  byValue.set(value, (byValue.get(value) ?? 0) + weight);
}

/** Adds `weight` times each value's count. */
function addCounts(score: TopologyScore, key: string, counts: ReadonlyMap<string, number>, weight: number): void {
  if (counts.size === 0 || weight === 0) return;
  for (const [v, n] of counts) add(score, key, v, weight * n);
}

/** The scoring half of InterPodAffinity. */
export class InterPodAffinityScoring {
  private readonly hardPodAffinityWeight: number;
  private readonly ignorePreferredTermsOfExistingPods: boolean;
  private readonly handle: Handle;

  /** The incoming pods' preferred terms: matching pods per topology value. */
  private readonly termFolds = new FoldCache<TermCountFold>();
  /** Existing pods' scored terms (required affinity at hardPodAffinityWeight, preferred ones signed), grouped. */
  private readonly existingTerms: TermGroupFold;

  constructor(args: InterPodAffinityArgs, handle: Handle) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
    this.ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false;
    this.handle = handle;
    const hard = this.hardPodAffinityWeight;
    this.existingTerms = new TermGroupFold((ni, collect) => {
      for (const p of ni.podsWithAffinity) {
        if (hard > 0) for (const t of p.requiredAffinityTerms) collect(t, hard);
        for (const t of p.preferredAffinityTerms) collect(t.term, t.weight);
        for (const t of p.preferredAntiAffinityTerms) collect(t.term, -t.weight);
      }
    });
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    if (nodes.length === 0) return null;
    const affinity = pod.spec?.affinity;
    const hasConstraints = (affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
      (affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    if (this.ignorePreferredTermsOfExistingPods && !hasConstraints) return newStatus(Code.Skip);
    const lister = this.handle.snapshotSharedLister().nodeInfos();
    // Without preferred terms of its own, only nodes hosting pods with affinity can matter.
    const withAffinity = lister.havePodsWithAffinityList();
    if ((hasConstraints ? lister.list() : withAffinity).length === 0) return newStatus(Code.Skip);

    const podInfo = new PodInfo(pod);
    if (podInfo.parseError !== null) return newStatus(Code.Error, `failed to parse pod: ${podInfo.parseError.message}`);
    const listers = this.handle.listers;
    const preferredAffinity = podInfo.preferredAffinityTerms.map((t) => ({ term: t.term.clone(), weight: t.weight }));
    const preferredAnti = podInfo.preferredAntiAffinityTerms.map((t) => ({ term: t.term.clone(), weight: t.weight }));
    for (const t of [...preferredAffinity, ...preferredAnti]) mergeAffinityTermNamespaces(listers, t.term);
    const nsLabels = namespaceLabelsOf(listers, pod.metadata?.namespace ?? '');

    const score: TopologyScore = new Map();
    // The incoming pod's preferred terms against every existing pod.
    if (hasConstraints) {
      const all = lister.list();
      for (const [terms, sign] of [[preferredAffinity, 1], [preferredAnti, -1]] as const) {
        for (const t of terms) {
          const fold = this.termFolds.get(t.term.key, () => new TermCountFold([t.term]));
          fold.refresh(lister, all);
          addCounts(score, t.term.topologyKey, fold.counts[0] as Map<string, number>, sign * t.weight);
        }
      }
    }
    // Existing pods' terms against the incoming pod, one match per distinct term and weight.
    const groups = this.existingTerms;
    groups.refresh(lister, withAffinity);
    for (const g of groups.groups.values()) {
      if (g.term.matches(pod, nsLabels)) addCounts(score, g.term.topologyKey, g.counts, g.weight);
    }
    // Drop zero sums so an all-cancelled state is skipped like upstream's empty per-node maps.
    for (const [k, byValue] of score) {
      for (const [v, n] of byValue) if (n === 0) byValue.delete(v);
      if (byValue.size === 0) score.delete(k);
    }
    if (score.size === 0) return newStatus(Code.Skip);
    state.write(preScoreStateKey, new PreScoreState(score));
    return null;
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (s === undefined) return newStatus(Code.Error, `error reading "${preScoreStateKey}" from cycleState: not found`);
    let total = 0;
    for (const [key, byValue] of s.topologyScore) {
      const v = nodeInfo.labels[key];
      if (v !== undefined) total += byValue.get(v) ?? 0;
    }
    return total;
  }

  normalizeScore(state: CycleState, _pod: Pod, _nodes: readonly NodeInfo[], scores: number[]): PluginStatus {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (s === undefined) return newStatus(Code.Error, `error reading "${preScoreStateKey}" from cycleState: not found`);
    if (s.topologyScore.size === 0) return null;
    let min = Infinity;
    let max = -Infinity;
    for (const x of scores) {
      if (x > max) max = x;
      if (x < min) min = x;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = diff > 0 ? Math.trunc(MaxNodeScore * (((scores[i] as number) - min) / diff)) : 0;
    }
    return null;
  }
}
