// Job helpers without I/O: conditions (find, ensure, finished), the tracking finalizer, which pods
// count as failed, and the status shape upstream writes (zero counters omitted, ready/terminating
// always present).
import type { Job, JobCondition, JobStatus } from '../../api/types/batch_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { formatTime } from '../../client/clock.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** spec.managedBy value meaning "this controller" (JobControllerName). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

export const JobConditionType = {
  Suspended: 'Suspended',
  Complete: 'Complete',
  Failed: 'Failed',
  FailureTarget: 'FailureTarget',
  SuccessCriteriaMet: 'SuccessCriteriaMet',
} as const;

export const JobReason = {
  PodFailurePolicy: 'PodFailurePolicy',
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  DeadlineExceeded: 'DeadlineExceeded',
  MaxFailedIndexesExceeded: 'MaxFailedIndexesExceeded',
  FailedIndexes: 'FailedIndexes',
  SuccessPolicy: 'SuccessPolicy',
  CompletionsReached: 'CompletionsReached',
} as const;

/** A fresh condition stamped `now`. */
export function newCondition(type: string, status: string, reason: string, message: string, now: number): JobCondition {
  const t = formatTime(now);
  const c: JobCondition = { type, status, lastProbeTime: t, lastTransitionTime: t };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export function findCondition(list: readonly JobCondition[] | undefined, type: string): JobCondition | undefined {
  return list?.find((c) => c.type === type);
}

/**
 * Sets a condition's status/reason/message (appending it unless it would start as False); returns
 * the new list and whether it changed.
 */
export function ensureJobConditionStatus(list: JobCondition[] | undefined, type: string, status: string, reason: string, message: string, now: number): { list: JobCondition[]; changed: boolean } {
  const out = [...(list ?? [])];
  const i = out.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = out[i]!;
    if (c.status !== status || (c.reason ?? '') !== reason || (c.message ?? '') !== message) {
      out[i] = newCondition(type, status, reason, message, now);
      return { list: out, changed: true };
    }
    return { list: out, changed: false };
  }
  if (status !== 'False') {
    out.push(newCondition(type, status, reason, message, now));
    return { list: out, changed: true };
  }
  return { list: out, changed: false };
}

/** Complete or Failed is True (util.IsJobFinished). */
export function isJobFinished(job: Job): boolean {
  return job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;
}

/** The finishing condition type and its time, if finished. */
export function jobFinishedInfo(job: Job): { type: string; time: string | undefined } | undefined {
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c ? { type: c.type, time: c.lastTransitionTime } : undefined;
}

export function hasTrackingFinalizer(p: Pod): boolean {
  return p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

export function isIndexedJob(job: Job): boolean {
  return job.spec?.completionMode === 'Indexed';
}

export function jobSuspended(job: Job): boolean {
  return job.spec?.suspend === true;
}

export function hasBackoffLimitPerIndex(job: Job): boolean {
  return isIndexedJob(job) && job.spec?.backoffLimitPerIndex !== undefined && job.spec.backoffLimitPerIndex !== null;
}

/** Replacement pods wait for the old ones to be fully Failed (podReplacementPolicy Failed, or a podFailurePolicy). */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
}

/** Failed, or (unless only failed pods are replaced) deleted before succeeding (isPodFailed). */
export function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

/** spec.managedBy naming another controller. */
export function managedByExternalController(job: Job): string | undefined {
  const m = job.spec?.managedBy;
  return m !== undefined && m !== JOB_CONTROLLER_NAME ? m : undefined;
}

/** The status as upstream serializes it: zero counters left out, ready/terminating kept. */
export function normalizeStatus(status: JobStatus): JobStatus {
  const s: JobStatus = { ...status };
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!s[k]) delete s[k];
  if (s.conditions && s.conditions.length === 0) delete s.conditions;
  if (s.completedIndexes === '') delete s.completedIndexes;
  const u = s.uncountedTerminatedPods;
  if (u) {
    const nu: NonNullable<JobStatus['uncountedTerminatedPods']> = {};
    if (u.succeeded && u.succeeded.length > 0) nu.succeeded = u.succeeded;
    if (u.failed && u.failed.length > 0) nu.failed = u.failed;
    s.uncountedTerminatedPods = nu;
  }
  return s;
}

/** A pod restart total of a Running/Pending pod's containers (pastBackoffLimitOnFailure). */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}
