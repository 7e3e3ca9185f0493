// Scheduler benchmark in the manner of upstream's scheduler_perf, end to end: for each workload a
// fresh API server on SQLite (temp dir), simulated nodes and the scheduler, placed as `tkube server`
// places them (the API server and simulated nodes in the main thread, the scheduler in the
// control-plane thread), and the load generator (pod creation, the watch timing each pod) in a
// thread of its own, as a client in another process; --threads moves the simulated nodes to a
// worker too, --single-thread runs everything in the main thread. Prints pods/s, p50/p99 latency
// (create call -> bound seen on the watch), the process RSS and CPU per pod (the load-independent
// cost) split by thread, against upstream's floors.
// As in scheduler_perf, which has no kubelets, measured pods are only bound (--sim-pods off);
// --sim-pods on has the simulated nodes turn them Running, one more write and watch event each.
// Stderr carries the event recorder's "too many queued events" drops at high rates (2>/dev/null).
// Usage: npm run bench -- scheduler [--workloads basic,anti-affinity,spread,preemption] [--nodes N]
//   [--init-pods N] [--pods N] [--sim-pods on|off] [--heartbeat-ms MS] [--concurrency N] [--endpoint URL]
//   [--cpu-prof PREFIX] (profiles of the measured phase only, PREFIX.<workload>[.<thread>].cpuprofile)
//   [--threads | --single-thread]
// --nodes/--init-pods/--pods override every workload's counts (upstream's 5000Nodes sizes by default).
// Node heartbeats default to every 5 minutes, i.e. off during a run: scheduler_perf has no kubelets,
// and 5,000 nodes renewing Leases every 10 s (--heartbeat-ms 10000) are 500 writes/s by themselves.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Node } from '../src/api/types/core_v1.ts';
import { startComponentThread, type ComponentThread } from '../src/cli/component_thread.ts';
import { SharedInformerFactory } from '../src/client/informer_factory.ts';
import type { KubeObject } from '../src/client/resource_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { startScheduler } from '../src/scheduler/wiring/start_scheduler.ts';
import { startSimNodes } from '../src/sim/sim_nodes.ts';
import { defaultStages, StageKind } from '../src/sim/stage.ts';
import { startTestServer } from '../src/testing/test_server.ts';
import { threadCpuTimes, type WorkerCommand, type WorkerJob, type WorkerReply } from './scheduler_worker.ts';
import { forEachLimited, PodLoad, workloadNamed, type PhaseResult, type Workload } from './scheduler_workloads.ts';

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A benchmark thread (load generator or simulated nodes). */
interface WorkerHandle {
  readonly kind: WorkerJob['kind'];
  /** The worker's Linux thread id. */
  readonly tid: number;
  ask(cmd: WorkerCommand): Promise<WorkerReply>;
  stop(): Promise<void>;
}

/** Starts a worker thread; resolves once it is ready. */
function startWorker(job: WorkerJob): Promise<WorkerHandle> {
  // Loader hooks are per thread: the worker registers tsx before importing the TypeScript entry.
  const entry = new URL('./scheduler_worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  // Commands are answered in order.
  const waiting: ((r: WorkerReply) => void)[] = [];
  const ask = (cmd: WorkerCommand): Promise<WorkerReply> => new Promise((resolve, reject) => {
    waiting.push((r) => (r.error !== undefined ? reject(new Error(`${job.kind} worker: ${r.error}`)) : resolve(r)));
    worker.postMessage(cmd);
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { ready?: boolean; tid?: number; error?: string }) => {
      if (m.ready !== true) {
        void worker.terminate();
        reject(new Error(`${job.kind} worker failed: ${m.error ?? JSON.stringify(m)}`));
        return;
      }
      worker.on('message', (r: WorkerReply) => waiting.shift()?.(r));
      resolve({
        kind: job.kind,
        tid: m.tid ?? 0,
        ask,
        stop: async () => {
          await ask({ cmd: 'stop' }).catch(() => undefined);
          await worker.terminate();
        },
      });
    });
  });
}

/** CPU ms per thread label between two threadCpuTimes() readings; threads not named are "helpers". */
function cpuByThread(before: Map<number, number>, after: Map<number, number>, names: ReadonlyMap<number, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names.values()) out[name] = 0;
  out['helpers'] = 0;
  for (const [tid, ms] of after) {
    const label = names.get(tid) ?? 'helpers';
    out[label] = (out[label] ?? 0) + ms - (before.get(tid) ?? 0);
  }
  return out;
}

interface Options {
  /** Datastore endpoint; default SQLite in a temp dir. */
  readonly endpoint: string | undefined;
  readonly simPods: boolean;
  readonly heartbeatMs: number;
  readonly concurrency: number;
  /** Where the components run: as `tkube server` does, with the simulated nodes in a worker too, or all in one thread. */
  readonly placement: 'server' | 'threads' | 'single';
  /** Write CPU profiles of the measured phase here (like node --cpu-prof, without the setup). */
  readonly cpuProf: string | undefined;
  /** The workload sizes given on the command line (the client thread rebuilds the workload from them). */
  readonly sizes: { nodes?: number; initPods?: number; measurePods?: number };
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
  /** CPU per pod by thread: main (API server, components left there), each other thread, the rest (V8 and libuv helpers). */
  readonly threadCpuMsPerPod: Readonly<Record<string, number>>;
  readonly setupSeconds: number;
  readonly floor: number;
  readonly target: number;
}

/** Runs phases of the load, in the client thread or here. */
interface LoadRunner {
  run(phase: 'init' | 'measure', timeoutMs: number): Promise<PhaseResult>;
}

async function runWorkload(w: Workload, o: Options): Promise<Result> {
  const setupStart = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'tkube-bench-sched-'));
  const s = await startTestServer({ endpoint: o.endpoint ?? `sqlite://${join(dir, 'state.db')}` });
  const client = await RestClient.fromKubeconfig(s.kubeconfig, { userAgent: 'bench-scheduler' });
  const cleanups: (() => Promise<unknown>)[] = [];
  const workers: WorkerHandle[] = [];
  let schedThread: ComponentThread | undefined;
  try {
    const simOptions = {
      count: w.nodes, capacity: { cpu: '4', memory: '32Gi', pods: '110' }, ...(w.zones ? { zones: w.zones } : {}),
      heartbeatIntervalMs: o.heartbeatMs, statusIntervalMs: Math.max(o.heartbeatMs, 60_000), registerConcurrency: 64,
    };
    if (o.placement === 'threads') {
      const sim = await startWorker({ kind: 'sim', kubeconfig: s.kubeconfig, simPods: o.simPods, options: simOptions });
      workers.push(sim);
      cleanups.push(() => sim.stop());
    } else {
      const stages = o.simPods ? defaultStages() : defaultStages().filter((st) => st.kind === StageKind.Node);
      const sim = await startSimNodes({ ...simOptions, kubeconfig: s.kubeconfig, stages });
      cleanups.push(() => sim.dispose());
    }
    // The node lifecycle controller's job (lifting the not-ready taint admission puts on new nodes),
    // done here in parallel: its single worker needs minutes for 5,000 nodes.
    const factory = new SharedInformerFactory(client);
    const nodes = factory.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    factory.start();
    await factory.waitForCacheSync(60_000);
    const notReady = (n: Node): number => (n.spec?.taints ?? []).findIndex((t) => t.key === 'node.kubernetes.io/not-ready');
    const nodeClient = client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    const tainted = nodes.indexer.list().filter((n) => notReady(n) >= 0);
    await factory.dispose();
    await forEachLimited(tainted.length, o.concurrency, async (i) => {
      const n = tainted[i]!;
      const idx = notReady(n);
      await nodeClient.patch(n.metadata!.name!, 'json', [
        { op: 'test', path: `/spec/taints/${idx}/key`, value: 'node.kubernetes.io/not-ready' },
        { op: 'remove', path: `/spec/taints/${idx}` },
      ]);
    });

    if (o.placement !== 'single') {
      const thread = startComponentThread({ name: 'control-plane' });
      schedThread = thread;
      cleanups.push(() => thread.dispose());
      await thread.start({ kind: 'scheduler', options: { kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench-scheduler' } });
    } else {
      const sched = await startScheduler({ kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench-scheduler' });
      cleanups.push(() => sched.dispose());
      await sched.started;
    }

    for (const ns of ['sched-0', 'sched-1']) await client.resource(resourceDescriptor('v1', 'namespaces')).create({ metadata: { name: ns } });
    for (const pc of w.priorityClasses ?? []) {
      await client.resource(resourceDescriptor('scheduling.k8s.io/v1', 'priorityclasses')).create({ metadata: { name: pc.name }, value: pc.value } as KubeObject);
    }
    let load: LoadRunner;
    if (o.placement !== 'single') {
      const loader = await startWorker({ kind: 'client', kubeconfig: s.kubeconfig, workload: w.name, sizes: o.sizes, concurrency: o.concurrency });
      workers.push(loader);
      cleanups.push(() => loader.stop());
      load = { run: async (phase, timeoutMs) => (await loader.ask({ cmd: 'run', phase, timeoutMs })).result! };
    } else {
      const local = await PodLoad.start(s.kubeconfig, w, o.concurrency);
      cleanups.push(() => local.dispose());
      load = local;
    }

    const init = await load.run('init', 120_000);
    if (init.bound < w.initPods) throw new Error(`only ${init.bound} of ${w.initPods} init pods were scheduled`);
    const setupSeconds = (performance.now() - setupStart) / 1000;

    let profiler: Session | undefined;
    if (o.cpuProf !== undefined) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const names = new Map<number, string>([[process.pid, 'main']]);
    for (const wk of workers) names.set(wk.tid, wk.kind);
    if (schedThread !== undefined) names.set(await schedThread.tid, 'scheduler');
    await Promise.all(workers.map((wk) => wk.ask({ cmd: 'mark', ...(o.cpuProf !== undefined ? { cpuProf: `${o.cpuProf}.${w.name}` } : {}) })));
    if (schedThread !== undefined && o.cpuProf !== undefined) await schedThread.profile('start', `${o.cpuProf}.${w.name}.scheduler.cpuprofile`);
    const cpu0 = process.cpuUsage();
    const threads0 = threadCpuTimes();
    const measured = await load.run('measure', Math.max(60_000, w.measurePods * 20));
    const cpu = process.cpuUsage(cpu0);
    const byThread = cpuByThread(threads0, threadCpuTimes(), names);
    await Promise.all(workers.map((wk) => wk.ask({ cmd: 'markEnd' })));
    if (schedThread !== undefined && o.cpuProf !== undefined) await schedThread.profile('stop');
    if (profiler !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(`${o.cpuProf}.${w.name}.cpuprofile`, JSON.stringify(profile));
      profiler.disconnect();
    }
    const bound = measured.bound;
    return {
      name: w.name, nodes: w.nodes, measured: w.measurePods, bound, seconds: (measured.lastBoundAt - measured.startedAt) / 1000,
      p50: pct(measured.latencies, 50), p99: pct(measured.latencies, 99), rssMiB: process.memoryUsage().rss / 1048576, setupSeconds,
      cpuMsPerPod: (cpu.user + cpu.system) / 1000 / Math.max(1, bound),
      threadCpuMsPerPod: Object.fromEntries(Object.entries(byThread).map(([k, v]) => [k, v / Math.max(1, bound)])), floor: w.floor, target: w.target,
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
      'sim-pods': { type: 'string', default: 'off' },
      'heartbeat-ms': { type: 'string', default: '300000' },
      concurrency: { type: 'string', default: '64' },
      endpoint: { type: 'string' },
      'cpu-prof': { type: 'string' },
      threads: { type: 'boolean', default: false },
      'single-thread': { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const sizes = {
    ...(values.nodes !== undefined ? { nodes: num('nodes', values.nodes)! } : {}),
    ...(values['init-pods'] !== undefined ? { initPods: num('init-pods', values['init-pods'])! } : {}),
    ...(values.pods !== undefined ? { measurePods: num('pods', values.pods)! } : {}),
  };
  const selected = values.workloads.split(',').map((n) => workloadNamed(n, sizes));
  if (values['sim-pods'] !== 'on' && values['sim-pods'] !== 'off') throw new Error(`--sim-pods must be on or off, got ${JSON.stringify(values['sim-pods'])}`);
  if (values.threads && values['single-thread']) throw new Error('give at most one of --threads and --single-thread');
  const o: Options = {
    endpoint: values.endpoint, cpuProf: values['cpu-prof'], sizes,
    placement: values['single-thread'] ? 'single' : values.threads ? 'threads' : 'server',
    simPods: values['sim-pods'] === 'on', heartbeatMs: num('heartbeat-ms', values['heartbeat-ms'])!, concurrency: num('concurrency', values.concurrency)!,
  };
  const where = { server: 'scheduler in its own thread as in tkube server, client in another', threads: 'scheduler, simulated nodes and client in worker threads', single: 'everything in one thread' }[o.placement];
  console.log(`scheduler_perf-style workloads on ${o.endpoint ?? 'SQLite'}, ${where}; simulated pods ${o.simPods ? 'turn Running' : 'stay bound only'}, lease renewals every ${o.heartbeatMs / 1000} s`);
  for (const w of selected) {
    const r = await runWorkload(w, o);
    const rate = r.bound / r.seconds;
    const verdict = r.target > 0 ? `${rate >= r.target ? 'meets' : 'below'} target ${r.target}${r.floor > 0 ? ` (upstream floor ${r.floor})` : ''}` : '';
    const split = Object.entries(r.threadCpuMsPerPod).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    console.log(`${`${r.name} (${r.nodes} nodes, ${r.measured} pods)`.padEnd(46)} ${rate.toFixed(0).padStart(6)} pods/s  p50 ${r.p50.toFixed(0)} ms  p99 ${r.p99.toFixed(0)} ms  rss ${r.rssMiB.toFixed(0)} MiB  cpu ${r.cpuMsPerPod.toFixed(2)} ms/pod (${split})  ${r.bound < r.measured ? `ONLY ${r.bound} BOUND  ` : ''}${verdict}  [setup ${r.setupSeconds.toFixed(0)} s]`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
