// Unit tests of the CronJob controller and its schedule helpers: a FakeClock, CronJobs and Jobs
// put straight into the caches, and a fake Job control that records creates and deletes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from '../../api/types/batch_v1.ts';
import { ApiStatusError } from '../../client/api_errors.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { RestClient } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { CronJobController, type JobControl } from './cronjob_controller.ts';
import { parseSchedule } from './cron_schedule.ts';
import { formatRfc3339InZone, getJobName, mostRecentScheduleTime, MissedSchedules } from './utils.ts';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const MIN = 60_000;

function notFound(): ApiStatusError {
  return new ApiStatusError({ code: 404, reason: 'NotFound', message: 'not found' });
}

/** Asserts an event was recorded (with a message: assert.ok's generated one can stall under tsx). */
function hasEvent(rec: FakeRecorder, e: string): void {
  assert.ok(rec.events.includes(e), `missing event ${JSON.stringify(e)}; got ${JSON.stringify(rec.events)}`);
}

function setup() {
  const clock = new FakeClock(T0);
  const client = new RestClient({ server: 'https://127.0.0.1:1' });
  const informers = new SharedInformerFactory(client, { clock });
  const recorder = new FakeRecorder();
  const ctx: ControllerContext = {
    client, informers, clock, recorder: () => recorder,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  const cronJobs = informers.informerFor<CronJob>(resourceDescriptor('batch/v1', 'cronjobs'));
  const jobs = informers.informerFor<Job>(resourceDescriptor('batch/v1', 'jobs'));
  const created: Job[] = [];
  const deleted: string[] = [];
  let seq = 0;
  const jobControl: JobControl = {
    async getJob(ns, name) {
      const j = jobs.lister.get(ns, name);
      if (!j) throw notFound();
      return j;
    },
    async createJob(_ns, job) {
      const j = structuredClone(job);
      j.metadata!.uid = `job-uid-${++seq}`;
      j.metadata!.resourceVersion = String(seq);
      created.push(j);
      jobs.indexer.add(j);
      return j;
    },
    async deleteJob(ns, name) {
      deleted.push(name);
      const j = jobs.lister.get(ns, name);
      if (j) jobs.indexer.delete(j);
    },
  };
  const controller = new CronJobController(ctx, {
    jobControl,
    getCronJob: async (ns, name) => cronJobs.lister.get(ns, name)!,
    updateStatus: async (cj) => {
      cronJobs.indexer.add(cj);
      return cj;
    },
  });
  const cleanup = async (): Promise<void> => {
    await controller.dispose();
    await informers.dispose();
    await client.dispose();
  };
  return { clock, controller, cronJobs, jobs, created, deleted, recorder, cleanup };
}

function newCronJob(spec: Partial<NonNullable<CronJob['spec']>> = {}): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: formatTime(T0), resourceVersion: '1' },
    spec: {
      schedule: '*/1 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'hello' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
  };
}

function complete(jobs: ReturnType<typeof setup>['jobs'], name: string, at: number): void {
  const j = structuredClone(jobs.lister.get('default', name)!);
  j.status = {
    startTime: formatTime(at - 1000), completionTime: formatTime(at), succeeded: 1,
    conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: formatTime(at) }],
  };
  j.metadata!.resourceVersion = String(Number(j.metadata!.resourceVersion) + 100);
  jobs.indexer.add(j);
}

describe('CronJob controller', () => {
  test('creates the Job for the due schedule time with a deterministic name and annotation', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob());
      const early = await h.controller.sync('default/hello');
      assert.equal(h.created.length, 0);
      assert.equal(early, MIN + 100, 'requeued 100 ms after the next minute');
      h.clock.step(MIN);
      const after = await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1);
      const job = h.created[0]!;
      const scheduled = T0 + MIN;
      assert.equal(job.metadata?.name, `hello-${scheduled / MIN}`);
      assert.equal(job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-01-01T10:01:00Z');
      assert.equal(job.metadata?.labels?.['app'], 'hello');
      assert.deepEqual(job.metadata?.ownerReferences?.[0], { apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true, blockOwnerDeletion: true });
      const cj = h.cronJobs.lister.get('default', 'hello')!;
      assert.equal(cj.status?.lastScheduleTime, formatTime(scheduled));
      assert.deepEqual(cj.status?.active?.map((r) => r.name), [job.metadata?.name]);
      assert.equal(after, MIN + 100);
      hasEvent(h.recorder, `Normal SuccessfulCreate Created job ${job.metadata?.name}`);
      // The same schedule time is not processed twice.
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('Forbid skips a run while one is active, then runs after the Job completed', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob({ concurrencyPolicy: 'Forbid' }));
      h.clock.step(MIN);
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1);
      h.clock.step(MIN);
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1);
      hasEvent(h.recorder, 'Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid');
      complete(h.jobs, h.created[0]!.metadata!.name!, h.clock.now());
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 2);
      hasEvent(h.recorder, `Normal SawCompletedJob Saw completed job: ${h.created[0]!.metadata!.name}, condition: Complete`);
      const cj = h.cronJobs.lister.get('default', 'hello')!;
      assert.deepEqual(cj.status?.active?.map((r) => r.name), [h.created[1]!.metadata!.name]);
    } finally {
      await h.cleanup();
    }
  });

  test('Replace deletes the running Job before starting the next', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob({ concurrencyPolicy: 'Replace' }));
      h.clock.step(MIN);
      await h.controller.sync('default/hello');
      h.clock.step(MIN);
      await h.controller.sync('default/hello');
      assert.deepEqual(h.deleted, [h.created[0]!.metadata!.name]);
      assert.equal(h.created.length, 2);
      hasEvent(h.recorder, `Normal SuccessfulDelete Deleted job ${h.created[0]!.metadata!.name}`);
    } finally {
      await h.cleanup();
    }
  });

  test('startingDeadlineSeconds skips a schedule time that is too far in the past', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 10 }));
      h.clock.setTime(Date.UTC(2024, 0, 1, 11, 0, 30));
      const requeue = await h.controller.sync('default/hello');
      assert.equal(h.created.length, 0);
      assert.equal(requeue, Date.UTC(2024, 0, 1, 12, 0, 0, 100) - h.clock.now());
      h.clock.setTime(Date.UTC(2024, 0, 1, 12, 0, 5));
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1, 'a start within the deadline runs');
    } finally {
      await h.cleanup();
    }
  });

  test('suspend stops new Jobs; history limits prune the oldest finished Jobs', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob({ successfulJobsHistoryLimit: 1 }));
      for (let i = 0; i < 3; i++) {
        h.clock.step(MIN);
        await h.controller.sync('default/hello');
        complete(h.jobs, h.created.at(-1)!.metadata!.name!, h.clock.now());
      }
      await h.controller.sync('default/hello');
      assert.deepEqual(h.deleted, [h.created[0]!.metadata!.name, h.created[1]!.metadata!.name]);
      const cj = structuredClone(h.cronJobs.lister.get('default', 'hello')!);
      assert.ok(cj.status?.lastSuccessfulTime, 'cj.status?.lastSuccessfulTime');
      cj.spec!.suspend = true;
      h.cronJobs.indexer.add(cj);
      h.clock.step(MIN);
      const before = h.created.length;
      assert.equal(await h.controller.sync('default/hello'), undefined);
      assert.equal(h.created.length, before);
    } finally {
      await h.cleanup();
    }
  });

  test('too many missed start times warn and start only the most recent', async () => {
    const h = setup();
    try {
      h.cronJobs.indexer.add(newCronJob());
      h.clock.step(200 * MIN);
      await h.controller.sync('default/hello');
      assert.equal(h.created.length, 1);
      assert.equal(h.created[0]!.metadata?.name, getJobName(newCronJob(), T0 + 200 * MIN));
      hasEvent(h.recorder, 'Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    } finally {
      await h.cleanup();
    }
  });
});

describe('cron schedules', () => {
  test('macros, time zones and @every', () => {
    const at = Date.UTC(2024, 2, 10, 6, 30);
    assert.equal(new Date(parseSchedule('@hourly').next(at)).toISOString(), '2024-03-10T07:00:00.000Z');
    assert.equal(new Date(parseSchedule('@daily', 'Europe/Berlin').next(at)).toISOString(), '2024-03-10T23:00:00.000Z');
    assert.equal(new Date(parseSchedule('@every 90s').next(at)).toISOString(), '2024-03-10T06:31:30.000Z');
    assert.equal(new Date(parseSchedule('0 0 1 * 1').next(at)).toISOString(), '2024-03-11T00:00:00.000Z', 'day-of-month OR day-of-week');
    assert.throws(() => parseSchedule('61 * * * *'));
    assert.throws(() => parseSchedule('* * * *'), /expected exactly 5 fields, found 4/);
  });

  test('scheduled timestamps carry the zone offset', () => {
    assert.equal(formatRfc3339InZone(Date.UTC(2024, 0, 1, 10), 'Asia/Tokyo'), '2024-01-01T19:00:00+09:00');
    assert.equal(formatRfc3339InZone(Date.UTC(2024, 0, 1, 10), undefined), '2024-01-01T10:00:00Z');
  });

  test('missed schedules are counted', () => {
    const cj = newCronJob();
    const r = mostRecentScheduleTime(cj, T0 + 5 * MIN + 1000, parseSchedule('*/1 * * * *'), false);
    assert.equal(r.mostRecent, T0 + 5 * MIN);
    assert.equal(r.missed, MissedSchedules.few);
  });
});
