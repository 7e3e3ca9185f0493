// Scheduler core micro-benchmark: the scheduler_perf workloads of bench/scheduler.ts run purely in
// memory (no API server): nodes shaped like simulated ones, init pods placed first, then the measured
// pods through the full cycle with the default profile. Binding, status patches and victim deletion
// are in-memory calls that echo the change back like an informer would. Prints pods/s, CPU per pod
// and p50/p99 cycle latency; --cpu-prof writes a profile of the measured phase.
// Usage: npm run bench -- scheduler-core [--workloads basic,anti-affinity,spread,preemption]
//   [--nodes N] [--init-pods N] [--pods N] [--cpu-prof PREFIX]   (positional [nodes] [init] [pods] for basic)

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Node, Pod } from '../src/api/types/core_v1.ts';
import { MemoryListers } from '../src/scheduler/framework/listers.ts';
import { Scheduler, type PodStatusUpdate } from '../src/scheduler/scheduler.ts';

/** One workload, sized as upstream's 5000Nodes (500Nodes for preemption). */
interface Workload {
  readonly name: string;
  readonly nodes: number;
  readonly zones: number;
  readonly initPods: number;
  readonly measurePods: number;
  readonly init: (i: number) => Pod;
  readonly measure: (i: number) => Pod;
}

function makeNode(i: number, zones: number): Node {
  const name = `node-${i}`;
  // The labels a simulated node registers with.
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node.tkube.io/simulated': 'true',
  };
  if (zones > 0) labels['topology.kubernetes.io/zone'] = `zone-${String.fromCharCode(97 + (i % zones))}`;
  return {
    metadata: { name, uid: `node-uid-${i}`, labels },
    spec: {},
    status: {
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

let uids = 0;

function pod(name: string, ns: string, cpu: string, extra: { labels?: Record<string, string>; spec?: Partial<NonNullable<Pod['spec']>> } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, uid: `uid-${++uids}`, resourceVersion: '1', ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      schedulerName: 'default-scheduler',
      ...extra.spec,
      containers: [{
        name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80 }],
        resources: { limits: { cpu, memory: '500Mi' }, requests: { cpu, memory: '500Mi' } },
      }],
    },
    status: { phase: 'Pending' },
  };
}

function antiAffinity(): Partial<NonNullable<Pod['spec']>> {
  return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
}

const WORKLOADS: readonly Workload[] = [
  {
    name: 'SchedulingBasic', nodes: 5000, zones: 0, initPods: 1000, measurePods: 10_000,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m'),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m'),
  },
  {
    name: 'SchedulingPodAntiAffinity', nodes: 5000, zones: 0, initPods: 1000, measurePods: 1000,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m', { labels: { color: 'green' }, spec: antiAffinity() }),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m', { labels: { color: 'green' }, spec: antiAffinity() }),
  },
  {
    name: 'TopologySpreading', nodes: 5000, zones: 3, initPods: 5000, measurePods: 2000,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m'),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m', {
      labels: { color: 'blue' },
      spec: { topologySpreadConstraints: [{ maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } }] },
    }),
  },
  {
    name: 'PreemptionBasic', nodes: 500, zones: 0, initPods: 2000, measurePods: 500,
    init: (i) => pod(`init-${i}`, 'sched-0', '900m', { spec: { priorityClassName: 'bench-low', priority: 0, terminationGracePeriodSeconds: 0 } }),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '3000m', { spec: { priorityClassName: 'bench-high', priority: 10 } }),
  },
];

const ALIASES: Readonly<Record<string, string>> = {
  basic: 'SchedulingBasic', 'anti-affinity': 'SchedulingPodAntiAffinity', spread: 'TopologySpreading', preemption: 'PreemptionBasic',
};

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function keyOf(p: Pod): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

/** An in-memory cluster: the listers plus the informer echo of every write. */
class MemoryCluster {
  readonly listers = new MemoryListers();
  readonly boundAt = new Map<string, number>();
  scheduler!: Scheduler;
  onBound: (() => void) | null = null;
  private rv = 1;

  private replace(oldPod: Pod, newPod: Pod): void {
    this.listers.pods.set(keyOf(newPod), newPod);
    queueMicrotask(() => this.scheduler.onPodUpdate(oldPod, newPod));
  }

  add(p: Pod): void {
    this.listers.pods.set(keyOf(p), p);
    this.scheduler.onPodAdd(p);
  }

  bind(p: Pod, nodeName: string): void {
    const cur = this.listers.pods.get(keyOf(p));
    if (cur === undefined || cur.metadata?.uid !== p.metadata?.uid) throw new Error(`pod ${keyOf(p)} not found`);
    if ((cur.spec?.nodeName ?? '') !== '') throw new Error(`pod ${keyOf(p)} is already assigned`);
    const bound: Pod = { ...cur, spec: { ...(cur.spec ?? { containers: [] }), nodeName }, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
    this.replace(cur, bound);
    this.boundAt.set(keyOf(p), performance.now());
    queueMicrotask(() => this.onBound?.());
  }

  updateStatus(p: Pod, u: PodStatusUpdate): void {
    const cur = this.listers.pods.get(keyOf(p));
    if (cur === undefined) return;
    const status = { ...cur.status };
    if (u.conditions !== undefined) {
      const byType = new Map((status.conditions ?? []).map((c) => [c.type, c] as const));
      for (const c of u.conditions) byType.set(c.type, c);
      status.conditions = [...byType.values()];
    }
    if (u.nominatedNodeName !== undefined) {
      if (u.nominatedNodeName === '') delete status.nominatedNodeName;
      else status.nominatedNodeName = u.nominatedNodeName;
    }
    this.replace(cur, { ...cur, status, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } });
  }

  delete(p: Pod): void {
    const cur = this.listers.pods.get(keyOf(p));
    if (cur === undefined || cur.metadata?.uid !== p.metadata?.uid) return;
    this.listers.pods.delete(keyOf(p));
    queueMicrotask(() => this.scheduler.onPodDelete(cur));
  }
}

interface Result {
  readonly pods: number;
  readonly bound: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly p50: number;
  readonly p99: number;
}

async function runWorkload(w: Workload, cpuProf: string | undefined): Promise<Result> {
  const cluster = new MemoryCluster();
  const sched = new Scheduler({
    listers: cluster.listers,
    binder: { bind: async (p, nodeName) => cluster.bind(p, nodeName) },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: async (p, u) => cluster.updateStatus(p, u) },
    preemption: {
      preemptPod: async (victim) => cluster.delete(victim),
      clearNominatedNodeName: async (ps) => { for (const p of ps) cluster.updateStatus(p, { nominatedNodeName: '' }); },
    },
  });
  cluster.scheduler = sched;
  for (const ns of ['sched-0', 'sched-1']) cluster.listers.namespaceMap.set(ns, { metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } });
  for (let i = 0; i < w.nodes; i++) sched.onNodeAdd(makeNode(i, w.zones));
  const waitBound = (keys: readonly string[]): Promise<void> => new Promise((resolve) => {
    const check = (): void => {
      if (keys.every((k) => cluster.boundAt.has(k))) {
        cluster.onBound = null;
        resolve();
      }
    };
    let pending = keys.filter((k) => !cluster.boundAt.has(k)).length;
    cluster.onBound = () => {
      if (--pending <= 0) check();
    };
    check();
  });
  const running = sched.run();
  const initKeys: string[] = [];
  for (let i = 0; i < w.initPods; i++) {
    const p = w.init(i);
    initKeys.push(keyOf(p));
    cluster.add(p);
  }
  await waitBound(initKeys);

  const pods = Array.from({ length: w.measurePods }, (_, i) => w.measure(i));
  const keys = pods.map(keyOf);
  let profiler: Session | undefined;
  if (cpuProf !== undefined) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const createdAt = new Map<string, number>();
  for (const p of pods) {
    createdAt.set(keyOf(p), performance.now());
    cluster.add(p);
  }
  await waitBound(keys);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (profiler !== undefined) {
    const { profile } = await profiler.post('Profiler.stop');
    await writeFile(`${cpuProf}.${w.name}.core.cpuprofile`, JSON.stringify(profile));
    profiler.disconnect();
  }
  await sched.dispose();
  await running;
  const lat = keys.map((k) => (cluster.boundAt.get(k) ?? NaN) - (createdAt.get(k) ?? NaN)).sort((a, b) => a - b);
  return { pods: w.measurePods, bound: keys.filter((k) => cluster.boundAt.has(k)).length, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** Cycle latency alone: one scheduling cycle at a time on a fresh scheduler (basic pods). */
async function cycleLatency(numNodes: number): Promise<{ p50: number; p99: number }> {
  const cycles: number[] = [];
  const lat = new Scheduler({
    listers: new MemoryListers(),
    binder: { bind: async () => {} },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: async () => {} },
    preemption: { preemptPod: async () => {}, clearNominatedNodeName: async () => {} },
  });
  for (let i = 0; i < numNodes; i++) lat.onNodeAdd(makeNode(i, 0));
  for (let i = 0; i < 2000; i++) lat.onPodAdd(pod(`lat-${i}`, 'sched-0', '100m'));
  for (;;) {
    const s = performance.now();
    if (!lat.scheduleOne()) break;
    cycles.push(performance.now() - s);
  }
  await lat.dispose();
  cycles.sort((a, b) => a - b);
  return { p50: percentile(cycles, 50), p99: percentile(cycles, 99) };
}

/** Runs the benchmark and prints its results. */
export async function run(args: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      workloads: { type: 'string', default: 'basic' },
      nodes: { type: 'string' },
      'init-pods': { type: 'string' },
      pods: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const nodes = num('nodes', values.nodes ?? positionals[0]);
  const init = num('init-pods', values['init-pods'] ?? positionals[1]);
  const measured = num('pods', values.pods ?? positionals[2]);
  const selected = values.workloads.split(',').map((n) => {
    const name = ALIASES[n.trim()] ?? n.trim();
    const w = WORKLOADS.find((x) => x.name === name);
    if (!w) throw new Error(`unknown workload ${JSON.stringify(n)}; known: ${Object.keys(ALIASES).join(', ')}`);
    return { ...w, ...(nodes !== undefined ? { nodes } : {}), ...(init !== undefined ? { initPods: init } : {}), ...(measured !== undefined ? { measurePods: measured } : {}) };
  });
  console.log('scheduler core in memory (no API server), default profile');
  for (const w of selected) {
    const r = await runWorkload(w, values['cpu-prof']);
    console.log(`${`${w.name} (${w.nodes} nodes, ${w.initPods} init, ${r.pods} pods)`.padEnd(58)} ${((r.bound / r.wallMs) * 1000).toFixed(0).padStart(6)} pods/s  cpu ${(r.cpuMs / Math.max(1, r.bound)).toFixed(3)} ms/pod  p50 ${r.p50.toFixed(0)} ms  p99 ${r.p99.toFixed(0)} ms  rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB${r.bound < r.pods ? `  ONLY ${r.bound} BOUND` : ''}`);
  }
  if (selected.some((w) => w.name === 'SchedulingBasic')) {
    const c = await cycleLatency(nodes ?? 5000);
    console.log(`  basic cycle latency, one at a time: p50 ${c.p50.toFixed(3)} ms, p99 ${c.p99.toFixed(3)} ms`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
