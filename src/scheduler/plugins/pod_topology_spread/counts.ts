// Matching pods per topology domain over all nodes, kept across scheduling cycles (a NodeFold): for
// each constraint set, namespace and node-inclusion inputs of the pod, the sums are updated from the
// nodes the snapshot changed, so PreFilter and PreScore read them instead of visiting every node.

import type { Pod } from '../../../api/types/core_v1.ts';
import { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import { NodeFold, selectorKey } from '../../framework/node_fold.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import {
  countMatchingOnNode,
  matchCountKey,
  matchNodeInclusionPolicies,
  nodeLabelsMatchSpreadConstraints,
  type SpreadConstraint,
} from './common.ts';

/** A topology domain: the nodes counted in it and their matching pods. */
export interface Domain {
  nodes: number;
  pods: number;
}

/** One node's part: per constraint its topology value (undefined: not counted) and matching pods. */
interface SpreadContribution {
  readonly values: readonly (string | undefined)[];
  readonly counts: readonly number[];
}

/**
 * Per constraint, matching pods by topology value over the nodes a pod counts: nodes with the
 * constraints' topology labels (see requireAllTopologies) that pass the constraint's node inclusion
 * policies for the pod. The pod enters only through its namespace, required node affinity and
 * tolerations, which the key holds, so pods alike (a workload's replicas) share one fold.
 */
export class SpreadCountFold extends NodeFold<SpreadContribution> {
  readonly domains: Map<string, Domain>[];
  private readonly constraints: readonly SpreadConstraint[];
  private readonly namespace: string;
  /** matchCountKey per constraint; the same strings every cycle make the NodeInfo memo lookups cheap. */
  readonly countKeys: readonly string[];
  /**
   * Whether a node must have every constraint's topology key to count (always for filtering; for
   * scoring unless the system defaults apply, and then a missing label is the value "").
   */
  private readonly requireAllTopologies: boolean;
  /** The pod whose affinity and tolerations decide node inclusion, when some policy needs them. */
  private readonly inclusionPod: Pod | null;
  private readonly required: RequiredNodeAffinity | null;

  constructor(constraints: readonly SpreadConstraint[], pod: Pod, requireAllTopologies: boolean) {
    super();
    this.constraints = constraints;
    this.namespace = pod.metadata?.namespace ?? '';
    this.requireAllTopologies = requireAllTopologies;
    this.countKeys = constraints.map((c) => matchCountKey(c.selector, this.namespace));
    this.domains = constraints.map(() => new Map());
    const required = new RequiredNodeAffinity(pod);
    const needed = constraints.some((c) => c.nodeTaintsPolicy === 'Honor' || (c.nodeAffinityPolicy === 'Honor' && required.constrains));
    this.inclusionPod = needed ? pod : null;
    this.required = needed ? required : null;
  }

  /** The fold serving these constraints for pods like `pod`. */
  static key(constraints: readonly SpreadConstraint[], pod: Pod, requireAllTopologies: boolean): string {
    let k = `${requireAllTopologies ? 'all' : 'any'}\x04${pod.metadata?.namespace ?? ''}`;
    let affinity = false;
    let taints = false;
    for (const c of constraints) {
      k += `\x04${c.topologyKey}\x05${selectorKey(c.selector)}\x05${c.nodeAffinityPolicy}\x05${c.nodeTaintsPolicy}`;
      if (c.nodeAffinityPolicy === 'Honor') affinity = true;
      if (c.nodeTaintsPolicy === 'Honor') taints = true;
    }
    if (affinity) {
      const spec = pod.spec;
      const nodeSelector = spec?.nodeSelector;
      const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      // What RequiredNodeAffinity reads; a pod without either is not constrained.
      if ((nodeSelector && Object.keys(nodeSelector).length > 0) || required) k += `\x06${JSON.stringify([nodeSelector ?? null, required ?? null])}`;
    }
    if (taints) k += `\x07${JSON.stringify(pod.spec?.tolerations ?? null)}`;
    return k;
  }

  protected contribute(ni: NodeInfo): SpreadContribution | undefined {
    if (ni.node === null) return undefined;
    if (this.requireAllTopologies && !nodeLabelsMatchSpreadConstraints(ni.labels, this.constraints)) return undefined;
    const values: (string | undefined)[] = [];
    const counts: number[] = [];
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i] as SpreadConstraint;
      if (this.inclusionPod !== null && !matchNodeInclusionPolicies(c, this.inclusionPod, ni, this.required as RequiredNodeAffinity)) {
        values.push(undefined);
        counts.push(0);
        continue;
      }
      values.push(ni.labels[c.topologyKey] ?? '');
      counts.push(countMatchingOnNode(ni, c.selector, this.namespace, this.countKeys[i] as string));
    }
    return { values, counts };
  }

  protected apply(c: SpreadContribution, sign: 1 | -1): void {
    for (let i = 0; i < this.domains.length; i++) {
      const v = c.values[i];
      if (v === undefined) continue;
      const m = this.domains[i] as Map<string, Domain>;
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
