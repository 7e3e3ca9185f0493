// The CronJob controller (upstream pkg/controller/cronjob, ControllerV2): at each schedule time it
// creates a Job named "<cronjob>-<minutes since epoch>", honouring concurrencyPolicy,
// startingDeadlineSeconds, suspend and timeZone, tracks status.active/lastScheduleTime/
// lastSuccessfulTime, prunes finished Jobs beyond the history limits, and requeues itself for the
// next schedule time on its clock.
import type { CronJob, Job } from '../../api/types/batch_v1.ts';
import { logger } from '../../base/log.ts';
import { hasStatusCause, isAlreadyExists, isNotFound } from '../../client/api_errors.ts';
import { formatTime, parseTime, type Clock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { deletionHandlingKey, joinKey, metaNamespaceKey, splitKey, unwrapTombstone, type DeletedFinalStateUnknown } from '../../client/store.ts';
import { errMessage, sameOwnerRef } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { isValidTimeZone, parseSchedule, type Schedule } from './cron_schedule.ts';
import {
  compareByJobStartTime, deleteFromActiveList, finishedCondition, getJobFromTemplate, getJobName, inActiveList, inActiveListByName,
  jobReference, mostRecentScheduleTime, MissedSchedules, nextScheduleTimeDuration,
} from './utils.ts';

const log = logger('cronjob-controller');

/** The Job writes of the controller; a seam for unit tests. */
export interface JobControl {
  getJob(namespace: string, name: string): Promise<Job>;
  createJob(namespace: string, job: Job): Promise<Job>;
  /** Deletes with background propagation. */
  deleteJob(namespace: string, name: string): Promise<void>;
}

/** Seams of the controller. */
export interface CronJobControllerOptions {
  readonly jobControl?: JobControl;
  readonly getCronJob?: (namespace: string, name: string) => Promise<CronJob>;
  readonly updateStatus?: (cj: CronJob) => Promise<CronJob>;
}

/** Starts Jobs on schedule. */
export class CronJobController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  #cronJobs: SharedIndexInformer<CronJob>;
  #jobs: SharedIndexInformer<Job>;
  #jobControl: JobControl;
  #getCronJob: (namespace: string, name: string) => Promise<CronJob>;
  #updateStatus: (cj: CronJob) => Promise<CronJob>;
  #recorder: EventRecorder;
  #clock: Clock;
  #registrations: { dispose(): void }[] = [];
  #workers: Promise<void>[] = [];

  constructor(ctx: ControllerContext, opts: CronJobControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#recorder = ctx.recorder('cronjob-controller');
    const jobClient: ResourceClient<Job> = ctx.client.resource<Job>(resourceDescriptor('batch/v1', 'jobs'));
    const cjClient: ResourceClient<CronJob> = ctx.client.resource<CronJob>(resourceDescriptor('batch/v1', 'cronjobs'));
    this.#jobControl = opts.jobControl ?? {
      getJob: (ns, name) => jobClient.inNamespace(ns).get(name),
      createJob: (ns, job) => jobClient.inNamespace(ns).create(job),
      deleteJob: async (ns, name) => {
        await jobClient.inNamespace(ns).delete(name, { propagationPolicy: 'Background' });
      },
    };
    this.#getCronJob = opts.getCronJob ?? ((ns, name) => cjClient.inNamespace(ns).get(name));
    this.#updateStatus = opts.updateStatus ?? ((cj) => cjClient.updateStatus(cj));
    this.queue = new RateLimitingQueue<string>({ name: 'cronjob', clock: ctx.clock });
    this.#cronJobs = ctx.informers.informerFor<CronJob>(resourceDescriptor('batch/v1', 'cronjobs'));
    this.#jobs = ctx.informers.informerFor<Job>(resourceDescriptor('batch/v1', 'jobs'));
    this.#registrations.push(this.#jobs.addEventHandler({
      onAdd: (j) => this.#enqueueJobOwner(j),
      onUpdate: (o, n) => this.#updateJob(o, n),
      onDelete: (j) => this.#enqueueJobOwner(unwrapTombstone(j)),
    }));
    this.#registrations.push(this.#cronJobs.addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKey(cj)),
      onUpdate: (o, n) => this.#updateCronJob(o, n),
      onDelete: (cj) => this.queue.add(deletionHandlingKey(cj as CronJob | DeletedFinalStateUnknown<CronJob>)),
    }));
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) this.#workers.push(this.#worker());
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations.splice(0)) r.dispose();
    this.queue.shutDown();
    await Promise.all(this.#workers);
  }

  // A requeue time comes back from sync, so this loop differs from runWorkers: it forgets and re-adds after.
  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const requeueAfter = await this.sync(key);
        this.queue.forget(key);
        if (requeueAfter !== undefined) this.queue.addAfter(key, requeueAfter);
      } catch (err) {
        log.warn('error syncing CronJob', { key, err: errMessage(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  #cronJobOf(job: Job): CronJob | undefined {
    const ref = controllerRefOf(job);
    if (!ref || ref.kind !== 'CronJob') return undefined;
    const cj = this.#cronJobs.lister.get(job.metadata?.namespace ?? '', ref.name);
    return cj && cj.metadata?.uid === ref.uid ? cj : undefined;
  }

  #enqueueJobOwner(job: Job): void {
    const cj = this.#cronJobOf(job);
    if (cj) this.queue.add(metaNamespaceKey(cj));
  }

  #updateJob(oldJob: Job, cur: Job): void {
    if (cur.metadata?.resourceVersion === oldJob.metadata?.resourceVersion) return;
    const oldRef = controllerRefOf(oldJob), curRef = controllerRefOf(cur);
    if (oldRef && !sameOwnerRef(oldRef, curRef)) {
      const cj = this.#cronJobOf(oldJob);
      if (cj) this.queue.add(metaNamespaceKey(cj));
    }
    this.#enqueueJobOwner(cur);
  }

  #updateCronJob(old: CronJob, cur: CronJob): void {
    const key = metaNamespaceKey(cur);
    if (old.spec?.schedule !== cur.spec?.schedule || old.spec?.timeZone !== cur.spec?.timeZone) {
      let sched: Schedule;
      try {
        sched = parseSchedule(cur.spec?.schedule ?? '', cur.spec?.timeZone);
      } catch (err) {
        this.#recorder.eventf(cur, 'Warning', 'UnParseableCronJobSchedule', 'unparseable schedule for cronjob: %s', cur.spec?.schedule ?? '');
        log.info('Unparseable schedule for cronjob', { key, err: errMessage(err) });
        return;
      }
      const t = nextScheduleTimeDuration(cur, this.#clock.now(), sched);
      if (t !== undefined) this.queue.addAfter(key, t);
      return;
    }
    // Other updates (suspend, concurrencyPolicy, status) are handled by an immediate sync.
    this.queue.add(key);
  }

  /** The Jobs this CronJob controls. */
  #jobsOf(cj: CronJob): Job[] {
    const uid = cj.metadata?.uid;
    return this.#jobs.lister.listNamespace(cj.metadata?.namespace ?? '').filter((j) => {
      const ref = controllerRefOf(j);
      return ref?.kind === 'CronJob' && ref.uid === uid;
    });
  }

  /** Reconciles one CronJob; returns when to look again (ms), if scheduled. */
  async sync(key: string): Promise<number | undefined> {
    const { namespace, name } = splitKey(key);
    const shared = this.#cronJobs.lister.get(namespace, name);
    if (!shared) return undefined;
    const jobs = this.#jobsOf(shared);
    const res = await this.#syncCronJob(structuredClone(shared), jobs);
    let { cronJob } = res;
    let updateStatus = res.updateStatus;
    if (await this.#cleanupFinishedJobs(cronJob, jobs)) updateStatus = true;
    if (updateStatus) cronJob = await this.#updateStatus(normalizeStatus(cronJob));
    if (res.error !== undefined && res.requeueAfter === undefined) throw res.error;
    return res.requeueAfter;
  }

  async #syncCronJob(cronJobIn: CronJob, jobs: readonly Job[]): Promise<{ cronJob: CronJob; requeueAfter?: number; updateStatus: boolean; error?: unknown }> {
    let cronJob = cronJobIn;
    const now = this.#clock.now();
    let updateStatus = false;
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata?.uid ?? '';
      children.add(uid);
      const found = inActiveList(cronJob, uid);
      const cond = finishedCondition(j);
      if (!found && cond === undefined) {
        const fresh = await this.#getCronJob(cronJob.metadata!.namespace!, cronJob.metadata!.name!);
        if (inActiveList(fresh, uid)) {
          cronJob = fresh;
          continue;
        }
        this.#recorder.eventf(cronJob, 'Warning', 'UnexpectedJob', 'Saw a job that the controller did not create or forgot: %s', j.metadata?.name ?? '');
      } else if (found && cond !== undefined) {
        deleteFromActiveList(cronJob, uid);
        this.#recorder.eventf(cronJob, 'Normal', 'SawCompletedJob', 'Saw completed job: %s, condition: %v', j.metadata?.name ?? '', cond);
        updateStatus = true;
      } else if (cond !== undefined) {
        const completion = parseTime(j.status?.completionTime);
        const lastOk = parseTime(cronJob.status?.lastSuccessfulTime);
        const status = (cronJob.status ??= {});
        if (lastOk === undefined && j.status?.completionTime) {
          status.lastSuccessfulTime = j.status.completionTime;
          updateStatus = true;
        } else if (completion !== undefined && lastOk !== undefined && completion > lastOk) {
          status.lastSuccessfulTime = j.status!.completionTime;
          updateStatus = true;
        }
      }
    }
    for (const ref of [...(cronJob.status?.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      // The informer may lag: ask the API server before declaring the Job gone.
      try {
        await this.#jobControl.getJob(ref.namespace ?? '', ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) return { cronJob, updateStatus, error: err };
        this.#recorder.eventf(cronJob, 'Normal', 'MissingJob', 'Active job went missing: %v', ref.name ?? '');
        deleteFromActiveList(cronJob, ref.uid);
        updateStatus = true;
      }
    }
    if (cronJob.metadata?.deletionTimestamp) return { cronJob, updateStatus };
    const spec = cronJob.spec!;
    if (spec.timeZone !== undefined && spec.timeZone !== null && !isValidTimeZone(spec.timeZone)) {
      this.#recorder.eventf(cronJob, 'Warning', 'UnknownTimeZone', 'invalid timeZone: %q: %s', spec.timeZone, `unknown time zone ${spec.timeZone}`);
      return { cronJob, updateStatus };
    }
    if (spec.suspend) return { cronJob, updateStatus };
    if (/^(CRON_)?TZ=/.test(spec.schedule)) {
      this.#recorder.eventf(cronJob, 'Warning', 'UnsupportedSchedule', 'CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details', spec.schedule);
    }
    let sched: Schedule;
    try {
      sched = parseSchedule(spec.schedule, spec.timeZone ?? undefined);
    } catch (err) {
      this.#recorder.eventf(cronJob, 'Warning', 'UnparseableSchedule', 'unparseable schedule: %q : %s', spec.schedule, errMessage(err));
      return { cronJob, updateStatus };
    }
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(cronJob, now, sched, true);
      if (r.mostRecent !== undefined && r.mostRecent <= now) {
        scheduled = r.mostRecent;
        if (r.missed === MissedSchedules.many) {
          this.#recorder.eventf(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        }
      }
    } catch (err) {
      this.#recorder.eventf(cronJob, 'Warning', 'InvalidSchedule', 'invalid schedule: %s : %s', spec.schedule, errMessage(err));
      return { cronJob, updateStatus };
    }
    const next = (): number | undefined => nextScheduleTimeDuration(cronJob, now, sched);
    if (scheduled === undefined) return { cronJob, updateStatus, requeueAfter: next() };
    const deadline = spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
      this.#recorder.eventf(cronJob, 'Warning', 'MissSchedule', 'Missed scheduled time to start a job: %s', formatRfc1123Z(scheduled));
      return { cronJob, updateStatus, requeueAfter: next() };
    }
    if (inActiveListByName(cronJob, getJobName(cronJob, scheduled)) || parseTime(cronJob.status?.lastScheduleTime) === scheduled) {
      return { cronJob, updateStatus, requeueAfter: next() };
    }
    if (spec.concurrencyPolicy === 'Forbid' && (cronJob.status?.active?.length ?? 0) > 0) {
      this.#recorder.eventf(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { cronJob, updateStatus, requeueAfter: next() };
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(cronJob.status?.active ?? [])]) {
        let job: Job;
        try {
          job = await this.#jobControl.getJob(ref.namespace ?? '', ref.name ?? '');
        } catch (err) {
          this.#recorder.eventf(cronJob, 'Warning', 'FailedGet', 'Get job: %v', errMessage(err));
          return { cronJob, updateStatus, error: err };
        }
        if (!(await this.#deleteJob(cronJob, job))) {
          return { cronJob, updateStatus, error: new Error(`could not replace job ${job.metadata?.namespace}/${job.metadata?.name}`) };
        }
        updateStatus = true;
      }
    }
    const req = getJobFromTemplate(cronJob, scheduled);
    let created: Job;
    let alreadyExisted = false;
    try {
      created = await this.#jobControl.createJob(cronJob.metadata!.namespace!, req);
    } catch (err) {
      if (hasStatusCause(err, 'NamespaceTerminating')) return { cronJob, updateStatus, error: err };
      if (!isAlreadyExists(err)) {
        this.#recorder.eventf(cronJob, 'Warning', 'FailedCreate', 'Error creating job: %v', errMessage(err));
        return { cronJob, updateStatus, error: err };
      }
      // Created earlier by us (the status write was lost) or by someone else.
      alreadyExisted = true;
      let existing: Job;
      try {
        existing = await this.#jobControl.getJob(req.metadata!.namespace!, req.metadata!.name!);
      } catch (e) {
        return { cronJob, updateStatus, error: e };
      }
      if (controllerRefOf(existing)?.uid !== cronJob.metadata?.uid) return { cronJob, updateStatus };
      if (inActiveList(cronJob, existing.metadata?.uid)) return { cronJob, updateStatus };
      created = existing;
    }
    if (alreadyExisted) log.info('Job already exists', { cronjob: joinKey(cronJob.metadata!.namespace!, cronJob.metadata!.name!), job: req.metadata?.name });
    else this.#recorder.eventf(cronJob, 'Normal', 'SuccessfulCreate', 'Created job %v', created.metadata?.name ?? '');
    const status = (cronJob.status ??= {});
    status.active = [...(status.active ?? []), jobReference(created)];
    status.lastScheduleTime = formatTime(scheduled);
    return { cronJob, updateStatus: true, requeueAfter: next() };
  }

  async #deleteJob(cronJob: CronJob, job: Job): Promise<boolean> {
    try {
      await this.#jobControl.deleteJob(job.metadata!.namespace!, job.metadata!.name!);
    } catch (err) {
      this.#recorder.eventf(cronJob, 'Warning', 'FailedDelete', 'Deleted job: %v', errMessage(err));
      return false;
    }
    deleteFromActiveList(cronJob, job.metadata?.uid);
    this.#recorder.eventf(cronJob, 'Normal', 'SuccessfulDelete', 'Deleted job %v', job.metadata?.name ?? '');
    return true;
  }

  /** Deletes the oldest finished Jobs beyond successful/failedJobsHistoryLimit. */
  async #cleanupFinishedJobs(cronJob: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const spec = cronJob.spec!;
    if ((spec.failedJobsHistoryLimit ?? null) === null && (spec.successfulJobsHistoryLimit ?? null) === null) return false;
    const succeeded = jobs.filter((j) => finishedCondition(j) === 'Complete');
    const failed = jobs.filter((j) => finishedCondition(j) === 'Failed');
    let update = false;
    if (spec.successfulJobsHistoryLimit !== undefined && spec.successfulJobsHistoryLimit !== null && (await this.#removeOldestJobs(cronJob, succeeded, spec.successfulJobsHistoryLimit))) update = true;
    if (spec.failedJobsHistoryLimit !== undefined && spec.failedJobsHistoryLimit !== null && (await this.#removeOldestJobs(cronJob, failed, spec.failedJobsHistoryLimit))) update = true;
    return update;
  }

  async #removeOldestJobs(cronJob: CronJob, jobs: readonly Job[], max: number): Promise<boolean> {
    const n = jobs.length - max;
    if (n <= 0) return false;
    const sorted = [...jobs].sort(compareByJobStartTime);
    let update = false;
    for (const j of sorted.slice(0, n)) if (await this.#deleteJob(cronJob, j)) update = true;
    return update;
  }
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
function formatRfc1123Z(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function normalizeStatus(cj: CronJob): CronJob {
  const out = structuredClone(cj);
  if (out.status?.active && out.status.active.length === 0) delete out.status.active;
  return out;
}

registerController('cronjob', (ctx) => new CronJobController(ctx), 5);
