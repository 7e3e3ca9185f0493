import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, ContainerStatus, Pod, PodStatus } from '../../api/types/core_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import type { RuntimeContainer } from '../runtime_state.ts';
import { computePodActions } from '../sync_pod.ts';
import { ProbeManager } from './probe_manager.ts';
import type { ProbeVerdict } from './prober.ts';
import { ProbeResult, type ProbeType } from './types.ts';

/** Lets the fake prober's promises and the workers' bookkeeping run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

interface Harness {
  clock: FakeClock;
  manager: ProbeManager;
  /** Probes run, as "Type container id". */
  probes: string[];
  /** What the next probe of each type answers. */
  answer: Partial<Record<ProbeType, ProbeResult>>;
  changes: string[];
  status: PodStatus;
  setContainer(id: string, opts?: { started?: boolean; running?: boolean; startedAgoS?: number }): void;
  /** Moves time by whole periods of 1 s, letting each probe finish. */
  tick(n?: number): Promise<void>;
}

function harness(pod: Pod): Harness {
  const clock = new FakeClock();
  const probes: string[] = [];
  const answer: Partial<Record<ProbeType, ProbeResult>> = {};
  const changes: string[] = [];
  const h: Harness = {
    clock, probes, answer, changes,
    status: { phase: 'Running', podIP: '10.42.0.7', containerStatuses: [] },
    manager: new ProbeManager({
      runner: { execSync: () => Promise.reject(new Error('unused')) },
      recorder: new FakeRecorder(),
      clock,
      podStatus: (uid) => (uid === pod.metadata?.uid ? h.status : undefined),
      onChange: (uid) => changes.push(uid),
      prober: {
        async probe(type, _pod, podIP, container, id): Promise<ProbeVerdict> {
          assert.equal(podIP, '10.42.0.7');
          probes.push(`${type} ${container.name} ${id}`);
          return { result: answer[type] ?? ProbeResult.Success };
        },
      },
    }),
    setContainer(id, o = {}) {
      const running = o.running ?? true;
      const cs: ContainerStatus = {
        name: 'web', image: 'busybox', imageID: '', ready: false, restartCount: 0, containerID: `containerd://${id}`,
        started: o.started ?? running,
        state: running ? { running: { startedAt: formatTime(clock.now() - (o.startedAgoS ?? 100) * 1000) } } : { terminated: { exitCode: 1 } },
      };
      h.status = { ...h.status, containerStatuses: [cs] };
    },
    async tick(n = 1) {
      for (let i = 0; i < n; i++) {
        clock.step(1000);
        await settle();
      }
    },
  };
  return h;
}

function podWith(container: Container, restartPolicy = 'Always'): Pod {
  return { metadata: { name: 'web-0', namespace: 'default', uid: 'u1' }, spec: { restartPolicy, containers: [container] } };
}

function rc(id: string, state: RuntimeContainer['state'] = 'CONTAINER_RUNNING'): RuntimeContainer {
  return { id, sandboxId: 's', name: 'web', state, createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', image: '', imageRef: '', restartCount: 0, hash: '', type: 'container', annotations: {}, labels: {} };
}

describe('probe manager', () => {
  test('readiness starts false, turns true after a success, and false again only after failureThreshold failures', async () => {
    const c: Container = { name: 'web', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 2 } };
    const pod = podWith(c);
    const h = harness(pod);
    h.manager.addPod(pod);
    h.manager.addPod(pod);
    assert.equal(h.manager.workerCount, 1);
    assert.equal(h.manager.isReady(pod, c, rc('c1')), false);
    await settle();
    assert.deepEqual(h.probes, [], 'no container in the status yet');
    h.setContainer('c1');
    await h.tick();
    assert.deepEqual(h.probes, ['Readiness web c1']);
    assert.equal(h.manager.isReady(pod, c, rc('c1')), true);
    assert.ok(h.changes.includes('u1'));
    h.answer.Readiness = ProbeResult.Failure;
    await h.tick();
    assert.equal(h.manager.isReady(pod, c, rc('c1')), true, 'one failure is below the threshold');
    await h.tick();
    assert.equal(h.manager.isReady(pod, c, rc('c1')), false);
    await h.manager.dispose();
  });

  test('a container without a readiness probe is ready when started; a readiness probe not yet run is triggered at once', async () => {
    const plain: Container = { name: 'web' };
    const h = harness(podWith(plain));
    assert.equal(h.manager.isReady(podWith(plain), plain, rc('c1')), true);
    assert.equal(h.manager.isReady(podWith(plain), plain, rc('c1', 'CONTAINER_EXITED')), false);

    const c: Container = { name: 'web', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 60 } };
    const pod = podWith(c);
    const h2 = harness(pod);
    h2.manager.addPod(pod);
    h2.setContainer('c1');
    assert.equal(h2.manager.isReady(pod, c, rc('c1')), false);
    await settle();
    assert.deepEqual(h2.probes, ['Readiness web c1'], 'probed without waiting for the 60 s period');
    assert.equal(h2.manager.isReady(pod, c, rc('c1')), true);
    await h2.manager.dispose();
  });

  test('liveness starts successful, fails after failureThreshold, then holds until a new container appears', async () => {
    const c: Container = { name: 'web', livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 3 } };
    const pod = podWith(c);
    const h = harness(pod);
    h.manager.addPod(pod);
    h.setContainer('c1');
    h.answer.Liveness = ProbeResult.Failure;
    await h.tick(2);
    assert.equal(h.manager.failure('c1'), undefined, 'two failures are below the threshold');
    await h.tick();
    assert.equal(h.manager.failure('c1'), 'liveness');
    const probed = h.probes.length;
    await h.tick(3);
    assert.equal(h.probes.length, probed, 'on hold: the dying container is not probed again');
    h.answer.Liveness = ProbeResult.Success;
    h.setContainer('c2');
    await h.tick();
    assert.equal(h.probes.at(-1), 'Liveness web c2');
    assert.equal(h.manager.failure('c2'), undefined);
    assert.equal(h.manager.result('Liveness', 'c1'), undefined, 'the old container\'s result is forgotten');
    await h.manager.dispose();
  });

  test('the startup probe gates liveness and readiness, and started follows it', async () => {
    const c: Container = {
      name: 'web',
      startupProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 30 },
      livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
    };
    const pod = podWith(c);
    const h = harness(pod);
    h.manager.addPod(pod);
    assert.equal(h.manager.workerCount, 3);
    h.setContainer('c1', { started: false });
    h.answer.Startup = ProbeResult.Failure;
    await h.tick(2);
    assert.ok(h.probes.every((p) => p.startsWith('Startup')), h.probes.join(', '));
    assert.equal(h.manager.isStarted(pod, c, rc('c1')), false);
    assert.equal(h.manager.isReady(pod, c, rc('c1')), false);
    h.answer.Startup = ProbeResult.Success;
    await h.tick();
    assert.equal(h.manager.isStarted(pod, c, rc('c1')), true);
    // the kubelet writes started=true into the status; then the other probes begin
    h.setContainer('c1', { started: true });
    h.probes.length = 0;
    await h.tick(2);
    assert.ok(h.probes.some((p) => p.startsWith('Liveness')) && h.probes.some((p) => p.startsWith('Readiness')), h.probes.join(', '));
    assert.ok(!h.probes.some((p) => p.startsWith('Startup')), 'startup is not probed once started');
    await h.manager.dispose();
  });

  test('initialDelaySeconds holds the first probe back from the container\'s start', async () => {
    const c: Container = { name: 'web', livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, initialDelaySeconds: 5 } };
    const pod = podWith(c);
    const h = harness(pod);
    h.manager.addPod(pod);
    h.setContainer('c1', { startedAgoS: 0 });
    await h.tick(4);
    assert.deepEqual(h.probes, []);
    await h.tick(2);
    assert.ok(h.probes.length >= 1);
    await h.manager.dispose();
  });

  test('workers end with their pod: removePod, a finished phase, and liveness/startup on deletion', async () => {
    const c: Container = { name: 'web', livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1 }, readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } };
    const pod = podWith(c);
    const h = harness(pod);
    h.manager.addPod(pod);
    h.manager.stopLivenessAndStartup(pod);
    assert.equal(h.manager.workerCount, 1);
    h.manager.removePod('u1');
    assert.equal(h.manager.workerCount, 0);
    h.manager.addPod(pod);
    h.setContainer('c1');
    h.status = { ...h.status, phase: 'Succeeded' };
    await h.tick(2);
    assert.equal(h.manager.workerCount, 0);
    assert.equal(h.clock.waiters, 0, 'no timers left behind');
    await h.manager.dispose();
  });
});

describe('the pod sync acting on probe results', () => {
  const status = (id: string) => ({ uid: 'u1', name: 'web-0', namespace: 'default', sandboxes: [{ id: 's', attempt: 0, state: 'SANDBOX_READY' as const, createdAt: 1, ips: ['10.42.0.7'], hostNetwork: false }], containers: [rc(id)] });
  const failing = { failure: (id: string) => (id === 'c1' ? 'liveness' as const : undefined) };

  test('a failed liveness probe kills the container and restarts it under restartPolicy Always', () => {
    const c: Container = { name: 'web', image: 'busybox', livenessProbe: { exec: { command: ['true'] }, terminationGracePeriodSeconds: 1 } };
    const a = computePodActions(podWith(c), status('c1'), failing);
    assert.deepEqual(a.containersToKill.map((k) => [k.id, k.message, k.graceSeconds]), [['c1', 'Container web failed liveness probe, will be restarted', 2]]);
    assert.deepEqual(a.containersToStart.map((x) => x.name), ['web']);
    assert.equal(a.killPod, false);
    assert.deepEqual(computePodActions(podWith(c), status('c2'), failing).containersToKill, []);
  });

  test('under restartPolicy Never the container is killed for good, and with it the pod', () => {
    const c: Container = { name: 'web', image: 'busybox', livenessProbe: { exec: { command: ['true'] } } };
    const a = computePodActions(podWith(c, 'Never'), status('c1'), { failure: () => 'startup' });
    assert.deepEqual(a.containersToKill.map((k) => [k.message, k.graceSeconds]), [['Container web failed startup probe', undefined]]);
    assert.deepEqual(a.containersToStart, []);
    assert.equal(a.killPod, true);
  });
});
