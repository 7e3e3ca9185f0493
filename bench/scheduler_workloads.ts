// The scheduler benchmark's workloads (upstream scheduler_perf's 5000Nodes sizes) and its load
// generator: creates a phase's pods through the API and times each from the create call to its
// binding seen on a watch of bound pods. Runs in the client thread (scheduler_worker.ts) or, with
// --single-thread, in the main thread.

import { performance } from 'node:perf_hooks';
import type { Pod } from '../src/api/types/core_v1.ts';
import { SharedInformerFactory } from '../src/client/informer_factory.ts';
import type { KubeObject } from '../src/client/resource_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import { RestClient } from '../src/client/rest_client.ts';
import type { SharedIndexInformer } from '../src/client/shared_informer.ts';

/** One scheduler_perf workload (5000Nodes sizes). */
export interface Workload {
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

function antiAffinity(): Partial<NonNullable<Pod['spec']>> {
  return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
}

export const WORKLOADS: readonly Workload[] = [
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

export const ALIASES: Readonly<Record<string, string>> = {
  basic: 'SchedulingBasic', 'anti-affinity': 'SchedulingPodAntiAffinity', spread: 'TopologySpreading', preemption: 'PreemptionBasic',
};

/** The workload named `name` (or its alias) with the sizes given overriding its own. */
export function workloadNamed(name: string, sizes: { nodes?: number; initPods?: number; measurePods?: number } = {}): Workload {
  const full = ALIASES[name.trim()] ?? name.trim();
  const w = WORKLOADS.find((x) => x.name === full);
  if (!w) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${Object.keys(ALIASES).join(', ')}`);
  return {
    ...w,
    ...(sizes.nodes !== undefined ? { nodes: sizes.nodes } : {}),
    ...(sizes.initPods !== undefined ? { initPods: sizes.initPods } : {}),
    ...(sizes.measurePods !== undefined ? { measurePods: sizes.measurePods } : {}),
  };
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` in flight. */
export async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** What one phase measured; times are epoch ms (timeOrigin + now), comparable across threads. */
export interface PhaseResult {
  readonly bound: number;
  readonly startedAt: number;
  /** When the last pod of the phase was seen bound (startedAt when none was). */
  readonly lastBoundAt: number;
  /** Create-call-to-bound latencies of the pods seen bound, ms, sorted. */
  readonly latencies: number[];
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

function keyOf(p: KubeObject): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

/** Creates pods and watches them get bound. */
export class PodLoad {
  readonly #client: RestClient;
  readonly #factory: SharedInformerFactory;
  readonly #bound: SharedIndexInformer<Pod>;
  readonly #w: Workload;
  readonly #concurrency: number;
  readonly #boundAt = new Map<string, number>();
  #onBound: ((key: string) => void) | undefined;

  private constructor(client: RestClient, w: Workload, concurrency: number) {
    this.#client = client;
    this.#w = w;
    this.#concurrency = concurrency;
    // Only bound pods: a pod shows up (ADDED) when it is bound, one event per pod to decode.
    this.#factory = new SharedInformerFactory(client, { transform: stripManagedFields });
    this.#bound = this.#factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'), { fieldSelector: 'spec.nodeName!=' });
    const seen = (p: Pod): void => {
      const key = keyOf(p);
      if (this.#boundAt.has(key)) return;
      this.#boundAt.set(key, epochNow());
      this.#onBound?.(key);
    };
    this.#bound.addEventHandler({ onAdd: seen, onUpdate: (_, p) => seen(p) });
  }

  /** Connects to the API server and syncs the watch. */
  static async start(kubeconfig: string, w: Workload, concurrency: number): Promise<PodLoad> {
    const client = await RestClient.fromKubeconfig(kubeconfig, { userAgent: 'bench-scheduler' });
    const load = new PodLoad(client, w, concurrency);
    load.#factory.start();
    await load.#factory.waitForCacheSync(60_000);
    return load;
  }

  /** Creates the phase's pods (`concurrency` calls in flight) and waits up to `timeoutMs` for them to be bound. */
  async run(phase: 'init' | 'measure', timeoutMs: number): Promise<PhaseResult> {
    const n = phase === 'init' ? this.#w.initPods : this.#w.measurePods;
    const make = phase === 'init' ? this.#w.init : this.#w.measure;
    const pods = Array.from({ length: n }, (_, i) => make(i));
    const keys = pods.map(keyOf);
    const createdAt = new Array<number>(n).fill(NaN);
    const startedAt = epochNow();
    const waiting = this.#waitBound(keys, timeoutMs);
    await forEachLimited(n, this.#concurrency, async (i) => {
      const p = pods[i]!;
      createdAt[i] = epochNow();
      // The reply (the created pod) is not needed: requestRaw spares decoding it.
      await this.#client.requestRaw({ method: 'POST', path: `/api/v1/namespaces/${p.metadata!.namespace}/pods`, body: p });
    });
    const bound = await waiting;
    let lastBoundAt = startedAt;
    const latencies: number[] = [];
    keys.forEach((k, i) => {
      const at = this.#boundAt.get(k);
      if (at === undefined) return;
      if (at > lastBoundAt) lastBoundAt = at;
      latencies.push(at - createdAt[i]!);
    });
    latencies.sort((a, b) => a - b);
    return { bound, startedAt, lastBoundAt, latencies };
  }

  #waitBound(keys: readonly string[], timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const wanted = new Set(keys.filter((k) => !this.#boundAt.has(k)));
      const done = (): void => {
        clearTimeout(timer);
        this.#onBound = undefined;
        resolve(keys.length - wanted.size);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#onBound = (key) => {
        wanted.delete(key);
        if (wanted.size === 0) done();
      };
      if (wanted.size === 0) done();
    });
  }

  async dispose(): Promise<void> {
    await this.#factory.dispose();
    await this.#client.dispose();
  }
}

function stripManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}
