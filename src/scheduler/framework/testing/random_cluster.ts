// Seeded random clusters for the tests that check plugins' fast paths against plain reference
// algorithms: a deterministic PRNG, a LiveCluster that random pod and node changes go through (via
// the scheduler cache, as between cycles), and one Filter+Score pass as a cycle runs it. For tests only.

import assert from 'node:assert/strict';
import type { Node, Pod } from '../../../api/types/core_v1.ts';
import { CycleState } from '../cycle_state.ts';
import type { Framework } from '../framework.ts';
import type { MemoryListers } from '../listers.ts';
import type { NodeInfo } from '../node_info.ts';
import { PodInfo } from '../pod_info.ts';
import { LiveCluster } from './live_cluster.ts';
import { makePod, type PodWrapper } from './wrappers.ts';

/** A small deterministic PRNG (mulberry32): numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Cumulative thresholds of one random change: a draw below `addPod` adds a pod, else below
 * `removePod` removes one, and so on; a draw past `removeNode` adds a node (up to 14).
 */
export interface ChangeOdds {
  readonly addPod: number;
  readonly removePod: number;
  readonly relabelPod: number;
  readonly replaceNode: number;
  readonly removeNode: number;
}

/** A cluster that changes at random between cycles; subclasses say what nodes and pods look like. */
export abstract class RandomCluster {
  readonly random: () => number;
  readonly cluster: LiveCluster;
  readonly nodes = new Map<string, Node>();
  readonly pods = new Map<string, Pod>();
  private serial = 0;
  private readonly namespaces: readonly string[];
  private readonly odds: ChangeOdds;

  constructor(seed: number, listers: MemoryListers, namespaces: readonly string[], odds: ChangeOdds) {
    this.random = rng(seed);
    this.cluster = new LiveCluster(listers);
    this.namespaces = namespaces;
    this.odds = odds;
  }

  /** A random node object with the given name. */
  abstract nodeObject(name: string): Node;
  /** Random labels for a pod. */
  abstract podLabels(): Record<string, string>;
  /** Whatever else an existing pod gets (affinity, termination, ...). */
  protected abstract decoratePod(w: PodWrapper): void;
  /** A random pod to schedule. */
  abstract incoming(): Pod;

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  addNode(): void {
    const n = this.nodeObject(`n${this.serial++}`);
    this.nodes.set(n.metadata!.name!, n);
    this.cluster.cache.addNode(n);
  }

  /** A pod on a random node, now and then only assumed (as a cycle in flight leaves it). */
  addPod(): void {
    const name = `p${this.serial++}`;
    const w = makePod().name(name).uid(`${name}-uid`).namespace(this.pick(this.namespaces)).labels(this.podLabels()).node(this.pick([...this.nodes.keys()]));
    this.decoratePod(w);
    const p = w.obj();
    this.pods.set(p.metadata!.uid!, p);
    if (this.chance(0.3)) this.cluster.cache.assumePod(new PodInfo(p));
    else this.cluster.cache.addPod(p);
  }

  /** The pod as an update changes it: new labels by default. */
  protected relabeled(p: Pod): Pod {
    return { ...p, metadata: { ...p.metadata, labels: this.podLabels() } };
  }

  /** One random change to the cluster. */
  change(): void {
    const r = this.random();
    const odds = this.odds;
    const cache = this.cluster.cache;
    if (r < odds.addPod || this.pods.size === 0) return this.addPod();
    if (r < odds.removePod) {
      const p = this.pick([...this.pods.values()]);
      this.pods.delete(p.metadata!.uid!);
      if (cache.isAssumedPod(p)) cache.forgetPod(p);
      else cache.removePod(p);
      return;
    }
    if (r < odds.relabelPod) {
      const p = this.pick([...this.pods.values()]);
      if (cache.isAssumedPod(p)) return;
      const q = this.relabeled(p);
      cache.updatePod(p, q);
      this.pods.set(p.metadata!.uid!, q);
      return;
    }
    if (r < odds.replaceNode) {
      const name = this.pick([...this.nodes.keys()]);
      const old = this.nodes.get(name)!;
      const n = this.nodeObject(name);
      this.nodes.set(name, n);
      cache.updateNode(old, n);
      return;
    }
    if (r < odds.removeNode && this.nodes.size > 4) {
      const name = this.pick([...this.nodes.keys()]);
      if ([...this.pods.values()].some((p) => p.spec?.nodeName === name)) return;
      cache.removeNode(this.nodes.get(name)!);
      this.nodes.delete(name);
      return;
    }
    if (this.nodes.size < 14) this.addNode();
  }

  /** The nodes Score sees: a random subset of `all` (never empty) in random order, as Filter leaves them. */
  scoreCandidates(all: readonly NodeInfo[]): NodeInfo[] {
    const filtered = all.filter(() => this.chance(0.7)).sort(() => this.random() - 0.5);
    if (filtered.length === 0) filtered.push(all[0] as NodeInfo);
    return filtered;
  }
}

/** One cycle checked by a reference test: the pod, the nodes Filter and Score saw, and what the framework said. */
export interface CheckedCycle<V> {
  readonly round: number;
  readonly variant: V;
  readonly pod: Pod;
  readonly all: readonly NodeInfo[];
  readonly filtered: readonly NodeInfo[];
  readonly got: { readonly filter: readonly string[]; readonly scores: readonly number[] };
}

/**
 * Six nodes, then `rounds` rounds of three random changes and a snapshot refresh, each followed by
 * one cycle of a new incoming pod per variant's framework, handed to `check`.
 */
export function checkCycles<V extends { readonly fwk: Framework }>(w: RandomCluster, rounds: number, variants: readonly V[], check: (c: CheckedCycle<V>) => void): void {
  for (let i = 0; i < 6; i++) w.addNode();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < 3; k++) w.change();
    w.cluster.refresh();
    const all = w.cluster.snapshot.nodeInfoList;
    for (const variant of variants) {
      const pod = w.incoming();
      const filtered = w.scoreCandidates(all);
      check({ round, variant, pod, all, filtered, got: runCycle(variant.fwk, pod, all, filtered) });
    }
  }
}

/** One cycle's Filter verdicts ("fit" or "code:reasons") over `all` and Score totals over `filtered`. */
export function runCycle(fwk: Framework, pod: Pod, all: readonly NodeInfo[], filtered: readonly NodeInfo[]): { filter: string[]; scores: number[] } {
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
