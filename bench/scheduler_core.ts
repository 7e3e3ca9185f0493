// Scheduler core micro-benchmark: SchedulingBasic from scheduler_perf run purely in memory (no API
// server): 5,000 nodes (4 cpu, 32Gi, 110 pods), 1,000 pods placed first, then 10,000 measured pods
// (100m cpu, 500Mi) through the full cycle with the default profile. Binding is an in-memory call
// that echoes the bound pod back like an informer would. Prints pods/s and p50/p99 cycle latency.
// Usage: node --import tsx bench/scheduler_core.ts [nodes] [initPods] [measuredPods]

import { performance } from 'node:perf_hooks';
import type { Node, Pod } from '../src/api/types/core_v1.ts';
import { MemoryListers } from '../src/scheduler/framework/listers.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';

function makeNode(i: number): Node {
  const name = `node-${i}`;
  return {
    metadata: { name, uid: `node-uid-${i}`, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function makePod(prefix: string, i: number): Pod {
  return {
    metadata: { name: `${prefix}-${i}`, namespace: 'sched-0', uid: `${prefix}-uid-${i}`, resourceVersion: '1' },
    spec: {
      schedulerName: 'default-scheduler',
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
    },
    status: { phase: 'Pending' },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs the benchmark and prints its results. */
export async function run(args: readonly string[]): Promise<void> {
  const numNodes = Number(args[0] ?? 5000);
  const numInit = Number(args[1] ?? 1000);
  const numPods = Number(args[2] ?? 10_000);
  const listers = new MemoryListers();
  let bound = 0;
  let onBound: (() => void) | null = null;
  const scheduler: Scheduler = new Scheduler({
    listers,
    binder: {
      bind: async (pod, nodeName) => {
        // What the informer would deliver after pods/binding succeeded.
        const boundPod: Pod = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName }, metadata: { ...pod.metadata, resourceVersion: '2' } };
        listers.pods.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, boundPod);
        queueMicrotask(() => {
          const original = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName: '' } };
          scheduler.onPodUpdate(original, boundPod);
          bound++;
          onBound?.();
        });
      },
    },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: async () => {} },
    preemption: { preemptPod: async () => {}, clearNominatedNodeName: async () => {} },
  });
  for (let i = 0; i < numNodes; i++) scheduler.onNodeAdd(makeNode(i));

  const waitBound = (target: number): Promise<void> =>
    new Promise((resolve) => {
      if (bound >= target) return resolve();
      onBound = () => {
        if (bound >= target) {
          onBound = null;
          resolve();
        }
      };
    });

  const running = scheduler.run();
  for (let i = 0; i < numInit; i++) {
    const p = makePod('init', i);
    listers.pods.set(`sched-0/${p.metadata?.name}`, p);
    scheduler.onPodAdd(p);
  }
  await waitBound(numInit);

  const pods: Pod[] = [];
  for (let i = 0; i < numPods; i++) pods.push(makePod('measured', i));
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of pods) {
    listers.pods.set(`sched-0/${p.metadata?.name}`, p);
    scheduler.onPodAdd(p);
  }
  await waitBound(numInit + numPods);
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await scheduler.dispose();
  await running;

  // A second, controlled pass measures one scheduling cycle at a time for the latency percentiles.
  const cycles: number[] = [];
  const lat = new Scheduler({
    listers: new MemoryListers(),
    binder: { bind: async () => {} },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: async () => {} },
    preemption: { preemptPod: async () => {}, clearNominatedNodeName: async () => {} },
  });
  for (let i = 0; i < numNodes; i++) lat.onNodeAdd(makeNode(i));
  for (let i = 0; i < 2000; i++) lat.onPodAdd(makePod('lat', i));
  for (;;) {
    const s = performance.now();
    if (!lat.scheduleOne()) break;
    cycles.push(performance.now() - s);
  }
  await lat.dispose();
  cycles.sort((a, b) => a - b);

  const rate = (numPods / elapsed) * 1000;
  console.log(`SchedulingBasic (in-memory core): ${numNodes} nodes, ${numInit} init pods, ${numPods} measured pods`);
  console.log(`  throughput: ${rate.toFixed(0)} pods/s (${elapsed.toFixed(0)} ms wall)`);
  // CPU time is what the core costs; wall time also counts other processes sharing the machine.
  console.log(`  per CPU-second: ${((numPods / cpuMs) * 1000).toFixed(0)} pods (${cpuMs.toFixed(0)} ms CPU, GC included)`);
  console.log(`  cycle latency: p50 ${percentile(cycles, 50).toFixed(3)} ms, p99 ${percentile(cycles, 99).toFixed(3)} ms`);
  console.log(`  rss: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB (${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(0)} MiB during the run)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
