// InterPodAffinity's fast paths (folds of matching pods and of grouped existing terms kept across
// cycles) against a plain pass over every pod on every node written from upstream's filtering.go
// and scoring.go, on seeded random clusters that change between cycles through the scheduler cache.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector } from '../../../api/types/meta_v1.ts';
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../../api/types/core_v1.ts';
import { MemoryListers } from '../../framework/listers.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo, type AffinityTerm } from '../../framework/pod_info.ts';
import { RandomCluster, checkCycles } from '../../framework/testing/random_cluster.ts';
import { makeNode, makePod, multiPoint, type PodWrapper } from '../../framework/testing/wrappers.ts';
import * as ipa from './inter_pod_affinity.ts';
import { mergeAffinityTermNamespaces, namespaceLabelsOf } from './namespaces.ts';
import type { InterPodAffinityArgs } from './scoring.ts';

// ---- the reference: upstream's algorithm over every pod of every node ----

type Pairs = Map<string, number>;

function bump(m: Pairs, ni: NodeInfo, key: string, n: number): void {
  const v = ni.labels[key];
  if (v === undefined) return;
  const k = `${key}\x00${v}`;
  const x = (m.get(k) ?? 0) + n;
  if (x === 0) m.delete(k);
  else m.set(k, x);
}

function at(m: Pairs, ni: NodeInfo, key: string): number {
  const v = ni.labels[key];
  return v === undefined ? 0 : m.get(`${key}\x00${v}`) ?? 0;
}

/** The incoming pod's terms with namespace selectors merged, as PreFilter/PreScore do. */
function merged(terms: readonly AffinityTerm[], listers: MemoryListers): AffinityTerm[] {
  return terms.map((t) => {
    const c = t.clone();
    mergeAffinityTermNamespaces(listers, c);
    return c;
  });
}

function refFilter(pod: Pod, all: readonly NodeInfo[], listers: MemoryListers): string[] {
  const pi = new PodInfo(pod);
  const affinity = merged(pi.requiredAffinityTerms, listers);
  const anti = merged(pi.requiredAntiAffinityTerms, listers);
  const nsLabels = namespaceLabelsOf(listers, pod.metadata?.namespace ?? '');
  const existingAnti: Pairs = new Map();
  const affinityCounts: Pairs = new Map();
  const antiCounts: Pairs = new Map();
  for (const ni of all) {
    for (const e of ni.pods) {
      for (const t of e.requiredAntiAffinityTerms) if (t.matches(pod, nsLabels)) bump(existingAnti, ni, t.topologyKey, 1);
      if (affinity.length > 0 && affinity.every((t) => t.matches(e.pod, null))) for (const t of affinity) bump(affinityCounts, ni, t.topologyKey, 1);
      for (const t of anti) if (t.matches(e.pod, null)) bump(antiCounts, ni, t.topologyKey, 1);
    }
  }
  const selfMatch = affinity.length > 0 && affinity.every((t) => t.matches(pod, null));
  return all.map((ni) => {
    let podsExist = true;
    for (const t of affinity) {
      if (ni.labels[t.topologyKey] === undefined) return `3:${ipa.ErrReasonAffinityRulesNotMatch}`;
      if (at(affinityCounts, ni, t.topologyKey) <= 0) podsExist = false;
    }
    if (!podsExist && !(affinityCounts.size === 0 && selfMatch)) return `3:${ipa.ErrReasonAffinityRulesNotMatch}`;
    for (const t of anti) if (at(antiCounts, ni, t.topologyKey) > 0) return `2:${ipa.ErrReasonAntiAffinityRulesNotMatch}`;
    for (const [k, v] of Object.entries(ni.labels)) if ((existingAnti.get(`${k}\x00${v}`) ?? 0) > 0) return `2:${ipa.ErrReasonExistingAntiAffinityRulesNotMatch}`;
    return 'fit';
  });
}

function refScore(pod: Pod, filtered: readonly NodeInfo[], all: readonly NodeInfo[], listers: MemoryListers, args: InterPodAffinityArgs): number[] {
  const hard = args.hardPodAffinityWeight ?? 1;
  const pi = new PodInfo(pod);
  const hasConstraints = pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0;
  if (args.ignorePreferredTermsOfExistingPods === true && !hasConstraints) return filtered.map(() => 0);
  const preferred = pi.preferredAffinityTerms.map((w) => ({ term: merged([w.term], listers)[0] as AffinityTerm, weight: w.weight }));
  const preferredAnti = pi.preferredAntiAffinityTerms.map((w) => ({ term: merged([w.term], listers)[0] as AffinityTerm, weight: w.weight }));
  const nsLabels = namespaceLabelsOf(listers, pod.metadata?.namespace ?? '');
  const score: Pairs = new Map();
  for (const ni of all) {
    if (Object.keys(ni.labels).length === 0) continue;
    for (const e of ni.pods) {
      if (!hasConstraints && !e.hasAffinity) continue;
      for (const w of preferred) if (w.term.matches(e.pod, null)) bump(score, ni, w.term.topologyKey, w.weight);
      for (const w of preferredAnti) if (w.term.matches(e.pod, null)) bump(score, ni, w.term.topologyKey, -w.weight);
      if (hard > 0) for (const t of e.requiredAffinityTerms) if (t.matches(pod, nsLabels)) bump(score, ni, t.topologyKey, hard);
      for (const w of e.preferredAffinityTerms) if (w.term.matches(pod, nsLabels)) bump(score, ni, w.term.topologyKey, w.weight);
      for (const w of e.preferredAntiAffinityTerms) if (w.term.matches(pod, nsLabels)) bump(score, ni, w.term.topologyKey, -w.weight);
    }
  }
  const keys = new Set([...score.keys()].map((k) => k.split('\x00')[0] as string));
  const raw = filtered.map((ni) => {
    let s = 0;
    for (const k of keys) s += at(score, ni, k);
    return s;
  });
  const min = Math.min(...raw);
  const max = Math.max(...raw);
  return raw.map((s) => (max - min > 0 ? Math.trunc(100 * ((s - min) / (max - min))) : 0));
}

// ---- the random cluster ----

const zones = ['z1', 'z2', 'z3'];
const colors = ['red', 'green', 'blue'];
const topologyKeys = ['kubernetes.io/hostname', 'zone', 'rack'];

class World extends RandomCluster {
  constructor(seed: number) {
    const listers = new MemoryListers().add(
      { kind: 'Namespace', metadata: { name: 'ns1', labels: { team: 'a' } } },
      { kind: 'Namespace', metadata: { name: 'ns2', labels: { team: 'b' } } },
      { kind: 'Namespace', metadata: { name: 'ns3', labels: { team: 'a' } } },
    );
    super(seed, listers, ['ns1', 'ns2', 'ns3'], { addPod: 0.5, removePod: 0.7, relabelPod: 0.82, replaceNode: 0.9, removeNode: 0.95 });
  }

  nodeObject(name: string): Node {
    const w = makeNode().name(name);
    if (this.chance(0.9)) w.label('kubernetes.io/hostname', name);
    if (this.chance(0.8)) w.label('zone', this.pick(zones));
    if (this.chance(0.6)) w.label('rack', this.pick(['r1', 'r2']));
    return w.obj();
  }

  podLabels(): Record<string, string> {
    const l: Record<string, string> = { color: this.pick(colors) };
    if (this.chance(0.5)) l['app'] = this.pick(['a', 'b']);
    return l;
  }

  term(): PodAffinityTerm {
    const r = this.random();
    const labelSelector: LabelSelector = r < 0.6 ? { matchLabels: { color: this.pick(colors) } } : r < 0.85 ? { matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] } : { matchExpressions: [{ key: 'color', operator: 'Exists' }] };
    const t: PodAffinityTerm = { topologyKey: this.pick(topologyKeys), labelSelector };
    const ns = this.random();
    if (ns < 0.15) t.namespaceSelector = { matchLabels: { team: 'a' } };
    else if (ns < 0.25) t.namespaceSelector = {};
    else if (ns < 0.35) t.namespaces = [this.pick(['ns1', 'ns2', 'ns3'])];
    return t;
  }

  weighted(): WeightedPodAffinityTerm {
    return { weight: 1 + Math.floor(this.random() * 10), podAffinityTerm: this.term() };
  }

  /** Random pod (anti-)affinity; `rate` scales how often each kind appears. */
  affinity(w: PodWrapper, rate: number): void {
    const spec = w.pod.spec!;
    const aff = (spec.affinity = {} as NonNullable<typeof spec.affinity>);
    if (this.chance(rate)) (aff.podAffinity ??= {}).requiredDuringSchedulingIgnoredDuringExecution = Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => this.term());
    if (this.chance(rate)) (aff.podAntiAffinity ??= {}).requiredDuringSchedulingIgnoredDuringExecution = [this.term()];
    if (this.chance(rate)) (aff.podAffinity ??= {}).preferredDuringSchedulingIgnoredDuringExecution = Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => this.weighted());
    if (this.chance(rate)) (aff.podAntiAffinity ??= {}).preferredDuringSchedulingIgnoredDuringExecution = [this.weighted()];
  }

  protected decoratePod(w: PodWrapper): void {
    this.affinity(w, 0.12);
  }

  incoming(): Pod {
    const w = makePod().name('incoming').uid('incoming-uid').namespace(this.pick(['ns1', 'ns2', 'ns3'])).labels(this.podLabels());
    this.affinity(w, 0.35);
    return w.obj();
  }
}

describe('InterPodAffinity fast paths match a plain pass over every pod', () => {
  for (const seed of [1, 2, 3]) {
    test(`random cluster changing between cycles, seed ${seed}`, () => {
      const w = new World(seed);
      const registry = new Map([[ipa.Name, ipa.newInterPodAffinity]]);
      const variants = ([{}, { hardPodAffinityWeight: 0 }, { ignorePreferredTermsOfExistingPods: true }] as InterPodAffinityArgs[])
        .map((args) => ({ args, fwk: w.cluster.framework(registry, multiPoint(ipa.Name), new Map([[ipa.Name, args]])) }));
      let rejected = 0;
      let scored = 0;
      checkCycles(w, 100, variants, ({ round, variant: v, pod, all, filtered, got }) => {
        const ctx = `seed ${seed} round ${round} args ${JSON.stringify(v.args)} pod ${JSON.stringify(pod)}`;
        const wantFilter = refFilter(pod, all, w.cluster.listers);
        assert.deepEqual(got.filter, wantFilter, `filter, ${ctx}`);
        const wantScores = refScore(pod, filtered, all, w.cluster.listers, v.args);
        assert.deepEqual(got.scores, wantScores, `scores, ${ctx}`);
        if (wantFilter.some((s) => s !== 'fit')) rejected++;
        if (wantScores.some((s) => s !== 0)) scored++;
      });
      // The cases must exercise both halves, not only the Skip paths.
      assert.ok(rejected > 60 && scored > 60, `rejected ${rejected}, scored ${scored}`);
    });
  }
});
