import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import { EvictionManager, softEvictionGraceSeconds, type EvictionManagerOptions, type EvictPodFn } from './eviction_manager.ts';
import { Signal, type Observation, type PodUsage, type StatsSource } from './types.ts';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function pod(name: string, opts: { memRequest?: string; annotations?: Record<string, string>; emptyDirLimit?: string; qosBestEffort?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      containers: [{ name: 'main', image: 'busybox', resources: opts.memRequest ? { requests: { memory: opts.memRequest } } : {} }],
      ...(opts.emptyDirLimit ? { volumes: [{ name: 'scratch', emptyDir: { sizeLimit: opts.emptyDirLimit } }] } : {}),
    },
  };
}

class FakeStats implements StatsSource {
  obs = new Map<Signal, Observation>([
    [Signal.MemoryAvailable, { available: 4 * Gi, capacity: 8 * Gi }],
    [Signal.NodeFsAvailable, { available: 50 * Gi, capacity: 100 * Gi }],
  ]);
  usage = new Map<string, PodUsage>();
  async observe(): Promise<Map<Signal, Observation>> {
    return new Map(this.obs);
  }
  async podUsage(): Promise<Map<string, PodUsage>> {
    return this.usage;
  }
  use(p: Pod, memMi: number, volumeMi = 0): void {
    this.usage.set(p.metadata!.uid!, {
      uid: p.metadata!.uid!,
      containers: [{ name: 'main', memoryWorkingSet: memMi * Mi, rootfs: { bytes: 0, inodes: 0 }, logs: { bytes: 0, inodes: 0 } }],
      volumes: new Map([['scratch', { bytes: volumeMi * Mi, inodes: 1 }]]),
    });
  }
}

interface Recorded { reason: string; message: string; on: string; annotations?: Record<string, string> }

function setup(pods: Pod[], extra: Partial<EvictionManagerOptions> = {}) {
  const stats = new FakeStats();
  const clock = new FakeClock();
  const events: Recorded[] = [];
  const recorder: EventRecorder = {
    event: (obj, _t, reason, message) => events.push({ reason, message, on: (obj as { name?: string; metadata?: { name?: string } }).name ?? (obj as Pod).metadata?.name ?? '' }),
    eventf: () => undefined,
    annotatedEventf: (obj, annotations, _t, reason, _f, message) => events.push({ reason, message: String(message), on: (obj as { name?: string }).name ?? '', annotations }),
  };
  const evicted: Array<{ name: string; grace: number; reason: string; message: string; condition?: string }> = [];
  let active = [...pods];
  const evictPod: EvictPodFn = async (p, o) => {
    evicted.push({ name: p.metadata!.name!, grace: o.graceSeconds, reason: o.reason, message: o.message, ...(o.condition ? { condition: `${o.condition.type}/${o.condition.reason}` } : {}) });
    active = active.filter((x) => x !== p);
  };
  const changes: string[][] = [];
  const m = new EvictionManager({
    stats, clock, recorder, evictPod, activePods: () => active,
    nodeRef: { kind: 'Node', apiVersion: 'v1', name: 'n1', uid: 'n1' },
    onConditionsChanged: (c) => changes.push([...c]),
    ...extra,
  });
  return { m, stats, clock, events, evicted, changes };
}

describe('eviction manager', () => {
  test('memory pressure raises MemoryPressure and evicts the pod most over its request, one per pass', async () => {
    const guaranteed = pod('guaranteed', { memRequest: '512Mi' });
    const hungry = pod('hungry', { memRequest: '10Mi' });
    const idle = pod('idle');
    const { m, stats, events, evicted, changes } = setup([guaranteed, hungry, idle]);
    stats.use(guaranteed, 400);
    stats.use(hungry, 300);
    stats.use(idle, 2);
    assert.deepEqual(await m.synchronize(), []);
    assert.equal(m.conditions.size, 0);

    stats.obs.set(Signal.MemoryAvailable, { available: 50 * Mi, capacity: 8 * Gi });
    const out = await m.synchronize();
    assert.deepEqual(out.map((p) => p.metadata!.name), ['hungry']);
    assert.deepEqual([...m.conditions], ['MemoryPressure']);
    assert.deepEqual(changes, [['MemoryPressure']]);
    const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container main was using 300Mi, request is 10Mi, has larger consumption of memory. ';
    assert.deepEqual(evicted, [{ name: 'hungry', grace: 1, reason: 'Evicted', message, condition: 'DisruptionTarget/TerminationByKubelet' }]);
    assert.deepEqual(events.map((e) => `${e.on}:${e.reason}`), ['n1:EvictionThresholdMet', 'hungry:Evicted']);
    assert.equal(events[0]!.message, 'Attempting to reclaim memory');
    assert.equal(events[1]!.message, message);
    assert.deepEqual(events[1]!.annotations, { offending_containers: 'main', offending_containers_usage: '300Mi', starved_resource: 'memory' });

    // the next pass takes the next pod over its request
    assert.deepEqual((await m.synchronize()).map((p) => p.metadata!.name), ['idle']);
  });

  test('a pressure condition stays for the transition period after the signal recovers', async () => {
    const { m, stats, clock } = setup([]);
    stats.obs.set(Signal.NodeFsAvailable, { available: 5 * Gi, capacity: 100 * Gi });
    await m.synchronize();
    assert.deepEqual([...m.conditions], ['DiskPressure']);
    stats.obs.set(Signal.NodeFsAvailable, { available: 50 * Gi, capacity: 100 * Gi });
    clock.step(4 * 60_000);
    await m.synchronize();
    assert.deepEqual([...m.conditions], ['DiskPressure']);
    clock.step(60_001);
    await m.synchronize();
    assert.deepEqual([...m.conditions], []);
  });

  test('static, mirror and system-critical pods are never evicted', async () => {
    const staticPod = pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } });
    const other = pod('other', { memRequest: '1Gi' });
    const { m, stats, evicted } = setup([staticPod, other]);
    stats.use(staticPod, 900);
    stats.use(other, 10);
    stats.obs.set(Signal.MemoryAvailable, { available: 1 * Mi, capacity: 8 * Gi });
    await m.synchronize();
    assert.deepEqual(evicted.map((e) => e.name), ['other']);
  });

  test('disk pressure reclaims node-level resources first and evicts nobody when that is enough', async () => {
    const p = pod('p');
    let reclaimed = 0;
    const ctx = setup([p], {
      reclaimDisk: async () => {
        reclaimed++;
        ctx.stats.obs.set(Signal.NodeFsAvailable, { available: 40 * Gi, capacity: 100 * Gi });
      },
    });
    ctx.stats.use(p, 1);
    ctx.stats.obs.set(Signal.NodeFsAvailable, { available: 1 * Gi, capacity: 100 * Gi });
    assert.deepEqual(await ctx.m.synchronize(), []);
    assert.equal(reclaimed, 1);
    assert.deepEqual(ctx.evicted, []);
    assert.deepEqual([...ctx.m.conditions], ['DiskPressure']);
  });

  test('an emptyDir over its sizeLimit gets its pod evicted without any node pressure', async () => {
    const p = pod('filler', { emptyDirLimit: '10Mi' });
    const ok = pod('fine', { emptyDirLimit: '100Mi' });
    const { m, stats, evicted, events } = setup([p, ok]);
    stats.use(p, 1, 11);
    stats.use(ok, 1, 11);
    assert.deepEqual((await m.synchronize()).map((x) => x.metadata!.name), ['filler']);
    assert.deepEqual(evicted.map((e) => [e.name, e.message]), [['filler', 'Usage of EmptyDir volume "scratch" exceeds the limit "10Mi". ']]);
    assert.deepEqual(events.map((e) => e.reason), ['Evicted']);
  });

  test('admission under pressure: BestEffort pods are refused for memory, every pod for disk', async () => {
    const { m, stats } = setup([]);
    const be = pod('be');
    const burstable = pod('burstable', { memRequest: '1Mi' });
    assert.deepEqual(m.admit(be), { admit: true });
    stats.obs.set(Signal.MemoryAvailable, { available: 1 * Mi, capacity: 8 * Gi });
    await m.synchronize();
    assert.deepEqual(m.admit(be), { admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    assert.deepEqual(m.admit(burstable), { admit: true });
    const tolerant: Pod = { ...be, spec: { ...be.spec!, tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] } };
    assert.deepEqual(m.admit(tolerant), { admit: true });
    stats.obs.set(Signal.NodeFsAvailable, { available: 1 * Gi, capacity: 100 * Gi });
    await m.synchronize();
    assert.equal(m.admit(burstable).admit, false);
  });

  test('the loop runs every monitoring interval until disposed', async () => {
    const { m, stats, clock } = setup([]);
    stats.obs.set(Signal.MemoryAvailable, { available: 1 * Mi, capacity: 8 * Gi });
    m.start();
    clock.step(0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...m.conditions], ['MemoryPressure']);
    m.setThresholds({ 'memory.available': '1Ki' });
    clock.step(10_000);
    await m.dispose();
    assert.equal(clock.waiters, 0);
  });

  test('a soft threshold evicts nothing within its grace period, then the ranked pod with the max-pod grace period', async () => {
    const hungry: Pod = { ...pod('hungry', { memRequest: '10Mi' }) };
    hungry.spec = { ...hungry.spec!, terminationGracePeriodSeconds: 60 };
    const idle = pod('idle', { memRequest: '1Gi' });
    const { m, stats, clock, evicted, events } = setup([hungry, idle], {
      evictionSoft: { 'memory.available': '1Gi' }, evictionSoftGracePeriod: { 'memory.available': '1m30s' }, maxPodGraceSeconds: 20,
    });
    stats.use(hungry, 300);
    stats.use(idle, 2);
    stats.obs.set(Signal.MemoryAvailable, { available: 800 * Mi, capacity: 8 * Gi });
    assert.deepEqual(await m.synchronize(), []);
    // the condition follows the threshold at once; eviction waits
    assert.deepEqual([...m.conditions], ['MemoryPressure']);
    clock.step(89_999);
    assert.deepEqual(await m.synchronize(), []);
    assert.deepEqual(evicted, []);
    clock.step(1);
    assert.deepEqual((await m.synchronize()).map((p) => p.metadata!.name), ['hungry']);
    const message = 'The node was low on resource: memory. Threshold quantity: 1Gi, available: 800Mi. Container main was using 300Mi, request is 10Mi, has larger consumption of memory. ';
    assert.deepEqual(evicted, [{ name: 'hungry', grace: 20, reason: 'Evicted', message, condition: 'DisruptionTarget/TerminationByKubelet' }]);
    assert.deepEqual(events.map((e) => `${e.on}:${e.reason}`), ['n1:EvictionThresholdMet', 'hungry:Evicted']);
  });

  test('a soft threshold that recovers within its grace period starts over', async () => {
    const p = pod('p');
    const { m, stats, clock, evicted } = setup([p], {
      evictionSoft: { 'memory.available': '1Gi' }, evictionSoftGracePeriod: { 'memory.available': '1m' },
    });
    stats.use(p, 100);
    stats.obs.set(Signal.MemoryAvailable, { available: 800 * Mi, capacity: 8 * Gi });
    await m.synchronize();
    clock.step(50_000);
    stats.obs.set(Signal.MemoryAvailable, { available: 2 * Gi, capacity: 8 * Gi });
    await m.synchronize();
    clock.step(20_000);
    stats.obs.set(Signal.MemoryAvailable, { available: 800 * Mi, capacity: 8 * Gi });
    assert.deepEqual(await m.synchronize(), []);
    clock.step(59_999);
    assert.deepEqual(await m.synchronize(), []);
    assert.deepEqual(evicted, []);
  });

  test('a hard threshold still evicts at once beside a soft one, with the immediate grace period', async () => {
    const p = pod('p');
    const { m, stats, evicted } = setup([p], {
      evictionHard: { 'memory.available': '100Mi' },
      evictionSoft: { 'memory.available': '1Gi' }, evictionSoftGracePeriod: { 'memory.available': '5m' }, maxPodGraceSeconds: 30,
    });
    stats.use(p, 100);
    stats.obs.set(Signal.MemoryAvailable, { available: 50 * Mi, capacity: 8 * Gi });
    assert.deepEqual((await m.synchronize()).map((x) => x.metadata!.name), ['p']);
    assert.equal(evicted[0]!.grace, 1);
    assert.match(evicted[0]!.message, /Threshold quantity: 100Mi, available: 50Mi/);
  });

  test('minimum reclaim keeps evicting until that much more is available', async () => {
    const a = pod('a');
    const b = pod('b');
    const { m, stats } = setup([a, b], { evictionHard: { 'memory.available': '100Mi' }, evictionMinimumReclaim: { 'memory.available': '200Mi' } });
    stats.use(a, 200);
    stats.use(b, 100);
    stats.obs.set(Signal.MemoryAvailable, { available: 50 * Mi, capacity: 8 * Gi });
    assert.deepEqual((await m.synchronize()).map((x) => x.metadata!.name), ['a']);
    stats.obs.set(Signal.MemoryAvailable, { available: 250 * Mi, capacity: 8 * Gi });
    assert.deepEqual((await m.synchronize()).map((x) => x.metadata!.name), ['b']);
    stats.obs.set(Signal.MemoryAvailable, { available: 350 * Mi, capacity: 8 * Gi });
    assert.deepEqual(await m.synchronize(), []);
  });

  test('soft eviction grace: the smaller of max-pod-grace-period and the pod\'s own; 0 means the pod\'s own', () => {
    const withGrace = (s?: number): Pod => ({ metadata: { name: 'x' }, spec: { containers: [], ...(s !== undefined ? { terminationGracePeriodSeconds: s } : {}) } });
    assert.equal(softEvictionGraceSeconds(withGrace(30), 10), 10);
    assert.equal(softEvictionGraceSeconds(withGrace(5), 10), 5);
    assert.equal(softEvictionGraceSeconds(withGrace(30), 0), 30);
    assert.equal(softEvictionGraceSeconds(withGrace(0), 10), 1);
    assert.equal(softEvictionGraceSeconds(withGrace(), 0), 1);
  });
});
