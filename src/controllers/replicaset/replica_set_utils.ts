// Status of a ReplicaSet (pkg/controller/replicaset/replica_set_utils.go): counts of active,
// fully labeled, ready and available pods, the ReplicaFailure condition, and the status write
// with one re-read on conflict.
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { formatTime } from '../../client/clock.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { errMessage, getPodReadyCondition, readyConditionAvailable } from '../controller_utils.ts';
import type { PodGroup } from './controlled_pods.ts';
import type { ReplicaSetKind } from './replica_set.ts';

/** Reads and writes the object whose status we maintain (seam for unit tests). */
export interface StatusClient {
  get(namespace: string, name: string): Promise<KubeObject>;
  updateStatus(obj: KubeObject): Promise<KubeObject>;
}

/** Retries of a status write after re-reading (statusUpdateRetries). */
const STATUS_UPDATE_RETRIES = 1;

/** Counts of a ReplicaSet's pods that its status reports. */
export interface PodCounts {
  replicas: number;
  fullyLabeled: number;
  ready: number;
  available: number;
}

/** The status the pods imply (calculateStatus). */
export function calculateStatus(rs: ReplicaSet, filtered: readonly Pod[], manageErr: unknown, nowMs: number): ReplicaSetStatus {
  return statusFromCounts(rs, countPods(rs, filtered, nowMs), manageErr, nowMs);
}

/** The counts of calculateStatus for a list of (claimed, active) pods. */
export function countPods(rs: ReplicaSet, pods: readonly Pod[], nowMs: number): PodCounts {
  // The template's labels as a set selector: every one present with the same value.
  const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {});
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const c: PodCounts = { replicas: pods.length, fullyLabeled: 0, ready: 0, available: 0 };
  for (const pod of pods) {
    if (hasLabels(pod.metadata?.labels, templateLabels)) c.fullyLabeled++;
    const cond = getPodReadyCondition(pod);
    if (cond !== undefined && cond.status === 'True') {
      c.ready++;
      if (readyConditionAvailable(cond, minReady, nowMs)) c.available++;
    }
  }
  return c;
}

/**
 * The counts of calculateStatus for groups of pods sharing their labels, plus `others`: per group,
 * not per pod, unless minReadySeconds makes availability a matter of each pod's ready time.
 */
export function countPodGroups(rs: ReplicaSet, groups: readonly PodGroup[], others: readonly Pod[], nowMs: number): PodCounts {
  const c = countPods(rs, others, nowMs);
  const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {});
  const minReady = rs.spec?.minReadySeconds ?? 0;
  for (const g of groups) {
    const size = g.pods.size;
    c.replicas += size;
    if (hasLabels(g.labels, templateLabels)) c.fullyLabeled += size;
    c.ready += g.ready;
    if (!minReady) {
      c.available += g.ready;
      continue;
    }
    for (const pod of g.pods.values()) {
      const cond = getPodReadyCondition(pod);
      if (cond !== undefined && cond.status === 'True' && readyConditionAvailable(cond, minReady, nowMs)) c.available++;
    }
  }
  return c;
}

/** The sum of two sets of counts. */
export function addCounts(a: PodCounts, b: PodCounts): PodCounts {
  return { replicas: a.replicas + b.replicas, fullyLabeled: a.fullyLabeled + b.fullyLabeled, ready: a.ready + b.ready, available: a.available + b.available };
}

/** The status `counts` imply, with the ReplicaFailure condition set or cleared by `manageErr`. */
export function statusFromCounts(rs: ReplicaSet, counts: PodCounts, manageErr: unknown, nowMs: number): ReplicaSetStatus {
  const status: ReplicaSetStatus = { ...(rs.status ?? { replicas: 0 }) };
  if (rs.status?.conditions) status.conditions = [...rs.status.conditions];
  const failure = getCondition(rs.status, 'ReplicaFailure');
  if (manageErr !== undefined && !failure) {
    const diff = counts.replicas - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    setCondition(status, { type: 'ReplicaFailure', status: 'True', lastTransitionTime: formatTime(nowMs), reason, message: errMessage(manageErr) });
  } else if (manageErr === undefined && failure) {
    removeCondition(status, 'ReplicaFailure');
  }
  status.replicas = counts.replicas;
  status.fullyLabeledReplicas = counts.fullyLabeled;
  status.readyReplicas = counts.ready;
  status.availableReplicas = counts.available;
  return status;
}

/** True when `labels` holds every one of `want` (what a selector from a label set matches). */
function hasLabels(labels: Readonly<Record<string, string>> | undefined, want: readonly (readonly [string, string])[]): boolean {
  if (want.length === 0) return true;
  if (labels === undefined) return false;
  for (let i = 0; i < want.length; i++) {
    // Values are strings, so equality implies an own property (nothing inherited is a string).
    if (labels[want[i]![0]] !== want[i]![1]) return false;
  }
  return true;
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
