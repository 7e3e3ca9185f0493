// InterPodAffinity (plugins/interpodaffinity): Filter enforces the pod's required pod affinity and
// anti-affinity and the required anti-affinity of pods already running, counted per topology pair
// in PreFilter; Score (scoring.ts) adds preferred terms in both directions. Counts are kept per
// "topologyKey\0value" so a node check is a few map lookups.

import type { Pod } from '../../../api/types/core_v1.ts';
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
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo, type AffinityTerm } from '../../framework/pod_info.ts';
import { FoldCache } from '../../framework/node_fold.ts';
import { TermCountFold, TermGroupFold } from './folds.ts';
import { mergeAffinityTermNamespaces, namespaceLabelsOf } from './namespaces.ts';
import { InterPodAffinityScoring, type InterPodAffinityArgs } from './scoring.ts';

export const Name = 'InterPodAffinity';
/** Filter reason: an existing pod's required anti-affinity rejects this pod. */
export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Filter reason: the pod's required affinity is not met. */
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
/** Filter reason: the pod's required anti-affinity is not met. */
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

const preFilterStateKey = `PreFilter${Name}`;

/**
 * Matched-term counts per topology pair: topologyKey -> value -> count, zero counts dropped. Maps
 * may be shared with a fold or a clone and are copied before this instance first changes them.
 */
export class TopologyCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  /** The maps this instance made or copied, and so may change. */
  private owned: Set<Map<string, number>> | null = null;
  /** Pairs with a count. */
  size = 0;

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  /** Adds a map of counts for `key` without copying it (it is copied before any change). */
  share(key: string, counts: Map<string, number>): void {
    if (counts.size === 0) return;
    const mine = this.byKey.get(key);
    if (mine === undefined) {
      this.byKey.set(key, counts);
      this.size += counts.size;
      return;
    }
    for (const [v, n] of counts) this.add(key, v, n);
  }

  /** Adds `delta` at the pair, dropping it when it falls to zero. */
  add(key: string, value: string, delta: number): void {
    let m = this.byKey.get(key);
    if (m === undefined) {
      m = new Map();
      this.byKey.set(key, m);
      (this.owned ??= new Set()).add(m);
    } else if (this.owned === null || !this.owned.has(m)) {
      m = new Map(m);
      this.byKey.set(key, m);
      (this.owned ??= new Set()).add(m);
    }
    const before = m.get(value) ?? 0;
    const n = before + delta;
    if (n === 0) m.delete(value);
    else m.set(value, n);
    this.size += (n !== 0 ? 1 : 0) - (before !== 0 ? 1 : 0);
  }

  /** Adds `value` for the node's value of `key`. */
  update(node: NodeInfo, key: string, value: number): void {
    const tv = node.labels[key];
    if (tv !== undefined) this.add(key, tv, value);
  }

  /** True when some pair of the node's labels has a positive count. */
  anyPositiveOn(labels: Readonly<Record<string, string>>): boolean {
    for (const [key, m] of this.byKey) {
      const v = labels[key];
      if (v !== undefined && (m.get(v) ?? 0) > 0) return true;
    }
    return false;
  }

  /** For each anti-affinity term matching `pod`, counts the node's topology pair. */
  updateWithAntiAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, nsLabels: Readonly<Record<string, string>> | null, node: NodeInfo, value: number): void {
    for (const t of terms) if (t.matches(pod, nsLabels)) this.update(node, t.topologyKey, value);
  }

  /** When `pod` matches all affinity terms, counts the node's pair for each term. */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, node: NodeInfo, value: number): void {
    if (!podMatchesAllAffinityTerms(terms, pod)) return;
    for (const t of terms) this.update(node, t.topologyKey, value);
  }

  /** A copy sharing the maps; both copy a map before changing it. */
  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, m] of this.byKey) c.byKey.set(k, m);
    c.size = this.size;
    this.owned = null;
    return c;
  }
}

/** True when the pod matches every term (and there is at least one). */
export function podMatchesAllAffinityTerms(terms: readonly AffinityTerm[], pod: Pod): boolean {
  if (terms.length === 0) return false;
  // The incoming pod's namespace selectors were merged into its namespaces, so no labels are needed.
  for (const t of terms) if (!t.matches(pod, null)) return false;
  return true;
}

/** What PreFilter computed for Filter. */
export class PreFilterState implements StateData {
  podInfo: PodInfo;
  namespaceLabels: Readonly<Record<string, string>> | null;
  /** Pairs where existing pods' required anti-affinity matches the incoming pod. */
  existingAntiAffinityCounts: TopologyCounts;
  /** Pairs where pods matching all the incoming pod's required affinity terms run. */
  affinityCounts: TopologyCounts;
  /** Pairs where pods matching the incoming pod's required anti-affinity terms run. */
  antiAffinityCounts: TopologyCounts;

  constructor(podInfo: PodInfo, nsLabels: Readonly<Record<string, string>> | null, existing: TopologyCounts, affinity: TopologyCounts, anti: TopologyCounts) {
    this.podInfo = podInfo;
    this.namespaceLabels = nsLabels;
    this.existingAntiAffinityCounts = existing;
    this.affinityCounts = affinity;
    this.antiAffinityCounts = anti;
  }

  clone(): StateData {
    return new PreFilterState(this.podInfo, this.namespaceLabels, this.existingAntiAffinityCounts.clone(), this.affinityCounts.clone(), this.antiAffinityCounts.clone());
  }

  updateWithPod(pi: PodInfo, node: NodeInfo, multiplier: number): void {
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pi.requiredAntiAffinityTerms, this.podInfo.pod, this.namespaceLabels, node, multiplier);
    this.affinityCounts.updateWithAffinityTerms(this.podInfo.requiredAffinityTerms, pi.pod, node, multiplier);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(this.podInfo.requiredAntiAffinityTerms, pi.pod, null, node, multiplier);
  }
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  return !s.existingAntiAffinityCounts.anyPositiveOn(nodeInfo.labels);
}

function satisfyPodAntiAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  for (const t of s.podInfo.requiredAntiAffinityTerms) {
    const v = nodeInfo.labels[t.topologyKey];
    if (v !== undefined && s.antiAffinityCounts.get(t.topologyKey, v) > 0) return false;
  }
  return true;
}

function satisfyPodAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  let podsExist = true;
  for (const t of s.podInfo.requiredAffinityTerms) {
    const v = nodeInfo.labels[t.topologyKey];
    // Every topology key must be on the node.
    if (v === undefined) return false;
    if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: allowed when no pod matches anywhere yet.
  return s.affinityCounts.size === 0 && podMatchesAllAffinityTerms(s.podInfo.requiredAffinityTerms, s.podInfo.pod);
}

/** Pod (anti-)affinity. */
export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions, PreFilterExtensions {
  readonly name = Name;
  private readonly handle: Handle;
  private readonly scoring: InterPodAffinityScoring;

  /** Existing pods' required anti-affinity terms, grouped. */
  private readonly existingAntiAffinity = new TermGroupFold((ni, add) => {
    for (const p of ni.podsWithRequiredAntiAffinity) for (const t of p.requiredAntiAffinityTerms) add(t, 1);
  });
  /** Pods matching the incoming pods' required terms, by term. */
  private readonly termFolds = new FoldCache<TermCountFold>();

  constructor(args: InterPodAffinityArgs, handle: Handle) {
    this.handle = handle;
    this.scoring = new InterPodAffinityScoring(args, handle);
  }

  private termFold(t: AffinityTerm): TermCountFold {
    return this.termFolds.get(t.key, () => new TermCountFold([t]));
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.Pod, actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete } },
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeLabel } },
    ];
  }

  preFilter(state: CycleState, pod: Pod): readonly [PreFilterResult | null, PluginStatus] {
    const nodes = this.handle.snapshotSharedLister().nodeInfos();
    const podInfo = new PodInfo(pod);
    if (podInfo.parseError !== null) {
      return [null, newStatus(Code.UnschedulableAndUnresolvable, `parsing pod: ${podInfo.parseError.message}`)];
    }
    const listers = this.handle.listers;
    try {
      podInfo.requiredAffinityTerms = podInfo.requiredAffinityTerms.map((t) => t.clone());
      podInfo.requiredAntiAffinityTerms = podInfo.requiredAntiAffinityTerms.map((t) => t.clone());
      for (const t of podInfo.requiredAffinityTerms) mergeAffinityTermNamespaces(listers, t);
      for (const t of podInfo.requiredAntiAffinityTerms) mergeAffinityTermNamespaces(listers, t);
    } catch (err) {
      return [null, asStatus(err)];
    }
    const nsLabels = namespaceLabelsOf(listers, pod.metadata?.namespace ?? '');

    // Existing pods' required anti-affinity, one match per distinct term.
    const existing = new TopologyCounts();
    const groups = this.existingAntiAffinity;
    groups.refresh(nodes, nodes.havePodsWithRequiredAntiAffinityList());
    for (const g of groups.groups.values()) {
      if (g.term.matches(pod, nsLabels)) existing.share(g.term.topologyKey, g.counts);
    }
    const affinity = new TopologyCounts();
    const anti = new TopologyCounts();
    const all = nodes.list();
    if (podInfo.requiredAffinityTerms.length > 0) {
      const terms = podInfo.requiredAffinityTerms;
      const fold = this.termFolds.get(TermCountFold.key(terms) + '\x05all', () => new TermCountFold(terms));
      fold.refresh(nodes, all);
      terms.forEach((t, i) => affinity.share(t.topologyKey, fold.counts[i] as Map<string, number>));
    }
    for (const t of podInfo.requiredAntiAffinityTerms) {
      const fold = this.termFold(t);
      fold.refresh(nodes, all);
      anti.share(t.topologyKey, fold.counts[0] as Map<string, number>);
    }
    if (existing.size === 0 && podInfo.requiredAffinityTerms.length === 0 && podInfo.requiredAntiAffinityTerms.length === 0) {
      return [null, newStatus(Code.Skip)];
    }
    state.write(preFilterStateKey, new PreFilterState(podInfo, nsLabels, existing, affinity, anti));
    return [null, null];
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, _podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
    s.updateWithPod(podInfoToAdd, nodeInfo, 1);
    return null;
  }

  removePod(state: CycleState, _podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
    s.updateWithPod(podInfoToRemove, nodeInfo, -1);
    return null;
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
    if (!satisfyPodAffinity(s, nodeInfo)) return newStatus(Code.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch);
    if (!satisfyPodAntiAffinity(s, nodeInfo)) return newStatus(Code.Unschedulable, ErrReasonAntiAffinityRulesNotMatch);
    if (!satisfyExistingPodsAntiAffinity(s, nodeInfo)) return newStatus(Code.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch);
    return null;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    return this.scoring.preScore(state, pod, nodes);
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    return this.scoring.score(state, pod, nodeInfo);
  }

  normalizeScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: number[]): PluginStatus {
    return this.scoring.normalizeScore(state, pod, nodes, scores);
  }
}

export function newInterPodAffinity(args: unknown, handle: Handle): Plugin {
  return new InterPodAffinity((args ?? {}) as InterPodAffinityArgs, handle);
}
