// Scheduler benchmark in the manner of upstream's scheduler_perf, end to end: for each workload a
// fresh API server on SQLite (temp dir), simulated nodes and the scheduler, all in this process as
// in `tkube server` (or in worker threads with --threads). Pods are created through the API; a pod
// watch records when each is bound. Prints pods/s, p50/p99 latency (create call -> bound seen on
// the watch), the process RSS and CPU per pod (the load-independent cost), against upstream's floors.
// Stderr carries the event recorder's "too many queued events" drops at high rates (2>/dev/null).
// Usage: npm run bench -- scheduler [--workloads basic,anti-affinity,spread,preemption] [--nodes N]
//   [--init-pods N] [--pods N] [--sim-pods on|off] [--heartbeat-ms MS] [--concurrency N] [--endpoint URL]
//   [--cpu-prof PREFIX] (profile of the measured phase only, PREFIX.<workload>.cpuprofile) [--threads]
// --nodes/--init-pods/--pods override every workload's counts (upstream's 5000Nodes sizes by default).
// Node heartbeats default to every 5 minutes, i.e. off during a run: scheduler_perf has no kubelets,
// and 5,000 nodes renewing Leases every 10 s (--heartbeat-ms 10000) are 500 writes/s by themselves.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Node, Pod } from '../src/api/types/core_v1.ts';
import { SharedInformerFactory } from '../src/client/informer_factory.ts';
import type { KubeObject } from '../src/client/resource_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { startScheduler } from '../src/scheduler/wiring/start_scheduler.ts';
import { startSimNodes } from '../src/sim/sim_nodes.ts';
import { defaultStages, StageKind } from '../src/sim/stage.ts';
import { startTestServer } from '../src/testing/test_server.ts';
import type { WorkerJob } from './scheduler_worker.ts';

/** One scheduler_perf workload (5000Nodes sizes). */
interface Workload {
  readonly name: string;
  readonly nodes: number;
  readonly zones?: number;
  readonly initPods: number;
  readonly measurePods: number;
  /** Upstream's floor for this workload, pods/s. */
  readonly floor: number;
  readonly target: number;
  readonly init: (i: number) => Pod;
  readonly measure: (i: number) => Pod;
  readonly priorityClasses?: readonly { name: string; value: number }[];
}

function pod(name: string, ns: string, cpu: string, extra: { labels?: Record<string, string>; spec?: Partial<NonNullable<Pod['spec']>> } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      ...extra.spec,
      containers: [{
        name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80 }],
        resources: { limits: { cpu, memory: '500Mi' }, requests: { cpu, memory: '500Mi' } },
      }],
    },
  };
}

const WORKLOADS: readonly Workload[] = [
  {
    name: 'SchedulingBasic', nodes: 5000, initPods: 1000, measurePods: 10_000, floor: 270, target: 1000,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m'),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m'),
  },
  {
    name: 'SchedulingPodAntiAffinity', nodes: 5000, initPods: 1000, measurePods: 1000, floor: 0, target: 0,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m', { labels: { color: 'green' }, spec: antiAffinity() }),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m', { labels: { color: 'green' }, spec: antiAffinity() }),
  },
  {
    name: 'TopologySpreading', nodes: 5000, zones: 3, initPods: 5000, measurePods: 2000, floor: 85, target: 85,
    init: (i) => pod(`init-${i}`, 'sched-0', '100m'),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '100m', {
      labels: { color: 'blue' },
      spec: { topologySpreadConstraints: [{ maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } }] },
    }),
  },
  {
    // Upstream's PreemptionBasic/500Nodes: four 900m pods fill each 4-CPU node; each 3-CPU pod evicts three.
    name: 'PreemptionBasic', nodes: 500, initPods: 2000, measurePods: 500, floor: 160, target: 160,
    priorityClasses: [{ name: 'bench-low', value: 0 }, { name: 'bench-high', value: 10 }],
    init: (i) => pod(`init-${i}`, 'sched-0', '900m', { spec: { priorityClassName: 'bench-low', terminationGracePeriodSeconds: 0 } }),
    measure: (i) => pod(`pod-${i}`, 'sched-1', '3000m', { spec: { priorityClassName: 'bench-high' } }),
  },
];

function antiAffinity(): Partial<NonNullable<Pod['spec']>> {
  return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
}

const ALIASES: Readonly<Record<string, string>> = {
  basic: 'SchedulingBasic', 'anti-affinity': 'SchedulingPodAntiAffinity', spread: 'TopologySpreading', preemption: 'PreemptionBasic',
};

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` in flight. */
async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

function stripManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** CPU time of this thread in ms (Linux's per-thread counters, 10 ms ticks; 0 where unreadable). */
function threadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Starts a component in a worker thread; resolves to its stop function once it is ready. */
function startWorker(job: WorkerJob): Promise<() => Promise<void>> {
  // Loader hooks are per thread: the worker registers tsx before importing the TypeScript entry.
  const entry = new URL('./scheduler_worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: unknown) => {
      if (m !== 'ready') {
        void worker.terminate();
        reject(new Error(`${job.kind} worker failed: ${JSON.stringify(m)}`));
        return;
      }
      resolve(() => new Promise<void>((done) => {
        worker.once('message', () => void worker.terminate().then(() => done()));
        worker.postMessage('stop');
      }));
    });
  });
}

interface Options {
  /** Datastore endpoint; default SQLite in a temp dir. */
  readonly endpoint: string | undefined;
  readonly simPods: boolean;
  readonly heartbeatMs: number;
  readonly concurrency: number;
  /** Run the scheduler and the simulated nodes in worker threads (the API server keeps the main thread). */
  readonly threads: boolean;
  /** Write a CPU profile of the measured phase here (like node --cpu-prof, without the setup). */
  readonly cpuProf: string | undefined;
}

interface Result {
  readonly name: string;
  readonly nodes: number;
  readonly measured: number;
  readonly bound: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly rssMiB: number;
  /** CPU time of the whole process per measured pod (load-independent cost). */
  readonly cpuMsPerPod: number;
  /** CPU of the main thread alone per pod (with --threads: the API server and the bench's own client). */
  readonly mainCpuMsPerPod: number;
  readonly setupSeconds: number;
  readonly floor: number;
  readonly target: number;
}

async function runWorkload(w: Workload, o: Options): Promise<Result> {
  const setupStart = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'tkube-bench-sched-'));
  const s = await startTestServer({ endpoint: o.endpoint ?? `sqlite://${join(dir, 'state.db')}` });
  const client = await RestClient.fromKubeconfig(s.kubeconfig, { userAgent: 'bench-scheduler' });
  const factory = new SharedInformerFactory(client, { transform: stripManagedFields });
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const simOptions = {
      count: w.nodes, capacity: { cpu: '4', memory: '32Gi', pods: '110' }, ...(w.zones ? { zones: w.zones } : {}),
      heartbeatIntervalMs: o.heartbeatMs, statusIntervalMs: Math.max(o.heartbeatMs, 60_000), registerConcurrency: 64,
    };
    if (o.threads) {
      const stop = await startWorker({ kind: 'sim', kubeconfig: s.kubeconfig, simPods: o.simPods, options: simOptions });
      cleanups.push(stop);
    } else {
      const stages = o.simPods ? defaultStages() : defaultStages().filter((st) => st.kind === StageKind.Node);
      const sim = await startSimNodes({ ...simOptions, kubeconfig: s.kubeconfig, stages });
      cleanups.push(() => sim.dispose());
    }
    // Bound times by pod name, from one watch of every pod.
    const boundAt = new Map<string, number>();
    let onBound: ((key: string) => void) | undefined;
    const pods = factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    const nodes = factory.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    const seen = (p: Pod): void => {
      if ((p.spec?.nodeName ?? '') === '') return;
      const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
      if (boundAt.has(key)) return;
      boundAt.set(key, performance.now());
      onBound?.(key);
    };
    pods.addEventHandler({ onAdd: seen, onUpdate: (_, p) => seen(p) });
    factory.start();
    await factory.waitForCacheSync(60_000);
    cleanups.push(() => factory.dispose());
    // The node lifecycle controller's job (lifting the not-ready taint admission puts on new nodes),
    // done here in parallel: its single worker needs minutes for 5,000 nodes.
    const notReady = (n: Node): number => (n.spec?.taints ?? []).findIndex((t) => t.key === 'node.kubernetes.io/not-ready');
    const nodeClient = client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    const tainted = nodes.indexer.list().filter((n) => notReady(n) >= 0);
    await forEachLimited(tainted.length, o.concurrency, async (i) => {
      const n = tainted[i]!;
      const idx = notReady(n);
      await nodeClient.patch(n.metadata!.name!, 'json', [
        { op: 'test', path: `/spec/taints/${idx}/key`, value: 'node.kubernetes.io/not-ready' },
        { op: 'remove', path: `/spec/taints/${idx}` },
      ]);
    });

    if (o.threads) {
      cleanups.push(await startWorker({ kind: 'scheduler', kubeconfig: s.kubeconfig }));
    } else {
      const sched = await startScheduler({ kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench-scheduler' });
      cleanups.push(() => sched.dispose());
      await sched.started;
    }

    for (const ns of ['sched-0', 'sched-1']) await client.resource(resourceDescriptor('v1', 'namespaces')).create({ metadata: { name: ns } });
    for (const pc of w.priorityClasses ?? []) {
      await client.resource(resourceDescriptor('scheduling.k8s.io/v1', 'priorityclasses')).create({ metadata: { name: pc.name }, value: pc.value } as KubeObject);
    }
    const podClient = client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    const waitBound = (keys: readonly string[], timeoutMs: number): Promise<number> => new Promise((resolve) => {
      const wanted = new Set(keys.filter((k) => !boundAt.has(k)));
      const done = (): void => {
        clearTimeout(timer);
        onBound = undefined;
        resolve(keys.length - wanted.size);
      };
      const timer = setTimeout(done, timeoutMs);
      onBound = (key) => {
        wanted.delete(key);
        if (wanted.size === 0) done();
      };
      if (wanted.size === 0) done();
    });

    const initKeys = Array.from({ length: w.initPods }, (_, i) => `sched-0/init-${i}`);
    await forEachLimited(w.initPods, o.concurrency, async (i) => { await podClient.create(w.init(i)); });
    const initBound = await waitBound(initKeys, 120_000);
    if (initBound < w.initPods) throw new Error(`only ${initBound} of ${w.initPods} init pods were scheduled`);
    const setupSeconds = (performance.now() - setupStart) / 1000;

    const createdAt = new Map<string, number>();
    const keys = Array.from({ length: w.measurePods }, (_, i) => `sched-1/pod-${i}`);
    let profiler: Session | undefined;
    if (o.cpuProf !== undefined) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const main0 = threadCpuMs();
    const t0 = performance.now();
    const creating = forEachLimited(w.measurePods, o.concurrency, async (i) => {
      createdAt.set(keys[i]!, performance.now());
      await podClient.create(w.measure(i));
    });
    const bound = await waitBound(keys, Math.max(60_000, w.measurePods * 20));
    await creating;
    const cpu = process.cpuUsage(cpu0);
    const mainCpu = threadCpuMs() - main0;
    if (profiler !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(`${o.cpuProf}.${w.name}.cpuprofile`, JSON.stringify(profile));
      profiler.disconnect();
    }
    const last = Math.max(...keys.map((k) => boundAt.get(k) ?? 0));
    const lat = keys.filter((k) => boundAt.has(k)).map((k) => boundAt.get(k)! - createdAt.get(k)!).sort((a, b) => a - b);
    return {
      name: w.name, nodes: w.nodes, measured: w.measurePods, bound, seconds: (last - t0) / 1000,
      p50: pct(lat, 50), p99: pct(lat, 99), rssMiB: process.memoryUsage().rss / 1048576, setupSeconds,
      cpuMsPerPod: (cpu.user + cpu.system) / 1000 / Math.max(1, bound), mainCpuMsPerPod: mainCpu / Math.max(1, bound), floor: w.floor, target: w.target,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await client.dispose();
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the selected workloads and prints one line each. */
export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workloads: { type: 'string', default: 'basic,anti-affinity,spread,preemption' },
      nodes: { type: 'string' },
      'init-pods': { type: 'string' },
      pods: { type: 'string' },
      'sim-pods': { type: 'string', default: 'on' },
      'heartbeat-ms': { type: 'string', default: '300000' },
      concurrency: { type: 'string', default: '64' },
      endpoint: { type: 'string' },
      'cpu-prof': { type: 'string' },
      threads: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const names = values.workloads.split(',').map((n) => ALIASES[n.trim()] ?? n.trim());
  const selected = names.map((n) => {
    const w = WORKLOADS.find((x) => x.name === n);
    if (!w) throw new Error(`unknown workload ${JSON.stringify(n)}; known: ${Object.keys(ALIASES).join(', ')}`);
    const nodes = num('nodes', values.nodes);
    const init = num('init-pods', values['init-pods']);
    const pods = num('pods', values.pods);
    return { ...w, ...(nodes !== undefined ? { nodes } : {}), ...(init !== undefined ? { initPods: init } : {}), ...(pods !== undefined ? { measurePods: pods } : {}) };
  });
  if (values['sim-pods'] !== 'on' && values['sim-pods'] !== 'off') throw new Error(`--sim-pods must be on or off, got ${JSON.stringify(values['sim-pods'])}`);
  const o: Options = { endpoint: values.endpoint, cpuProf: values['cpu-prof'], threads: values.threads, simPods: values['sim-pods'] === 'on', heartbeatMs: num('heartbeat-ms', values['heartbeat-ms'])!, concurrency: num('concurrency', values.concurrency)! };
  console.log(`scheduler_perf-style workloads on ${o.endpoint ?? 'SQLite'}, ${o.threads ? 'scheduler and simulated nodes in worker threads' : 'everything in one thread'}; simulated pods ${o.simPods ? 'turn Running' : 'stay bound only'}, lease renewals every ${o.heartbeatMs / 1000} s`);
  for (const w of selected) {
    const r = await runWorkload(w, o);
    const rate = r.bound / r.seconds;
    const verdict = r.target > 0 ? `${rate >= r.target ? 'meets' : 'below'} target ${r.target}${r.floor > 0 ? ` (upstream floor ${r.floor})` : ''}` : '';
    console.log(`${`${r.name} (${r.nodes} nodes, ${r.measured} pods)`.padEnd(46)} ${rate.toFixed(0).padStart(6)} pods/s  p50 ${r.p50.toFixed(0)} ms  p99 ${r.p99.toFixed(0)} ms  rss ${r.rssMiB.toFixed(0)} MiB  cpu ${r.cpuMsPerPod.toFixed(2)} ms/pod${o.threads ? ` (main thread ${r.mainCpuMsPerPod.toFixed(2)})` : ''}  ${r.bound < r.measured ? `ONLY ${r.bound} BOUND  ` : ''}${verdict}  [setup ${r.setupSeconds.toFixed(0)} s]`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
