// Scaling, revisions and status of a Deployment (pkg/controller/deployment/sync.go): finds or
// creates the new ReplicaSet, scales proportionally, cleans up old revisions, computes status.
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../api/types/apps_v1.ts';
import { hasStatusCause, isAlreadyExists, isNotFound } from '../../client/api_errors.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { computeHash } from '../deep_hash.ts';
import { NamespaceTerminatingCause, errMessage, newControllerRef } from '../controller_utils.ts';
import type { DeploymentController } from './deployment_controller.ts';
import {
  DefaultDeploymentUniqueLabelKey, Reason, byRevision, bySizeNewer, bySizeOlder, equalIgnoreHash,
  filterActiveReplicaSets, findActiveOrLatest, findNewReplicaSet, findOldReplicaSets, getDeploymentCondition,
  getDesiredReplicasAnnotation, getProportion, hasProgressDeadline, hasRevisionHistoryLimit, isRollingUpdate, isSaturated,
  maxRevision, maxSurge, maxUnavailable, newDeploymentCondition, newRSNewReplicas, replicasAnnotationsNeedUpdate,
  replicasOf, setDeploymentCondition, setDeploymentRevision, setNewReplicaSetAnnotations, setReplicasAnnotations,
  sumReplicas, sumStatus,
} from './deployment_util.ts';

export const CONTROLLER_KIND = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;

/** Status only (a Deployment being deleted). */
export async function syncStatusOnly(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, false);
  await syncDeploymentStatus(dc, [...oldRSs, newRS], newRS, d);
}

/** Reconciles scaling events and paused Deployments without rolling anything out. */
export async function sync(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, false);
  await scale(dc, d, newRS, oldRSs);
  if (d.spec?.paused && !getRollbackTo(d)) await cleanupDeployment(dc, oldRSs, d);
  await syncDeploymentStatus(dc, [...oldRSs, newRS], newRS, d);
}

/** The revision a deprecated rollback annotation asks for, if any. */
export function getRollbackTo(d: Deployment): { revision: number } | undefined {
  const v = d.metadata?.annotations?.['deprecated.deployment.rollback.to'];
  // Missing, empty or unparsable: no rollback requested (upstream ignores invalid values).
  if (!v || !/^[+-]?\d+$/.test(v)) return undefined;
  return { revision: Number(v) };
}

/** Adds the Unknown Progressing condition on pause/resume so a paused rollout never times out. */
export async function checkPausedConditions(dc: DeploymentController, d: Deployment): Promise<void> {
  if (!hasProgressDeadline(d)) return;
  const cond = getDeploymentCondition(d.status, 'Progressing');
  if (cond && cond.reason === Reason.TimedOut) return;
  const pausedCondExists = cond !== undefined && cond.reason === Reason.PausedDeploy;
  d.status ??= {};
  const now = dc.clock.now();
  if (d.spec?.paused && !pausedCondExists) {
    setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'Unknown', Reason.PausedDeploy, 'Deployment is paused', now));
  } else if (!d.spec?.paused && pausedCondExists) {
    setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'Unknown', Reason.ResumedDeploy, 'Deployment is resumed', now));
  } else {
    return;
  }
  const updated = await dc.client.updateDeploymentStatus(d);
  Object.assign(d, updated);
}

/** The new ReplicaSet (created when asked and missing) and every old one, revisions synced. */
export async function getAllReplicaSetsAndSyncRevision(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[], createIfNotExisted: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
  const oldRSs = findOldReplicaSets(d, rsList);
  const newRS = await getNewReplicaSet(dc, d, rsList, oldRSs, createIfNotExisted);
  return { newRS, oldRSs };
}

async function getNewReplicaSet(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[], oldRSs: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
  const existing = findNewReplicaSet(d, rsList);
  const newRevision = String(maxRevision(oldRSs) + 1);
  const now = dc.clock.now();
  if (existing) {
    const rsCopy = structuredClone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
    const minReadyNeedsUpdate = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadyNeedsUpdate) {
      rsCopy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      return dc.client.updateReplicaSet(rsCopy);
    }
    // The revision in the ReplicaSet's annotation is the reliable one.
    let needsUpdate = setDeploymentRevision(d, rsCopy.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '');
    const cond = getDeploymentCondition(d.status, 'Progressing');
    if (hasProgressDeadline(d) && !cond) {
      d.status ??= {};
      setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'True', Reason.FoundNewRS, `Found new replica set "${rsCopy.metadata?.name ?? ''}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) Object.assign(d, await dc.client.updateDeploymentStatus(d));
    return rsCopy;
  }
  if (!createIfNotExisted) return undefined;

  const template = structuredClone(d.spec!.template);
  const hash = computeHash(template, d.status?.collisionCount);
  template.metadata ??= {};
  template.metadata.labels = { ...(d.spec!.template.metadata?.labels ?? {}), [DefaultDeploymentUniqueLabelKey]: hash };
  const selector = structuredClone(d.spec!.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [DefaultDeploymentUniqueLabelKey]: hash };
  const newRS: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata?.name ?? ''}-${hash}`,
      namespace: d.metadata?.namespace ?? '',
      ownerReferences: [newControllerRef(d, CONTROLLER_KIND)],
      labels: { ...template.metadata.labels },
    },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  newRS.spec!.replicas = newReplicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false);
  let created: ReplicaSet;
  let alreadyExists = false;
  try {
    created = await dc.client.createReplicaSet(newRS);
  } catch (err) {
    if (isAlreadyExists(err)) {
      // A slow cache or a hash collision: ours only if we own it and the template matches.
      const rs = dc.rsLister.get(newRS.metadata!.namespace!, newRS.metadata!.name!) as ReplicaSet | undefined;
      if (!rs) throw err;
      const ref = controllerRefOf(rs);
      if (ref && ref.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
        created = rs;
        alreadyExists = true;
      } else {
        d.status ??= {};
        d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
        try {
          await dc.client.updateDeploymentStatus(d);
        } catch { /* requeued with the original error */ }
        throw err;
      }
    } else if (hasStatusCause(err, NamespaceTerminatingCause)) {
      throw err;
    } else {
      const msg = `Failed to create new replica set "${newRS.metadata!.name}": ${errMessage(err)}`;
      if (hasProgressDeadline(d)) {
        d.status ??= {};
        setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'False', Reason.FailedRSCreate, msg, now));
        try {
          await dc.client.updateDeploymentStatus(d);
        } catch { /* the create failure is the bigger problem */ }
      }
      dc.recorder.eventf(d, 'Warning', Reason.FailedRSCreate, '%s', msg);
      throw err;
    }
  }
  if (!alreadyExists && newReplicas > 0) {
    dc.recorder.eventf(d, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set %s from 0 to %d', created.metadata?.name ?? '', newReplicas);
  }
  let needsUpdate = setDeploymentRevision(d, newRevision);
  if (!alreadyExists && hasProgressDeadline(d)) {
    d.status ??= {};
    setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'True', Reason.NewReplicaSet, `Created new replica set "${created.metadata?.name ?? ''}"`, now));
    needsUpdate = true;
  }
  if (needsUpdate) Object.assign(d, await dc.client.updateDeploymentStatus(d));
  return created;
}

/** Scales ReplicaSets for a changed replica count, proportionally during a rollout. */
export async function scale(dc: DeploymentController, d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
  const active = findActiveOrLatest(newRS, oldRSs);
  if (active) {
    if (replicasOf(active) === replicasOf(d)) return;
    await scaleReplicaSetAndRecordEvent(dc, active, replicasOf(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActiveReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(dc, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = filterActiveReplicaSets([...oldRSs, newRS]);
  const allReplicas = sumReplicas(all);
  const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowedSize - allReplicas;
  let operation = '';
  if (toAdd > 0) {
    all.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const p = getProportion(rs, d, toAdd, added);
      sizes.set(rs.metadata!.name!, replicasOf(rs) + p);
      added += p;
    } else {
      sizes.set(rs.metadata!.name!, replicasOf(rs));
    }
  }
  for (let i = 0; i < all.length; i++) {
    const rs = all[i]!;
    const name = rs.metadata!.name!;
    if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, sizes.get(name)! + (toAdd - added)));
    await scaleReplicaSet(dc, rs, sizes.get(name)!, d, operation);
  }
}

/** Scales `rs` to `newScale` with a ScalingReplicaSet event; returns whether it scaled and the written object. */
export async function scaleReplicaSetAndRecordEvent(dc: DeploymentController, rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (replicasOf(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(dc, rs, newScale, d, replicasOf(rs) < newScale ? 'up' : 'down');
}

async function scaleReplicaSet(dc: DeploymentController, rs: ReplicaSet, newScale: number, d: Deployment, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const sizeNeedsUpdate = replicasOf(rs) !== newScale;
  const max = replicasOf(d) + maxSurge(d);
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return { scaled: false, rs };
  const oldScale = replicasOf(rs);
  const copy = structuredClone(rs);
  copy.spec!.replicas = newScale;
  setReplicasAnnotations(copy, replicasOf(d), max);
  const written = await dc.client.updateReplicaSet(copy);
  if (sizeNeedsUpdate) {
    dc.recorder.eventf(d, 'Normal', 'ScalingReplicaSet', 'Scaled %s replica set %s from %d to %d', operation, written.metadata?.name ?? '', oldScale, newScale);
  }
  return { scaled: sizeNeedsUpdate, rs: written };
}

/** Deletes the oldest empty ReplicaSets beyond revisionHistoryLimit. */
export async function cleanupDeployment(dc: DeploymentController, oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
  if (!hasRevisionHistoryLimit(d)) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = cleanable.length - d.spec!.revisionHistoryLimit!;
  if (diff <= 0) return;
  cleanable.sort(byRevision);
  for (let i = 0; i < diff; i++) {
    const rs = cleanable[i]!;
    if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) continue;
    try {
      await dc.client.deleteReplicaSet(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** The status the ReplicaSets imply, with the Available condition (calculateStatus). */
export function calculateStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const available = sumStatus(allRSs, 'availableReplicas');
  const total = sumReplicas(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: sumStatus([newRS], 'replicas'),
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setDeploymentCondition(status, newDeploymentCondition('Available', 'True', Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    setDeploymentCondition(status, newDeploymentCondition('Available', 'False', Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  return status;
}

/** Writes the computed status when it differs. */
export async function syncDeploymentStatus(dc: DeploymentController, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
  const status = calculateStatus(allRSs, newRS, d, dc.clock.now());
  if (sameStatus(d.status, status)) return;
  d.status = status;
  await dc.client.updateDeploymentStatus(d);
}

/** reflect.DeepEqual of two statuses as they serialize (omitted zero values included). */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const norm = (s: DeploymentStatus | undefined): string => JSON.stringify({
    observedGeneration: s?.observedGeneration ?? 0, replicas: s?.replicas ?? 0, updatedReplicas: s?.updatedReplicas ?? 0,
    readyReplicas: s?.readyReplicas ?? 0, availableReplicas: s?.availableReplicas ?? 0, unavailableReplicas: s?.unavailableReplicas ?? 0,
    collisionCount: s?.collisionCount ?? null, conditions: s?.conditions ?? [],
  });
  return norm(a) === norm(b);
}

/** True when an active ReplicaSet's desired-replicas annotation disagrees with spec.replicas. */
export async function isScalingEvent(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, false);
  for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
    const desired = getDesiredReplicasAnnotation(rs);
    if (desired === undefined) continue;
    if (desired !== replicasOf(d)) return true;
  }
  return false;
}

