// CronJob controller against a real API server, driven by kubectl and a FakeClock the controller
// schedules on: it fires at the minute, Forbid skips a run while the previous Job is active, and
// the next run starts once that Job completed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../../src/api/types/batch_v1.ts';
import { FakeClock, formatTime } from '../../../src/client/clock.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { CronJobController } from '../../../src/controllers/cronjob/cronjob_controller.ts';
import { startBatchHarness, type BatchHarness } from './batch_apps_harness.ts';
import { eventually, getJson, kubectlOk } from './workload_harness.ts';

const MIN = 60_000;

const cronYaml = (ns: string): string => `
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: ${ns}}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata: {labels: {app: tick}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox, command: [date]}]
`;

interface JobJson { metadata: { name: string; annotations: Record<string, string>; ownerReferences: { kind: string; name: string }[] } }

describe('CronJob controller', () => {
  let h: BatchHarness;
  // The controller schedules on this clock; its informers and the API server use real time.
  const clock = new FakeClock(Date.now());
  before(async () => {
    h = await startBatchHarness((ctx) => [{ controller: new CronJobController(ctx), workers: 1 }], { clock, decide: () => undefined });
  });
  after(async () => { await h.stop(); });

  async function jobs(ns: string): Promise<JobJson[]> {
    return (await getJson(h.s, ['jobs', '-n', ns])).items;
  }

  test('fires on schedule and respects concurrencyPolicy Forbid', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'c1']);
    await kubectlOk(h.s, ['create', '-f', '-'], cronYaml('c1'));
    const cj = await getJson(h.s, ['cronjob', 'tick', '-n', 'c1']);
    const created = Date.parse(cj.metadata.creationTimestamp);
    // Let the controller see the CronJob and park it on the clock until the next minute.
    await eventually('controller waits for the schedule', () => (clock.hasWaiters() ? true : undefined));
    assert.equal((await jobs('c1')).length, 0);

    const first = (Math.floor(created / MIN) + 1) * MIN;
    clock.setTime(Math.max(clock.now(), first + 1000));
    const [job1] = await eventually('first job', async () => {
      const js = await jobs('c1');
      return js.length === 1 ? js : undefined;
    });
    assert.equal(job1!.metadata.name, `tick-${first / MIN}`);
    assert.equal(job1!.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], formatTime(first));
    assert.equal(job1!.metadata.ownerReferences[0]!.kind, 'CronJob');
    const status1 = await eventually('active job in status', async () => {
      const o = await getJson(h.s, ['cronjob', 'tick', '-n', 'c1']);
      return o.status?.active?.length === 1 ? o.status : undefined;
    });
    assert.equal(status1.lastScheduleTime, formatTime(first));
    assert.equal(status1.active[0].name, job1!.metadata.name);

    // Next minute: the first Job is still active, so Forbid skips this run.
    clock.setTime(first + MIN + 1000);
    await eventually('JobAlreadyActive event', async () => {
      const d = await kubectlOk(h.s, ['describe', 'cronjob', 'tick', '-n', 'c1']);
      return /JobAlreadyActive\s+\S+\s+cronjob-controller\s+Not starting job because prior execution is running and concurrency policy is Forbid/.test(d) ? d : undefined;
    });
    assert.equal((await jobs('c1')).length, 1);

    // The Job completes (as the Job controller would report it).
    const now = formatTime(Date.now());
    await h.client.resource<Job>(resourceDescriptor('batch/v1', 'jobs'), 'c1').patchStatus(job1!.metadata.name, 'merge', {
      status: {
        startTime: now, completionTime: now, succeeded: 1, ready: 0, terminating: 0,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
          { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
        ],
      },
    });
    // The run skipped under Forbid is still due (no startingDeadlineSeconds), so it starts at once.
    const js = await eventually('second job', async () => {
      const all = await jobs('c1');
      return all.length === 2 ? all : undefined;
    });
    assert.deepEqual(js.map((j) => j.metadata.name).sort(), [`tick-${first / MIN}`, `tick-${first / MIN + 1}`]);
    const status2 = await eventually('status after the second run', async () => {
      const o = await getJson(h.s, ['cronjob', 'tick', '-n', 'c1']);
      return o.status?.lastSuccessfulTime && o.status?.active?.[0]?.name === `tick-${first / MIN + 1}` ? o.status : undefined;
    });
    assert.equal(status2.lastScheduleTime, formatTime(first + MIN));
    const d = await kubectlOk(h.s, ['describe', 'cronjob', 'tick', '-n', 'c1']);
    assert.match(d, new RegExp(`SuccessfulCreate\\s+\\S+\\s+cronjob-controller\\s+Created job tick-${first / MIN}`));
    assert.match(d, new RegExp(`SawCompletedJob\\s+\\S+\\s+cronjob-controller\\s+Saw completed job: tick-${first / MIN}, condition: Complete`));
    const get = await kubectlOk(h.s, ['get', 'cronjob', 'tick', '-n', 'c1']);
    assert.match(get, /tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+1\s+/);
    // Later minutes keep firing on the controller's clock.
    clock.setTime(first + 2 * MIN + 1000);
    await eventually('Forbid skips again while the second job runs', async () => {
      const d2 = await kubectlOk(h.s, ['get', 'events', '-n', 'c1', '--field-selector', 'reason=JobAlreadyActive', '-o', 'json']);
      const ev = JSON.parse(d2).items[0];
      return ev && ev.count >= 2 ? ev : undefined;
    });
    assert.equal((await jobs('c1')).length, 2);
  });
});
