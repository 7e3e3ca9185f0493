// Pure helpers of the Deployment controller (pkg/controller/deployment/util/deployment_util.go):
// revisions and their annotations, surge/unavailability fenceposts, proportions, finding the new
// and old ReplicaSets, conditions and the progress checks `kubectl rollout status` relies on.
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetCondition } from '../../api/types/apps_v1.ts';
import type { PodTemplateSpec } from '../../api/types/core_v1.ts';
import type { IntOrString } from '../../api/types/apimachinery.ts';
import { formatTime, parseTime } from '../../client/clock.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { spewPodTemplateSpec } from '../deep_hash.ts';

export const RevisionAnnotation = 'deployment.kubernetes.io/revision';
export const RevisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const DesiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const MaxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
/** The extensions/v1beta1 rollback request, still honoured when set as an annotation. */
export const DeprecatedRollbackTo = 'deprecated.deployment.rollback.to';
export const LastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** Label tying a ReplicaSet and its pods to one template (apps.DefaultDeploymentUniqueLabelKey). */
export const DefaultDeploymentUniqueLabelKey = 'pod-template-hash';

export const RollbackRevisionNotFound = 'DeploymentRollbackRevisionNotFound';
export const RollbackTemplateUnchanged = 'DeploymentRollbackTemplateUnchanged';
export const RollbackDone = 'DeploymentRollback';

/** Condition reasons (Progressing, Available, ReplicaFailure). */
export const Reason = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSet: 'NewReplicaSetCreated',
  FoundNewRS: 'FoundNewReplicaSet',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  PausedDeploy: 'DeploymentPaused',
  ResumedDeploy: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** Longest revision-history annotation kept (maxRevHistoryLengthInChars). */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;
const MAX_INT32 = 2147483647;

const annotationsToSkip = new Set([
  LastAppliedConfigAnnotation, RevisionAnnotation, RevisionHistoryAnnotation, DesiredReplicasAnnotation,
  MaxReplicasAnnotation, DeprecatedRollbackTo,
]);

/** spec.replicas with upstream's default of 1. */
export function replicasOf(obj: Deployment | ReplicaSet | undefined): number {
  return obj?.spec?.replicas ?? 1;
}

// ---- Conditions.

/** A condition stamped now (both times). */
export function newDeploymentCondition(type: string, status: string, reason: string, message: string, nowMs: number): DeploymentCondition {
  const t = formatTime(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getDeploymentCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Adds or replaces a condition; same status and reason is a no-op; same status keeps lastTransitionTime. */
export function setDeploymentCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getDeploymentCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status && cur.lastTransitionTime !== undefined) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

/** A ReplicaSet condition as a Deployment condition (ReplicaFailure promotion). */
export function replicaSetToDeploymentCondition(c: ReplicaSetCondition): DeploymentCondition {
  const out: DeploymentCondition = { type: c.type, status: c.status };
  if (c.lastTransitionTime) {
    out.lastTransitionTime = c.lastTransitionTime;
    out.lastUpdateTime = c.lastTransitionTime;
  }
  if (c.reason !== undefined) out.reason = c.reason;
  if (c.message !== undefined) out.message = c.message;
  return out;
}

// ---- Revisions.

/** The revision of an object (0 when unset); NaN when the annotation is not an integer. */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const v = obj?.metadata?.annotations?.[RevisionAnnotation];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
}

export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max;
}

/** The second highest revision (the one `rollout undo` goes back to). */
export function lastRevision(rss: readonly ReplicaSet[]): number {
  let max = 0, sec = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (Number.isNaN(v)) continue;
    if (v >= max) {
      sec = max;
      max = v;
    } else if (v > sec) {
      sec = v;
    }
  }
  return sec;
}

/** Sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  d.metadata ??= {};
  d.metadata.annotations ??= {};
  if (d.metadata.annotations[RevisionAnnotation] === revision) return false;
  d.metadata.annotations[RevisionAnnotation] = revision;
  return true;
}

function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  rs.metadata ??= {};
  rs.metadata.annotations ??= {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (annotationsToSkip.has(k) || rs.metadata.annotations[k] === v) continue;
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/** Copies the rolled-back-to ReplicaSet's annotations onto the Deployment (SetDeploymentAnnotationsTo). */
export function setDeploymentAnnotationsTo(d: Deployment, rs: ReplicaSet): void {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (annotationsToSkip.has(k)) kept[k] = v;
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!annotationsToSkip.has(k)) kept[k] = v;
  d.metadata ??= {};
  d.metadata.annotations = kept;
}

/**
 * Copies the Deployment's annotations to the new ReplicaSet, raises its revision to
 * `newRevision` (recording the old one in revision-history) and, for a ReplicaSet about to be
 * created, sets desired/max replicas. True when anything changed (SetNewReplicaSetAnnotations).
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, revHistoryLimitInChars = MAX_REV_HISTORY_LENGTH_IN_CHARS): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const ann = rs.metadata!.annotations!;
  const oldRevision = ann[RevisionAnnotation];
  const had = oldRevision !== undefined;
  let oldInt = 0;
  if (oldRevision !== undefined && oldRevision !== '') {
    if (!/^[+-]?\d+$/.test(oldRevision)) return false;
    oldInt = Number(oldRevision);
  }
  if (!/^[+-]?\d+$/.test(newRevision)) return false;
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    ann[RevisionAnnotation] = newRevision;
    changed = true;
  }
  if (had && oldInt < newInt) {
    const history = ann[RevisionHistoryAnnotation] ?? '';
    const old = history.split(',');
    if (old[0]!.length === 0) {
      ann[RevisionHistoryAnnotation] = oldRevision!;
    } else {
      let totalLen = history.length + oldRevision!.length + 1;
      let start = 0;
      while (totalLen > revHistoryLimitInChars && start < old.length) {
        totalLen -= old[start]!.length + 1;
        start++;
      }
      if (totalLen <= revHistoryLimitInChars) ann[RevisionHistoryAnnotation] = [...old.slice(start), oldRevision!].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

function intAnnotation(rs: ReplicaSet | undefined, key: string): number | undefined {
  const v = rs?.metadata?.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= -2147483648 && n <= MAX_INT32 ? n : undefined;
}

export function getDesiredReplicasAnnotation(rs: ReplicaSet | undefined): number | undefined {
  return intAnnotation(rs, DesiredReplicasAnnotation);
}

function getMaxReplicasAnnotation(rs: ReplicaSet | undefined): number | undefined {
  return intAnnotation(rs, MaxReplicasAnnotation);
}

/** Sets desired/max replicas annotations; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  rs.metadata ??= {};
  rs.metadata.annotations ??= {};
  const ann = rs.metadata.annotations;
  let updated = false;
  if (ann[DesiredReplicasAnnotation] !== String(desired)) {
    ann[DesiredReplicasAnnotation] = String(desired);
    updated = true;
  }
  if (ann[MaxReplicasAnnotation] !== String(max)) {
    ann[MaxReplicasAnnotation] = String(max);
    updated = true;
  }
  return updated;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata?.annotations;
  if (!ann) return true;
  return ann[DesiredReplicasAnnotation] !== String(desired) || ann[MaxReplicasAnnotation] !== String(max);
}

// ---- Surge and unavailability.

export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === 'RollingUpdate';
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValueFromIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (!v.endsWith('%')) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const pct = Number.parseInt(v.slice(0, -1), 10);
  if (Number.isNaN(pct) || !/^[+-]?\d+$/.test(v.slice(0, -1))) throw new Error(`invalid value "${v}": strconv.Atoi: parsing ${JSON.stringify(v.slice(0, -1))}: invalid syntax`);
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge (rounded up) and maxUnavailable (rounded down); both zero becomes unavailable 1. */
export function resolveFenceposts(surge: IntOrString | undefined, unavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const s = scaledValueFromIntOrPercent(surge ?? 0, desired, true);
  let u = scaledValueFromIntOrPercent(unavailable ?? 0, desired, false);
  if (s === 0 && u === 0) u = 1;
  return { surge: s, unavailable: u };
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d));
  return Math.min(unavailable, replicasOf(d));
}

export function minAvailable(d: Deployment): number {
  return replicasOf(d) - maxUnavailable(d);
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d)).surge;
}

/** How many replicas `rs` gains (or loses) in a proportional scale (GetReplicaSetProportion). */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = getReplicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function getReplicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentMax = replicasOf(d) + maxSurge(d);
  const annotated = getMaxReplicasAnnotation(rs) ?? (d.status?.replicas ?? 0);
  const newSize = (replicasOf(rs) * deploymentMax) / annotated;
  return roundHalfAwayFromZero(newSize) - replicasOf(rs);
}

function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

// ---- Finding ReplicaSets.

function creationMs(o: { metadata?: { creationTimestamp?: string } }): number {
  return parseTime(o.metadata?.creationTimestamp) ?? 0;
}

/** Oldest first, ties by name (ReplicaSetsByCreationTimestamp). */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const d = creationMs(a) - creationMs(b);
  if (d !== 0) return d;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
}

/** Largest first, ties newer first (ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(b, a);
  return replicasOf(b) - replicasOf(a);
}

/** Largest first, ties older first (ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(a, b);
  return replicasOf(b) - replicasOf(a);
}

/** Lowest revision first, ties by creation (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a) || 0, rb = revisionOf(b) || 0;
  if (ra === rb) return byCreationTimestamp(a, b);
  return ra - rb;
}

/** Templates equal apart from the pod-template-hash label, nil and empty alike (EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return spewWithoutHash(a) === spewWithoutHash(b);
}

/**
 * The printed template without its hash label, remembered per template object: every Deployment
 * sync compares its template with each ReplicaSet's, and templates (cached or copied) are never
 * modified in place once read.
 */
const spewCache = new WeakMap<PodTemplateSpec, string>();
/**
 * The same by the template's JSON text: each status write of a ReplicaSet and each sync's copy of
 * the Deployment bring a new template object with the same content, and printing is far dearer
 * than JSON.stringify. Equal JSON means equal templates, so equal prints.
 */
const spewByJson = new Map<string, string>();
const SPEW_BY_JSON_MAX = 256;

function spewWithoutHash(t: PodTemplateSpec | undefined): string {
  if (t === undefined) return spewPodTemplateSpec(withoutHash(t));
  let s = spewCache.get(t);
  if (s === undefined) {
    const json = JSON.stringify(t);
    s = spewByJson.get(json);
    if (s === undefined) {
      s = spewPodTemplateSpec(withoutHash(t));
      if (spewByJson.size >= SPEW_BY_JSON_MAX) spewByJson.clear();
      spewByJson.set(json, s);
    }
    spewCache.set(t, s);
  }
  return s;
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(t ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels[DefaultDeploymentUniqueLabelKey];
  return copy;
}

/** The oldest ReplicaSet whose template matches the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one (FindOldReplicaSets' second result). */
export function findOldReplicaSets(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet[] {
  const newRS = findNewReplicaSet(d, rss);
  return rss.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
}

/** ReplicaSets with spec.replicas > 0. */
export function filterActiveReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);
}

/** The only active (or the newest) ReplicaSet when at most one is active (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActiveReplicaSets([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

export function sumReplicas(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
}

export function sumStatus(rss: readonly (ReplicaSet | undefined)[], field: 'replicas' | 'readyReplicas' | 'availableReplicas'): number {
  return rss.reduce((n, rs) => n + (rs?.status?.[field] ?? 0), 0);
}

/** True when `rs` is controlled by the object with `uid`. */
export function isControlledBy(rs: ReplicaSet, uid: string | undefined): boolean {
  return controllerRefOf(rs)?.uid === uid;
}

// ---- Progress.

/** How many replicas the new ReplicaSet should have now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const type = d.spec?.strategy?.type;
  if (type === 'RollingUpdate') {
    const surge = scaledValueFromIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? 0, replicasOf(d), true);
    const current = sumReplicas(allRSs);
    const maxTotal = replicasOf(d) + surge;
    if (current >= maxTotal) return replicasOf(newRS);
    const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
    return replicasOf(newRS) + up;
  }
  if (type === 'Recreate') return replicasOf(d);
  throw new Error(`deployment type ${type ?? ''} isn't supported`);
}

/** The new ReplicaSet runs all desired replicas, available (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = getDesiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  return replicasOf(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== MAX_INT32;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== MAX_INT32;
}

/** All replicas updated and available, and the current generation observed (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus | undefined): boolean {
  const r = replicasOf(d);
  return (s?.updatedReplicas ?? 0) === r && (s?.replicas ?? 0) === r && (s?.availableReplicas ?? 0) === r &&
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Something moved since the last status (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** No progress reported within progressDeadlineSeconds (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getDeploymentCondition(s, 'Progressing');
  if (!cond) return false;
  if (cond.reason === Reason.NewRSAvailable) return false;
  if (cond.reason === Reason.TimedOut) return true;
  const from = parseTime(cond.lastUpdateTime) ?? 0;
  return from + (d.spec!.progressDeadlineSeconds! * 1000) < nowMs;
}
