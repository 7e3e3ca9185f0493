// The last two scrapes of every node and container, and usage computed from them: CPU is the rate
// of the cumulative counter between the two points, memory the latest working set (metrics-server's
// storage). A container that restarted in between has no usage until its next point.
import type { MetricsBatch, MetricsPoint, NodeUsage, PodMetricsPoint, PodUsage, Usage } from './types.ts';

/** A container started this recently is left alone: its first points are too noisy (metrics-server's rule). */
const FRESH_CONTAINER_MIN_MS = 10_000;

/** Usage from two points of one node or container, or undefined when they cannot be compared. */
export function resourceUsage(last: MetricsPoint, prev: MetricsPoint): Usage | undefined {
  if (last.startTime < prev.startTime) return undefined;
  if (last.cumulativeCpuNs < prev.cumulativeCpuNs) return undefined;
  const windowMs = last.timestamp - prev.timestamp;
  if (windowMs <= 0) return undefined;
  return {
    cpuNanoCores: Math.trunc(((last.cumulativeCpuNs - prev.cumulativeCpuNs) * 1000) / windowMs),
    memoryBytes: last.memoryBytes,
    timestamp: last.timestamp,
    windowMs,
  };
}

interface PodPoints {
  containers: Map<string, MetricsPoint>;
}

/** Metric points of the last two scrape rounds. */
export class MetricsStorage {
  readonly #resolutionMs: number;
  #lastNodes = new Map<string, MetricsPoint>();
  #prevNodes = new Map<string, MetricsPoint>();
  #lastPods = new Map<string, PodPoints>();
  #prevPods = new Map<string, PodPoints>();

  /** `resolutionMs`: the scrape interval, which bounds the fresh-container shortcut. */
  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs;
  }

  /** True once node metrics can be served (two points of some node). */
  get nodesReady(): boolean {
    return this.#prevNodes.size > 0;
  }

  /** True once pod metrics can be served. */
  get podsReady(): boolean {
    return this.#prevPods.size > 0;
  }

  /** Takes in one scrape round. */
  store(batch: MetricsBatch): void {
    const lastNodes = new Map<string, MetricsPoint>();
    const prevNodes = new Map<string, MetricsPoint>();
    for (const [name, point] of batch.nodes) {
      lastNodes.set(name, point);
      const last = this.#lastNodes.get(name);
      if (!last) continue;
      if (point.timestamp > last.timestamp) {
        prevNodes.set(name, last);
      } else {
        const prev = this.#prevNodes.get(name);
        if (prev && prev.timestamp < point.timestamp) prevNodes.set(name, prev);
      }
    }
    this.#lastNodes = lastNodes;
    this.#prevNodes = prevNodes;

    const lastPods = new Map<string, PodPoints>();
    const prevPods = new Map<string, PodPoints>();
    for (const [key, pod] of batch.pods) {
      const newLast: PodPoints = { containers: new Map() };
      const newPrev: PodPoints = { containers: new Map() };
      for (const [name, point] of pod.containers) {
        newLast.containers.set(name, point);
        const age = point.timestamp - point.startTime;
        if (point.startTime > 0 && age > 0 && age < this.#resolutionMs && age >= FRESH_CONTAINER_MIN_MS) {
          // started within the last interval: its start is a point too (CPU was 0 then)
          newPrev.containers.set(name, { ...point, timestamp: point.startTime, cumulativeCpuNs: 0 });
          continue;
        }
        const last = this.#lastPods.get(key)?.containers.get(name);
        // a container that started after our last point restarted: its old points do not count
        if (!last || !(point.startTime < last.timestamp)) continue;
        if (point.timestamp > last.timestamp) {
          newPrev.containers.set(name, last);
        } else {
          const prev = this.#prevPods.get(key)?.containers.get(name);
          if (prev && prev.timestamp < point.timestamp) newPrev.containers.set(name, prev);
        }
      }
      if (newPrev.containers.size > 0) prevPods.set(key, newPrev);
      lastPods.set(key, newLast);
    }
    this.#lastPods = lastPods;
    this.#prevPods = prevPods;
  }

  /** Usage of a node, if two points of it are known. */
  nodeUsage(name: string): NodeUsage | undefined {
    const last = this.#lastNodes.get(name);
    const prev = this.#prevNodes.get(name);
    if (!last || !prev) return undefined;
    const usage = resourceUsage(last, prev);
    return usage && { name, usage };
  }

  /** Usage of a pod, if every container of its last point has a previous one. */
  podUsage(namespace: string, name: string): PodUsage | undefined {
    const key = `${namespace}/${name}`;
    const last = this.#lastPods.get(key);
    const prev = this.#prevPods.get(key);
    if (!last || !prev) return undefined;
    const containers: Array<{ name: string; usage: Usage }> = [];
    let earliest: Usage | undefined;
    for (const [cname, point] of last.containers) {
      const p = prev.containers.get(cname);
      if (!p) return undefined;
      const usage = resourceUsage(point, p);
      if (!usage) continue;
      containers.push({ name: cname, usage });
      if (!earliest || earliest.timestamp > usage.timestamp) earliest = usage;
    }
    return { namespace, name, timestamp: earliest?.timestamp ?? 0, windowMs: earliest?.windowMs ?? 0, containers };
  }
}

/** Batch points of one pod as the storage wants them (tests and simulated nodes build batches). */
export function podPoint(containers: Iterable<readonly [string, MetricsPoint]>): PodMetricsPoint {
  return { containers: new Map(containers) };
}
