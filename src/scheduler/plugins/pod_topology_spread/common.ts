// PodTopologySpread's constraint handling (podtopologyspread/common.go, plugins/helper/spread.go):
// parsing a pod's constraints (or the cluster defaults, whose selector comes from the services and
// controller owning the pod), matchLabelKeys, node inclusion policies and counting matching pods.

import {
  addRequirements,
  labelSelectorAsSelector,
  matches,
  selectorFromSet,
  type Selector,
} from '../../../api/labels.ts';
import type { Pod, TopologySpreadConstraint } from '../../../api/types/core_v1.ts';
import type { ClusterListers } from '../../framework/listers.ts';
import { selectorKey } from '../../framework/node_fold.ts';
import type { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import type { PodInfo } from '../../framework/pod_info.ts';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint } from '../../framework/taints.ts';

/** The hostname node label. */
export const LabelHostname = 'kubernetes.io/hostname';
/** The zone node label. */
export const LabelTopologyZone = 'topology.kubernetes.io/zone';

/** A constraint with its selector parsed (topologySpreadConstraint). */
export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  selector: Selector;
  readonly minDomains: number;
  readonly nodeAffinityPolicy: 'Honor' | 'Ignore';
  readonly nodeTaintsPolicy: 'Honor' | 'Ignore';
}

/** The cluster default constraints used when defaultingType is System. */
export const systemDefaultConstraints: readonly TopologySpreadConstraint[] = [
  { topologyKey: LabelHostname, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LabelTopologyZone, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** Whether the node counts for the constraint under its node inclusion policies. */
export function matchNodeInclusionPolicies(c: SpreadConstraint, pod: Pod, nodeInfo: NodeInfo, required: RequiredNodeAffinity): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !required.match(nodeInfo)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && findMatchingUntoleratedTaint(nodeInfo.taints, pod.spec?.tolerations, isDoNotScheduleTaint) !== undefined) return false;
  return true;
}

/** True when the node has every constraint's topology key. */
export function nodeLabelsMatchSpreadConstraints(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Pods in `namespace` matching the selector, terminating pods excluded. */
export function countPodsMatchSelector(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  let n = 0;
  for (const p of pods) {
    const meta = p.pod.metadata;
    if (meta?.deletionTimestamp || (meta?.namespace ?? '') !== namespace) continue;
    if (matches(selector, meta?.labels)) n++;
  }
  return n;
}

/** The NodeInfo memo key of countPodsMatchSelector(pods, selector, namespace). */
export function matchCountKey(selector: Selector, namespace: string): string {
  return `PodTopologySpread\x00${namespace}\x00${selectorKey(selector)}`;
}

/**
 * countPodsMatchSelector over the node's pods, remembered on the NodeInfo until they change, so
 * each cycle matches labels only on the nodes that changed since. `key` is matchCountKey's.
 */
export function countMatchingOnNode(ni: NodeInfo, selector: Selector, namespace: string, key: string): number {
  const known = ni.derivedCount(key);
  if (known !== undefined) return known;
  const n = countPodsMatchSelector(ni.pods, selector, namespace);
  ni.setDerivedCount(key, n);
  return n;
}

/** The constraints with the given whenUnsatisfiable, parsed (filterTopologySpreadConstraints). */
export function filterTopologySpreadConstraints(
  constraints: readonly TopologySpreadConstraint[],
  podLabels: Readonly<Record<string, string>>,
  action: 'DoNotSchedule' | 'ScheduleAnyway',
): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of constraints) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = labelSelectorAsSelector(c.labelSelector ?? null);
    const keys = c.matchLabelKeys ?? [];
    if (keys.length > 0) {
      const set: Record<string, string> = {};
      let any = false;
      for (const k of keys) {
        const v = podLabels[k];
        if (v !== undefined) {
          set[k] = v;
          any = true;
        }
      }
      // A nothing-selector has no requirements to carry over (mergeLabelSetWithSelector).
      if (any) selector = selector.nothing ? selectorFromSet(set) : addRequirements(selectorFromSet(set), ...selector.requirements);
    }
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
      nodeTaintsPolicy: c.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
    });
  }
  return out;
}

function controllerOf(pod: Pod): { apiVersion: string; kind: string; name: string } | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller === true);
}

/**
 * DefaultSelector: the union of the selectors of the services selecting the pod and of its
 * controlling ReplicationController, ReplicaSet or StatefulSet.
 */
export function defaultSelector(pod: Pod, listers: ClusterListers): Selector {
  const ns = pod.metadata?.namespace ?? '';
  const podLabels = pod.metadata?.labels ?? {};
  const set: Record<string, string> = {};
  for (const svc of listers.services(ns)) {
    const sel = svc.spec?.selector;
    if (sel === undefined || sel === null) continue;
    if (matches(selectorFromSet(sel), podLabels)) Object.assign(set, sel);
  }
  let selector = selectorFromSet(set);
  const owner = controllerOf(pod);
  if (owner === undefined) return selector;
  const gvk = `${owner.apiVersion}/${owner.kind}`;
  if (gvk === 'v1/ReplicationController') {
    const rc = listers.replicationController(ns, owner.name);
    if (rc) selector = selectorFromSet({ ...set, ...(rc.spec?.selector ?? {}) });
  } else if (gvk === 'apps/v1/ReplicaSet' || gvk === 'apps/v1/StatefulSet') {
    const obj = gvk === 'apps/v1/ReplicaSet' ? listers.replicaSet(ns, owner.name) : listers.statefulSet(ns, owner.name);
    if (obj) {
      try {
        const other = labelSelectorAsSelector(obj.spec?.selector ?? null);
        if (!other.nothing) selector = addRequirements(selector, ...other.requirements);
      } catch {
        // An invalid selector adds nothing, as upstream ignores the parse error.
      }
    }
  }
  return selector;
}
