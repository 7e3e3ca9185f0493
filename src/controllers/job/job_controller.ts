// The Job controller (upstream pkg/controller/job): runs pods until spec.completions succeed or the
// Job fails (backoffLimit, activeDeadlineSeconds, podFailurePolicy, failed indexes), counting
// finished pods through the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods so that no pod is counted twice or lost.
import type { Job, JobCondition } from '../../api/types/batch_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { labelSelectorAsSelector, matches } from '../../api/labels.ts';
import { logger } from '../../base/log.ts';
import { hasStatusCause, isNotFound } from '../../client/api_errors.ts';
import { formatTime, parseTime, type Clock } from '../../client/clock.ts';
import { ControllerExpectations } from '../../client/expectations.ts';
import type { EventRecorder } from '../../client/events.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { ItemExponentialFailureRateLimiter } from '../../client/default_rate_limiters.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { deletionHandlingKey, metaNamespaceKey, splitKey, unwrapTombstone, type DeletedFinalStateUnknown } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { BackoffStore, DEFAULT_POD_FAILURE_BACKOFF_MS, MAX_POD_FAILURE_BACKOFF_MS, remainingTimeForFailures, type BackoffRecord } from './backoff.ts';
import {
  addCompletionIndex, addCompletionIndexEnvVariables, completionIndexOf, duplicatedIndexPodsForRemoval, firstPendingIndexes,
  hasIndex, indexAbsoluteFailureCount, indexesOf, indexFailureCount, indexIgnoredFailureCount, intervalsString, mergeIntervals,
  parseIndexesFromString, podGenerateNameWithIndex, totalOf, UNKNOWN_COMPLETION_INDEX, withOrderedIndexes,
  JOB_INDEX_FAILURE_COUNT_ANNOTATION, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, type OrderedIntervals,
} from './indexed_job_utils.ts';
import {
  ensureJobConditionStatus, findCondition, hasBackoffLimitPerIndex, hasTrackingFinalizer, isIndexedJob, isJobFinished, isPodFailed,
  jobSuspended, JobConditionType, JobReason, JOB_TRACKING_FINALIZER, managedByExternalController, newCondition, normalizeStatus,
  onlyReplaceFailedPods, pastBackoffLimitOnFailure,
} from './job_utils.ts';
import { matchPodFailurePolicy, matchSuccessPolicy } from './pod_failure_policy.ts';
import { claimObjects, errMessage, isPodActive, isPodReady, newControllerRef, RealPodControl, recheckDeletionTimestamp, runWorkers, sameOwnerRef, type PodControl } from '../controller_utils.ts';
import { compareActivePods, isPodTerminating, podFinishedTime } from './pod_utils.ts';

const log = logger('job-controller');

/** Batching delay of pod-triggered syncs (syncJobBatchPeriod). */
const SYNC_JOB_BATCH_PERIOD_MS = 1000;
/** Cap on pods created or deleted in one sync (MaxPodCreateDeletePerSync). */
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** Cap on UIDs in uncountedTerminatedPods (MaxUncountedPods). */
const MAX_UNCOUNTED_PODS = 500;
const SLOW_START_INITIAL_BATCH_SIZE = 1;

/** Seams and tunables. */
export interface JobControllerOptions {
  readonly podControl?: PodControl;
  /** Status writes (default: PUT /status). */
  readonly updateJobStatus?: (job: Job) => Promise<Job>;
  readonly syncBatchPeriodMs?: number;
  readonly podFailureBackoffMs?: number;
  readonly maxPodFailureBackoffMs?: number;
}

interface SyncCtx {
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  finishedCondition: JobCondition | undefined;
  succeeded: number;
  failed: number;
  prevSucceededIndexes: OrderedIntervals;
  succeededIndexes: OrderedIntervals;
  failedIndexes: OrderedIntervals | undefined;
  newBackoffRecord: BackoffRecord;
  expectedRmFinalizers: Set<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  podsWithDelayedDeletionPerIndex: Map<number, Pod>;
  terminating: number;
  ready: number;
}

/** Keeps each Job's pods running until it completes or fails. */
export class JobController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly orphanQueue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  #finalizerExpectations = new Map<string, Set<string>>();
  #jobs: SharedIndexInformer<Job>;
  #pods: SharedIndexInformer<Pod>;
  #jobClient: ResourceClient<Job>;
  #podControl: PodControl;
  #recorder: EventRecorder;
  #clock: Clock;
  #backoff = new BackoffStore();
  #updateStatus: (job: Job) => Promise<Job>;
  #batchMs: number;
  #backoffBaseMs: number;
  #backoffMaxMs: number;
  #disposables: { dispose(): void }[] = [];
  #workers: Promise<void>[] = [];

  constructor(ctx: ControllerContext, opts: JobControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#recorder = ctx.recorder('job-controller');
    this.#jobClient = ctx.client.resource<Job>(resourceDescriptor('batch/v1', 'jobs'));
    this.#podControl = opts.podControl ?? new RealPodControl(ctx.client, this.#recorder);
    this.#updateStatus = opts.updateJobStatus ?? ((job) => this.#jobClient.updateStatus(job));
    this.#batchMs = opts.syncBatchPeriodMs ?? SYNC_JOB_BATCH_PERIOD_MS;
    this.#backoffBaseMs = opts.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.#backoffMaxMs = opts.maxPodFailureBackoffMs ?? MAX_POD_FAILURE_BACKOFF_MS;
    this.expectations = new ControllerExpectations(ctx.clock);
    this.queue = new RateLimitingQueue<string>({ name: 'job', clock: ctx.clock, rateLimiter: new ItemExponentialFailureRateLimiter(1000, 60_000) });
    this.orphanQueue = new RateLimitingQueue<string>({ name: 'job_orphan_pod', clock: ctx.clock, rateLimiter: new ItemExponentialFailureRateLimiter(1000, 60_000) });
    this.#jobs = ctx.informers.informerFor<Job>(resourceDescriptor('batch/v1', 'jobs'));
    this.#pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.#disposables.push(this.#jobs.addEventHandler({
      onAdd: (j) => this.#enqueue(j, 0),
      onUpdate: (o, n) => this.#updateJob(o, n),
      onDelete: (j) => this.#deleteJob(j),
    }));
    this.#disposables.push(this.#pods.addEventHandler({
      onAdd: (p) => this.#addPod(p),
      onUpdate: (o, n) => this.#updatePod(o, n),
      onDelete: (p) => this.#deletePod(unwrapTombstone(p), true),
    }));
  }

  run(workers: number): void {
    const onError = (key: string, err: unknown): void => log.warn('syncing job', { key, err: errMessage(err) });
    this.#workers.push(runWorkers(this.queue, workers, (k) => this.sync(k), onError));
    this.#workers.push(runWorkers(this.orphanQueue, 1, (k) => this.syncOrphanPod(k), onError));
  }

  async dispose(): Promise<void> {
    for (const d of this.#disposables.splice(0)) d.dispose();
    this.queue.shutDown();
    this.orphanQueue.shutDown();
    await Promise.all(this.#workers);
  }

  // ---- event handlers: compute keys and enqueue, nothing else ----

  #enqueue(job: Job | DeletedFinalStateUnknown<Job>, delayMs: number): void {
    this.queue.addAfter(deletionHandlingKey(job), delayMs);
  }

  #updateJob(oldJob: Job, cur: Job): void {
    const key = metaNamespaceKey(cur);
    this.#enqueue(cur, cur.metadata?.generation === oldJob.metadata?.generation ? this.#batchMs : 0);
    if (isJobFinished(cur)) this.#cleanupPodFinalizers(cur);
    const start = parseTime(cur.status?.startTime);
    const ads = cur.spec?.activeDeadlineSeconds;
    if (start !== undefined && ads !== undefined && ads !== oldJob.spec?.activeDeadlineSeconds) {
      this.queue.addAfter(key, ads * 1000 - (this.#clock.now() - start));
    }
  }

  #deleteJob(obj: Job | DeletedFinalStateUnknown<Job>): void {
    this.#enqueue(obj, 0);
    this.#cleanupPodFinalizers(unwrapTombstone(obj));
  }

  #resolveControllerRef(namespace: string, ref: OwnerReference): Job | undefined {
    if (ref.kind !== 'Job') return undefined;
    const job = this.#jobs.lister.get(namespace, ref.name);
    return job && job.metadata?.uid === ref.uid ? job : undefined;
  }

  #jobsSelecting(pod: Pod): Job[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.#jobs.lister.listNamespace(ns).filter((j) => {
      if (!j.spec?.selector) return false;
      try {
        return matches(labelSelectorAsSelector(j.spec.selector), pod.metadata?.labels);
      } catch {
        return false;
      }
    });
  }

  #addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.#deletePod(pod, false);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const job = this.#resolveControllerRef(pod.metadata?.namespace ?? '', ref);
      if (!job) return;
      this.expectations.creationObserved(metaNamespaceKey(job));
      this.#enqueue(job, this.#batchMs);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(metaNamespaceKey(pod));
    for (const job of this.#jobsSelecting(pod)) this.#enqueue(job, this.#batchMs);
  }

  #updatePod(oldPod: Pod, cur: Pod): void {
    if (cur.metadata?.resourceVersion === oldPod.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      this.#deletePod(cur, false);
      return;
    }
    const finalizerRemoved = !hasTrackingFinalizer(cur);
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(oldPod);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    const ns = cur.metadata?.namespace ?? '';
    if (refChanged && oldRef) {
      const job = this.#resolveControllerRef(ns, oldRef);
      if (job) {
        if (finalizerRemoved) this.#finalizerRemovalObserved(metaNamespaceKey(job), cur.metadata?.uid ?? '');
        this.#enqueue(job, this.#batchMs);
      }
    }
    if (curRef) {
      const job = this.#resolveControllerRef(ns, curRef);
      if (!job) return;
      if (finalizerRemoved) this.#finalizerRemovalObserved(metaNamespaceKey(job), cur.metadata?.uid ?? '');
      this.#enqueue(job, this.#batchMs);
      return;
    }
    if (hasTrackingFinalizer(cur)) this.orphanQueue.add(metaNamespaceKey(cur));
    const labelsChanged = JSON.stringify(cur.metadata?.labels ?? {}) !== JSON.stringify(oldPod.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.#jobsSelecting(cur)) this.#enqueue(job, this.#batchMs);
  }

  #deletePod(pod: Pod, final: boolean): void {
    const ref = controllerRefOf(pod);
    const hasFinalizer = hasTrackingFinalizer(pod);
    if (!ref) {
      if (hasFinalizer) this.orphanQueue.add(metaNamespaceKey(pod));
      return;
    }
    const job = this.#resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer) this.orphanQueue.add(metaNamespaceKey(pod));
      return;
    }
    const key = metaNamespaceKey(job);
    this.expectations.deletionObserved(key);
    if (final || !hasFinalizer) this.#finalizerRemovalObserved(key, pod.metadata?.uid ?? '');
    this.#enqueue(job, this.#batchMs);
  }

  #cleanupPodFinalizers(job: Job): void {
    const uid = job.metadata?.uid;
    for (const pod of this.#pods.lister.listNamespace(job.metadata?.namespace ?? '')) {
      if (controllerRefOf(pod)?.uid === uid && hasTrackingFinalizer(pod)) this.orphanQueue.add(metaNamespaceKey(pod));
    }
  }

  #finalizerRemovalObserved(key: string, uid: string): void {
    this.#finalizerExpectations.get(key)?.delete(uid);
  }

  // ---- sync ----

  /** Removes the tracking finalizer of a pod no unfinished Job of ours owns. */
  async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.#pods.lister.get(namespace, name);
    if (!pod) return;
    const ref = controllerRefOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = this.#resolveControllerRef(namespace, ref);
      if (job && managedByExternalController(job)) return;
      if (job && !isJobFinished(job)) return;
    }
    if (!hasTrackingFinalizer(pod)) return;
    try {
      await this.#podControl.patchPod(namespace, name, removeTrackingFinalizerPatch());
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Brings one Job's pods and status in line with its spec. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!namespace || !name) throw new Error(`invalid job key ${JSON.stringify(key)}: either namespace or name is missing`);
    const shared = this.#jobs.lister.get(namespace, name);
    if (!shared) {
      this.expectations.deleteExpectations(key);
      this.#finalizerExpectations.delete(key);
      this.#backoff.removeBackoffRecord(key);
      return;
    }
    if (managedByExternalController(shared)) return;
    const job = structuredClone(shared);
    if (isJobFinished(job)) {
      this.#backoff.removeBackoffRecord(key);
      return;
    }
    const mode = job.spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.#recorder.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const spec = job.spec!;
    const status = (job.status ??= {});
    status.uncountedTerminatedPods ??= {};
    const now = this.#clock.now();

    const satisfiedExpectations = this.expectations.satisfiedExpectations(key);
    const pods = await this.#getPodsForJob(job);
    const activePods = pods.filter(isPodActive);
    const uncounted = status.uncountedTerminatedPods;
    const c: SyncCtx = {
      job, pods, activePods,
      finishedCondition: undefined,
      succeeded: 0, failed: 0,
      prevSucceededIndexes: [], succeededIndexes: [], failedIndexes: undefined,
      newBackoffRecord: { key, failuresAfterLastSuccess: 0, lastFailureTime: undefined },
      expectedRmFinalizers: new Set(this.#finalizerExpectations.get(key) ?? []),
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      podsWithDelayedDeletionPerIndex: new Map(),
      terminating: pods.filter(isPodTerminating).length,
      ready: activePods.filter(isPodReady).length,
    };
    let active = activePods.length;
    const newSucceeded = validPods(c, c.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = validPods(c, c.uncountedFailed, (p) => isPodFailed(p, job));
    c.succeeded = (status.succeeded ?? 0) + newSucceeded.length + c.uncountedSucceeded.size;
    c.failed = (status.failed ?? 0) + newFailed.filter((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed).length + c.uncountedFailed.size;

    if (status.startTime === undefined && !jobSuspended(job)) status.startTime = formatTime(now);
    c.newBackoffRecord = this.#backoff.newBackoffRecord(key, newSucceeded, newFailed);

    let manageErr: unknown;
    const exceedsBackoffLimit = c.failed > (spec.backoffLimit ?? 6);
    c.finishedCondition = findCondition(status.conditions, JobConditionType.SuccessCriteriaMet)?.status === 'True'
      ? findCondition(status.conditions, JobConditionType.SuccessCriteriaMet) : undefined;
    if (!c.finishedCondition) {
      const ft = findCondition(status.conditions, JobConditionType.FailureTarget);
      if (ft?.status === 'True') {
        c.finishedCondition = newCondition(JobConditionType.Failed, 'True', ft.reason ?? '', ft.message ?? '', now);
      } else {
        const msg = failJobMessage(job, pods);
        if (msg !== undefined) c.finishedCondition = newCondition(JobConditionType.FailureTarget, 'True', JobReason.PodFailurePolicy, msg, now);
      }
    }
    if (!c.finishedCondition) {
      if (exceedsBackoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        c.finishedCondition = newCondition(JobConditionType.FailureTarget, 'True', JobReason.BackoffLimitExceeded, 'Job has reached the specified backoff limit', now);
      } else if (this.#pastActiveDeadline(job)) {
        c.finishedCondition = newCondition(JobConditionType.FailureTarget, 'True', JobReason.DeadlineExceeded, 'Job was active longer than specified deadline', now);
      } else if (spec.activeDeadlineSeconds !== undefined && !jobSuspended(job)) {
        const start = parseTime(status.startTime) ?? now;
        this.queue.addAfter(key, spec.activeDeadlineSeconds * 1000 - (now - start));
      }
    }
    if (isIndexedJob(job)) {
      const completions = spec.completions ?? 0;
      c.prevSucceededIndexes = parseIndexesFromString(status.completedIndexes, completions);
      const newIx = pods.filter((p) => p.status?.phase === 'Succeeded' && hasTrackingFinalizer(p))
        .map(completionIndexOf).filter((ix) => ix !== UNKNOWN_COMPLETION_INDEX && ix < completions);
      c.succeededIndexes = withOrderedIndexes(c.prevSucceededIndexes, newIx);
      c.succeeded = totalOf(c.succeededIndexes);
      if (hasBackoffLimitPerIndex(job)) {
        c.failedIndexes = calculateFailedIndexes(job, pods);
        if (!c.finishedCondition) {
          const failedTotal = totalOf(c.failedIndexes);
          if (spec.maxFailedIndexes !== undefined && failedTotal > spec.maxFailedIndexes) {
            c.finishedCondition = newCondition(JobConditionType.FailureTarget, 'True', JobReason.MaxFailedIndexesExceeded, 'Job has exceeded the specified maximal number of failed indexes', now);
          } else if (failedTotal > 0 && failedTotal + totalOf(c.succeededIndexes) >= completions) {
            c.finishedCondition = newCondition(JobConditionType.FailureTarget, 'True', JobReason.FailedIndexes, 'Job has failed indexes', now);
          }
        }
        c.podsWithDelayedDeletionPerIndex = podsWithDelayedDeletionPerIndex(c);
      }
      if (!c.finishedCondition) {
        const msg = matchSuccessPolicy(spec.successPolicy, completions, c.succeededIndexes);
        if (msg !== undefined) c.finishedCondition = newCondition(JobConditionType.SuccessCriteriaMet, 'True', JobReason.SuccessPolicy, msg, now);
      }
    }

    let suspendCondChanged = false;
    if (c.finishedCondition) {
      const { deleted, deletedReady, err } = await this.#deleteActivePods(job, c.activePods);
      if (deleted !== active || !satisfiedExpectations) c.finishedCondition = undefined;
      active -= deleted;
      c.terminating += deleted;
      c.ready -= deletedReady;
      manageErr = err;
    } else {
      let manageCalled = false;
      if (satisfiedExpectations && !job.metadata?.deletionTimestamp) {
        try {
          active = await this.#manageJob(job, c, key);
        } catch (err) {
          manageErr = err;
          active = c.activePods.length;
        }
        manageCalled = true;
      }
      const complete = spec.completions === undefined || spec.completions === null
        ? c.succeeded > 0 && active === 0
        : c.succeeded >= spec.completions && active === 0;
      if (complete) {
        c.finishedCondition = newCondition(JobConditionType.SuccessCriteriaMet, 'True', JobReason.CompletionsReached, 'Reached expected number of succeeded pods', now);
      } else if (manageCalled) {
        if (jobSuspended(job)) {
          const r = ensureJobConditionStatus(status.conditions, JobConditionType.Suspended, 'True', 'JobSuspended', 'Job suspended', now);
          status.conditions = r.list;
          if (r.changed) {
            suspendCondChanged = true;
            this.#recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else {
          const r = ensureJobConditionStatus(status.conditions, JobConditionType.Suspended, 'False', 'JobResumed', 'Job resumed', now);
          status.conditions = r.list;
          if (r.changed) {
            suspendCondChanged = true;
            this.#recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
            // ActiveDeadlineSeconds counts continuous activity, so resuming restarts the clock.
            status.startTime = formatTime(now);
          }
        }
      }
    }

    const needsStatusUpdate = suspendCondChanged || active !== (status.active ?? 0) || c.ready !== status.ready || c.terminating !== status.terminating;
    status.active = active;
    status.ready = c.ready;
    status.terminating = c.terminating;
    await this.#trackJobStatusAndRemoveFinalizers(c, key, needsStatusUpdate);
    if (manageErr !== undefined) throw manageErr;
  }

  #pastActiveDeadline(job: Job): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = parseTime(job.status?.startTime);
    if (ads === undefined || start === undefined || jobSuspended(job)) return false;
    return this.#clock.now() - start >= ads * 1000;
  }

  /** Pods this Job owns, adopting matching orphans (with the tracking finalizer) and releasing non-matching ones. */
  async #getPodsForJob(job: Job): Promise<Pod[]> {
    const ns = job.metadata?.namespace ?? '';
    const uid = job.metadata?.uid ?? '';
    const pods = this.#pods.lister.listNamespace(ns);
    const claimed = await claimObjects<Pod>(pods, {
      controller: job,
      controllerKind: JOB_KIND,
      selector: labelSelectorAsSelector(job.spec?.selector),
      canAdopt: recheckDeletionTimestamp(() => this.#jobClient.inNamespace(ns).get(job.metadata!.name!), job, 'Job'),
      patch: (pod, patch) => {
        const md = (patch as { metadata: { ownerReferences: { $patch?: string }[] } & Record<string, unknown> }).metadata;
        // Adopted pods get the tracking finalizer in the same patch, so they are counted exactly once.
        if (md.ownerReferences.every((r) => r.$patch === undefined)) md['finalizers'] = [JOB_TRACKING_FINALIZER];
        return this.#podControl.patchPod(ns, pod.metadata!.name!, patch);
      },
    });
    return claimed.map((p) => {
      if (p.metadata?.ownerReferences?.some((r) => r.uid === uid) || hasTrackingFinalizer(p)) return p;
      const adopted = structuredClone(p);
      adopted.metadata!.finalizers = [...(adopted.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER];
      return adopted;
    });
  }

  async #deleteActivePods(job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; err: unknown }> {
    let deleted = 0, deletedReady = 0;
    let err: unknown;
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.#podControl.deletePod(job.metadata!.namespace!, pod.metadata!.name!, job);
        deleted++;
      } catch (e) {
        if (isNotFound(e)) deleted++;
        else err = e;
      }
      if (isPodReady(pod)) deletedReady++;
    }));
    return { deleted, deletedReady, err };
  }

  /** Deletes pods (tracking finalizer first), counting failures as deletions observed. */
  async #deleteJobPods(job: Job, key: string, pods: readonly Pod[]): Promise<{ removed: number; removedReady: number; err: unknown }> {
    let removed = pods.length, removedReady = 0;
    let err: unknown;
    const fail = (e: unknown): void => {
      this.expectations.deletionObserved(key);
      if (!isNotFound(e)) {
        removed--;
        err = e;
      }
    };
    await Promise.all(pods.map(async (pod) => {
      const ns = pod.metadata!.namespace!, name = pod.metadata!.name!;
      if (hasTrackingFinalizer(pod)) {
        try {
          await this.#podControl.patchPod(ns, name, removeTrackingFinalizerPatch());
        } catch (e) {
          fail(e);
          return;
        }
      }
      try {
        await this.#podControl.deletePod(ns, name, job);
      } catch (e) {
        fail(e);
      }
      if (isPodReady(pod)) removedReady++;
    }));
    return { removed, removedReady, err };
  }

  /** Creates or deletes pods towards min(parallelism, remaining completions); returns the active count. */
  async #manageJob(job: Job, c: SyncCtx, key: string): Promise<number> {
    const spec = job.spec!;
    let active = c.activePods.length;
    const parallelism = spec.parallelism ?? 1;
    if (jobSuspended(job)) {
      const toDelete = activePodsForRemoval(job, c.activePods, active);
      this.expectations.expectDeletions(key, toDelete.length);
      const r = await this.#deleteJobPods(job, key, toDelete);
      active -= r.removed;
      c.terminating += r.removed;
      c.ready -= r.removedReady;
      if (r.err !== undefined) throw r.err;
      return active;
    }
    let wantActive: number;
    if (spec.completions === undefined || spec.completions === null) {
      wantActive = c.succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(spec.completions - c.succeeded, parallelism));
    }
    const rmAtLeast = Math.max(0, active - wantActive);
    let toDelete = activePodsForRemoval(job, c.activePods, rmAtLeast);
    if (toDelete.length > MAX_POD_CREATE_DELETE_PER_SYNC) toDelete = toDelete.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (toDelete.length > 0) {
      this.expectations.expectDeletions(key, toDelete.length);
      const r = await this.#deleteJobPods(job, key, toDelete);
      active -= r.removed;
      c.terminating += r.removed;
      c.ready -= r.removedReady;
      if (r.err !== undefined) throw r.err;
      return active;
    }
    const terminating = onlyReplaceFailedPods(job) ? c.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    const now = this.#clock.now();
    if (!hasBackoffLimitPerIndex(job)) {
      const remaining = remainingTimeForFailures(now, c.newBackoffRecord.failuresAfterLastSuccess, c.newBackoffRecord.lastFailureTime, this.#backoffBaseMs, this.#backoffMaxMs);
      if (remaining > 0) {
        this.queue.addAfter(key, Math.max(remaining, this.#batchMs));
        return 0;
      }
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexesToAdd: number[] = [];
    if (isIndexedJob(job)) {
      indexesToAdd = this.#pendingIndexes(c, diff, spec.completions ?? 0);
      if (hasBackoffLimitPerIndex(job)) {
        const ready: number[] = [];
        let minRemaining: number | undefined;
        for (const ix of indexesToAdd) {
          const last = c.podsWithDelayedDeletionPerIndex.get(ix);
          const rem = last ? remainingTimeForFailures(now, indexAbsoluteFailureCount(last) + 1, podFinishedTime(last), this.#backoffBaseMs, this.#backoffMaxMs) : 0;
          if (rem === 0) ready.push(ix);
          else if (minRemaining === undefined || rem < minRemaining) minRemaining = rem;
        }
        if (ready.length === 0 && minRemaining !== undefined) {
          this.queue.addAfter(key, Math.max(minRemaining, this.#batchMs));
          return 0;
        }
        indexesToAdd = ready;
      }
      diff = indexesToAdd.length;
    }
    this.expectations.expectCreations(key, diff);
    active += diff;
    const template = structuredClone(spec.template);
    if (isIndexedJob(job)) addCompletionIndexEnvVariables(template);
    template.metadata ??= {};
    if (!template.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) template.metadata.finalizers = [...(template.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    const ref = controllerRefFor(job);
    const name = job.metadata!.name!;
    let firstErr: unknown;
    let remainingToCreate = diff;
    for (let batch = Math.min(diff, SLOW_START_INITIAL_BATCH_SIZE); remainingToCreate > 0; batch = Math.min(2 * batch, remainingToCreate)) {
      let errors = 0;
      await Promise.all(Array.from({ length: batch }, async () => {
        const ix = indexesToAdd.length > 0 ? indexesToAdd.shift()! : UNKNOWN_COMPLETION_INDEX;
        let t = template;
        let generateName = `${name}-`;
        if (ix !== UNKNOWN_COMPLETION_INDEX) {
          t = structuredClone(template);
          addCompletionIndex(t, name, ix);
          generateName = podGenerateNameWithIndex(name, ix);
          if (hasBackoffLimitPerIndex(job)) addIndexFailureCountAnnotation(t, job, c.podsWithDelayedDeletionPerIndex.get(ix));
        }
        try {
          await this.#podControl.createPodsWithGenerateName(job.metadata!.namespace!, t, job, ref, generateName);
        } catch (err) {
          // A terminating namespace refuses every create; nothing to retry.
          if (hasStatusCause(err, 'NamespaceTerminating')) return;
          this.expectations.creationObserved(key);
          active--;
          errors++;
          firstErr ??= err;
        }
      }));
      remainingToCreate -= batch;
      if (errors > 0 && remainingToCreate > 0) {
        active -= remainingToCreate;
        for (let i = 0; i < remainingToCreate; i++) this.expectations.creationObserved(key);
        break;
      }
    }
    if (firstErr !== undefined) throw firstErr;
    return active;
  }

  #pendingIndexes(c: SyncCtx, count: number, completions: number): number[] {
    let nonPending = withOrderedIndexes(c.succeededIndexes, [...indexesOf(c.activePods)]);
    if (c.failedIndexes) nonPending = mergeIntervals(nonPending, c.failedIndexes);
    if (onlyReplaceFailedPods(c.job)) nonPending = withOrderedIndexes(nonPending, [...indexesOf(c.pods.filter(isPodTerminating))]);
    return firstPendingIndexes(nonPending, count, completions);
  }

  /**
   * Moves finished pods into uncountedTerminatedPods, removes their finalizers, folds them into the
   * counters, and sets the terminal condition once nothing is left uncounted or terminating.
   */
  async #trackJobStatusAndRemoveFinalizers(c: SyncCtx, key: string, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const job = c.job;
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods!;
    uncounted.succeeded = [...(uncounted.succeeded ?? [])];
    uncounted.failed = [...(uncounted.failed ?? [])];
    const isIndexed = isIndexedJob(job);
    const completions = job.spec?.completions ?? 0;
    const pods = isIndexed ? [...c.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : c.pods;
    const uidsWithFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (hasTrackingFinalizer(p) && !c.expectedRmFinalizers.has(uid)) uidsWithFinalizer.add(uid);
    }
    if (cleanUncountedPodsWithoutFinalizers(status, uidsWithFinalizer)) needsFlush = true;
    const toRemoveFinalizer: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(pod) || c.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      if (!canRemoveFinalizer(c, pod, failed)) continue;
      toRemoveFinalizer.push(pod);
      if (pod.status?.phase === 'Succeeded' && !c.uncountedFailed.has(uid)) {
        if (isIndexed) {
          const ix = completionIndexOf(pod);
          if (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions && !hasIndex(c.prevSucceededIndexes, ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!c.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          uncounted.succeeded.push(uid);
        }
      } else if (failed || (c.finishedCondition && c.finishedCondition.type !== JobConditionType.SuccessCriteriaMet)) {
        const ix = completionIndexOf(pod);
        if (!c.uncountedFailed.has(uid) && (!isIndexed || (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions))) {
          if (matchPodFailurePolicy(job.spec?.podFailurePolicy, pod).countFailed) {
            needsFlush = true;
            uncounted.failed.push(uid);
          }
        }
      }
      if (newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (isIndexed) {
      c.succeededIndexes = withOrderedIndexes(c.succeededIndexes, newSucceededIndexes);
      const s = intervalsString(c.succeededIndexes);
      if (s !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = totalOf(c.succeededIndexes);
      status.completedIndexes = s;
      const failedStr = c.failedIndexes ? intervalsString(c.failedIndexes) : undefined;
      if (failedStr !== status.failedIndexes) {
        if (failedStr === undefined) delete status.failedIndexes;
        else status.failedIndexes = failedStr;
        needsFlush = true;
      }
    }
    const now = this.#clock.now();
    if (c.finishedCondition?.type === JobConditionType.FailureTarget) {
      status.conditions = [...(status.conditions ?? []), c.finishedCondition];
      needsFlush = true;
      c.finishedCondition = newCondition(JobConditionType.Failed, 'True', c.finishedCondition.reason ?? '', c.finishedCondition.message ?? '', now);
    }
    if (c.finishedCondition?.type === JobConditionType.SuccessCriteriaMet) {
      if (findCondition(status.conditions, JobConditionType.SuccessCriteriaMet)?.status !== 'True') {
        status.conditions = [...(status.conditions ?? []), c.finishedCondition];
        needsFlush = true;
      }
      c.finishedCondition = newCondition(JobConditionType.Complete, 'True', c.finishedCondition.reason ?? '', c.finishedCondition.message ?? '', now);
    }
    // Flush the uncounted UIDs first, so a crash after removing finalizers cannot lose them.
    if (needsFlush) {
      c.job = await this.#writeStatus(c.job);
      this.#backoff.updateBackoffRecord(c.newBackoffRecord);
      needsFlush = false;
    }
    let rmErr: unknown;
    if (toRemoveFinalizer.length > 0) {
      const expected = this.#finalizerExpectations.get(key) ?? new Set<string>();
      this.#finalizerExpectations.set(key, expected);
      for (const p of toRemoveFinalizer) expected.add(p.metadata?.uid ?? '');
      await Promise.all(toRemoveFinalizer.map(async (pod) => {
        const uid = pod.metadata?.uid ?? '';
        try {
          await this.#podControl.patchPod(pod.metadata!.namespace!, pod.metadata!.name!, removeTrackingFinalizerPatch());
          uidsWithFinalizer.delete(uid);
        } catch (err) {
          this.#finalizerRemovalObserved(key, uid);
          if (isNotFound(err)) uidsWithFinalizer.delete(uid);
          else rmErr ??= err;
        }
      }));
    }
    if (cleanUncountedPodsWithoutFinalizers(c.job.status!, uidsWithFinalizer)) needsFlush = true;
    if (rmErr !== undefined) {
      if (needsFlush) c.job = await this.#writeStatus(c.job);
      throw rmErr;
    }
    const finished = !reachedMax && this.#enactJobFinished(c);
    if (finished) needsFlush = true;
    if (needsFlush) {
      c.job = await this.#writeStatus(c.job);
      if (finished) this.#recordJobFinished(c.job, c.finishedCondition!);
    }
  }

  async #writeStatus(job: Job): Promise<Job> {
    const out = structuredClone(job);
    out.status = normalizeStatus(job.status ?? {});
    const written = await this.#updateStatus(out);
    const next = structuredClone(written ?? out);
    next.status ??= {};
    next.status.uncountedTerminatedPods ??= {};
    return next;
  }

  #enactJobFinished(c: SyncCtx): boolean {
    const cond = c.finishedCondition;
    if (!cond) return false;
    const status = c.job.status!;
    const u = status.uncountedTerminatedPods;
    if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
    if (c.terminating > 0) return false;
    const now = this.#clock.now();
    status.conditions = ensureJobConditionStatus(status.conditions, cond.type, cond.status, cond.reason ?? '', cond.message ?? '', now).list;
    if (cond.type === JobConditionType.Complete) status.completionTime = cond.lastTransitionTime;
    return true;
  }

  #recordJobFinished(job: Job, cond: JobCondition): void {
    if (cond.type === JobConditionType.Complete) {
      const completions = job.spec?.completions;
      if (completions !== undefined && (job.status?.succeeded ?? 0) > completions) {
        this.#recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.#recorder.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.#recorder.event(job, 'Warning', cond.reason ?? '', cond.message ?? '');
    }
  }
}

const JOB_KIND = { apiVersion: 'batch/v1', kind: 'Job' } as const;

/** The Job as a controller ownerReference. */
export function controllerRefFor(job: Job): OwnerReference {
  return newControllerRef(job, JOB_KIND);
}

/** Strategic-merge patch dropping the tracking finalizer. */
export function removeTrackingFinalizerPatch(): Record<string, unknown> {
  return { metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] } };
}

/** Pods still carrying the finalizer, not already uncounted, with a valid index when Indexed. */
function validPods(c: SyncCtx, uncounted: Set<string>, filter: (p: Pod) => boolean): Pod[] {
  const completions = c.job.spec?.completions ?? 0;
  return c.pods.filter((p) => {
    const uid = p.metadata?.uid ?? '';
    if (!hasTrackingFinalizer(p) || uncounted.has(uid) || c.expectedRmFinalizers.has(uid)) return false;
    if (isIndexedJob(c.job)) {
      const ix = completionIndexOf(p);
      if (ix === UNKNOWN_COMPLETION_INDEX || ix >= completions) return false;
    }
    return filter(p);
  });
}

function failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
  if (!job.spec?.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p).failJobMessage;
    if (m !== undefined) return m;
  }
  return undefined;
}

function calculateFailedIndexes(job: Job, pods: readonly Pod[]): OrderedIntervals {
  const completions = job.spec?.completions ?? 0;
  const prev = parseIndexesFromString(job.status?.failedIndexes, completions);
  const limit = job.spec?.backoffLimitPerIndex ?? 0;
  const add: number[] = [];
  for (const p of pods) {
    let counted = false;
    if (isPodFailed(p, job)) {
      const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, p);
      if (m.action === 'FailIndex') {
        const ix = completionIndexOf(p);
        if (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions) add.push(ix);
        continue;
      }
      counted = m.countFailed;
    }
    if (counted && indexFailureCount(p) >= limit) {
      const ix = completionIndexOf(p);
      if (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions) add.push(ix);
    }
  }
  return withOrderedIndexes(prev, add);
}

/** Per index without a live pod, the newest failed pod whose finalizer waits for its replacement. */
function podsWithDelayedDeletionPerIndex(c: SyncCtx): Map<number, Pod> {
  const active = indexesOf(c.activePods);
  const out = new Map<number, Pod>();
  for (const p of validPods(c, new Set(), (x) => isPodFailed(x, c.job))) {
    const ix = completionIndexOf(p);
    if (hasIndex(c.succeededIndexes, ix) || hasIndex(c.failedIndexes, ix) || active.has(ix)) continue;
    const last = out.get(ix);
    if (!last || (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) && podFinishedTime(p) >= podFinishedTime(last))) out.set(ix, p);
  }
  return out;
}

function addIndexFailureCountAnnotation(template: { metadata?: { annotations?: Record<string, string> } }, job: Job, replaced: Pod | undefined): void {
  let failures = 0, ignored = 0;
  if (replaced) {
    failures = indexFailureCount(replaced);
    ignored = indexIgnoredFailureCount(replaced);
    if (matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed) failures++;
    else ignored++;
  }
  const md = (template.metadata ??= {});
  md.annotations = { ...md.annotations, [JOB_INDEX_FAILURE_COUNT_ANNOTATION]: String(failures) };
  if (ignored > 0) md.annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(ignored);
}

function canRemoveFinalizer(c: SyncCtx, pod: Pod, considerFailed: boolean): boolean {
  if (c.job.metadata?.deletionTimestamp || c.finishedCondition || pod.status?.phase === 'Succeeded') return true;
  if (!considerFailed) return false;
  if (hasBackoffLimitPerIndex(c.job)) {
    const ix = completionIndexOf(pod);
    const p = c.podsWithDelayedDeletionPerIndex.get(ix);
    if (p && p.metadata?.uid === pod.metadata?.uid) return false;
  }
  return true;
}

/** Drops UIDs whose pods lost their finalizer from uncountedTerminatedPods and counts them. */
function cleanUncountedPodsWithoutFinalizers(status: NonNullable<Job['status']>, withFinalizer: Set<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let updated = false;
  const s = (u.succeeded ?? []).filter((x) => withFinalizer.has(x));
  if (s.length !== (u.succeeded ?? []).length) {
    updated = true;
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded ?? []).length - s.length;
    u.succeeded = s;
  }
  const f = (u.failed ?? []).filter((x) => withFinalizer.has(x));
  if (f.length !== (u.failed ?? []).length) {
    updated = true;
    status.failed = (status.failed ?? 0) + (u.failed ?? []).length - f.length;
    u.failed = f;
  }
  return updated;
}

/** Pods to delete: duplicated/invalid indexes first, then the cheapest by ActivePods order. */
function activePodsForRemoval(job: Job, pods: readonly Pod[], rmAtLeast: number): Pod[] {
  let rm: Pod[] = [];
  let left: Pod[];
  if (isIndexedJob(job)) {
    ({ rm, left } = duplicatedIndexPodsForRemoval(pods, job.spec?.completions ?? 0));
  } else {
    left = [...pods];
  }
  if (rm.length < rmAtLeast) {
    left.sort(compareActivePods);
    rm = [...rm, ...left.slice(0, rmAtLeast - rm.length)];
  }
  return rm;
}

registerController('job', (ctx) => new JobController(ctx), 5);
