// Which PersistentVolume fits a claim (upstream pkg/controller/volume/persistentvolume/index.go and
// component-helpers storage/volume): the smallest Available volume of the claim's class, size,
// volume mode and selector, preferring volumes with the fewest access modes that still cover the
// claim's; a volume pre-bound to the claim wins outright.
import { cmpQuantity, tryParseQuantity, type Quantity } from '../../api/quantity.ts';
import { labelSelectorAsSelector, matches, type LabelSelectorLike } from '../../api/labels.ts';
import type { Node, NodeSelectorRequirement, PersistentVolume, PersistentVolumeClaim } from '../../api/types/core_v1.ts';

/** Annotations the binder reads and writes (storagehelpers). */
export const Ann = {
  BindCompleted: 'pv.kubernetes.io/bind-completed',
  BoundByController: 'pv.kubernetes.io/bound-by-controller',
  SelectedNode: 'volume.kubernetes.io/selected-node',
  StorageProvisioner: 'volume.kubernetes.io/storage-provisioner',
  BetaStorageProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  DynamicallyProvisioned: 'pv.kubernetes.io/provisioned-by',
  BetaStorageClass: 'volume.beta.kubernetes.io/storage-class',
} as const;

/** The claim's class: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.[Ann.BetaStorageClass] ?? pvc.spec?.storageClassName ?? '';
}

/** The volume's class, the same way. */
export function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.[Ann.BetaStorageClass] ?? pv.spec?.storageClassName ?? '';
}

function storageOf(list: Readonly<Record<string, string | number>> | undefined): Quantity | undefined {
  const v = list?.['storage'];
  return v === undefined ? undefined : tryParseQuantity(String(v)) ?? undefined;
}

/** The storage the claim requests (0 when unset). */
export function requestedStorage(pvc: PersistentVolumeClaim): Quantity {
  return storageOf(pvc.spec?.resources?.requests) ?? tryParseQuantity('0')!;
}

/** The volume's storage capacity (0 when unset). */
export function volumeStorage(pv: PersistentVolume): Quantity {
  return storageOf(pv.spec?.capacity) ?? tryParseQuantity('0')!;
}

/** True when the volume's claimRef names this claim (and, if it has a UID, this claim's UID). */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** CheckVolumeModeMismatches: Filesystem is the default on both sides. */
export function volumeModeMismatch(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** The volume offers every access mode the claim asks for. */
export function accessModesMatch(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const have = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => have.has(m));
}

/** Why `pv` cannot serve `pvc` (checkVolumeSatisfyClaim), or undefined when it can. */
export function checkVolumeSatisfyClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): string | undefined {
  if (pv.metadata?.deletionTimestamp) return `the volume is marked for deletion ${JSON.stringify(pv.metadata.name ?? '')}`;
  if (cmpQuantity(volumeStorage(pv), requestedStorage(pvc)) < 0) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if (volumeModeMismatch(pvc, pv)) return 'incompatible volumeMode';
  if (!accessModesMatch(pvc, pv)) return 'incompatible accessMode';
  return undefined;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
    case 'Lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
    default: return false;
  }
}

/** Whether the volume's node affinity admits `node` (CheckNodeAffinity); no affinity admits all. */
export function nodeAffinityMatches(pv: PersistentVolume, node: Node): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) => {
    const exprs = t.matchExpressions ?? [], fields = t.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) return false;
    return exprs.every((r) => requirementMatches(r, labels[r.key]))
      && fields.every((r) => requirementMatches(r, r.key === 'metadata.name' ? node.metadata?.name : undefined));
  });
}

/**
 * The volume to bind `pvc` to (findBestMatchForClaim), or undefined. `delayBinding` without a
 * node only returns a volume pre-bound to the claim; with `node`, affinity and access modes count.
 */
export function findBestMatchForClaim(pvc: PersistentVolumeClaim, volumes: readonly PersistentVolume[], delayBinding: boolean, node?: Node): PersistentVolume | undefined {
  const wanted = pvc.spec?.accessModes ?? [];
  // Candidate groups by exact access-mode set, fewest modes first, each covering the claim's modes.
  const groups = new Map<string, PersistentVolume[]>();
  for (const pv of volumes) {
    const modes = [...new Set(pv.spec?.accessModes ?? [])].sort();
    if (!wanted.every((m) => modes.includes(m))) continue;
    const k = modes.join(',');
    groups.set(k, [...(groups.get(k) ?? []), pv]);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => a.split(',').length - b.split(',').length || (a < b ? -1 : a > b ? 1 : 0));
  const requested = requestedStorage(pvc);
  const cls = claimClass(pvc);
  let selector;
  try {
    selector = pvc.spec?.selector ? labelSelectorAsSelector(pvc.spec.selector as LabelSelectorLike) : undefined;
  } catch {
    return undefined;
  }
  for (const [, group] of ordered) {
    let best: PersistentVolume | undefined;
    for (const pv of group) {
      if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) continue;
      const size = volumeStorage(pv);
      if (cmpQuantity(size, requested) < 0) continue;
      if (volumeModeMismatch(pvc, pv)) continue;
      if (pv.metadata?.deletionTimestamp) continue;
      const affinityOk = node === undefined || nodeAffinityMatches(pv, node);
      if (isVolumeBoundToClaim(pv, pvc)) return affinityOk ? pv : undefined;
      if (node === undefined && delayBinding) continue;
      if (pv.status?.phase !== 'Available') continue;
      if (selector && !matches(selector, pv.metadata?.labels)) continue;
      if (volumeClass(pv) !== cls) continue;
      if (!affinityOk) continue;
      if (!best || cmpQuantity(volumeStorage(best), size) > 0) best = pv;
    }
    if (best) return best;
  }
  return undefined;
}
