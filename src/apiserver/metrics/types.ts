// Contracts of the built-in metrics.k8s.io API (what metrics-server does, inside the API server):
// the points a scrape of a kubelet's /metrics/resource yields, and the NodeMetrics/PodMetrics
// objects served from the last two scrapes.

/** metrics.k8s.io and its only version. */
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
export const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** One node's or container's sample. */
export interface MetricsPoint {
  /** When the node or container started (epoch ms; 0 when unknown): its CPU counter was 0 then. */
  readonly startTime: number;
  /** When the sample was taken (epoch ms). */
  readonly timestamp: number;
  /** Cumulative CPU time since startTime, in core-nanoseconds. */
  readonly cumulativeCpuNs: number;
  /** Working set, in bytes. */
  readonly memoryBytes: number;
}

/** A pod's samples by container name. */
export interface PodMetricsPoint {
  readonly containers: ReadonlyMap<string, MetricsPoint>;
}

/** What one scrape round yields: nodes by name, pods by "namespace/name". */
export interface MetricsBatch {
  readonly nodes: ReadonlyMap<string, MetricsPoint>;
  readonly pods: ReadonlyMap<string, PodMetricsPoint>;
}

/** A usage computed from two points: CPU in nanocores, memory in bytes, over a window ending at timestamp. */
export interface Usage {
  readonly cpuNanoCores: number;
  readonly memoryBytes: number;
  readonly timestamp: number;
  readonly windowMs: number;
}

/** Node usage as the storage answers it. */
export interface NodeUsage {
  readonly name: string;
  readonly usage: Usage;
}

/** Pod usage: its containers' usages, with the earliest timestamp of them. */
export interface PodUsage {
  readonly namespace: string;
  readonly name: string;
  readonly timestamp: number;
  readonly windowMs: number;
  readonly containers: ReadonlyArray<{ readonly name: string; readonly usage: Usage }>;
}

/** metrics.k8s.io/v1beta1 NodeMetrics on the wire. */
export interface NodeMetrics {
  kind: 'NodeMetrics';
  apiVersion: typeof METRICS_API_VERSION;
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
}

/** metrics.k8s.io/v1beta1 PodMetrics on the wire. */
export interface PodMetrics {
  kind: 'PodMetrics';
  apiVersion: typeof METRICS_API_VERSION;
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: Array<{ name: string; usage: { cpu: string; memory: string } }>;
}
