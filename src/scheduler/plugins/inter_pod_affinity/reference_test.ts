// InterPodAffinity's fast paths (folds of matching pods and of grouped existing terms kept across
// cycles) against a plain pass over every pod on every node written from upstream's filtering.go
// and scoring.go, on seeded random clusters that change between cycles through the scheduler cache.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector } from '../../../api/types/meta_v1.ts';
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../../api/types/core_v1.ts';
import { CycleState } from '../../framework/cycle_state.ts';
import type { Framework } from '../../framework/framework.ts';
import { MemoryListers } from '../../framework/listers.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo, type AffinityTerm } from '../../framework/pod_info.ts';
import { LiveCluster } from '../../framework/testing/live_cluster.ts';
import { makeNode, makePod, multiPoint } from '../../framework/testing/wrappers.ts';
import {
  ErrReasonAffinityRulesNotMatch,
  ErrReasonAntiAffinityRulesNotMatch,
  ErrReasonExistingAntiAffinityRulesNotMatch,
  Name,
  newInterPodAffinity,
} from './inter_pod_affinity.ts';
import { mergeAffinityTermNamespaces, namespaceLabelsOf } from './namespaces.ts';
import type { InterPodAffinityArgs } from './scoring.ts';

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
      if (ni.labels[t.topologyKey] === undefined) return `3:${ErrReasonAffinityRulesNotMatch}`;
      if (at(affinityCounts, ni, t.topologyKey) <= 0) podsExist = false;
    }
    if (!podsExist && !(affinityCounts.size === 0 && selfMatch)) return `3:${ErrReasonAffinityRulesNotMatch}`;
    for (const t of anti) if (at(antiCounts, ni, t.topologyKey) > 0) return `2:${ErrReasonAntiAffinityRulesNotMatch}`;
    for (const [k, v] of Object.entries(ni.labels)) if ((existingAnti.get(`${k}\x00${v}`) ?? 0) > 0) return `2:${ErrReasonExistingAntiAffinityRulesNotMatch}`;
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

class World {
  readonly random: () => number;
  readonly cluster: LiveCluster;
  readonly nodes = new Map<string, Node>();
  readonly pods = new Map<string, Pod>();
  private serial = 0;

  constructor(seed: number) {
    this.random = rng(seed);
    this.cluster = new LiveCluster(new MemoryListers().add(
      { kind: 'Namespace', metadata: { name: 'ns1', labels: { team: 'a' } } },
      { kind: 'Namespace', metadata: { name: 'ns2', labels: { team: 'b' } } },
      { kind: 'Namespace', metadata: { name: 'ns3', labels: { team: 'a' } } },
    ));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  nodeObject(name: string): Node {
    const w = makeNode().name(name);
    if (this.chance(0.9)) w.label('kubernetes.io/hostname', name);
    if (this.chance(0.8)) w.label('zone', this.pick(zones));
    if (this.chance(0.6)) w.label('rack', this.pick(['r1', 'r2']));
    return w.obj();
  }

  addNode(): void {
    const n = this.nodeObject(`n${this.serial++}`);
    this.nodes.set(n.metadata!.name!, n);
    this.cluster.cache.addNode(n);
  }

  labels(): Record<string, string> {
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
  affinity(w: ReturnType<typeof makePod>, rate: number): void {
    const spec = w.pod.spec!;
    const aff = (spec.affinity = {} as NonNullable<typeof spec.affinity>);
    if (this.chance(rate)) (aff.podAffinity ??= {}).requiredDuringSchedulingIgnoredDuringExecution = Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => this.term());
    if (this.chance(rate)) (aff.podAntiAffinity ??= {}).requiredDuringSchedulingIgnoredDuringExecution = [this.term()];
    if (this.chance(rate)) (aff.podAffinity ??= {}).preferredDuringSchedulingIgnoredDuringExecution = Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => this.weighted());
    if (this.chance(rate)) (aff.podAntiAffinity ??= {}).preferredDuringSchedulingIgnoredDuringExecution = [this.weighted()];
  }

  addPod(): void {
    const name = `p${this.serial++}`;
    const w = makePod().name(name).uid(`${name}-uid`).namespace(this.pick(['ns1', 'ns2', 'ns3'])).labels(this.labels()).node(this.pick([...this.nodes.keys()]));
    this.affinity(w, 0.12);
    const p = w.obj();
    this.pods.set(p.metadata!.uid!, p);
    if (this.chance(0.3)) this.cluster.cache.assumePod(new PodInfo(p));
    else this.cluster.cache.addPod(p);
  }

  change(): void {
    const r = this.random();
    const cache = this.cluster.cache;
    if (r < 0.5 || this.pods.size === 0) return this.addPod();
    if (r < 0.7) {
      const p = this.pick([...this.pods.values()]);
      this.pods.delete(p.metadata!.uid!);
      if (cache.isAssumedPod(p)) cache.forgetPod(p);
      else cache.removePod(p);
      return;
    }
    if (r < 0.82) {
      const p = this.pick([...this.pods.values()]);
      if (cache.isAssumedPod(p)) return;
      const q: Pod = { ...p, metadata: { ...p.metadata, labels: this.labels() } };
      cache.updatePod(p, q);
      this.pods.set(p.metadata!.uid!, q);
      return;
    }
    if (r < 0.9) {
      const name = this.pick([...this.nodes.keys()]);
      const old = this.nodes.get(name)!;
      const n = this.nodeObject(name);
      this.nodes.set(name, n);
      cache.updateNode(old, n);
      return;
    }
    if (r < 0.95 && this.nodes.size > 4) {
      const name = this.pick([...this.nodes.keys()]);
      if ([...this.pods.values()].some((p) => p.spec?.nodeName === name)) return;
      cache.removeNode(this.nodes.get(name)!);
      this.nodes.delete(name);
      return;
    }
    if (this.nodes.size < 14) this.addNode();
  }

  incoming(): Pod {
    const w = makePod().name('incoming').uid('incoming-uid').namespace(this.pick(['ns1', 'ns2', 'ns3'])).labels(this.labels());
    this.affinity(w, 0.35);
    return w.obj();
  }
}

function run(fwk: Framework, pod: Pod, all: readonly NodeInfo[], filtered: readonly NodeInfo[]): { filter: string[]; scores: number[] } {
  const state = new CycleState();
  const pre = fwk.runPreFilterPlugins(state, pod).status;
  assert.ok(pre === null || pre.isSuccess(), `PreFilter: ${pre?.message()}`);
  const filter = all.map((ni) => {
    const s = fwk.runFilterPlugins(state, pod, ni);
    return s === null ? 'fit' : `${s.code}:${s.reasons.join(',')}`;
  });
  const ps = fwk.runPreScorePlugins(state, pod, filtered);
  assert.ok(ps === null || ps.isSuccess(), `PreScore: ${ps?.message()}`);
  return { filter, scores: fwk.runScorePlugins(state, pod, filtered) };
}

describe('InterPodAffinity fast paths match a plain pass over every pod', () => {
  for (const seed of [1, 2, 3]) {
    test(`random cluster changing between cycles, seed ${seed}`, () => {
      const w = new World(seed);
      const registry = new Map([[Name, newInterPodAffinity]]);
      const variants = ([{}, { hardPodAffinityWeight: 0 }, { ignorePreferredTermsOfExistingPods: true }] as InterPodAffinityArgs[])
        .map((args) => ({ args, fwk: w.cluster.framework(registry, multiPoint(Name), new Map([[Name, args]])) }));
      for (let i = 0; i < 6; i++) w.addNode();
      let rejected = 0;
      let scored = 0;
      for (let round = 0; round < 100; round++) {
        for (let k = 0; k < 3; k++) w.change();
        w.cluster.refresh();
        const all = w.cluster.snapshot.nodeInfoList;
        for (const v of variants) {
          const pod = w.incoming();
          const filtered = all.filter(() => w.chance(0.7)).sort(() => w.random() - 0.5);
          if (filtered.length === 0) filtered.push(all[0] as NodeInfo);
          const got = run(v.fwk, pod, all, filtered);
          const ctx = `seed ${seed} round ${round} args ${JSON.stringify(v.args)} pod ${JSON.stringify(pod)}`;
          const wantFilter = refFilter(pod, all, w.cluster.listers);
          assert.deepEqual(got.filter, wantFilter, `filter, ${ctx}`);
          const wantScores = refScore(pod, filtered, all, w.cluster.listers, v.args);
          assert.deepEqual(got.scores, wantScores, `scores, ${ctx}`);
          if (wantFilter.some((s) => s !== 'fit')) rejected++;
          if (wantScores.some((s) => s !== 0)) scored++;
        }
      }
      // The cases must exercise both halves, not only the Skip paths.
      assert.ok(rejected > 60 && scored > 60, `rejected ${rejected}, scored ${scored}`);
    });
  }
});
