// PodTopologySpread filtering (podtopologyspread/filtering.go): PreFilter counts matching pods per
// topology value for each DoNotSchedule constraint and remembers the two least-loaded values
// ("critical paths"); Filter rejects a node when placing the pod there would exceed maxSkew.

import { matches } from '../../../api/labels.ts';
import type { Pod } from '../../../api/types/core_v1.ts';
import type { StateData } from '../../framework/cycle_state.ts';
import { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { matchNodeInclusionPolicies, nodeLabelsMatchSpreadConstraints, type SpreadConstraint } from './common.ts';
import type { Domain, SpreadCountFold } from './counts.ts';

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
  /** Per constraint, 1 when the incoming pod matches its own selector (the same for every node). */
  readonly selfMatchNum: readonly number[];

  constructor(constraints: readonly SpreadConstraint[], criticalPaths: CriticalPaths[], counts: Map<string, number>[], selfMatchNum: readonly number[]) {
    this.constraints = constraints;
    this.criticalPaths = criticalPaths;
    this.tpValueToMatchNum = counts;
    this.selfMatchNum = selfMatchNum;
  }

  /** The preemptor's required node affinity, parsed on first use by updateWithPod (shared by clones). */
  private required: RequiredNodeAffinity | null = null;

  clone(): StateData {
    const c = new PreFilterState(this.constraints, this.criticalPaths.map((p) => p.clone()), this.tpValueToMatchNum.map((m) => new Map(m)), this.selfMatchNum);
    c.required = this.required;
    return c;
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
    const required = (this.required ??= new RequiredNodeAffinity(preemptor));
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

/** calPreFilterState for the pod's hard constraints, the counts read from a fold over all nodes. */
export function calPreFilterState(pod: Pod, constraints: readonly SpreadConstraint[], fold: SpreadCountFold): PreFilterState {
  const counts = constraints.map((_c, i) => {
    const m = new Map<string, number>();
    for (const [v, d] of fold.domains[i] as ReadonlyMap<string, Domain>) m.set(v, d.pods);
    return m;
  });
  const paths = constraints.map((_c, i) => {
    const cp = new CriticalPaths();
    for (const [v, n] of counts[i] as Map<string, number>) cp.update(v, n);
    return cp;
  });
  const labels = pod.metadata?.labels ?? {};
  return new PreFilterState(constraints, paths, counts, constraints.map((c) => (matches(c.selector, labels) ? 1 : 0)));
}

/** The Filter decision for one node: null when it fits, else the reason and whether it is resolvable. */
export function filterNode(s: PreFilterState, nodeInfo: NodeInfo): { reason: string; unresolvable: boolean } | null {
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i] as SpreadConstraint;
    const v = nodeInfo.labels[c.topologyKey];
    if (v === undefined) return { reason: ErrReasonNodeLabelNotMatch, unresolvable: true };
    const minMatch = s.minMatchNum(i, c.minDomains);
    const self = s.selfMatchNum[i] as number;
    const matchNum = (s.tpValueToMatchNum[i] as Map<string, number>).get(v) ?? 0;
    if (matchNum + self - minMatch > c.maxSkew) return { reason: ErrReasonConstraintsNotMatch, unresolvable: false };
  }
  return null;
}
