// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): deletes a finished
// Job (Complete or Failed) once spec.ttlSecondsAfterFinished has passed since it finished, with
// foreground propagation so its pods go first, re-reading the Job live before deleting.
import type { Job } from '../../api/types/batch_v1.ts';
import { logger } from '../../base/log.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { parseTime, type Clock } from '../../client/clock.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { metaNamespaceKey, splitKey } from '../../client/store.ts';
import { errMessage, runWorkers } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';

const log = logger('ttl-after-finished-controller');

/** When the Job finished (its Complete/Failed condition's transition), if it has. */
export function jobFinishTime(job: Job): number | undefined {
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  if (!c) return undefined;
  return parseTime(c.lastTransitionTime) ?? 0;
}

/** A finished Job with a TTL, not yet being deleted. */
export function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished !== undefined && job.spec.ttlSecondsAfterFinished !== null &&
    jobFinishTime(job) !== undefined && !job.metadata?.deletionTimestamp;
}

/** Milliseconds until the Job expires (<= 0: expired), or undefined when it needs no cleanup. */
export function timeLeft(job: Job, now: number): number | undefined {
  if (!needsCleanup(job)) return undefined;
  const finishAt = jobFinishTime(job)!;
  if (finishAt > now) log.info('Found Job finished in the future. This is likely due to time skew in the cluster. Job cleanup will be deferred.', { job: metaNamespaceKey(job) });
  return finishAt + job.spec!.ttlSecondsAfterFinished! * 1000 - now;
}

/** Deletes finished Jobs whose TTL has passed. */
export class TtlAfterFinishedController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  #jobs: SharedIndexInformer<Job>;
  #jobClient: ResourceClient<Job>;
  #clock: Clock;
  #registration: { dispose(): void };
  #workers: Promise<void> | undefined;

  constructor(ctx: ControllerContext) {
    this.#clock = ctx.clock;
    this.#jobClient = ctx.client.resource<Job>(resourceDescriptor('batch/v1', 'jobs'));
    this.queue = new RateLimitingQueue<string>({ name: 'ttl_jobs_to_delete', clock: ctx.clock });
    this.#jobs = ctx.informers.informerFor<Job>(resourceDescriptor('batch/v1', 'jobs'));
    const enqueue = (job: Job): void => {
      if (needsCleanup(job)) this.queue.add(metaNamespaceKey(job));
    };
    this.#registration = this.#jobs.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });
  }

  run(workers: number): void {
    this.#workers = runWorkers(this.queue, workers, (k) => this.sync(k), (key, err) => log.warn('error cleaning up Job', { key, err: errMessage(err) }));
  }

  async dispose(): Promise<void> {
    this.#registration.dispose();
    this.queue.shutDown();
    await this.#workers;
  }

  /** Deletes the Job `key` if it expired, or requeues it for when it will. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = this.#jobs.lister.get(namespace, name);
    if (!job) return;
    const left = timeLeft(job, this.#clock.now());
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    // The cache may be stale (TTL changed, Job recreated): decide on a live read.
    let fresh: Job;
    try {
      fresh = await this.#jobClient.inNamespace(namespace).get(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const freshLeft = timeLeft(fresh, this.#clock.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    log.info('Cleaning up Job', { job: key });
    try {
      await this.#jobClient.inNamespace(namespace).delete(name, {
        propagationPolicy: 'Foreground',
        preconditions: { uid: fresh.metadata?.uid ?? '' },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

registerController('ttl-after-finished', (ctx) => new TtlAfterFinishedController(ctx), 5);
