// Controllers benchmark: on simulated nodes, a Deployment scaled from zero to N available replicas,
// then a rolling update of all of them, with the real API server (SQLite store), scheduler,
// controller manager and simulated kubelets in one process, threaded as `tkube server` runs them:
// the controller manager and the scheduler in a control-plane thread, the API server and the
// simulated nodes in the main thread. Prints seconds for each phase, CPU per thread and the RSS.
// Usage: npm run bench -- controllers [nodes=1000] [replicas=10000] [--nodes N] [--replicas N]
//   [--one-thread] (every component in the main thread) [--sim-thread] (the simulated nodes in a thread of
//   their own, as KWOK beside a control plane, instead of the main thread as `tkube server --sim-nodes`)
//   [--cpu-prof PREFIX] (profiles of each measured phase and thread: PREFIX.<phase>.<thread>.cpuprofile)
//   [--heap-prof] (with --cpu-prof: sampled allocations of each phase in the main thread, PREFIX.<phase>.main.heapprofile)
//   [--heartbeat-ms MS] (node Lease renewals; default 10 s as the kubelet) [--timeout-s S]
//   [--writes] (storage writes per resource in each phase) [--progress] (Deployment status every 2 s, stderr)
//   [--timeline] (pods created, bound, ready, deleting and gone in each second of each phase, from a pod watch)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Node, Pod } from '../src/api/types/core_v1.ts';
import type { Disposable } from '../src/base/disposable.ts';
import { startComponentThread } from '../src/cli/component_thread.ts';
import { SharedInformerFactory } from '../src/client/informer_factory.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import { startControllerManager, type ControllerManagerOptions } from '../src/controllers/manager.ts';
import { startScheduler } from '../src/scheduler/wiring/start_scheduler.ts';
import { startSimNodes, type SimNodesOptions } from '../src/sim/sim_nodes.ts';
import type { Store } from '../src/storage/types.ts';
import { startTestServer } from '../src/testing/test_server.ts';
import type { SimWorkerCommand, SimWorkerJob, SimWorkerReply } from './controllers_sim_worker.ts';

type Obj = Record<string, any>;

function count(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** CPU seconds of one thread of this process (Linux's per-thread counters, 10 ms ticks; 0 where unreadable). */
function threadCpuSeconds(tid: number): number {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** A thread besides the main one that can profile itself (the control-plane thread, the sim thread). */
interface ProfiledThread {
  readonly name: string;
  readonly tid: number;
  /** Starts a CPU profile written to `path`; without a path, stops and writes it. */
  profile(path?: string): Promise<void>;
}

/**
 * A CPU profile of one phase in every thread (like node --cpu-prof, without the setup):
 * PREFIX.<phase>.<thread>.cpuprofile; with `heap`, a sampled profile of every allocation of the
 * phase in the main thread too (collected ones included: what keeps the GC busy).
 */
async function startProfile(prefix: string | undefined, heap: boolean, threads: readonly ProfiledThread[], phase: string): Promise<() => Promise<void>> {
  if (prefix === undefined) return async () => undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  if (heap) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 64 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  for (const t of threads) await t.profile(`${prefix}.${phase}.${t.name}.cpuprofile`);
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(`${prefix}.${phase}.main.cpuprofile`, JSON.stringify(profile));
    if (heap) {
      const { profile: h } = await session.post('HeapProfiler.stopSampling');
      await writeFile(`${prefix}.${phase}.main.heapprofile`, JSON.stringify(h));
    }
    session.disconnect();
    for (const t of threads) await t.profile();
  };
}

/** Counts the store's writes by resource (the key's second segment), for --writes. */
function countWrites(store: Store): { take(): string } {
  const counts = new Map<string, number>();
  const wrap = <A extends unknown[], R>(verb: string, f: (key: string, ...rest: A) => Promise<R>) => (key: string, ...rest: A): Promise<R> => {
    const k = `${verb} ${key.split('/')[2] ?? key}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    return f(key, ...rest);
  };
  store.create = wrap('create', store.create.bind(store));
  store.update = wrap('update', store.update.bind(store));
  store.delete = wrap('delete', store.delete.bind(store));
  return {
    take() {
      const out = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      counts.clear();
      return out;
    },
  };
}

/** Pod transitions per second of the current phase, seen through a pod watch (--timeline). */
class Timeline {
  readonly factory: SharedInformerFactory;
  #start = performance.now();
  #rows: number[][] = [];
  #log: string[] = [];
  readonly columns: readonly string[];
  #sampler: NodeJS.Timeout | undefined;

  constructor(client: RestClient, threads: readonly { name: string; tid: number }[]) {
    this.columns = ['created', 'bound', 'ready', 'deleting', 'gone', ...threads.map((t) => `${t.name}%`)];
    // Busy share of each thread per second (10 ms ticks), to tell waiting from working.
    let last = threads.map((t) => threadCpuSeconds(t.tid));
    this.#sampler = setInterval(() => {
      const now = threads.map((t) => threadCpuSeconds(t.tid));
      now.forEach((v, i) => this.#count(5 + i, Math.round((v - last[i]!) * 100)));
      last = now;
    }, 1000);
    this.factory = new SharedInformerFactory(client);
    const ready = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    this.factory.informerFor<Pod>(resourceDescriptor('v1', 'pods')).addEventHandler({
      onAdd: (p, initial) => {
        if (!initial) this.#count(0);
      },
      onUpdate: (old, cur) => {
        if (!old.spec?.nodeName && cur.spec?.nodeName) this.#count(1);
        if (!ready(old) && ready(cur)) this.#count(2);
        if (!old.metadata?.deletionTimestamp && cur.metadata?.deletionTimestamp) this.#count(3);
      },
      onDelete: () => this.#count(4),
    });
    // Every change of a ReplicaSet's or the Deployment's replica counts, to see who waits for whom.
    const counts = (o: Obj): string => `spec ${o['spec']?.['replicas'] ?? 0} status ${o['status']?.['replicas'] ?? 0}/${o['status']?.['readyReplicas'] ?? 0}/${o['status']?.['availableReplicas'] ?? 0}`;
    for (const resource of ['replicasets', 'deployments']) {
      let last = new Map<string, string>();
      this.factory.informerFor<Obj>(resourceDescriptor('apps/v1', resource)).addEventHandler({
        onUpdate: (_old, cur) => {
          const name = `${resource === 'deployments' ? 'deploy' : 'rs'} ${String(cur['metadata']?.['name']).slice(-5)}`;
          const c = counts(cur);
          if (last.get(name) === c) return;
          last.set(name, c);
          this.#log.push(`${((performance.now() - this.#start) / 1000).toFixed(2)} ${name} ${c}`);
        },
      });
      last = new Map();
    }
    this.factory.start();
  }

  /** Prints the rows so far and starts the next phase. */
  flush(label: string): void {
    console.log(`${label}: second ${this.columns.join(' ')}`);
    this.#rows.forEach((r, i) => console.log(`  ${String(i).padStart(4)} ${this.columns.map((_, c) => String(r[c] ?? 0).padStart(6)).join(' ')}`));
    for (const l of this.#log) console.log(`  ${l}`);
    this.#rows = [];
    this.#log = [];
    this.#start = performance.now();
  }

  dispose(): Promise<void> {
    clearInterval(this.#sampler);
    return this.factory.dispose();
  }

  #count(column: number, n = 1): void {
    // The CPU samples land just after the second they describe.
    const row = Math.max(0, Math.floor((performance.now() - this.#start) / 1000) - (column >= 5 ? 1 : 0));
    for (let i = this.#rows.length; i <= row; i++) this.#rows.push(this.columns.map(() => 0));
    this.#rows[row]![column]! += n;
  }
}

/** Simulated nodes in a worker thread (--sim-thread). */
interface SimThread extends Disposable, ProfiledThread {}

async function startSimThread(kubeconfig: string, options: SimWorkerJob['options']): Promise<SimThread> {
  // Loader hooks are per thread: the worker registers tsx before importing the TypeScript entry.
  const entry = new URL('./controllers_sim_worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, name: 'sim-nodes', workerData: { kubeconfig, options } satisfies SimWorkerJob });
  const replies: ((r: SimWorkerReply) => void)[] = [];
  worker.on('message', (r: SimWorkerReply) => replies.shift()?.(r));
  const next = (): Promise<SimWorkerReply> => new Promise((resolve) => replies.push(resolve));
  const call = async (m: SimWorkerCommand): Promise<void> => {
    const reply = next();
    worker.postMessage(m);
    const r = await reply;
    if (r.error !== undefined) throw new Error(`sim thread: ${r.error}`);
  };
  const ready = await Promise.race([next(), new Promise<SimWorkerReply>((resolve) => worker.once('error', (err) => resolve({ error: err.message })))]);
  if (ready.error !== undefined) {
    await worker.terminate();
    throw new Error(`sim thread: ${ready.error}`);
  }
  let stopped = false;
  return {
    name: 'sim',
    tid: ready.tid ?? 0,
    profile: (path) => call({ cmd: 'profile', ...(path !== undefined ? { path } : {}) }),
    async dispose() {
      if (stopped) return;
      stopped = true;
      await call({ cmd: 'stop' }).catch(() => undefined);
      await worker.terminate();
    },
  };
}

/** CPU seconds of the process and of each thread, at a mark or since one. */
interface Cpu {
  readonly total: number;
  readonly threads: readonly number[];
}

export async function run(args: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args], allowPositionals: true,
    options: {
      nodes: { type: 'string' }, replicas: { type: 'string' }, 'cpu-prof': { type: 'string' },
      'heartbeat-ms': { type: 'string' }, 'timeout-s': { type: 'string' },
      writes: { type: 'boolean', default: false }, progress: { type: 'boolean', default: false },
      'heap-prof': { type: 'boolean', default: false }, 'one-thread': { type: 'boolean', default: false },
      'sim-thread': { type: 'boolean', default: false },
      timeline: { type: 'boolean', default: false },
    },
  });
  const nodes = count('nodes', values.nodes ?? positionals[0], 1000);
  const replicas = count('replicas', values.replicas ?? positionals[1], 10000);
  const heartbeatMs = count('heartbeat-ms', values['heartbeat-ms'], 10_000);
  const timeoutMs = count('timeout-s', values['timeout-s'], 15 * 60) * 1000;
  const cpuProf = values['cpu-prof'];
  const threaded = !values['one-thread'];
  const dir = await mkdtemp(join(tmpdir(), 'tkube-bench-ctl-'));
  // Spawned first, as tkube server does: the thread loads the components' code meanwhile.
  const thread = threaded ? startComponentThread({ name: 'control-plane' }) : undefined;
  const s = await startTestServer({ endpoint: `sqlite://${join(dir, 'state.db')}` });
  const client = await RestClient.fromKubeconfig(s.kubeconfig);
  const writes = values.writes ? countWrites(s.store) : undefined;
  const disposables: Disposable[] = [];
  try {
    const settleStart = performance.now();
    const simOptions: Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'clock'> = { count: nodes, capacity: { cpu: '64', memory: '256Gi', pods: '110' }, heartbeatIntervalMs: heartbeatMs };
    const simThread = values['sim-thread'] ? await startSimThread(s.kubeconfig, simOptions) : undefined;
    disposables.push(simThread ?? await startSimNodes({ ...simOptions, kubeconfig: s.kubeconfig }));
    const cm: Omit<ControllerManagerOptions, 'client' | 'clock'> = {
      kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench',
      options: { clusterCidr: '10.64.0.0/10', serviceCidr: '10.43.0.0/16', rootCaPem: '' }, // room for a /24 per simulated node
    };
    const sched = { kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench' };
    if (thread) {
      disposables.push(thread);
      await thread.start({ kind: 'controller-manager', options: cm });
      await thread.start({ kind: 'scheduler', options: sched });
    } else {
      disposables.push(await startControllerManager(cm));
      disposables.push(await startScheduler(sched));
    }
    // The deployment is measured on a settled cluster: node IPAM gave every node its pod CIDR and
    // the node lifecycle controller lifted the not-ready taint every new node gets.
    const nodeClient = client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    for (;;) {
      const list = (await nodeClient.list()).items;
      const settled = list.filter((n) => n.spec?.podCIDR && !(n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready')).length;
      if (settled === nodes) break;
      if (performance.now() - settleStart > timeoutMs) throw new Error(`only ${settled} of ${nodes} nodes settled after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const settleSeconds = (performance.now() - settleStart) / 1000;
    const threads: ProfiledThread[] = [{ name: 'main', tid: process.pid, profile: async () => undefined }];
    if (thread) threads.push({ name: 'control-plane', tid: await thread.tid, profile: (path) => (path === undefined ? thread.profile('stop') : thread.profile('start', path)) });
    if (simThread) threads.push(simThread);
    const timeline = values.timeline ? new Timeline(client, threads) : undefined;
    if (timeline) {
      disposables.push(timeline);
      await timeline.factory.waitForCacheSync(60_000);
      timeline.flush('setup');
    }
    const cpuNow = (): Cpu => {
      const c = process.cpuUsage();
      return { total: (c.user + c.system) / 1e6, threads: threads.map((t) => threadCpuSeconds(t.tid)) };
    };
    const since = (m: Cpu): Cpu => {
      const n = cpuNow();
      return { total: n.total - m.total, threads: n.threads.map((v, i) => v - m.threads[i]!) };
    };
    const deployments = client.resource<Obj>(resourceDescriptor('apps/v1', 'deployments'), 'default');
    const waitAvailable = async (label: string, started: number, check: (d: Obj) => boolean): Promise<number> => {
      let lastReport = started;
      let last = cpuNow();
      for (;;) {
        const d = await deployments.get('load');
        if (check(d)) return (performance.now() - started) / 1000;
        if (values.progress && performance.now() - lastReport >= 2000) {
          const now = performance.now();
          const c = since(last);
          const pct = (x: number): string => `${((x * 1000) / (now - lastReport) * 100).toFixed(0)}%`;
          const st = (d['status'] ?? {}) as Obj;
          console.error(`${label} ${((now - started) / 1000).toFixed(1)} s (cpu ${pct(c.total)}${threads.length > 1 ? `, ${threads.map((t, i) => `${t.name} ${pct(c.threads[i]!)}`).join(', ')}` : ''}): ` +
            `replicas ${st['replicas'] ?? 0} updated ${st['updatedReplicas'] ?? 0} ready ${st['readyReplicas'] ?? 0} available ${st['availableReplicas'] ?? 0}`);
          lastReport = now;
          last = cpuNow();
        }
        if (performance.now() - started > timeoutMs) throw new Error(`${label}: gave up after ${timeoutMs / 1000} s: ${JSON.stringify(d['status'])}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const cpuText = (c: Cpu): string =>
      `${c.total.toFixed(1)} s CPU${threads.length > 1 ? `: ${threads.map((t, i) => `${t.name} ${c.threads[i]!.toFixed(1)}`).join(', ')}` : ''}`;

    // Wall time on a shared machine depends on its load; CPU time says more.
    let stopProfile = await startProfile(cpuProf, values['heap-prof'], threads.slice(1), 'up');
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await deployments.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'load' },
      spec: {
        replicas, selector: { matchLabels: { app: 'load' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: { metadata: { labels: { app: 'load' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.26', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
      },
    });
    const up = await waitAvailable('scale up', t0, (d) => d['status']?.['availableReplicas'] === replicas);
    const rssUp = process.memoryUsage().rss;
    const cpuUp = since(cpu0);
    await stopProfile();
    if (writes) console.log(`writes during scale-up: ${writes.take()}`);
    timeline?.flush('scale-up');
    stopProfile = await startProfile(cpuProf, values['heap-prof'], threads.slice(1), 'rollout');
    const cpu1 = cpuNow();
    const t1 = performance.now();
    await deployments.patch('load', 'strategic', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } });
    const rolled = await waitAvailable('rolling update', t1, (d) => {
      const st = d['status'] ?? {};
      return d['metadata']['generation'] <= (st['observedGeneration'] ?? 0) && st['updatedReplicas'] === replicas
        && st['availableReplicas'] === replicas && (st['replicas'] ?? 0) === replicas;
    });
    const cpuRolled = since(cpu1);
    await stopProfile();
    if (writes) console.log(`writes during rollout: ${writes.take()}`);
    timeline?.flush('rollout');
    const layout = !thread ? `everything${simThread ? ' but the sim (a thread of its own)' : ''} in one thread`
      : `controller manager and scheduler in a control-plane thread, API server ${simThread ? 'in the main thread, sim in a thread of its own' : 'and sim in the main thread'}`;
    console.log(`controllers on ${nodes} simulated nodes, Deployment of ${replicas} replicas (one process: ${layout}; cluster settled in ${settleSeconds.toFixed(1)} s)`);
    console.log(`zero to all available   ${up.toFixed(1)} s   (${(replicas / up).toFixed(0)} pods/s; ${cpuText(cpuUp)})`);
    console.log(`rolling update of all   ${rolled.toFixed(1)} s   (${cpuText(cpuRolled)})`);
    const mem = process.memoryUsage();
    console.log(`RSS after scale-up ${(rssUp / 2 ** 20).toFixed(0)} MiB, at the end ${(mem.rss / 2 ** 20).toFixed(0)} MiB (main thread's heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB)`);
    console.log('target: both under 60 s');
  } finally {
    for (const d of disposables.reverse()) await d.dispose();
    await thread?.dispose();
    client.dispose();
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
