// VolumeBinding (plugins/volumebinding), simplified: PreFilter sorts the pod's claims into bound,
// unbound-immediate (rejected until the PV controller binds them) and WaitForFirstConsumer ones;
// Filter checks bound PVs' node affinity and, for delayed claims, whether a matching available PV or
// dynamic provisioning (class allowedTopologies) can serve the node. PreBind hands the decisions to
// the wiring's VolumeBindingApi. Storage-capacity checks (CSIStorageCapacity) are not modelled.

import { labelSelectorAsSelector, matches } from '../../../api/labels.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod, TopologySelectorTerm } from '../../../api/types/core_v1.ts';
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
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type ReservePlugin,
  type VolumeBindingDecision,
} from '../../framework/interface.ts';
import { LazyErrorNodeSelector } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { quantityNumber } from '../../framework/resources.ts';

export const Name = 'VolumeBinding';
/** Filter reason: no PV fits a delayed claim and it cannot be provisioned for the node. */
export const ErrReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
/** Filter reason: a bound PV's node affinity excludes the node. */
export const ErrReasonNodeConflict = 'node(s) had volume node affinity conflict';
/** Filter reason: a claim is bound to a PV that does not exist. */
export const ErrReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
/** PreFilter reason: some claim waits for the PV controller. */
export const ErrReasonUnboundImmediate = 'pod has unbound immediate PersistentVolumeClaims';

const stateKey = Name;
const noProvisioner = 'kubernetes.io/no-provisioner';

function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
}

function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pv.spec?.storageClassName ?? '';
}

class PodVolumeClaims {
  boundClaims: PersistentVolumeClaim[] = [];
  delayedClaims: PersistentVolumeClaim[] = [];
}

class VolumeBindingState implements StateData {
  readonly claims: PodVolumeClaims;
  /** Node name -> decisions for the delayed claims on that node, filled by Filter. */
  readonly decisionsByNode = new Map<string, VolumeBindingDecision[]>();
  /** The decisions for the node chosen at Reserve. */
  chosen: VolumeBindingDecision[] = [];

  constructor(claims: PodVolumeClaims) {
    this.claims = claims;
  }

  clone(): StateData {
    return this;
  }
}

/** The claim names a pod uses, with ephemeral volumes' generated names. */
function podClaimNames(pod: Pod): Array<{ name: string; ephemeral: boolean }> {
  const out: Array<{ name: string; ephemeral: boolean }> = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push({ name: v.persistentVolumeClaim.claimName, ephemeral: false });
    else if (v.ephemeral) out.push({ name: `${pod.metadata?.name ?? ''}-${v.name}`, ephemeral: true });
  }
  return out;
}

/** MatchTopologySelectorTerms: no terms match everything; otherwise any term's expressions all hold. */
export function matchTopologySelectorTerms(terms: readonly TopologySelectorTerm[] | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!terms || terms.length === 0) return true;
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => {
    const v = labels[e.key];
    return v !== undefined && e.values.includes(v);
  }));
}

function hasAccessModes(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const have = new Set(pv.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => have.has(m));
}

/** The smallest available PV that satisfies the claim on the node (findMatchingVolume), if any. */
export function findMatchingVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], nodeInfo: NodeInfo, taken: ReadonlySet<string>): PersistentVolume | undefined {
  const requested = quantityNumber(claim.spec?.resources?.requests?.['storage'] ?? '0');
  const className = claimClass(claim);
  const mode = claim.spec?.volumeMode ?? 'Filesystem';
  let selector = null;
  try {
    selector = claim.spec?.selector ? labelSelectorAsSelector(claim.spec.selector) : null;
  } catch {
    return undefined;
  }
  let best: PersistentVolume | undefined;
  let bestSize = Infinity;
  for (const pv of volumes) {
    const name = pv.metadata?.name ?? '';
    if (taken.has(name) || pv.metadata?.deletionTimestamp) continue;
    const ref = pv.spec?.claimRef;
    if (ref && !(ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace && (!ref.uid || ref.uid === claim.metadata?.uid))) continue;
    if (!ref && pv.status?.phase !== undefined && pv.status.phase !== 'Available') continue;
    if (volumeClass(pv) !== className) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
    if (!hasAccessModes(claim, pv)) continue;
    if (selector !== null && !matches(selector, pv.metadata?.labels)) continue;
    const size = quantityNumber(pv.spec?.capacity?.['storage'] ?? '0');
    if (size < requested) continue;
    const required = pv.spec?.nodeAffinity?.required;
    if (required && !new LazyErrorNodeSelector(required).match(nodeInfo)) continue;
    // A PV pre-bound to this claim wins outright.
    if (ref) return pv;
    if (size < bestSize) {
      best = pv;
      bestSize = size;
    }
  }
  return best;
}

/** Volume binding constraints. */
export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions {
  readonly name = Name;
  private readonly handle: Handle;

  constructor(handle: Handle) {
    this.handle = handle;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.StorageClass, actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: EventResource.PersistentVolumeClaim, actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: EventResource.PersistentVolume, actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint } },
      { event: { resource: EventResource.CSINode, actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: EventResource.CSIDriver, actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: EventResource.CSIStorageCapacity, actionType: ActionType.Add | ActionType.Update } },
    ];
  }

  preFilter(state: CycleState, pod: Pod): readonly [PreFilterResult | null, PluginStatus] {
    const names = podClaimNames(pod);
    if (names.length === 0) return [null, newStatus(Code.Skip)];
    const ns = pod.metadata?.namespace ?? '';
    const listers = this.handle.listers;
    const claims = new PodVolumeClaims();
    let unboundImmediate = false;
    for (const { name, ephemeral } of names) {
      const pvc = listers.persistentVolumeClaim(ns, name);
      if (pvc === undefined) {
        const msg = ephemeral
          ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"`
          : `persistentvolumeclaim "${name}" not found`;
        return [null, newStatus(Code.UnschedulableAndUnresolvable, msg)];
      }
      if (ephemeral && !(pvc.metadata?.ownerReferences ?? []).some((o) => o.controller === true && o.uid === pod.metadata?.uid)) {
        return [null, newStatus(Code.UnschedulableAndUnresolvable, `persistentvolumeclaim "${name}" was not created for the pod`)];
      }
      if (pvc.metadata?.deletionTimestamp) {
        return [null, newStatus(Code.UnschedulableAndUnresolvable, `persistentvolumeclaim "${name}" is being deleted`)];
      }
      if ((pvc.spec?.volumeName ?? '') !== '') {
        claims.boundClaims.push(pvc);
        continue;
      }
      const className = claimClass(pvc);
      const cls = className === '' ? undefined : listers.storageClass(className);
      if (cls?.volumeBindingMode === 'WaitForFirstConsumer') claims.delayedClaims.push(pvc);
      else unboundImmediate = true;
    }
    if (unboundImmediate) return [null, newStatus(Code.UnschedulableAndUnresolvable, ErrReasonUnboundImmediate)];
    state.write(stateKey, new VolumeBindingState(claims));
    return [null, null];
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<VolumeBindingState>(stateKey);
    if (s === undefined) return asStatus(new Error(`error reading "${stateKey}" from cycleState: not found`));
    const listers = this.handle.listers;
    const reasons: string[] = [];
    for (const pvc of s.claims.boundClaims) {
      const pv = listers.persistentVolume(pvc.spec?.volumeName ?? '');
      if (pv === undefined) {
        reasons.push(ErrReasonPVNotExist);
        break;
      }
      const required = pv.spec?.nodeAffinity?.required;
      if (required && !new LazyErrorNodeSelector(required).match(nodeInfo)) {
        reasons.push(ErrReasonNodeConflict);
        break;
      }
    }
    if (s.claims.delayedClaims.length > 0) {
      const decisions: VolumeBindingDecision[] = [];
      const taken = new Set<string>();
      const volumes = listers.persistentVolumes();
      let satisfied = true;
      for (const claim of s.claims.delayedClaims) {
        const pv = findMatchingVolume(claim, volumes, nodeInfo, taken);
        if (pv !== undefined) {
          taken.add(pv.metadata?.name ?? '');
          decisions.push({ claim, volume: pv });
          continue;
        }
        const cls = listers.storageClass(claimClass(claim));
        if (!cls || cls.provisioner === '' || cls.provisioner === noProvisioner || !matchTopologySelectorTerms(cls.allowedTopologies, nodeInfo.labels)) {
          satisfied = false;
          break;
        }
        decisions.push({ claim, volume: null });
      }
      if (!satisfied) reasons.push(ErrReasonBindConflict);
      else s.decisionsByNode.set(nodeInfo.name, decisions);
    }
    if (reasons.length > 0) return newStatus(Code.UnschedulableAndUnresolvable, ...reasons);
    return null;
  }

  reserve(state: CycleState, _pod: Pod, nodeName: string): PluginStatus {
    const s = state.read<VolumeBindingState>(stateKey);
    if (s !== undefined) s.chosen = s.decisionsByNode.get(nodeName) ?? [];
    return null;
  }

  unreserve(state: CycleState): void {
    const s = state.read<VolumeBindingState>(stateKey);
    if (s !== undefined) s.chosen = [];
  }

  async preBind(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    const s = state.read<VolumeBindingState>(stateKey);
    if (s === undefined || s.chosen.length === 0) return null;
    try {
      await this.handle.volumeBindingApi.bindPodVolumes(pod, nodeName, s.chosen);
      return null;
    } catch (err) {
      return asStatus(err);
    }
  }
}

export function newVolumeBinding(_args: unknown, handle: Handle): Plugin {
  return new VolumeBinding(handle);
}
