// How many replicas resource metrics ask for (upstream pkg/controller/podautoscaler/
// replica_calculator.go): usage over requests against the target, within a 10% tolerance, with
// missing and not-yet-ready pods counted conservatively so the scale direction never flips.
import { quantityMilliValue, tryParseQuantity } from '../../api/quantity.ts';
import { matches, parseSelector } from '../../api/labels.ts';
import { parseDuration } from '../../api/duration.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { ApiStatusError } from '../../client/api_errors.ts';

/** One pod's usage sample, in milli-units. */
export interface PodMetric {
  readonly timestamp: number;
  readonly windowMs: number;
  readonly value: number;
}

/** Pod name -> sample. */
export type PodMetricsInfo = Map<string, PodMetric>;

/** Where resource usage comes from (the metrics.k8s.io API in production). */
export interface ResourceMetricsClient {
  /** Usage of `resource` for the pods selected by `selector` (one container's when given). */
  getResourceMetric(resource: string, namespace: string, selector: string, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }>;
}

/** Tunables (upstream flag defaults). */
export interface ReplicaCalculatorOptions {
  /** --horizontal-pod-autoscaler-tolerance. */
  readonly tolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  readonly cpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  readonly delayOfInitialReadinessStatusMs?: number;
}

interface PodMetricsList {
  items?: { metadata?: { name?: string }; timestamp?: string; window?: string; containers?: { name?: string; usage?: Record<string, string> }[] }[];
}

/** The metrics.k8s.io/v1beta1 client: a 404 means the API is not served (no metrics-server). */
export function restResourceMetricsClient(client: RestClient): ResourceMetricsClient {
  return {
    async getResourceMetric(resource, namespace, selector, container) {
      let list: PodMetricsList;
      try {
        list = await client.request<PodMetricsList>({
          method: 'GET', path: `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, query: { labelSelector: selector },
        });
      } catch (err) {
        // client-go's words for a 404 without a Status body, which is what an unserved group gets.
        const msg = err instanceof ApiStatusError && err.code === 404 ? 'the server could not find the requested resource (get pods.metrics.k8s.io)' : err instanceof Error ? err.message : String(err);
        throw new Error(`unable to fetch metrics from resource metrics API: ${msg}`);
      }
      const items = list.items ?? [];
      if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
      const metrics: PodMetricsInfo = new Map();
      let timestamp = 0;
      for (const m of items) {
        const containers = (m.containers ?? []).filter((c) => container === '' || c.name === container);
        let sum = 0;
        let missing = containers.length === 0;
        for (const c of containers) {
          const q = c.usage?.[resource] !== undefined ? tryParseQuantity(c.usage[resource]!) : null;
          if (!q) {
            missing = true;
            break;
          }
          sum += Number(quantityMilliValue(q));
        }
        if (missing) continue;
        const ts = Date.parse(m.timestamp ?? '') || 0;
        timestamp = ts;
        let windowMs = 0;
        try {
          windowMs = Number(parseDuration(m.window ?? '0s') / 1_000_000n);
        } catch { /* malformed window: treat as none */ }
        metrics.set(m.metadata?.name ?? '', { timestamp: ts, windowMs, value: sum });
      }
      return { metrics, timestamp };
    },
  };
}

/** A proposal from resource metrics. */
export interface ResourceProposal {
  readonly replicas: number;
  /** Average utilization in percent of requests (utilization targets only). */
  readonly utilization: number;
  /** Average raw usage per pod, milli-units. */
  readonly rawUtilization: number;
  readonly timestamp: number;
}

/** Computes replica counts from pod metrics. */
export class ReplicaCalculator {
  #metrics: ResourceMetricsClient;
  #tolerance: number;
  #cpuInitMs: number;
  #readinessDelayMs: number;

  constructor(metrics: ResourceMetricsClient, opts: ReplicaCalculatorOptions = {}) {
    this.#metrics = metrics;
    this.#tolerance = opts.tolerance ?? 0.1;
    this.#cpuInitMs = opts.cpuInitializationPeriodMs ?? 5 * 60 * 1000;
    this.#readinessDelayMs = opts.delayOfInitialReadinessStatusMs ?? 30 * 1000;
  }

  /** GetResourceReplicas: replicas for a target utilization (percent of requests). */
  async getResourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, namespace: string, selector: string, pods: readonly Pod[], container: string, now: number): Promise<ResourceProposal> {
    let fetched;
    try {
      fetched = await this.#metrics.getResourceMetric(resource, namespace, selector, container);
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { metrics, timestamp } = fetched;
    const selected = podsMatching(pods, selector);
    if (selected.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const { readyPodCount, unready, missing, ignored } = this.#groupPods(selected, metrics, resource, now);
    for (const n of [...ignored, ...unready]) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const requests = podRequests(selected, resource, container);
    const first = utilizationRatio(metrics, requests, targetUtilization);
    const { ratio, utilization, raw } = first;
    const scaleUpWithUnready = unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && missing.size === 0) {
      if (Math.abs(1.0 - ratio) <= this.#tolerance) return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
      return { replicas: Math.ceil(ratio * readyPodCount), utilization, rawUtilization: raw, timestamp };
    }
    if (missing.size > 0) {
      if (ratio < 1.0) {
        // Scaling down: missing pods are assumed at the target (or 100%, whichever is more).
        const fallback = Math.max(100, targetUtilization);
        for (const n of missing) metrics.set(n, { timestamp: 0, windowMs: 0, value: Math.trunc(((requests.get(n) ?? 0) * fallback) / 100) });
      } else if (ratio > 1.0) {
        for (const n of missing) metrics.set(n, { timestamp: 0, windowMs: 0, value: 0 });
      }
    }
    if (scaleUpWithUnready) for (const n of unready) metrics.set(n, { timestamp: 0, windowMs: 0, value: 0 });
    const second = utilizationRatio(metrics, requests, targetUtilization);
    const newRatio = second.ratio;
    if (Math.abs(1.0 - newRatio) <= this.#tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) {
      return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
    }
    const replicas = Math.ceil(newRatio * metrics.size);
    if ((newRatio < 1.0 && replicas > currentReplicas) || (newRatio > 1.0 && replicas < currentReplicas)) {
      return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
    }
    return { replicas, utilization, rawUtilization: raw, timestamp };
  }

  /** GetRawResourceReplicas: replicas for a target average value per pod (milli-units). */
  async getRawResourceReplicas(currentReplicas: number, targetMilli: number, resource: string, namespace: string, selector: string, pods: readonly Pod[], container: string, now: number): Promise<ResourceProposal> {
    let fetched;
    try {
      fetched = await this.#metrics.getResourceMetric(resource, namespace, selector, container);
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { metrics, timestamp } = fetched;
    const selected = podsMatching(pods, selector);
    if (selected.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const { readyPodCount, unready, missing, ignored } = this.#groupPods(selected, metrics, resource, now);
    for (const n of [...ignored, ...unready]) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const usage = () => [...metrics.values()].reduce((s, m) => s + m.value, 0);
    const ratio = usage() / metrics.size / targetMilli;
    const raw = Math.trunc(usage() / metrics.size);
    const scaleUpWithUnready = unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && missing.size === 0) {
      if (Math.abs(1.0 - ratio) <= this.#tolerance) return { replicas: currentReplicas, utilization: 0, rawUtilization: raw, timestamp };
      return { replicas: Math.ceil(ratio * readyPodCount), utilization: 0, rawUtilization: raw, timestamp };
    }
    if (missing.size > 0) {
      if (ratio < 1.0) for (const n of missing) metrics.set(n, { timestamp: 0, windowMs: 0, value: targetMilli });
      else for (const n of missing) metrics.set(n, { timestamp: 0, windowMs: 0, value: 0 });
    }
    if (scaleUpWithUnready) for (const n of unready) metrics.set(n, { timestamp: 0, windowMs: 0, value: 0 });
    const newRatio = usage() / metrics.size / targetMilli;
    if (Math.abs(1.0 - newRatio) <= this.#tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) {
      return { replicas: currentReplicas, utilization: 0, rawUtilization: raw, timestamp };
    }
    const replicas = Math.ceil(newRatio * metrics.size);
    if ((newRatio < 1.0 && replicas > currentReplicas) || (newRatio > 1.0 && replicas < currentReplicas)) {
      return { replicas: currentReplicas, utilization: 0, rawUtilization: raw, timestamp };
    }
    return { replicas, utilization: 0, rawUtilization: raw, timestamp };
  }

  /** groupPods: ready pods with metrics, and the names of unready, missing and ignored ones. */
  #groupPods(pods: readonly Pod[], metrics: PodMetricsInfo, resource: string, now: number): { readyPodCount: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> } {
    let readyPodCount = 0;
    const unready = new Set<string>(), missing = new Set<string>(), ignored = new Set<string>();
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
        ignored.add(name);
        continue;
      }
      if (pod.status?.phase === 'Pending') {
        unready.add(name);
        continue;
      }
      const metric = metrics.get(name);
      if (!metric) {
        missing.add(name);
        continue;
      }
      if (resource === 'cpu') {
        const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
        const start = Date.parse(pod.status?.startTime ?? '');
        let isUnready: boolean;
        if (!cond || Number.isNaN(start)) {
          isUnready = true;
        } else {
          const ltt = Date.parse(cond.lastTransitionTime ?? '') || 0;
          if (start + this.#cpuInitMs > now) {
            // Still starting: unready, or the sample does not yet cover a full window since readiness.
            isUnready = cond.status === 'False' || metric.timestamp < ltt + metric.windowMs;
          } else {
            // Unready and never ready since start.
            isUnready = cond.status === 'False' && start + this.#readinessDelayMs > ltt;
          }
        }
        if (isUnready) {
          unready.add(name);
          continue;
        }
      }
      readyPodCount++;
    }
    return { readyPodCount, unready, missing, ignored };
  }
}

function podsMatching(pods: readonly Pod[], selector: string): Pod[] {
  const sel = parseSelector(selector);
  return pods.filter((p) => matches(sel, p.metadata?.labels));
}

/** Sum of container requests per pod (milli-units); a container without a request is an error. */
export function podRequests(pods: readonly Pod[], resource: string, container: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container !== '' && c.name !== container) continue;
      const raw = c.resources?.requests?.[resource];
      const q = raw === undefined ? null : tryParseQuantity(String(raw));
      if (!q) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += Number(quantityMilliValue(q));
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** GetResourceUtilizationRatio over pods that have both a sample and a request. */
export function utilizationRatio(metrics: PodMetricsInfo, requests: ReadonlyMap<string, number>, targetUtilization: number): { ratio: number; utilization: number; raw: number } {
  let metricsTotal = 0, requestsTotal = 0, n = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += r;
    n++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, raw: Math.trunc(metricsTotal / n) };
}
