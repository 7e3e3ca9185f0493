import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types/core_v1.ts';
import { generatePodStatus, podPhase, shouldContainerBeRestarted, type StartFailure } from './pod_status.ts';
import type { PodRuntimeStatus, RuntimeContainer, RuntimeSandbox } from './runtime_state.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function pod(over: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [{ name: 'web', image: 'busybox' }], restartPolicy: 'Always', ...over },
    status,
  };
}

let seq = 0;
function ctr(name: string, state: RuntimeContainer['state'], o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `c${seq}`.padEnd(64, '0'), sandboxId: 's1', name, state, createdAt: T0 + seq * 1000, startedAt: T0 + seq * 1000 + 10,
    finishedAt: state === 'CONTAINER_EXITED' ? T0 + seq * 1000 + 500 : 0, exitCode: 0, reason: state === 'CONTAINER_EXITED' ? 'Completed' : '',
    message: '', image: 'docker.io/library/busybox:latest', imageRef: 'sha256:abc', restartCount: 0, hash: '', type: 'container',
    annotations: {}, labels: {}, ...o,
  };
}

const sandbox: RuntimeSandbox = { id: 's1', attempt: 0, state: 'SANDBOX_READY', createdAt: T0, ips: ['10.42.0.7'], hostNetwork: false };

function rt(containers: RuntimeContainer[], sandboxes: RuntimeSandbox[] = [sandbox]): PodRuntimeStatus {
  return { uid: 'uid-1', name: 'web', namespace: 'default', sandboxes, containers: [...containers].sort((a, b) => b.createdAt - a.createdAt) };
}

function gen(p: Pod, r: PodRuntimeStatus, failures: Record<string, StartFailure> = {}, podIsTerminal = false) {
  return generatePodStatus({ pod: p, runtime: r, failures: new Map(Object.entries(failures)), hostIPs: ['192.0.2.9'], podIsTerminal });
}

function conds(s: ReturnType<typeof gen>): Record<string, string> {
  return Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c.status + (c.reason ? `/${c.reason}` : '')]));
}

describe('generatePodStatus', () => {
  test('a pod with nothing created yet is Pending with ContainerCreating', () => {
    const s = gen(pod(), rt([], []));
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'ContainerCreating' } });
    assert.deepEqual(conds(s), {
      PodReadyToStartContainers: 'False', Initialized: 'True', Ready: 'False/ContainersNotReady', ContainersReady: 'False/ContainersNotReady', PodScheduled: 'True',
    });
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.message, 'containers with unready status: [web]');
    assert.equal(s.podIP, undefined);
    assert.equal(s.hostIP, '192.0.2.9');
  });

  test('a running container makes the pod Running, ready, with the sandbox IP', () => {
    const c = ctr('web', 'CONTAINER_RUNNING');
    const s = gen(pod(), rt([c]));
    assert.equal(s.phase, 'Running');
    assert.deepEqual(s.podIPs, [{ ip: '10.42.0.7' }]);
    const cs = s.containerStatuses![0]!;
    assert.deepEqual(cs, {
      name: 'web', state: { running: { startedAt: new Date(c.startedAt).toISOString().replace(/\.\d+Z$/, 'Z') } },
      ready: true, started: true, restartCount: 0, image: 'docker.io/library/busybox:latest', imageID: 'sha256:abc', containerID: `containerd://${c.id}`,
    });
    assert.deepEqual(conds(s), { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
  });

  test('a crash loop: waiting CrashLoopBackOff, the exit in lastState, phase Running', () => {
    const old = ctr('web', 'CONTAINER_EXITED', { exitCode: 1, reason: 'Error', restartCount: 0 });
    const last = ctr('web', 'CONTAINER_EXITED', { exitCode: 1, reason: 'Error', restartCount: 1 });
    const s = gen(pod(), rt([old, last]), { web: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web pod=web_default(uid-1)' } });
    const cs = s.containerStatuses![0]!;
    assert.deepEqual(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web pod=web_default(uid-1)' } });
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.lastState?.terminated?.containerID, `containerd://${last.id}`);
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.ready, false);
    assert.equal(s.phase, 'Running');
  });

  test('a restarted container shows the previous instance as lastState', () => {
    const first = ctr('web', 'CONTAINER_EXITED', { exitCode: 137, reason: 'Error' });
    const now = ctr('web', 'CONTAINER_RUNNING', { restartCount: 1 });
    const cs = gen(pod(), rt([first, now])).containerStatuses![0]!;
    assert.ok(cs.state?.running);
    assert.equal(cs.lastState?.terminated?.exitCode, 137);
    assert.equal(cs.restartCount, 1);
  });

  test('restartPolicy Never: exit 0 is Succeeded, anything else Failed; Ready says PodCompleted', () => {
    const ok = gen(pod({ restartPolicy: 'Never' }), rt([ctr('web', 'CONTAINER_EXITED')]));
    assert.equal(ok.phase, 'Succeeded');
    assert.deepEqual(conds(ok).Ready, 'False/PodCompleted');
    const bad = gen(pod({ restartPolicy: 'Never' }), rt([ctr('web', 'CONTAINER_EXITED', { exitCode: 2, reason: 'Error' })]));
    assert.equal(bad.phase, 'Failed');
    assert.deepEqual(conds(bad).Ready, 'False/PodFailed');
  });

  test('OnFailure keeps a failed pod Running; a terminal pod with restartPolicy Always is Succeeded or Failed', () => {
    assert.equal(gen(pod({ restartPolicy: 'OnFailure' }), rt([ctr('web', 'CONTAINER_EXITED', { exitCode: 2 })])).phase, 'Running');
    assert.equal(gen(pod(), rt([ctr('web', 'CONTAINER_EXITED')]), {}, true).phase, 'Succeeded');
    assert.equal(gen(pod(), rt([ctr('web', 'CONTAINER_EXITED', { exitCode: 143 })]), {}, true).phase, 'Failed');
  });

  test('init containers: PodInitializing while one runs, Initialized once all exited 0', () => {
    const spec = { initContainers: [{ name: 'init', image: 'busybox' }] };
    const running = gen(pod(spec), rt([ctr('init', 'CONTAINER_RUNNING', { type: 'init' })]));
    assert.equal(running.phase, 'Pending');
    assert.deepEqual(running.containerStatuses?.[0]?.state, { waiting: { reason: 'PodInitializing' } });
    assert.equal(conds(running).Initialized, 'False/ContainersNotInitialized');
    assert.equal(running.conditions?.find((c) => c.type === 'Initialized')?.message, 'containers with incomplete status: [init]');
    const done = gen(pod(spec), rt([ctr('init', 'CONTAINER_EXITED', { type: 'init' }), ctr('web', 'CONTAINER_RUNNING')]));
    assert.equal(done.phase, 'Running');
    assert.equal(conds(done).Initialized, 'True');
    assert.equal(done.initContainerStatuses?.[0]?.ready, true);
    assert.equal(done.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  });

  test('a failed init container fails a pod that never restarts', () => {
    const s = gen(pod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] }), rt([ctr('init', 'CONTAINER_EXITED', { exitCode: 1, type: 'init' })]));
    assert.equal(s.phase, 'Failed');
  });

  test('a start failure is the waiting reason of a container never started', () => {
    const s = gen(pod(), rt([], [sandbox]), { web: { reason: 'ErrImageNeverPull', message: 'Container image "busybox" is not present with pull policy of Never' } });
    assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "busybox" is not present with pull policy of Never' } });
    assert.equal(s.phase, 'Pending');
  });

  test('a container that vanished while running counts as terminated with ContainerStatusUnknown', () => {
    const p = pod({}, { containerStatuses: [{ name: 'web', image: 'busybox', imageID: '', ready: true, restartCount: 2, state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }] });
    const cs = gen(p, rt([])).containerStatuses![0]!;
    assert.equal(cs.lastState?.terminated?.reason, 'ContainerStatusUnknown');
    assert.equal(cs.lastState?.terminated?.exitCode, 137);
    assert.equal(cs.restartCount, 3);
  });

  test('conditions others own are kept; a terminal phase never changes back', () => {
    const p = pod({}, { phase: 'Succeeded', conditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    const s = gen(p, rt([ctr('web', 'CONTAINER_RUNNING')]));
    assert.equal(s.phase, 'Succeeded');
    assert.equal(s.conditions?.[0]?.type, 'DisruptionTarget');
  });

  test('ephemeral containers get statuses of their own, never ready, with no say in phase', () => {
    const p = pod({ ephemeralContainers: [{ name: 'debugger', image: 'busybox', targetContainerName: 'web' }] });
    const waiting = gen(p, rt([ctr('web', 'CONTAINER_RUNNING')]));
    assert.equal(waiting.ephemeralContainerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    const s = gen(p, rt([ctr('web', 'CONTAINER_RUNNING'), ctr('debugger', 'CONTAINER_EXITED', { exitCode: 2, reason: 'Error' })]));
    assert.equal(s.phase, 'Running');
    assert.equal(conds(s).Ready, 'True');
    assert.deepEqual(s.containerStatuses?.map((c) => c.name), ['web']);
    const e = s.ephemeralContainerStatuses?.[0];
    assert.equal(e?.name, 'debugger');
    assert.equal(e?.ready, false);
    assert.equal(e?.started, undefined);
    assert.equal(e?.state?.terminated?.exitCode, 2);
    assert.equal(gen(pod(), rt([ctr('web', 'CONTAINER_RUNNING')])).ephemeralContainerStatuses, undefined);
  });

  test('a pod that stays terminal keeps its reason and message (an eviction)', () => {
    const p = pod({}, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ' });
    const s = gen(p, rt([ctr('web', 'CONTAINER_EXITED', { exitCode: 137 })]), {}, true);
    assert.deepEqual([s.phase, s.reason, s.message], ['Failed', 'Evicted', 'The node was low on resource: memory. ']);
    const running = gen(pod({}, { phase: 'Running', reason: 'Stale', message: 'old' }), rt([ctr('web', 'CONTAINER_RUNNING')]));
    assert.deepEqual([running.reason, running.message], [undefined, undefined]);
  });

  test('hostNetwork pods have the node\'s IPs', () => {
    const s = gen(pod({ hostNetwork: true }), rt([ctr('web', 'CONTAINER_RUNNING')], [{ ...sandbox, ips: [], hostNetwork: true }]));
    assert.deepEqual(s.podIPs, [{ ip: '192.0.2.9' }]);
    assert.equal(conds(s).PodReadyToStartContainers, 'True');
  });
});

describe('podPhase and restarts', () => {
  test('an empty pod is Pending', () => {
    assert.equal(podPhase(pod(), [], [], false), 'Pending');
  });

  test('shouldContainerBeRestarted follows the restart policy and deletion', () => {
    const c = pod().spec!.containers[0]!;
    const exited0 = rt([ctr('web', 'CONTAINER_EXITED')]);
    const exited1 = rt([ctr('web', 'CONTAINER_EXITED', { exitCode: 1 })]);
    assert.equal(shouldContainerBeRestarted(c, pod(), rt([])), true);
    assert.equal(shouldContainerBeRestarted(c, pod(), rt([ctr('web', 'CONTAINER_RUNNING')])), false);
    assert.equal(shouldContainerBeRestarted(c, pod(), exited0), true);
    assert.equal(shouldContainerBeRestarted(c, pod({ restartPolicy: 'OnFailure' }), exited0), false);
    assert.equal(shouldContainerBeRestarted(c, pod({ restartPolicy: 'OnFailure' }), exited1), true);
    assert.equal(shouldContainerBeRestarted(c, pod({ restartPolicy: 'Never' }), exited1), false);
    const deleting: Pod = { ...pod(), metadata: { ...pod().metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } };
    assert.equal(shouldContainerBeRestarted(c, deleting, rt([])), false);
  });
});
