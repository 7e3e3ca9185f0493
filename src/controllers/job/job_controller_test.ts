// Unit tests of the Job controller: objects go straight into the informer caches, a fake pod
// control applies creates/deletes/patches to the pod cache, and sync(key) runs synchronously.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../api/types/batch_v1.ts';
import type { Pod, PodTemplateSpec } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { RestClient } from '../../client/rest_client.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import type { ControllerContext } from '../registry.ts';
import type { PodControl } from '../controller_utils.ts';
import { JobController } from './job_controller.ts';
import { intervalsString, parseIndexesFromString, withOrderedIndexes, podGenerateNameWithIndex } from './indexed_job_utils.ts';
import { JOB_TRACKING_FINALIZER } from './job_utils.ts';
import { remainingTimeForFailures } from './backoff.ts';

/** Applies pod writes to the pod cache, as the API server and informer would. */
class CachePodControl implements PodControl {
  created: Pod[] = [];
  deleted: string[] = [];
  #pods: SharedIndexInformer<Pod>;
  #clock: FakeClock;
  #seq = 0;
  constructor(pods: SharedIndexInformer<Pod>, clock: FakeClock) {
    this.#pods = pods;
    this.#clock = clock;
  }
  createPods(ns: string, t: PodTemplateSpec, owner: KubeObject, ref: OwnerReference): Promise<void> {
    return this.createPodsWithGenerateName(ns, t, owner, ref, `${owner.metadata?.name}-`);
  }
  async createPodsWithGenerateName(ns: string, t: PodTemplateSpec, _owner: KubeObject, ref: OwnerReference, generateName: string): Promise<void> {
    const n = ++this.#seq;
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        ...structuredClone(t.metadata ?? {}), namespace: ns, name: `${generateName}p${n}`, uid: `pod-uid-${n}`,
        resourceVersion: String(n), ownerReferences: [ref], creationTimestamp: formatTime(this.#clock.now()),
      },
      spec: structuredClone(t.spec!),
      status: { phase: 'Pending' },
    };
    this.created.push(pod);
    this.#pods.indexer.add(pod);
  }
  async deletePod(ns: string, name: string): Promise<void> {
    this.deleted.push(name);
    const p = this.#pods.lister.get(ns, name);
    if (!p) return;
    if (p.metadata?.finalizers?.length) {
      this.#pods.indexer.add({ ...p, metadata: { ...p.metadata, deletionTimestamp: formatTime(this.#clock.now()) } });
    } else {
      this.#pods.indexer.delete(p);
    }
  }
  async patchPod(ns: string, name: string, patch: unknown): Promise<void> {
    const p = this.#pods.lister.get(ns, name);
    if (!p) return;
    const md = (patch as { metadata: Record<string, unknown> }).metadata;
    const next = structuredClone(p);
    const rm = md['$deleteFromPrimitiveList/finalizers'] as string[] | undefined;
    if (rm) next.metadata!.finalizers = (next.metadata!.finalizers ?? []).filter((f) => !rm.includes(f));
    if (Array.isArray(md['finalizers'])) next.metadata!.finalizers = [...new Set([...(next.metadata!.finalizers ?? []), ...(md['finalizers'] as string[])])];
    if (Array.isArray(md['ownerReferences'])) {
      const refs = md['ownerReferences'] as (OwnerReference & { $patch?: string })[];
      for (const r of refs) {
        if (r.$patch === 'delete') next.metadata!.ownerReferences = (next.metadata!.ownerReferences ?? []).filter((o) => o.uid !== r.uid);
        else next.metadata!.ownerReferences = [...(next.metadata!.ownerReferences ?? []), r];
      }
    }
    next.metadata!.resourceVersion = String(Number(p.metadata?.resourceVersion ?? 0) + 1000);
    if (next.metadata!.deletionTimestamp && (next.metadata!.finalizers ?? []).length === 0) this.#pods.indexer.delete(next);
    else this.#pods.indexer.add(next);
  }
}

/** Asserts an event was recorded (with a message: assert.ok's generated one can stall under tsx). */
function hasEvent(rec: FakeRecorder, e: string): void {
  assert.ok(rec.events.includes(e), `missing event ${JSON.stringify(e)}; got ${JSON.stringify(rec.events)}`);
}

function setup(opts: { podFailureBackoffMs?: number } = {}) {
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  const client = new RestClient({ server: 'https://127.0.0.1:1' });
  const informers = new SharedInformerFactory(client, { clock });
  const recorder = new FakeRecorder();
  const ctx: ControllerContext = {
    client, informers, clock, recorder: () => recorder,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  const jobs = informers.informerFor<Job>(resourceDescriptor('batch/v1', 'jobs'));
  const pods = informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
  const podControl = new CachePodControl(pods, clock);
  const statuses: Job[] = [];
  const controller = new JobController(ctx, {
    podControl,
    ...(opts.podFailureBackoffMs !== undefined ? { podFailureBackoffMs: opts.podFailureBackoffMs } : {}),
    updateJobStatus: async (job) => {
      const written = structuredClone(job);
      written.metadata!.resourceVersion = String(Number(job.metadata?.resourceVersion ?? 0) + 1);
      statuses.push(written);
      jobs.indexer.add(written);
      return written;
    },
  });
  const cleanup = async (): Promise<void> => {
    await controller.dispose();
    await informers.dispose();
    await client.dispose();
  };
  return { clock, controller, jobs, pods, podControl, recorder, statuses, cleanup };
}

function newJob(name: string, spec: Partial<NonNullable<Job['spec']>> = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default', uid: `${name}-uid`, resourceVersion: '1', generation: 1, labels: { 'batch.kubernetes.io/job-name': name } },
    spec: {
      completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': `${name}-uid` } },
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': `${name}-uid`, 'batch.kubernetes.io/job-name': name } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
      ...spec,
    },
  };
}

function finishPod(pods: SharedIndexInformer<Pod>, name: string, phase: 'Succeeded' | 'Failed', at: number, exitCode = phase === 'Succeeded' ? 0 : 1): void {
  const p = structuredClone(pods.lister.get('default', name)!);
  p.metadata!.resourceVersion = String(Number(p.metadata!.resourceVersion) + 1);
  p.status = {
    phase,
    containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt: formatTime(at) } } }],
  };
  pods.indexer.add(p);
}

const KEY = 'default/pi';

describe('Job controller', () => {
  test('creates parallelism pods with the tracking finalizer and the job as controller', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', { completions: 5, parallelism: 2 }));
      await h.controller.sync(KEY);
      assert.equal(h.podControl.created.length, 2);
      const pod = h.podControl.created[0]!;
      assert.deepEqual(pod.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
      assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'Job');
      assert.equal(pod.metadata?.ownerReferences?.[0]?.controller, true);
      const st = h.statuses.at(-1)!.status!;
      assert.equal(st.active, 2);
      assert.equal(st.ready, 0);
      assert.equal(st.terminating, 0);
      assert.ok(st.startTime, 'st.startTime');
      // Expectations hold the next sync back until the creations are observed.
      assert.equal(h.controller.expectations.satisfiedExpectations(KEY), false);
    } finally {
      await h.cleanup();
    }
  });

  test('a succeeded pod is counted through uncountedTerminatedPods and the job completes', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi'));
      await h.controller.sync(KEY);
      const name = h.podControl.created[0]!.metadata!.name!;
      h.controller.expectations.creationObserved(KEY);
      finishPod(h.pods, name, 'Succeeded', h.clock.now());
      h.statuses.length = 0;
      await h.controller.sync(KEY);
      // First write records the UID as uncounted before the finalizer goes.
      assert.deepEqual(h.statuses[0]!.status?.uncountedTerminatedPods?.succeeded, ['pod-uid-1']);
      assert.deepEqual(h.statuses[0]!.status?.conditions?.map((c) => c.type), ['SuccessCriteriaMet']);
      const final = h.statuses.at(-1)!.status!;
      assert.equal(final.succeeded, 1);
      assert.deepEqual(final.uncountedTerminatedPods, {});
      assert.deepEqual(final.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
        ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ]);
      assert.ok(final.completionTime, 'final.completionTime');
      assert.equal(h.pods.lister.get('default', name)?.metadata?.finalizers?.length, 0);
      hasEvent(h.recorder, 'Normal Completed Job completed');
    } finally {
      await h.cleanup();
    }
  });

  test('a failed pod is replaced only after the backoff, and backoffLimit fails the job', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', { backoffLimit: 1 }));
      await h.controller.sync(KEY);
      h.controller.expectations.creationObserved(KEY);
      finishPod(h.pods, h.podControl.created[0]!.metadata!.name!, 'Failed', h.clock.now());
      await h.controller.sync(KEY);
      assert.equal(h.podControl.created.length, 1, 'no replacement during the 10 s backoff');
      assert.equal(h.statuses.at(-1)!.status!.failed, 1);
      assert.equal(h.controller.queue.waitingLen(), 1, 'requeued for when the backoff ends');
      h.clock.step(10_000);
      await h.controller.sync(KEY);
      assert.equal(h.podControl.created.length, 2);
      h.controller.expectations.creationObserved(KEY);
      finishPod(h.pods, h.podControl.created[1]!.metadata!.name!, 'Failed', h.clock.now());
      await h.controller.sync(KEY);
      const st = h.statuses.at(-1)!.status!;
      assert.equal(st.failed, 2);
      assert.deepEqual(st.conditions?.map((c) => [c.type, c.reason]), [['FailureTarget', 'BackoffLimitExceeded'], ['Failed', 'BackoffLimitExceeded']]);
      assert.equal(st.conditions?.[1]?.message, 'Job has reached the specified backoff limit');
      hasEvent(h.recorder, 'Warning BackoffLimitExceeded Job has reached the specified backoff limit');
    } finally {
      await h.cleanup();
    }
  });

  test('Indexed jobs start the lowest pending indexes with annotation, label, hostname and env', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', { completionMode: 'Indexed', completions: 4, parallelism: 2 }));
      await h.controller.sync(KEY);
      const idx = h.podControl.created.map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
      assert.deepEqual(idx, ['0', '1']);
      const p0 = h.podControl.created.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0')!;
      assert.equal(p0.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], '0');
      assert.equal(p0.spec?.hostname, 'pi-0');
      assert.ok(p0.metadata?.name?.startsWith('pi-0-'), "p0.metadata?.name?.startsWith('pi-0-')");
      assert.equal(p0.spec?.containers[0]?.env?.[0]?.name, 'JOB_COMPLETION_INDEX');
      h.controller.expectations.creationObserved(KEY);
      h.controller.expectations.creationObserved(KEY);
      finishPod(h.pods, p0.metadata!.name!, 'Succeeded', h.clock.now());
      await h.controller.sync(KEY);
      const st = h.statuses.at(-1)!.status!;
      assert.equal(st.completedIndexes, '0');
      assert.equal(st.succeeded, 1);
      const newest = h.podControl.created.at(-1)!;
      assert.equal(newest.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'], '2');
    } finally {
      await h.cleanup();
    }
  });

  test('a FailJob podFailurePolicy rule fails the job with the rule message', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', {
        podReplacementPolicy: 'Failed',
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] },
      }));
      await h.controller.sync(KEY);
      h.controller.expectations.creationObserved(KEY);
      const name = h.podControl.created[0]!.metadata!.name!;
      finishPod(h.pods, name, 'Failed', h.clock.now(), 42);
      await h.controller.sync(KEY);
      const st = h.statuses.at(-1)!.status!;
      const failed = st.conditions?.find((c) => c.type === 'Failed');
      assert.equal(failed?.reason, 'PodFailurePolicy');
      assert.equal(failed?.message, `Container c for pod default/${name} failed with exit code 42 matching FailJob rule at index 0`);
    } finally {
      await h.cleanup();
    }
  });

  test('an Ignore rule does not count the failure', async () => {
    const h = setup({ podFailureBackoffMs: 10_000 });
    try {
      h.jobs.indexer.add(newJob('pi', {
        backoffLimit: 0,
        podReplacementPolicy: 'Failed',
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      }));
      await h.controller.sync(KEY);
      h.controller.expectations.creationObserved(KEY);
      const name = h.podControl.created[0]!.metadata!.name!;
      finishPod(h.pods, name, 'Failed', h.clock.now());
      const p = structuredClone(h.pods.lister.get('default', name)!);
      p.status!.conditions = [{ type: 'DisruptionTarget', status: 'True' }];
      h.pods.indexer.add(p);
      await h.controller.sync(KEY);
      const st = h.statuses.at(-1)!.status!;
      assert.equal(st.failed ?? 0, 0);
      assert.equal(st.conditions, undefined);
      // Ignored failures still delay the replacement (upstream's backoff counts every failed pod).
      h.clock.step(10_000);
      await h.controller.sync(KEY);
      assert.equal(h.podControl.created.length, 2, 'replaced without counting');
      assert.equal(h.statuses.at(-1)!.status!.failed ?? 0, 0);
    } finally {
      await h.cleanup();
    }
  });

  test('activeDeadlineSeconds fails the job with DeadlineExceeded and deletes its pods', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', { activeDeadlineSeconds: 30 }));
      await h.controller.sync(KEY);
      h.controller.expectations.creationObserved(KEY);
      h.clock.step(30_000);
      await h.controller.sync(KEY);
      assert.equal(h.podControl.deleted.length, 1);
      const ft = h.statuses.at(-1)!.status!.conditions?.find((c) => c.type === 'FailureTarget');
      assert.equal(ft?.reason, 'DeadlineExceeded');
      assert.equal(ft?.message, 'Job was active longer than specified deadline');
      // The pod is terminating: Failed waits until it is gone.
      assert.equal(h.statuses.at(-1)!.status!.conditions?.some((c) => c.type === 'Failed'), false);
      await h.controller.sync(KEY);
      const st = h.statuses.at(-1)!.status!;
      assert.deepEqual(st.conditions?.map((c) => c.type), ['FailureTarget', 'Failed']);
      assert.equal(st.failed, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('suspend deletes active pods and sets the Suspended condition; resume resets startTime', async () => {
    const h = setup();
    try {
      h.jobs.indexer.add(newJob('pi', { parallelism: 2, completions: 2 }));
      await h.controller.sync(KEY);
      h.controller.expectations.creationObserved(KEY);
      h.controller.expectations.creationObserved(KEY);
      const suspended = structuredClone(h.jobs.lister.get('default', 'pi')!);
      suspended.spec!.suspend = true;
      h.jobs.indexer.add(suspended);
      await h.controller.sync(KEY);
      assert.equal(h.podControl.deleted.length, 2);
      const st = h.statuses.at(-1)!.status!;
      assert.deepEqual(st.conditions?.map((c) => [c.type, c.status, c.reason]), [['Suspended', 'True', 'JobSuspended']]);
      hasEvent(h.recorder, 'Normal Suspended Job suspended');
      h.controller.expectations.deletionObserved(KEY);
      h.controller.expectations.deletionObserved(KEY);
      h.clock.step(5000);
      const resumed = structuredClone(h.jobs.lister.get('default', 'pi')!);
      resumed.spec!.suspend = false;
      h.jobs.indexer.add(resumed);
      await h.controller.sync(KEY);
      const st2 = h.statuses.at(-1)!.status!;
      assert.deepEqual(st2.conditions?.map((c) => [c.type, c.status, c.reason]), [['Suspended', 'False', 'JobResumed']]);
      assert.equal(st2.startTime, formatTime(h.clock.now()));
      hasEvent(h.recorder, 'Normal Resumed Job resumed');
    } finally {
      await h.cleanup();
    }
  });

  test('orphan pods matching the selector are adopted with the tracking finalizer', async () => {
    const h = setup();
    try {
      const job = newJob('pi');
      h.jobs.indexer.add(job);
      h.pods.indexer.add({
        metadata: { name: 'stray', namespace: 'default', uid: 'stray-uid', resourceVersion: '5', labels: { ...job.spec!.template.metadata!.labels } },
        spec: { containers: [] }, status: { phase: 'Running' },
      });
      // The live read of canAdopt goes to an unreachable server: adoption is refused, no pod is created twice.
      await assert.rejects(h.controller.sync(KEY));
      assert.equal(h.podControl.created.length, 0);
    } finally {
      await h.cleanup();
    }
  });
});

describe('indexed job utils', () => {
  test('intervals print as upstream does', () => {
    assert.equal(intervalsString(withOrderedIndexes([], [0, 1, 2, 4])), '0-2,4');
    assert.equal(intervalsString(withOrderedIndexes([], [5, 6])), '5,6');
    assert.equal(intervalsString(parseIndexesFromString('0-2,4,7-9', 8)), '0-2,4,7');
  });

  test('generate names keep the index when the job name is long', () => {
    assert.equal(podGenerateNameWithIndex('pi', 3), 'pi-3-');
    const long = 'x'.repeat(70);
    const g = podGenerateNameWithIndex(long, 12);
    assert.equal(g.length, 58);
    assert.ok(g.endsWith('-12-'), "g.endsWith('-12-')");
  });

  test('backoff doubles from 10 s up to 6 minutes', () => {
    assert.equal(remainingTimeForFailures(1000, 1, 1000), 10_000);
    assert.equal(remainingTimeForFailures(1000, 3, 1000), 40_000);
    assert.equal(remainingTimeForFailures(1000, 20, 1000), 360_000);
    assert.equal(remainingTimeForFailures(50_000, 1, 1000), 0);
  });
});
