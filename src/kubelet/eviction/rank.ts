// Which pod to evict first (pkg/kubelet/eviction/helpers.go: rankMemoryPressure, rankDiskPressureFunc,
// rankPIDPressure) and the message an eviction carries (evictionMessage). Pure: pods, their usage
// and the observations in, an order and words out.
import type { Container, Pod } from '../../api/types/core_v1.ts';
import { parseQuantity, quantityString, quantityValue } from '../../api/quantity.ts';
import { bytesText, signalResource, thresholdQuantity } from './thresholds.ts';
import { Signal, type FsUsage, type Observations, type PodUsage, type Threshold } from './types.ts';

/** The reason of an evicted pod's status and event. */
export const EVICTED_REASON = 'Evicted';

type Resource = ReturnType<typeof signalResource>;

function requestOf(c: Container, resource: string): bigint {
  const v = (c.resources?.requests as Record<string, string> | undefined)?.[resource];
  if (v === undefined) return 0n;
  try {
    return quantityValue(parseQuantity(String(v)));
  } catch {
    return 0n;
  }
}

/** The pod's effective request of a resource (GetResourceRequestQuantity): app containers and sidecars summed, the largest init container, plus overhead. */
export function podRequest(pod: Pod, resource: string): number {
  let sum = 0n;
  for (const c of pod.spec?.containers ?? []) sum += requestOf(c, resource);
  let sidecars = 0n;
  let initMax = 0n;
  for (const c of pod.spec?.initContainers ?? []) {
    const r = requestOf(c, resource);
    if (c.restartPolicy === 'Always') {
      sidecars += r;
      if (sidecars > initMax) initMax = sidecars;
    } else if (sidecars + r > initMax) {
      initMax = sidecars + r;
    }
  }
  sum += sidecars;
  if (initMax > sum) sum = initMax;
  const overhead = (pod.spec?.overhead as Record<string, string> | undefined)?.[resource];
  if (overhead !== undefined) {
    try { sum += quantityValue(parseQuantity(String(overhead))); } catch { /* ignored */ }
  }
  return Number(sum);
}

/** The pod's priority (spec.priority, 0 when unset). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** Which filesystem usage counts for a disk signal (fsStatsType). */
export interface FsStatsToMeasure {
  readonly rootfs: boolean;
  readonly logs: boolean;
  readonly localVolumes: boolean;
}

/** What a disk signal measures: with a dedicated image filesystem, nodefs holds logs and volumes and imagefs the writable layers. */
export function fsStatsFor(signal: Signal, dedicatedImageFs: boolean): FsStatsToMeasure {
  if (!dedicatedImageFs) return { rootfs: true, logs: true, localVolumes: true };
  if (signal === Signal.ImageFsAvailable || signal === Signal.ImageFsInodesFree) return { rootfs: true, logs: false, localVolumes: false };
  return { rootfs: false, logs: true, localVolumes: true };
}

/** The pod's memory working set (the sum over its containers). */
export function podMemoryUsage(u: PodUsage): number {
  return u.containers.reduce((a, c) => a + (c.memoryWorkingSet ?? 0), 0);
}

/** The pod's disk use in bytes or inodes, counting what `measure` says (podDiskUsage). */
export function podDiskUsage(pod: Pod, u: PodUsage, measure: FsStatsToMeasure, inodes: boolean): number {
  const pick = (f: FsUsage | undefined): number => (f ? (inodes ? f.inodes : f.bytes) : 0);
  let total = 0;
  for (const c of u.containers) {
    if (measure.rootfs) total += pick(c.rootfs);
    if (measure.logs) total += pick(c.logs);
  }
  if (measure.localVolumes) {
    for (const v of pod.spec?.volumes ?? []) {
      if (v.emptyDir && v.emptyDir.medium !== 'Memory') total += pick(u.volumes.get(v.name));
    }
  }
  return total;
}

type Cmp = (a: Pod, b: Pod) => number;

/** true before false. */
function cmpBool(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? -1 : 1;
}

function orderedBy(...cmps: Cmp[]): Cmp {
  return (a, b) => {
    for (const c of cmps) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

const byPriority: Cmp = (a, b) => Math.sign(podPriority(a) - podPriority(b));

/**
 * Pods usage-ordered for a signal, first to evict first: pods without stats, then those using more
 * than they requested, lower priority, and the largest use above the request.
 */
export function rankPods(pods: readonly Pod[], signal: Signal, usage: ReadonlyMap<string, PodUsage>, dedicatedImageFs: boolean): Pod[] {
  const stats = (p: Pod): PodUsage | undefined => usage.get(p.metadata?.uid ?? '');
  const withStats = (f: (a: Pod, ua: PodUsage, b: Pod, ub: PodUsage) => number): Cmp => (a, b) => {
    const ua = stats(a);
    const ub = stats(b);
    if (!ua || !ub) return cmpBool(!ua, !ub);
    return f(a, ua, b, ub);
  };
  const resource = signalResource(signal);
  let cmp: Cmp;
  if (resource === 'memory') {
    const over = (p: Pod, u: PodUsage): number => podMemoryUsage(u) - podRequest(p, 'memory');
    cmp = orderedBy(
      withStats((a, ua, b, ub) => cmpBool(over(a, ua) > 0, over(b, ub) > 0)),
      byPriority,
      withStats((a, ua, b, ub) => Math.sign(over(b, ub) - over(a, ua))),
    );
  } else if (resource === 'pids') {
    cmp = orderedBy(byPriority, withStats((_a, ua, _b, ub) => Math.sign((ub.processes ?? 0) - (ua.processes ?? 0))));
  } else {
    const inodes = resource === 'inodes';
    const measure = fsStatsFor(signal, dedicatedImageFs);
    const used = (p: Pod, u: PodUsage): number => podDiskUsage(p, u, measure, inodes);
    // upstream compares inode use against the ephemeral-storage request too
    const req = (p: Pod): number => podRequest(p, 'ephemeral-storage');
    cmp = orderedBy(
      withStats((a, ua, b, ub) => cmpBool(used(a, ua) > req(a), used(b, ub) > req(b))),
      byPriority,
      withStats((a, ua, b, ub) => Math.sign((used(b, ub) - req(b)) - (used(a, ua) - req(a)))),
    );
  }
  return [...pods].sort(cmp);
}

/** The eviction event's message and annotations (evictionMessage). */
export function evictionMessage(resource: Resource, pod: Pod, usage: PodUsage | undefined, thresholds: readonly Threshold[], observations: Observations): { message: string; annotations: Record<string, string> } {
  let message = `The node was low on resource: ${resource}. `;
  for (const t of thresholds) {
    if (signalResource(t.signal) !== resource) continue;
    const o = observations.get(t.signal);
    if (!o) continue;
    const availableText = bytesText(o.available, resource === 'memory' || resource === 'ephemeral-storage' ? 'BinarySI' : 'DecimalSI');
    message += `Threshold quantity: ${quantityString(thresholdQuantity(t, o.capacity))}, available: ${availableText}. `;
    break;
  }
  const annotations: Record<string, string> = {};
  if (!usage) return { message, annotations };
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const offending: string[] = [];
  const offendingUsage: string[] = [];
  for (const cs of usage.containers) {
    const c = containers.find((x) => x.name === cs.name);
    if (!c) continue;
    let used: number | undefined;
    if (resource === 'memory') used = cs.memoryWorkingSet;
    else if (resource === 'ephemeral-storage' && cs.rootfs && cs.logs) used = cs.rootfs.bytes + cs.logs.bytes;
    if (used === undefined) continue;
    const req = requestOf(c, resource);
    if (BigInt(Math.trunc(used)) > req) {
      const raw = (c.resources?.requests as Record<string, string> | undefined)?.[resource];
      const reqText = raw !== undefined ? quantityString(parseQuantity(String(raw))) : '0';
      const usedText = bytesText(used);
      message += `Container ${c.name} was using ${usedText}, request is ${reqText}, has larger consumption of ${resource}. `;
      offending.push(c.name);
      offendingUsage.push(usedText);
    }
  }
  annotations['offending_containers'] = offending.join(',');
  annotations['offending_containers_usage'] = offendingUsage.join(',');
  annotations['starved_resource'] = resource;
  return { message, annotations };
}
