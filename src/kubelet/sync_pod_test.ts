import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '../api/types/core_v1.ts';
import { FakeClock } from '../client/clock.ts';
import { FakeRecorder } from '../client/fake_recorder.ts';
import type { ContainerConfig, ContainerState, ContainerStatus, Image, PodSandboxConfig, PodSandboxState } from './cri/messages.ts';
import { CriError, GrpcCode, type ImageService, type RuntimeService } from './cri/types.ts';
import { Backoff } from './backoff.ts';
import { hashContainer } from './labels.ts';
import { ImageManager } from './pull.ts';
import { RuntimeStateReader, type PodRuntimeStatus, type RuntimeContainer } from './runtime_state.ts';
import { computePodActions, killPod, syncPod, type SyncContext } from './sync_pod.ts';
import type { StartFailure } from './pod_status.ts';

// ---- an in-memory CRI runtime, just enough for the kubelet's calls

interface FakeSandbox { id: string; config: PodSandboxConfig; state: PodSandboxState; createdAt: number }
interface FakeContainer { id: string; sandboxId: string; config: ContainerConfig; state: ContainerState; createdAt: number; startedAt: number; finishedAt: number; exitCode: number; reason: string }

class FakeRuntime {
  sandboxes = new Map<string, FakeSandbox>();
  containers = new Map<string, FakeContainer>();
  images = new Map<string, Image>([['busybox', { id: 'sha256:bb', repoTags: ['docker.io/library/busybox:latest'], repoDigests: [], size: 1000, username: '', pinned: false }]]);
  calls: string[] = [];
  stops: { id: string; timeout: number }[] = [];
  failStart = false;
  #seq = 0;
  #clock: FakeClock;
  constructor(clock: FakeClock) { this.#clock = clock; }
  #ns(): number { return (this.#clock.now() + ++this.#seq) * 1e6; }
  exit(name: string, code: number): void {
    for (const c of this.containers.values()) {
      if (c.config.metadata.name === name && c.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: this.#ns() });
    }
  }
  service(): RuntimeService & ImageService {
    const notFound = (m: string): CriError => new CriError(m, GrpcCode.NotFound, 'not found');
    const status = (c: FakeContainer): ContainerStatus => ({
      id: c.id, metadata: c.config.metadata, state: c.state, createdAt: c.createdAt, startedAt: c.startedAt, finishedAt: c.finishedAt,
      exitCode: c.exitCode, image: { image: 'docker.io/library/busybox:latest' }, imageRef: 'sha256:bb', reason: c.reason, message: '',
      labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {}, mounts: [], logPath: '', imageId: '',
    });
    const matches = (labels: Record<string, string>, sel?: Record<string, string>): boolean => Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
    const rt: Partial<RuntimeService & ImageService> = {
      runPodSandbox: async (config) => {
        this.calls.push(`RunPodSandbox ${config.metadata.name} attempt=${config.metadata.attempt}`);
        const id = `sb${++this.#seq}`;
        this.sandboxes.set(id, { id, config, state: 'SANDBOX_READY', createdAt: this.#ns() });
        return id;
      },
      stopPodSandbox: async (id) => { this.calls.push(`StopPodSandbox ${id}`); const s = this.sandboxes.get(id); if (s) s.state = 'SANDBOX_NOTREADY'; },
      removePodSandbox: async (id) => { this.sandboxes.delete(id); },
      podSandboxStatus: async (id) => {
        const s = this.sandboxes.get(id);
        if (!s) throw notFound('PodSandboxStatus');
        return { status: { id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, network: { ip: '10.42.0.9', additionalIps: [] }, linux: { namespaces: { options: { network: 'POD' } } }, labels: s.config.labels ?? {}, annotations: {}, runtimeHandler: '' }, info: {}, containersStatuses: [], timestamp: 0 };
      },
      listPodSandbox: async (f) => [...this.sandboxes.values()].filter((s) => matches(s.config.labels ?? {}, f?.labelSelector)).map((s) => ({ id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, labels: s.config.labels ?? {}, annotations: {}, runtimeHandler: '' })),
      createContainer: async (sandboxId, config) => {
        this.calls.push(`CreateContainer ${config.metadata.name} attempt=${config.metadata.attempt}`);
        const id = `c${++this.#seq}`;
        this.containers.set(id, { id, sandboxId, config, state: 'CONTAINER_CREATED', createdAt: this.#ns(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '' });
        return id;
      },
      startContainer: async (id) => {
        const c = this.containers.get(id)!;
        if (this.failStart) {
          Object.assign(c, { state: 'CONTAINER_EXITED', exitCode: 128, reason: 'StartError', finishedAt: this.#ns() });
          throw new CriError('StartContainer', GrpcCode.Unknown, 'exec: "/nope": no such file');
        }
        Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.#ns() });
      },
      stopContainer: async (id, timeout) => {
        this.stops.push({ id, timeout });
        const c = this.containers.get(id);
        if (c && c.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', exitCode: 143, reason: 'Error', finishedAt: this.#ns() });
      },
      removeContainer: async (id) => { this.containers.delete(id); },
      listContainers: async (f) => [...this.containers.values()].filter((c) => matches(c.config.labels ?? {}, f?.labelSelector)).map((c) => ({ id: c.id, podSandboxId: c.sandboxId, metadata: c.config.metadata, imageRef: 'sha256:bb', state: c.state, createdAt: c.createdAt, labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {}, imageId: '' })),
      containerStatus: async (id) => {
        const c = this.containers.get(id);
        if (!c) throw notFound('ContainerStatus');
        return { status: status(c), info: {} };
      },
      imageStatus: async (spec) => ({ image: this.images.get(spec.image), info: {} }),
      pullImage: async (spec) => { throw new CriError('PullImage', GrpcCode.Unknown, `failed to pull and unpack image "${spec.image}": not found`); },
    };
    return rt as RuntimeService & ImageService;
  }
}

function mkPod(spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web'): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name, image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh'] }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...spec },
    status: {},
  };
}

describe('syncPod against a fake runtime', () => {
  let clock: FakeClock;
  let fake: FakeRuntime;
  let recorder: FakeRecorder;
  let ctx: SyncContext;
  let root: string;
  let failures: Map<string, Map<string, StartFailure>>;

  beforeEach(() => {
    clock = new FakeClock();
    fake = new FakeRuntime(clock);
    recorder = new FakeRecorder();
    root = mkdtempSync(join(tmpdir(), 'tkube-sync-'));
    failures = new Map();
    const runtime = fake.service();
    ctx = {
      runtime, images: new ImageManager({ images: runtime, recorder, backoff: new Backoff({ clock }) }), state: new RuntimeStateReader(runtime),
      recorder, crashBackoff: new Backoff({ clock }), failures, root, clusterDomain: 'cluster.local',
      dnsConfig: () => ({ servers: ['10.43.0.10'], searches: [], options: [] }), hostIPs: () => ['192.0.2.9'], services: () => [],
      nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }), memoryCapacity: 4 * 1024 ** 3,
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('a new pod gets a sandbox and its container, with upstream\'s events', async () => {
    const pod = mkPod();
    const r = await syncPod(ctx, pod);
    assert.deepEqual(fake.calls, ['RunPodSandbox web attempt=0', 'CreateContainer web attempt=0']);
    assert.equal(r.runtime.containers[0]?.state, 'CONTAINER_RUNNING');
    assert.deepEqual(recorder.events, [
      'Normal Pulled Container image "busybox" already present on machine',
      'Normal Created Created container web',
      'Normal Started Started container web',
    ]);
    const sb = [...fake.sandboxes.values()][0]!;
    assert.equal(sb.config.hostname, 'web');
    assert.equal(sb.config.labels?.['io.kubernetes.pod.uid'], 'uid-web');
    const c = [...fake.containers.values()][0]!;
    assert.equal(c.config.logPath, 'web/0.log');
    assert.equal(c.config.labels?.['io.kubernetes.container.name'], 'web');
    assert.equal(c.config.annotations?.['io.kubernetes.container.hash'], hashContainer(pod.spec!.containers[0]!));
    assert.deepEqual(c.config.mounts?.map((m) => m.containerPath), ['/etc/hosts']);
    // a second sync with nothing changed does nothing
    fake.calls = [];
    await syncPod(ctx, pod);
    assert.deepEqual(fake.calls, []);
  });

  test('a crash restarts at once, then waits in CrashLoopBackOff until the backoff runs out', async () => {
    const pod = mkPod();
    await syncPod(ctx, pod);
    fake.exit('web', 1);
    await syncPod(ctx, pod);
    assert.deepEqual(fake.calls.at(-1), 'CreateContainer web attempt=1');
    fake.exit('web', 1);
    fake.calls = [];
    recorder.events.length = 0;
    clock.step(100);
    const r = await syncPod(ctx, pod);
    assert.deepEqual(fake.calls, []);
    assert.equal(recorder.events[0], 'Warning BackOff Back-off restarting failed container web in pod web_default(uid-web)');
    assert.deepEqual(failures.get('uid-web')?.get('web'), { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web pod=web_default(uid-web)' });
    assert.ok(r.requeueAfterMs !== undefined && r.requeueAfterMs > 9000 && r.requeueAfterMs <= 10_000, String(r.requeueAfterMs));
    clock.step(10_000);
    await syncPod(ctx, pod);
    assert.deepEqual(fake.calls, ['CreateContainer web attempt=2']);
    assert.equal(failures.get('uid-web')?.get('web'), undefined);
  });

  test('restartPolicy Never stops the sandbox once the container is done', async () => {
    const pod = mkPod({ restartPolicy: 'Never' });
    await syncPod(ctx, pod);
    fake.exit('web', 0);
    fake.calls = [];
    await syncPod(ctx, pod);
    assert.deepEqual(fake.calls.map((c) => c.split(' ')[0]), ['StopPodSandbox']);
  });

  test('a missing image under policy Never is ErrImageNeverPull', async () => {
    const pod = mkPod({ containers: [{ name: 'web', image: 'nothere:1', imagePullPolicy: 'Never' }] });
    await syncPod(ctx, pod);
    assert.deepEqual(failures.get('uid-web')?.get('web'), { reason: 'ErrImageNeverPull', message: 'Container image "nothere:1" is not present with pull policy of Never' });
    assert.deepEqual(recorder.events, [
      'Warning ErrImageNeverPull Container image "nothere:1" is not present with pull policy of Never',
      'Warning Failed Error: ErrImageNeverPull',
    ]);
  });

  test('a failed pull is ErrImagePull, then ImagePullBackOff until the pull backoff runs out', async () => {
    const pod = mkPod({ containers: [{ name: 'web', image: 'nothere:1', imagePullPolicy: 'IfNotPresent' }] });
    await syncPod(ctx, pod);
    assert.equal(failures.get('uid-web')?.get('web')?.reason, 'ErrImagePull');
    assert.match(failures.get('uid-web')?.get('web')?.message ?? '', /^rpc error: code = Unknown desc = failed to pull and unpack image "nothere:1": not found$/);
    assert.ok(recorder.events.includes('Warning Failed Error: ErrImagePull'));
    clock.step(1000);
    await syncPod(ctx, pod);
    assert.deepEqual(failures.get('uid-web')?.get('web'), { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nothere:1"' });
    clock.step(10_000);
    await syncPod(ctx, pod);
    assert.equal(failures.get('uid-web')?.get('web')?.reason, 'ErrImagePull');
  });

  test('runAsNonRoot with an image that runs as root is a CreateContainerConfigError', async () => {
    const pod = mkPod({ securityContext: { runAsNonRoot: true } });
    await syncPod(ctx, pod);
    const f = failures.get('uid-web')?.get('web');
    assert.equal(f?.reason, 'CreateContainerConfigError');
    assert.equal(f?.message, 'container has runAsNonRoot and image will run as root (pod: "web_default(uid-web)", container: web)');
    assert.equal(recorder.events.at(-1), `Warning Failed Error: ${f?.message}`);
    assert.equal([...fake.containers.values()].length, 0);
  });

  test('a start that fails is RunContainerError with the runtime\'s words', async () => {
    fake.failStart = true;
    await syncPod(ctx, mkPod());
    assert.deepEqual(failures.get('uid-web')?.get('web'), { reason: 'RunContainerError', message: 'exec: "/nope": no such file' });
  });

  test('init containers run one after the other before the app containers', async () => {
    const pod = mkPod({ initContainers: [{ name: 'one', image: 'busybox', imagePullPolicy: 'IfNotPresent' }, { name: 'two', image: 'busybox', imagePullPolicy: 'IfNotPresent' }] });
    await syncPod(ctx, pod);
    assert.deepEqual(fake.calls, ['RunPodSandbox web attempt=0', 'CreateContainer one attempt=0']);
    await syncPod(ctx, pod);
    assert.equal(fake.calls.length, 2, 'waits while "one" runs');
    fake.exit('one', 0);
    await syncPod(ctx, pod);
    assert.equal(fake.calls.at(-1), 'CreateContainer two attempt=0');
    fake.exit('two', 0);
    await syncPod(ctx, pod);
    assert.equal(fake.calls.at(-1), 'CreateContainer web attempt=0');
  });

  test('killPod stops containers with the pod\'s grace period, then the sandbox', async () => {
    const pod = mkPod({ terminationGracePeriodSeconds: 7 });
    const r = await syncPod(ctx, pod);
    const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:00:00Z', deletionGracePeriodSeconds: 5 } };
    await killPod(ctx, deleting, r.runtime);
    assert.deepEqual(fake.stops.map((s) => s.timeout), [5]);
    assert.equal([...fake.sandboxes.values()][0]?.state, 'SANDBOX_NOTREADY');
    assert.ok(recorder.events.includes('Normal Killing Stopping container web'));
  });
});

describe('computePodActions', () => {
  let n = 0;
  function c(name: string, state: RuntimeContainer['state'], o: Partial<RuntimeContainer> = {}): RuntimeContainer {
    n++;
    return {
      id: `c${n}`, sandboxId: 's', name, state, createdAt: n, startedAt: n, finishedAt: n, exitCode: 0, reason: '', message: '',
      image: '', imageRef: '', restartCount: 0, hash: '', type: '', annotations: {}, labels: {}, ...o,
    };
  }
  function status(containers: RuntimeContainer[], ready = true): PodRuntimeStatus {
    return {
      uid: 'u', name: 'p', namespace: 'default', containers: containers.reverse(),
      sandboxes: [{ id: 's', attempt: 0, state: ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY', createdAt: 0, ips: ['10.42.0.2'], hostNetwork: false }],
    };
  }
  const pod = mkPod();
  const spec: Container = pod.spec!.containers[0]!;

  test('a running container is kept', () => {
    const a = computePodActions(pod, status([c('web', 'CONTAINER_RUNNING', { hash: hashContainer(spec) })]));
    assert.deepEqual([a.killPod, a.createSandbox, a.containersToStart.length, a.containersToKill.length], [false, false, 0, 0]);
  });

  test('a changed spec kills and restarts the container', () => {
    const a = computePodActions(pod, status([c('web', 'CONTAINER_RUNNING', { hash: 'other' })]));
    assert.equal(a.containersToKill[0]?.message, 'Container web definition changed, will be restarted');
    assert.equal(a.containersToStart[0]?.name, 'web');
  });

  test('a dead sandbox is replaced with the next attempt, or not at all when the pod never restarts', () => {
    const a = computePodActions(pod, status([c('web', 'CONTAINER_EXITED')], false));
    assert.deepEqual([a.killPod, a.createSandbox, a.attempt], [true, true, 1]);
    const never = computePodActions(mkPod({ restartPolicy: 'Never' }), status([c('web', 'CONTAINER_EXITED')], false));
    assert.deepEqual([never.killPod, never.createSandbox], [true, false]);
  });

  test('an ephemeral container starts once, never again, even before initialization is done', () => {
    const p = mkPod({ initContainers: [{ name: 'init', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] });
    const first = computePodActions(p, status([c('init', 'CONTAINER_RUNNING')]));
    assert.deepEqual(first.ephemeralContainersToStart.map((x) => x.name), ['dbg']);
    const later = computePodActions(p, status([c('init', 'CONTAINER_EXITED'), c('web', 'CONTAINER_RUNNING', { hash: hashContainer(p.spec!.containers[0]!) }), c('dbg', 'CONTAINER_EXITED', { exitCode: 1 })]));
    assert.deepEqual(later.ephemeralContainersToStart, []);
    assert.deepEqual(later.containersToStart, []);
  });

  test('a failed init container of a pod that never restarts kills the pod', () => {
    const p = mkPod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] });
    const a = computePodActions(p, status([c('init', 'CONTAINER_EXITED', { exitCode: 1 })]));
    assert.equal(a.killPod, true);
    assert.equal(a.nextInitContainer, undefined);
  });
});


