// CronJob helpers without I/O (upstream pkg/controller/cronjob/utils.go): the most recent unmet
// schedule time and how many were missed, when to look again, deterministic Job names, the Job made
// from the template, and the active list.
import type { CronJob, Job } from '../../api/types/batch_v1.ts';
import type { ObjectReference } from '../../api/types/core_v1.ts';
import { parseTime } from '../../client/clock.ts';
import type { Schedule } from './cron_schedule.ts';

export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Delay added to the requeue so the sync lands just after the schedule time (nextScheduleDelta). */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export const MissedSchedules = { none: 0, few: 1, many: 2 } as const;
export type MissedSchedules = (typeof MissedSchedules)[keyof typeof MissedSchedules];

/** What mostRecentScheduleTime found. */
export interface RecentSchedule {
  readonly earliest: number;
  /** The latest schedule time at or before now, if any is due. */
  readonly mostRecent: number | undefined;
  readonly missed: MissedSchedules;
}

/** The schedule time to act on now, counting missed ones roughly as upstream does. */
export function mostRecentScheduleTime(cj: CronJob, now: number, schedule: Schedule, includeStartingDeadline: boolean): RecentSchedule {
  let earliest = parseTime(cj.metadata?.creationTimestamp) ?? now;
  const last = parseTime(cj.status?.lastScheduleTime);
  if (last !== undefined) earliest = last;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline !== undefined && deadline !== null) {
    const schedulingDeadline = now - deadline * 1000;
    if (schedulingDeadline > earliest) earliest = schedulingDeadline;
  }
  const t1 = schedule.next(earliest);
  const t2 = schedule.next(t1);
  if (now < t1) return { earliest, mostRecent: undefined, missed: MissedSchedules.none };
  if (now < t2) return { earliest, mostRecent: t1, missed: MissedSchedules.none };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error('time difference between two schedules is less than 1 second');
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  // Start two intervals early and walk forward, so irregular schedules land on a real activation.
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = schedule.next(potentialEarliest); t <= now; t = schedule.next(t)) mostRecent = t;
  const missed = missedCount > 100 ? MissedSchedules.many : missedCount > 0 ? MissedSchedules.few : MissedSchedules.none;
  return { earliest, mostRecent, missed };
}

/** How long until the sync after the next schedule time (nextScheduleTimeDuration). */
export function nextScheduleTimeDuration(cj: CronJob, now: number, schedule: Schedule): number | undefined {
  let r: RecentSchedule;
  try {
    r = mostRecentScheduleTime(cj, now, schedule, false);
  } catch {
    return undefined;
  }
  const from = r.mostRecent ?? r.earliest;
  return schedule.next(from) + NEXT_SCHEDULE_DELTA_MS - now;
}

/** "<cronjob>-<scheduled time in minutes since the epoch>" (getJobName). */
export function getJobName(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata?.name ?? ''}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 of `ms` in IANA `zone` (UTC when undefined), with the zone's offset, as Go formats it. */
export function formatRfc3339InZone(ms: number, zone: string | undefined): string {
  const whole = Math.floor(ms / 1000) * 1000;
  if (!zone || zone === 'UTC' || zone === 'Local') return new Date(whole).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(whole));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '00';
  const local = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second')));
  const offsetMin = Math.round((local - whole) / 60_000);
  const stamp = `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
  if (offsetMin === 0) return `${stamp}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${stamp}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The Job for one scheduled time (getJobFromTemplate2). */
export function getJobFromTemplate(cj: CronJob, scheduledMs: number): Job {
  const tmpl = cj.spec!.jobTemplate;
  const labels = { ...(tmpl.metadata?.labels ?? {}) };
  const annotations = { ...(tmpl.metadata?.annotations ?? {}) };
  annotations[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] = formatRfc3339InZone(scheduledMs, cj.spec?.timeZone);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: getJobName(cj, scheduledMs),
      namespace: cj.metadata?.namespace ?? '',
      labels, annotations,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata?.name ?? '', uid: cj.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(tmpl.spec ?? { template: { spec: { containers: [] } } }),
  };
}

/** The finishing condition type (Complete/Failed) of a finished Job. */
export function finishedCondition(job: Job): string | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;
}

export function inActiveList(cj: CronJob, uid: string | undefined): boolean {
  return cj.status?.active?.some((r) => r.uid === uid) ?? false;
}

export function inActiveListByName(cj: CronJob, name: string): boolean {
  return cj.status?.active?.some((r) => r.name === name && r.namespace === cj.metadata?.namespace) ?? false;
}

export function deleteFromActiveList(cj: CronJob, uid: string | undefined): void {
  if (!cj.status?.active) return;
  cj.status.active = cj.status.active.filter((r) => r.uid !== uid);
}

/** The ObjectReference kept in status.active (ref.GetReference). */
export function jobReference(job: Job): ObjectReference {
  const ref: ObjectReference = { kind: 'Job', namespace: job.metadata?.namespace ?? '', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '', apiVersion: 'batch/v1' };
  if (job.metadata?.resourceVersion) ref.resourceVersion = job.metadata.resourceVersion;
  return ref;
}

/** Oldest start first; Jobs that never started last; ties by name (byJobStartTime). */
export function compareByJobStartTime(a: Job, b: Job): number {
  const sa = parseTime(a.status?.startTime), sb = parseTime(b.status?.startTime);
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
  return sa! - sb!;
}
