// Status of a ReplicaSet (pkg/controller/replicaset/replica_set_utils.go): counts of active,
// fully labeled, ready and available pods, the ReplicaFailure condition, and the status write
// with one re-read on conflict.
import { matches, selectorFromSet } from '../../api/labels.ts';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { formatTime } from '../../client/clock.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { errMessage, isPodAvailable, isPodReady } from '../controller_utils.ts';
import type { ReplicaSetKind } from './replica_set.ts';

/** Reads and writes the object whose status we maintain (seam for unit tests). */
export interface StatusClient {
  get(namespace: string, name: string): Promise<KubeObject>;
  updateStatus(obj: KubeObject): Promise<KubeObject>;
}

/** Retries of a status write after re-reading (statusUpdateRetries). */
const STATUS_UPDATE_RETRIES = 1;

/** The status the pods imply (calculateStatus). */
export function calculateStatus(rs: ReplicaSet, filtered: readonly Pod[], manageErr: unknown, nowMs: number): ReplicaSetStatus {
  const status: ReplicaSetStatus = { ...(rs.status ?? { replicas: 0 }) };
  if (rs.status?.conditions) status.conditions = [...rs.status.conditions];
  const templateSel = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0, ready = 0, available = 0;
  for (const pod of filtered) {
    if (matches(templateSel, pod.metadata?.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, nowMs)) available++;
    }
  }
  const failure = getCondition(rs.status, 'ReplicaFailure');
  if (manageErr !== undefined && !failure) {
    const diff = filtered.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    setCondition(status, { type: 'ReplicaFailure', status: 'True', lastTransitionTime: formatTime(nowMs), reason, message: errMessage(manageErr) });
  } else if (manageErr === undefined && failure) {
    removeCondition(status, 'ReplicaFailure');
  }
  status.replicas = filtered.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** The condition of `type`, if present. */
export function getCondition(status: ReplicaSetStatus | undefined, type: string): ReplicaSetCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Adds or replaces a condition unless one with the same status and reason is there already. */
export function setCondition(status: ReplicaSetStatus, cond: ReplicaSetCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), cond];
}

export function removeCondition(status: ReplicaSetStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

function sameStatus(rs: ReplicaSet, s: ReplicaSetStatus): boolean {
  const cur = rs.status ?? { replicas: 0 };
  return (cur.replicas ?? 0) === (s.replicas ?? 0) &&
    (cur.fullyLabeledReplicas ?? 0) === (s.fullyLabeledReplicas ?? 0) &&
    (cur.readyReplicas ?? 0) === (s.readyReplicas ?? 0) &&
    (cur.availableReplicas ?? 0) === (s.availableReplicas ?? 0) &&
    (rs.metadata?.generation ?? 0) === (cur.observedGeneration ?? 0) &&
    JSON.stringify(cur.conditions ?? []) === JSON.stringify(s.conditions ?? []);
}

/**
 * Writes `status` (with observedGeneration) unless nothing changed; on failure re-reads once
 * and retries (updateReplicaSetStatus). Returns the object as written (or unchanged).
 */
export async function updateReplicaSetStatus(client: StatusClient, obj: KubeObject, rs: ReplicaSet, status: ReplicaSetStatus, _kind: ReplicaSetKind): Promise<KubeObject> {
  if (sameStatus(rs, status)) return obj;
  // The generation we acted on, even when the retry reads a newer object.
  const gen = obj.metadata?.generation ?? 0;
  let current = obj;
  let lastErr: unknown;
  for (let i = 0; ; i++) {
    const next = { ...structuredClone(current), status: { ...status, observedGeneration: gen } } as KubeObject;
    try {
      return await client.updateStatus(next);
    } catch (err) {
      lastErr = err;
    }
    if (i >= STATUS_UPDATE_RETRIES) break;
    current = await client.get(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
  }
  throw lastErr;
}
