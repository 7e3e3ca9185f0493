// InterPodAffinity's per-node sums kept across cycles (framework/node_fold.ts): pods matching a set
// of the incoming pod's terms per topology value, and existing pods' terms grouped by what they
// match, so a cycle tests each distinct term once instead of every pod on every node.

import { NodeFold } from '../../framework/node_fold.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import type { AffinityTerm } from '../../framework/pod_info.ts';

/** Adds `delta` at `value` in `m`, dropping entries that reach zero. */
export function addCount(m: Map<string, number>, value: string, delta: number): void {
  const n = (m.get(value) ?? 0) + delta;
  if (n === 0) m.delete(value);
  else m.set(value, n);
}

/** A node's part: how many of its pods match, and its value of each term's topology key. */
interface TermContribution {
  readonly values: readonly (string | undefined)[];
  readonly count: number;
}

/**
 * Pods matching every one of `terms` (one term: anti-affinity and preferred terms; all of them:
 * required affinity), counted per value of each term's topology key. Terms are the incoming pod's,
 * with namespace selectors already merged, so they match without namespace labels.
 */
export class TermCountFold extends NodeFold<TermContribution> {
  /** Per term: topology value -> matching pods. */
  readonly counts: Map<string, number>[];
  private readonly terms: readonly AffinityTerm[];

  constructor(terms: readonly AffinityTerm[]) {
    super();
    this.terms = terms;
    this.counts = terms.map(() => new Map());
  }

  static key(terms: readonly AffinityTerm[]): string {
    return terms.map((t) => t.key).join('\x03');
  }

  protected contribute(ni: NodeInfo): TermContribution | undefined {
    let values: (string | undefined)[] | null = null;
    let any = false;
    for (const t of this.terms) {
      const v = ni.labels[t.topologyKey];
      if (v !== undefined) any = true;
      (values ??= []).push(v);
    }
    if (!any) return undefined;
    let count = 0;
    for (const p of ni.pods) {
      let all = true;
      for (const t of this.terms) {
        if (!t.matches(p.pod, null)) {
          all = false;
          break;
        }
      }
      if (all) count++;
    }
    return count === 0 ? undefined : { values: values as (string | undefined)[], count };
  }

  protected apply(c: TermContribution, sign: 1 | -1): void {
    for (let i = 0; i < this.counts.length; i++) {
      const v = c.values[i];
      if (v !== undefined) addCount(this.counts[i] as Map<string, number>, v, sign * c.count);
    }
  }

  protected reset(): void {
    for (const m of this.counts) m.clear();
  }
}

/** Existing pods' terms that are alike: the term, its weight, and how many pods per topology value have it. */
export interface TermGroup {
  readonly term: AffinityTerm;
  /** Score weight with its sign (scoring groups); 1 for anti-affinity groups. */
  readonly weight: number;
  readonly counts: Map<string, number>;
  /** Pods (with the node label) in the group; the group goes when none are left. */
  total: number;
}

/** One grouped term of one pod on a node. */
interface GroupEntry {
  readonly key: string;
  readonly term: AffinityTerm;
  readonly weight: number;
  readonly value: string;
}

/** Which terms of an existing pod a group fold collects, with their signed weights. */
export type TermSelector = (ni: NodeInfo, add: (term: AffinityTerm, weight: number) => void) => void;

/**
 * Existing pods' terms grouped by key (and weight): for each group, the pods per topology value that
 * have it. Matching a group's term against the incoming pod once then stands for all those pods.
 */
export class TermGroupFold extends NodeFold<GroupEntry[]> {
  readonly groups = new Map<string, TermGroup>();
  private readonly select: TermSelector;

  constructor(select: TermSelector) {
    super();
    this.select = select;
  }

  protected contribute(ni: NodeInfo): GroupEntry[] | undefined {
    let out: GroupEntry[] | undefined;
    this.select(ni, (term, weight) => {
      const value = ni.labels[term.topologyKey];
      if (value === undefined) return;
      (out ??= []).push({ key: weight === 1 ? term.key : `${term.key}\x04${weight}`, term, weight, value });
    });
    return out;
  }

  protected apply(entries: GroupEntry[], sign: 1 | -1): void {
    for (const e of entries) {
      let g = this.groups.get(e.key);
      if (g === undefined) this.groups.set(e.key, (g = { term: e.term, weight: e.weight, counts: new Map(), total: 0 }));
      addCount(g.counts, e.value, sign);
      g.total += sign;
      if (g.total === 0) this.groups.delete(e.key);
    }
  }

  protected reset(): void {
    this.groups.clear();
  }
}
