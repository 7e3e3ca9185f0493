// StatefulSet identity and storage rules (upstream stateful_set_utils.go): "<set>-<ordinal>" names,
// the pod-name/pod-index/revision labels, hostname and subdomain, claims "<template>-<set>-<ordinal>",
// the PVC ownerReferences each retention policy wants, revisions as template patches, and pod states.
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from '../../api/types/apps_v1.ts';
import type { PersistentVolumeClaim, Pod, Volume } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { newControllerRevision, templatePatch } from '../controller_history.ts';
import { getPodFromTemplate, isPodAvailable, isPodReady, newControllerRef } from '../controller_utils.ts';

export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Revision of a pod (StatefulSetRevisionLabel, the same key DaemonSets use). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

export const STATEFULSET_KIND = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;
const POD_KIND = { apiVersion: 'v1', kind: 'Pod' } as const;

const ORDINAL_RE = /^(.*)-([0-9]+)$/;

/** The parent name and ordinal in a pod name ("web-2" → web, 2); ordinal -1 when none. */
export function parentNameAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = ORDINAL_RE.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1]!, ordinal: Number.isSafeInteger(n) && n <= 2147483647 ? n : -1 };
}

export function getOrdinal(pod: Pod): number {
  return parentNameAndOrdinal(pod).ordinal;
}

export function getStartOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicasOf(set: StatefulSet): number {
  return set.spec?.replicas ?? 1;
}

export function getEndOrdinal(set: StatefulSet): number {
  return getStartOrdinal(set) + replicasOf(set) - 1;
}

export function podInOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const o = getOrdinal(pod);
  return o >= getStartOrdinal(set) && o <= getEndOrdinal(set);
}

export function getPodName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name ?? ''}-${ordinal}`;
}

export function getPersistentVolumeClaimName(set: StatefulSet, claim: PersistentVolumeClaim, ordinal: number): string {
  return `${claim.metadata?.name ?? ''}-${set.metadata?.name ?? ''}-${ordinal}`;
}

export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentNameAndOrdinal(pod).parent === set.metadata?.name;
}

export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  return ordinal >= 0 && parent === set.metadata?.name && pod.metadata?.name === getPodName(set, ordinal) &&
    pod.metadata?.namespace === set.metadata?.namespace && pod.metadata?.labels?.[STATEFULSET_POD_NAME_LABEL] === pod.metadata?.name;
}

export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const claim of set.spec?.volumeClaimTemplates ?? []) {
    const v = volumes.get(claim.metadata?.name ?? '');
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== getPersistentVolumeClaimName(set, claim, ordinal)) return false;
  }
  return true;
}

/** The claims of a pod by template name, in template order (getPersistentVolumeClaims). */
export function getPersistentVolumeClaims(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = getOrdinal(pod);
  const out = new Map<string, PersistentVolumeClaim>();
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const claim: PersistentVolumeClaim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: structuredClone(t.metadata ?? {}), spec: structuredClone(t.spec ?? {}) };
    claim.metadata!.name = getPersistentVolumeClaimName(set, t, ordinal);
    claim.metadata!.namespace = set.metadata?.namespace ?? '';
    claim.metadata!.labels = { ...(claim.metadata!.labels ?? {}), ...(set.spec?.selector.matchLabels ?? {}) };
    out.set(t.metadata?.name ?? '', claim);
  }
  return out;
}

/** Points the pod's claim volumes at its PVCs, keeping its other volumes (updateStorage). */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = getPersistentVolumeClaims(set, pod);
  const volumes: Volume[] = [];
  for (const [name, claim] of claims) volumes.push({ name, persistentVolumeClaim: { claimName: claim.metadata!.name! } });
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec!.volumes = volumes;
}

/** Name, namespace and the pod-name/pod-index labels (updateIdentity). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  const md = (pod.metadata ??= {});
  md.name = getPodName(set, ordinal);
  md.namespace = set.metadata?.namespace ?? '';
  md.labels = { ...(md.labels ?? {}), [STATEFULSET_POD_NAME_LABEL]: md.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/** A pod for `ordinal` from the set's template (newStatefulSetPod). */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): Pod {
  const pod = getPodFromTemplate(set.spec!.template, set, newControllerRef(set, STATEFULSET_KIND));
  delete pod.metadata!.generateName;
  pod.metadata!.name = getPodName(set, ordinal);
  updateIdentity(set, pod);
  // Hostname and subdomain are immutable, so only set at creation.
  pod.spec!.hostname = pod.metadata!.name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  updateStorage(set, pod);
  return pod;
}

export function getPodRevision(pod: Pod): string {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
}

export function setPodRevision(pod: Pod, revision: string): void {
  const md = (pod.metadata ??= {});
  md.labels = { ...(md.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: revision };
}

/** The pod at the current revision below the partition, else at the update revision (newVersionedStatefulSetPod). */
export function newVersionedStatefulSetPod(currentSet: StatefulSet, updateSet: StatefulSet, currentRevision: string, updateRevision: string, ordinal: number): Pod {
  const strategy = currentSet.spec?.updateStrategy;
  const start = getStartOrdinal(currentSet);
  const useCurrent = (strategy?.type === 'RollingUpdate' && !strategy.rollingUpdate && ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (strategy?.rollingUpdate !== undefined && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
  const pod = newStatefulSetPod(useCurrent ? currentSet : updateSet, ordinal);
  setPodRevision(pod, useCurrent ? currentRevision : updateRevision);
  return pod;
}

/** A revision holding the set's template (newRevision). */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const cr = newControllerRevision(set, newControllerRef(set, STATEFULSET_KIND), set.spec?.template.metadata?.labels, templatePatch(set), revision, collisionCount);
  cr.metadata!.annotations = { ...(set.metadata?.annotations ?? {}) };
  return cr;
}

/** The set with its template restored from a revision (ApplyRevision). */
export function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const clone = structuredClone(set);
  const template = structuredClone((revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template);
  if (template) {
    delete template['$patch'];
    const md = template['metadata'] as Record<string, unknown> | undefined;
    if (md && md['creationTimestamp'] === null) delete md['creationTimestamp'];
    clone.spec!.template = template as NonNullable<StatefulSet['spec']>['template'];
  }
  return clone;
}

// ---- pod states

export function isCreated(pod: Pod): boolean {
  return (pod.status?.phase ?? '') !== '';
}

export function isPending(pod: Pod): boolean {
  return pod.status?.phase === 'Pending';
}

export function isFailed(pod: Pod): boolean {
  return pod.status?.phase === 'Failed';
}

export function isSucceeded(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded';
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

export function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

export function allowsBurst(set: StatefulSet): boolean {
  return set.spec?.podManagementPolicy === 'Parallel';
}

// ---- PVC retention (StatefulSetAutoDeletePVC, GA in 1.32)

interface RetentionPolicy {
  whenDeleted: string;
  whenScaled: string;
}

export function retentionPolicy(set: StatefulSet): RetentionPolicy {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted ?? 'Retain', whenScaled: p?.whenScaled ?? 'Retain' };
}

function matchesRef(ref: OwnerReference, name: string | undefined, kind: { apiVersion: string; kind: string }): boolean {
  return ref.apiVersion === kind.apiVersion && ref.kind === kind.kind && ref.name === name;
}

function hasOwnerRef(claim: PersistentVolumeClaim, uid: string | undefined): boolean {
  return claim.metadata?.ownerReferences?.some((r) => r.uid === uid) ?? false;
}

function hasStaleOwnerRef(claim: PersistentVolumeClaim, name: string | undefined, uid: string | undefined, kind: { apiVersion: string; kind: string }): boolean {
  for (const r of claim.metadata?.ownerReferences ?? []) if (matchesRef(r, name, kind)) return r.uid !== uid;
  return false;
}

function hasUnexpectedController(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const p = retentionPolicy(set);
  if (p.whenScaled === 'Retain' && p.whenDeleted === 'Retain') return false;
  for (const r of claim.metadata?.ownerReferences ?? []) {
    if (matchesRef(r, set.metadata?.name, STATEFULSET_KIND)) {
      if (r.uid !== set.metadata?.uid) return true;
      continue;
    }
    if (matchesRef(r, pod.metadata?.name, POD_KIND)) {
      if (r.uid !== pod.metadata?.uid) return true;
      continue;
    }
    if (r.controller) return true;
  }
  return false;
}

function hasNonControllerOwner(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  return claim.metadata?.ownerReferences?.some((r) => (r.uid === set.metadata?.uid || r.uid === pod.metadata?.uid) && !r.controller) ?? false;
}

/** Whether the claim's ownerReferences already say what the retention policy wants (isClaimOwnerUpToDate). */
export function isClaimOwnerUpToDate(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  if (hasStaleOwnerRef(claim, set.metadata?.name, set.metadata?.uid, STATEFULSET_KIND) || hasStaleOwnerRef(claim, pod.metadata?.name, pod.metadata?.uid, POD_KIND)) return true;
  const setRef = hasOwnerRef(claim, set.metadata?.uid);
  const podRef = hasOwnerRef(claim, pod.metadata?.uid);
  if (hasUnexpectedController(claim, set, pod)) return !(setRef || podRef);
  if (hasNonControllerOwner(claim, set, pod)) return false;
  const p = retentionPolicy(set);
  const scaledDown = !podInOrdinalRange(pod, set);
  if (p.whenScaled === 'Delete' && p.whenDeleted === 'Delete') return scaledDown !== setRef && scaledDown === podRef;
  if (p.whenScaled === 'Delete') return !setRef && scaledDown === podRef;
  if (p.whenDeleted === 'Delete') return setRef && !podRef;
  return !setRef && !podRef;
}

/** Rewrites the claim's ownerReferences to match the retention policy (updateClaimOwnerRefForSetAndPod). */
export function updateClaimOwnerRefForSetAndPod(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): void {
  const unexpected = hasUnexpectedController(claim, set, pod);
  let refs = (claim.metadata?.ownerReferences ?? []).filter((r) => !matchesRef(r, set.metadata?.name, STATEFULSET_KIND) && !matchesRef(r, pod.metadata?.name, POD_KIND));
  const add = (owner: Pod | StatefulSet, kind: { apiVersion: string; kind: string }): void => {
    if (!refs.some((r) => r.uid === owner.metadata?.uid)) refs = [...refs, newControllerRef(owner, kind)];
  };
  if (!unexpected) {
    const p = retentionPolicy(set);
    const scaledDown = !podInOrdinalRange(pod, set);
    if (p.whenScaled === 'Retain' && p.whenDeleted === 'Delete') add(set, STATEFULSET_KIND);
    else if (p.whenScaled === 'Delete' && p.whenDeleted === 'Retain') {
      if (scaledDown) add(pod, POD_KIND);
    } else if (p.whenScaled === 'Delete' && p.whenDeleted === 'Delete') {
      if (scaledDown) add(pod, POD_KIND);
      else add(set, STATEFULSET_KIND);
    }
  }
  const md = (claim.metadata ??= {});
  if (refs.length > 0) md.ownerReferences = refs;
  else delete md.ownerReferences;
}

// ---- status

/** The replica counts of a pod list (computeReplicaStatus). */
export function computeReplicaStatus(pods: readonly Pod[], minReadySeconds: number, currentRevision: string, updateRevision: string, now: number): Pick<StatefulSetStatus, 'replicas' | 'readyReplicas' | 'availableReplicas' | 'currentReplicas' | 'updatedReplicas'> {
  const s = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    if (isCreated(pod)) s.replicas++;
    if (isRunningAndReady(pod)) {
      s.readyReplicas++;
      if (isRunningAndAvailable(pod, minReadySeconds, now)) s.availableReplicas++;
    }
    if (isCreated(pod) && !isTerminating(pod)) {
      const rev = getPodRevision(pod);
      if (rev === currentRevision) s.currentReplicas++;
      if (rev === updateRevision) s.updatedReplicas++;
    }
  }
  return s;
}

/** Whether the computed status differs from the stored one (inconsistentStatus). */
export function inconsistentStatus(set: StatefulSet, status: StatefulSetStatus): boolean {
  const cur = set.status;
  return (status.observedGeneration ?? 0) > (cur?.observedGeneration ?? 0) ||
    status.replicas !== (cur?.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (cur?.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (cur?.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (cur?.updatedReplicas ?? 0) ||
    (status.currentRevision ?? '') !== (cur?.currentRevision ?? '') ||
    (status.availableReplicas ?? 0) !== (cur?.availableReplicas ?? 0) ||
    (status.updateRevision ?? '') !== (cur?.updateRevision ?? '');
}

/** Once every replica runs the update revision, it becomes the current one (completeRollingUpdate). */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  if (set.spec?.updateStrategy?.type === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}
