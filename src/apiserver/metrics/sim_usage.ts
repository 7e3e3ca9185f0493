// Metric points for simulated nodes (label node.tkube.io/simulated), which have no kubelet to
// scrape: idle containers (1m CPU, 1Mi working set each, or their requests when smaller) and a node
// that adds a small base load, with CPU counters consistent across scrapes.
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { parseQuantity, quantityValue, scaledValue } from '../../api/quantity.ts';
import type { MetricsBatch, MetricsPoint, PodMetricsPoint } from './types.ts';

/** The label simulated nodes carry (src/sim/node_object.ts). */
export const SIMULATED_NODE_LABEL = 'node.tkube.io/simulated';

const IDLE_CONTAINER_NANOCORES = 1_000_000;
const IDLE_CONTAINER_BYTES = 1 << 20;
const NODE_BASE_NANOCORES = 50_000_000;
const NODE_BASE_BYTES = 256 << 20;

/** True for nodes the simulator plays. */
export function isSimulatedNode(node: Node): boolean {
  return node.metadata?.labels?.[SIMULATED_NODE_LABEL] !== undefined;
}

function requested(value: string | undefined, toUnits: (q: ReturnType<typeof parseQuantity>) => bigint): number | undefined {
  if (value === undefined) return undefined;
  try {
    return Number(toUnits(parseQuantity(value)));
  } catch {
    return undefined;
  }
}

function point(startMs: number, nowMs: number, nanocores: number, bytes: number): MetricsPoint {
  const start = Math.min(startMs, nowMs);
  return { startTime: start, timestamp: nowMs, cumulativeCpuNs: Math.max(1, nanocores * ((nowMs - start) / 1000)), memoryBytes: bytes };
}

/** The points a simulated node would report now for itself and its running pods. */
export function simulatedBatch(node: Node, pods: readonly Pod[], nowMs: number): MetricsBatch {
  const podPoints = new Map<string, PodMetricsPoint>();
  let cpu = NODE_BASE_NANOCORES;
  let memory = NODE_BASE_BYTES;
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running') continue;
    const started = Date.parse(pod.status.startTime ?? '') || nowMs;
    const containers = new Map<string, MetricsPoint>();
    for (const c of pod.spec?.containers ?? []) {
      const reqCpu = requested(c.resources?.requests?.['cpu'], (q) => scaledValue(q, -9));
      const reqMem = requested(c.resources?.requests?.['memory'], quantityValue);
      const nanocores = Math.min(IDLE_CONTAINER_NANOCORES, reqCpu || IDLE_CONTAINER_NANOCORES);
      const bytes = Math.min(IDLE_CONTAINER_BYTES, reqMem || IDLE_CONTAINER_BYTES);
      containers.set(c.name, point(started, nowMs, nanocores, bytes));
      cpu += nanocores;
      memory += bytes;
    }
    if (containers.size > 0) podPoints.set(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, { containers });
  }
  const nodeStart = Date.parse(node.metadata?.creationTimestamp ?? '') || nowMs;
  return { nodes: new Map([[node.metadata?.name ?? '', point(nodeStart, nowMs, cpu, memory)]]), pods: podPoints };
}
