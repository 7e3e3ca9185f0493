// PodTopologySpread filtering (podtopologyspread/filtering.go): PreFilter counts matching pods per
// topology value for each DoNotSchedule constraint and remembers the two least-loaded values
// ("critical paths"); Filter rejects a node when placing the pod there would exceed maxSkew.

import { matches } from '../../../api/labels.ts';
import type { Pod } from '../../../api/types/core_v1.ts';
import type { StateData } from '../../framework/cycle_state.ts';
import { NodeFold, selectorKey } from '../../framework/node_fold.ts';
import { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import {
  countPodsMatchSelector,
  matchNodeInclusionPolicies,
  nodeLabelsMatchSpreadConstraints,
  type SpreadConstraint,
} from './common.ts';

/** Filter reason when the skew would grow too large. */
export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
/** Filter reason when the node lacks a constraint's topology label. */
export const ErrReasonNodeLabelNotMatch = `${ErrReasonConstraintsNotMatch} (missing required label)`;

const maxInt32 = 2 ** 31 - 1;

/** The two topology values with the fewest matching pods; [0] always holds the minimum. */
export class CriticalPaths {
  readonly paths: [{ value: string; num: number }, { value: string; num: number }] = [
    { value: '', num: maxInt32 },
    { value: '', num: maxInt32 },
  ];

  update(value: string, num: number): void {
    const p = this.paths;
    const existing = value === p[0].value ? p[0] : value === p[1].value ? p[1] : null;
    if (existing !== null) {
      existing.num = num;
      if (p[0].num > p[1].num) {
        const t = p[0];
        p[0] = p[1];
        p[1] = t;
      }
    } else if (num < p[0].num) {
      p[1] = { ...p[0] };
      p[0] = { value, num };
    } else if (num < p[1].num) {
      p[1] = { value, num };
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.paths[0] = { ...this.paths[0] };
    c.paths[1] = { ...this.paths[1] };
    return c;
  }
}

/** What PreFilter computed: per constraint, matching pods per topology value and critical paths. */
export class PreFilterState implements StateData {
  readonly constraints: readonly SpreadConstraint[];
  readonly criticalPaths: CriticalPaths[];
  readonly tpValueToMatchNum: Map<string, number>[];

  constructor(constraints: readonly SpreadConstraint[], criticalPaths: CriticalPaths[], counts: Map<string, number>[]) {
    this.constraints = constraints;
    this.criticalPaths = criticalPaths;
    this.tpValueToMatchNum = counts;
  }

  clone(): StateData {
    return new PreFilterState(this.constraints, this.criticalPaths.map((c) => c.clone()), this.tpValueToMatchNum.map((m) => new Map(m)));
  }

  /** The global minimum, taken as 0 while fewer than minDomains domains exist. */
  minMatchNum(i: number, minDomains: number): number {
    const domains = (this.tpValueToMatchNum[i] as Map<string, number>).size;
    if (domains < minDomains) return 0;
    return (this.criticalPaths[i] as CriticalPaths).paths[0].num;
  }

  /** Adds or removes a pod's contribution (PreFilterExtensions AddPod/RemovePod). */
  updateWithPod(updatedPod: Pod, preemptor: Pod, nodeInfo: NodeInfo, delta: number): void {
    if ((updatedPod.metadata?.namespace ?? '') !== (preemptor.metadata?.namespace ?? '') || nodeInfo.node === null) return;
    if (!nodeLabelsMatchSpreadConstraints(nodeInfo.labels, this.constraints)) return;
    const required = new RequiredNodeAffinity(preemptor);
    const labels = updatedPod.metadata?.labels ?? {};
    this.constraints.forEach((c, i) => {
      if (!matches(c.selector, labels)) return;
      if (!matchNodeInclusionPolicies(c, preemptor, nodeInfo, required)) return;
      const v = nodeInfo.labels[c.topologyKey] as string;
      const m = this.tpValueToMatchNum[i] as Map<string, number>;
      const n = (m.get(v) ?? 0) + delta;
      m.set(v, n);
      (this.criticalPaths[i] as CriticalPaths).update(v, n);
    });
  }
}

/** A topology domain: the nodes counted in it and their matching pods. */
interface Domain {
  nodes: number;
  pods: number;
}

/** One node's part: its value and matching pods per constraint. */
interface SpreadContribution {
  readonly values: readonly string[];
  readonly counts: readonly number[];
}

/**
 * Matching pods per topology value for a constraint set whose node inclusion does not depend on the
 * pod (no node affinity to honour, taints ignored), kept across cycles for pods sharing it.
 */
export class SpreadCountFold extends NodeFold<SpreadContribution> {
  readonly domains: Map<string, Domain>[];
  private readonly constraints: readonly SpreadConstraint[];
  private readonly namespace: string;

  constructor(constraints: readonly SpreadConstraint[], namespace: string) {
    super();
    this.constraints = constraints;
    this.namespace = namespace;
    this.domains = constraints.map(() => new Map());
  }

  /** The fold serving these constraints for pods in the namespace. */
  static key(constraints: readonly SpreadConstraint[], namespace: string): string {
    let k = namespace;
    for (const c of constraints) k += `\x04${c.topologyKey}\x05${selectorKey(c.selector)}`;
    return k;
  }

  protected contribute(ni: NodeInfo): SpreadContribution | undefined {
    if (ni.node === null || !nodeLabelsMatchSpreadConstraints(ni.labels, this.constraints)) return undefined;
    const values: string[] = [];
    const counts: number[] = [];
    for (const c of this.constraints) {
      values.push(ni.labels[c.topologyKey] as string);
      counts.push(countPodsMatchSelector(ni.pods, c.selector, this.namespace));
    }
    return { values, counts };
  }

  protected apply(c: SpreadContribution, sign: 1 | -1): void {
    for (let i = 0; i < this.domains.length; i++) {
      const m = this.domains[i] as Map<string, Domain>;
      const v = c.values[i] as string;
      let d = m.get(v);
      if (d === undefined) m.set(v, (d = { nodes: 0, pods: 0 }));
      d.nodes += sign;
      d.pods += sign * (c.counts[i] as number);
      if (d.nodes === 0) m.delete(v);
    }
  }

  protected reset(): void {
    for (const m of this.domains) m.clear();
  }
}

/** True when no constraint's node inclusion depends on the pod, so counts can be shared. */
export function podIndependentInclusion(constraints: readonly SpreadConstraint[], required: RequiredNodeAffinity): boolean {
  for (const c of constraints) {
    if (c.nodeTaintsPolicy === 'Honor') return false;
    if (c.nodeAffinityPolicy === 'Honor' && required.constrains) return false;
  }
  return true;
}

/**
 * calPreFilterState over all nodes for the pod's hard constraints. With a fold (see
 * podIndependentInclusion) the counts come from it; otherwise every node's pods are counted.
 */
export function calPreFilterState(pod: Pod, constraints: readonly SpreadConstraint[], allNodes: readonly NodeInfo[], fold?: SpreadCountFold): PreFilterState {
  const counts = constraints.map(() => new Map<string, number>());
  if (fold !== undefined) {
    for (let i = 0; i < constraints.length; i++) {
      const m = counts[i] as Map<string, number>;
      for (const [v, d] of fold.domains[i] as Map<string, Domain>) m.set(v, d.pods);
    }
  } else {
    const required = new RequiredNodeAffinity(pod);
    const ns = pod.metadata?.namespace ?? '';
    for (const ni of allNodes) {
      if (!nodeLabelsMatchSpreadConstraints(ni.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as SpreadConstraint;
        if (!matchNodeInclusionPolicies(c, pod, ni, required)) continue;
        const v = ni.labels[c.topologyKey] as string;
        const m = counts[i] as Map<string, number>;
        m.set(v, (m.get(v) ?? 0) + countPodsMatchSelector(ni.pods, c.selector, ns));
      }
    }
  }
  const paths = constraints.map((_c, i) => {
    const cp = new CriticalPaths();
    for (const [v, n] of counts[i] as Map<string, number>) cp.update(v, n);
    return cp;
  });
  return new PreFilterState(constraints, paths, counts);
}

/** The Filter decision for one node: null when it fits, else the reason and whether it is resolvable. */
export function filterNode(s: PreFilterState, pod: Pod, nodeInfo: NodeInfo): { reason: string; unresolvable: boolean } | null {
  const labels = pod.metadata?.labels ?? {};
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i] as SpreadConstraint;
    const v = nodeInfo.labels[c.topologyKey];
    if (v === undefined) return { reason: ErrReasonNodeLabelNotMatch, unresolvable: true };
    const minMatch = s.minMatchNum(i, c.minDomains);
    const self = matches(c.selector, labels) ? 1 : 0;
    const matchNum = (s.tpValueToMatchNum[i] as Map<string, number>).get(v) ?? 0;
    if (matchNum + self - minMatch > c.maxSkew) return { reason: ErrReasonConstraintsNotMatch, unresolvable: false };
  }
  return null;
}
