// Sums over the pods of every node kept across scheduling cycles: a fold remembers each node's last
// contribution and, on refresh, replaces only those of the nodes the snapshot changed since (its
// change log), so PreFilter/PreScore state costs what changed instead of a scan of every pod.

import type { Selector } from '../../api/labels.ts';
import type { NodeInfoLister } from './interface.ts';
import type { NodeInfo } from './node_info.ts';

/** Totals over nodes, each node adding a contribution C (or nothing). */
export abstract class NodeFold<C> {
  private source: NodeInfoLister | null = null;
  private epoch = -1;
  private pos = 0;
  private readonly byNode = new Map<NodeInfo, C>();

  /** What the node adds to the totals, or undefined for nothing. Must read only the NodeInfo. */
  protected abstract contribute(ni: NodeInfo): C | undefined;
  /** Adds (sign 1) or takes back (sign -1) a contribution. */
  protected abstract apply(c: C, sign: 1 | -1): void;
  /** Empties the totals. */
  protected abstract reset(): void;

  /**
   * Brings the totals up to date with the lister's nodes. `candidates` must hold every node that
   * contributes (all nodes, or a list known to include them); it is read only to start over.
   */
  refresh(lister: NodeInfoLister, candidates: readonly NodeInfo[]): void {
    const log = lister.changeLog?.() ?? null;
    if (log === null || lister !== this.source || log.epoch !== this.epoch) {
      this.byNode.clear();
      this.reset();
      for (const ni of candidates) this.add(ni);
      // Untracked listers (snapshots built from objects) are recounted every time.
      this.source = log === null ? null : lister;
      this.epoch = log === null ? -1 : log.epoch;
      this.pos = log === null ? 0 : log.nodes.length;
      return;
    }
    const nodes = log.nodes;
    for (let i = this.pos; i < nodes.length; i++) {
      const ni = nodes[i] as NodeInfo;
      const old = this.byNode.get(ni);
      if (old !== undefined) {
        this.apply(old, -1);
        this.byNode.delete(ni);
      }
      this.add(ni);
    }
    this.pos = nodes.length;
  }

  private add(ni: NodeInfo): void {
    const c = this.contribute(ni);
    if (c === undefined) return;
    this.byNode.set(ni, c);
    this.apply(c, 1);
  }
}

/** A few folds by key, least recently used dropped first (each holds an entry per node). */
export class FoldCache<F> {
  private readonly folds = new Map<string, F>();
  private readonly max: number;

  constructor(max = 8) {
    this.max = max;
  }

  get(key: string, make: () => F): F {
    let f = this.folds.get(key);
    if (f !== undefined) {
      this.folds.delete(key);
      this.folds.set(key, f);
      return f;
    }
    f = make();
    this.folds.set(key, f);
    if (this.folds.size > this.max) this.folds.delete(this.folds.keys().next().value as string);
    return f;
  }
}

/** A canonical text for a selector's requirements, distinguishing "nothing" from "everything". */
export function selectorKey(sel: Selector): string {
  if (sel.nothing === true) return '\x00nothing';
  let s = '';
  for (const r of sel.requirements) s += `${r.key}\x01${r.operator}\x01${r.values.join('\x02')}\x03`;
  return s;
}
