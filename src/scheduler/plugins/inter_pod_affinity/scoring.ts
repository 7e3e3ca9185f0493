// InterPodAffinity scoring (interpodaffinity/scoring.go): sums, per topology pair, the weights of
// preferred terms between the incoming pod and existing pods in both directions (plus existing pods'
// required affinity at hardPodAffinityWeight), then scales the node totals min..max into 0..100.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import { Code, MaxNodeScore, newStatus, type Handle, type PluginStatus, type Status } from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo, type AffinityTerm, type WeightedAffinityTerm } from '../../framework/pod_info.ts';
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

function processTerm(score: TopologyScore, term: AffinityTerm, weight: number, pod: Pod, nsLabels: Readonly<Record<string, string>> | null, node: NodeInfo, multiplier: number): void {
  if (!term.matches(pod, nsLabels)) return;
  const v = node.labels[term.topologyKey];
  if (v !== undefined) add(score, term.topologyKey, v, weight * multiplier);
}

function processTerms(score: TopologyScore, terms: readonly WeightedAffinityTerm[], pod: Pod, nsLabels: Readonly<Record<string, string>> | null, node: NodeInfo, multiplier: number): void {
  for (const t of terms) processTerm(score, t.term, t.weight, pod, nsLabels, node, multiplier);
}

/** The scoring half of InterPodAffinity. */
export class InterPodAffinityScoring {
  private readonly hardPodAffinityWeight: number;
  private readonly ignorePreferredTermsOfExistingPods: boolean;
  private readonly handle: Handle;

  constructor(args: InterPodAffinityArgs, handle: Handle) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
    this.ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false;
    this.handle = handle;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    if (nodes.length === 0) return null;
    const affinity = pod.spec?.affinity;
    const hasConstraints = (affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
      (affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    if (this.ignorePreferredTermsOfExistingPods && !hasConstraints) return newStatus(Code.Skip);
    const lister = this.handle.snapshotSharedLister().nodeInfos();
    // Without preferred terms of its own, only nodes hosting pods with affinity can matter.
    const allNodes = hasConstraints ? lister.list() : lister.havePodsWithAffinityList();
    if (allNodes.length === 0) return newStatus(Code.Skip);

    const podInfo = new PodInfo(pod);
    if (podInfo.parseError !== null) return newStatus(Code.Error, `failed to parse pod: ${podInfo.parseError.message}`);
    const listers = this.handle.listers;
    const preferredAffinity = podInfo.preferredAffinityTerms.map((t) => ({ term: t.term.clone(), weight: t.weight }));
    const preferredAnti = podInfo.preferredAntiAffinityTerms.map((t) => ({ term: t.term.clone(), weight: t.weight }));
    for (const t of [...preferredAffinity, ...preferredAnti]) mergeAffinityTermNamespaces(listers, t.term);
    const nsLabels = namespaceLabelsOf(listers, pod.metadata?.namespace ?? '');

    const score: TopologyScore = new Map();
    for (const ni of allNodes) {
      if (Object.keys(ni.labels).length === 0) continue;
      const pods = hasConstraints ? ni.pods : ni.podsWithAffinity;
      for (const existing of pods) {
        processTerms(score, preferredAffinity, existing.pod, null, ni, 1);
        processTerms(score, preferredAnti, existing.pod, null, ni, -1);
        if (this.hardPodAffinityWeight > 0) {
          for (const t of existing.requiredAffinityTerms) processTerm(score, t, this.hardPodAffinityWeight, pod, nsLabels, ni, 1);
        }
        processTerms(score, existing.preferredAffinityTerms, pod, nsLabels, ni, 1);
        processTerms(score, existing.preferredAntiAffinityTerms, pod, nsLabels, ni, -1);
      }
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
