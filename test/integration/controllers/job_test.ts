// Job and TTL-after-finished controllers against a real API server, driven by kubectl: a Job
// retries after a failed pod and completes, an Indexed Job completes every index, and a finished
// Job with a TTL is deleted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/api/types/core_v1.ts';
import { JobController } from '../../../src/controllers/job/job_controller.ts';
import { TtlAfterFinishedController } from '../../../src/controllers/ttl_after_finished/ttl_after_finished.ts';
import { startBatchHarness, type BatchHarness, type PodOutcome } from './batch_apps_harness.ts';
import { eventually, getJson, kubectlOk } from './workload_harness.ts';

/** The first pod of a Job labelled fail-first fails; every other Job pod succeeds (stable per pod). */
function decide(): (pod: Pod) => PodOutcome {
  const failedOnce = new Set<string>();
  const byPod = new Map<string, PodOutcome>();
  return (pod) => {
    const job = pod.metadata?.labels?.['batch.kubernetes.io/job-name'];
    if (!job) return undefined;
    const uid = pod.metadata?.uid ?? '';
    let outcome = byPod.get(uid);
    if (outcome === undefined) {
      outcome = pod.metadata?.labels?.['fail-first'] === 'true' && !failedOnce.has(job) ? 'Failed' : 'Succeeded';
      if (outcome === 'Failed') failedOnce.add(job);
      byPod.set(uid, outcome);
    }
    return outcome;
  };
}

const jobYaml = (ns: string, name: string, spec: string, labels = ''): string => `
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
  template:
    metadata: {labels: {app: ${name}${labels}}}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, "exit 0"]}]
`;

describe('Job controller', () => {
  let h: BatchHarness;
  before(async () => {
    h = await startBatchHarness((ctx) => [
      // A short pod-failure backoff keeps the retry test quick; the 10 s default is unit-tested.
      { controller: new JobController(ctx, { podFailureBackoffMs: 200, syncBatchPeriodMs: 100 }), workers: 2 },
      { controller: new TtlAfterFinishedController(ctx), workers: 1 },
    ], { decide: decide() });
  });
  after(async () => { await h.stop(); });

  test('a Job retries after a failed pod and completes', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'j1']);
    await kubectlOk(h.s, ['create', '-f', '-'], jobYaml('j1', 'pi', '  completions: 2\n  parallelism: 1\n  backoffLimit: 3', ', fail-first: "true"'));
    const job = await eventually('job Complete', async () => {
      const o = await getJson(h.s, ['job', 'pi', '-n', 'j1']);
      return o.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True') ? o : undefined;
    }, 30_000);
    assert.equal(job.status.succeeded, 2);
    assert.equal(job.status.failed, 1);
    assert.equal(job.status.ready, 0);
    assert.equal(job.status.terminating, 0);
    assert.deepEqual(job.status.uncountedTerminatedPods, {});
    assert.ok(job.status.startTime && job.status.completionTime, 'start and completion times are set');
    assert.deepEqual(job.status.conditions.map((c: { type: string; reason: string }) => [c.type, c.reason]), [
      ['SuccessCriteriaMet', 'CompletionsReached'], ['Complete', 'CompletionsReached'],
    ]);
    const pods = await getJson(h.s, ['pods', '-n', 'j1', '-l', 'batch.kubernetes.io/job-name=pi']);
    assert.equal(pods.items.length, 3);
    for (const p of pods.items) {
      assert.deepEqual(p.metadata.finalizers ?? [], [], 'tracking finalizers are removed once counted');
      assert.equal(p.metadata.ownerReferences[0].kind, 'Job');
      assert.match(p.metadata.name, /^pi-[a-z0-9]{5}$/);
    }
    const describe = await kubectlOk(h.s, ['describe', 'job', 'pi', '-n', 'j1']);
    assert.match(describe, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 2 Succeeded \/ 1 Failed/);
    await eventually('events in describe', async () => {
      const d = await kubectlOk(h.s, ['describe', 'job', 'pi', '-n', 'j1']);
      return /SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: pi-/.test(d) && /Completed\s+\S+\s+job-controller\s+Job completed/.test(d) ? d : undefined;
    });
    const wide = await kubectlOk(h.s, ['get', 'job', 'pi', '-n', 'j1']);
    assert.match(wide, /pi\s+Complete\s+2\/2/);
  });

  test('an Indexed Job runs one pod per index and records completedIndexes', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'j2']);
    await kubectlOk(h.s, ['create', '-f', '-'], jobYaml('j2', 'idx', '  completions: 3\n  parallelism: 3\n  completionMode: Indexed'));
    const job = await eventually('indexed job Complete', async () => {
      const o = await getJson(h.s, ['job', 'idx', '-n', 'j2']);
      return o.status?.conditions?.some((c: { type: string }) => c.type === 'Complete') ? o : undefined;
    }, 30_000);
    assert.equal(job.status.completedIndexes, '0-2');
    assert.equal(job.status.succeeded, 3);
    const pods = await getJson(h.s, ['pods', '-n', 'j2']);
    const byIndex = new Map<string, { spec: { hostname: string; containers: { env: { name: string }[] }[] }; metadata: { name: string; labels: Record<string, string> } }>();
    for (const p of pods.items) byIndex.set(p.metadata.annotations['batch.kubernetes.io/job-completion-index'], p);
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    for (const [ix, p] of byIndex) {
      assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.spec.hostname, `idx-${ix}`);
      assert.ok(p.metadata.name.startsWith(`idx-${ix}-`), p.metadata.name);
      assert.equal(p.spec.containers[0]!.env[0]!.name, 'JOB_COMPLETION_INDEX');
    }
    const describe = await kubectlOk(h.s, ['describe', 'job', 'idx', '-n', 'j2']);
    assert.match(describe, /Completed Indexes:\s+0-2/);
  });

  test('a finished Job with ttlSecondsAfterFinished is deleted', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'j3']);
    await kubectlOk(h.s, ['create', '-f', '-'], jobYaml('j3', 'short', '  ttlSecondsAfterFinished: 0'));
    // Foreground deletion: without a garbage collector here the Job keeps its foregroundDeletion
    // finalizer, so "being deleted" is what this test can observe.
    const gone = await eventually('job deleted', async () => {
      const r = await h.s.kubectl(['get', 'job', 'short', '-n', 'j3', '-o', 'json']);
      if (r.code !== 0) return 'gone';
      const o = JSON.parse(r.stdout);
      return o.metadata.deletionTimestamp ? o.metadata.finalizers?.join(',') ?? 'deleting' : undefined;
    }, 30_000);
    assert.ok(gone === 'gone' || gone.includes('foregroundDeletion'), gone);
  });
});
