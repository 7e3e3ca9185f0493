// The kubelet Summary API (stats/v1alpha1) as /stats/summary serves it: node, system-container, pod
// and container CPU, memory, network and filesystem samples. Times are kept as epoch milliseconds
// in memory (the Prometheus view needs them exact) and written as RFC 3339 by summaryJSON.

/** CPUStats: usageNanoCores is a rate over the last sample window, usageCoreNanoSeconds cumulative. */
export interface CPUStats {
  time: number;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

/** MemoryStats; availableBytes only when there is a limit. */
export interface MemoryStats {
  time: number;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** InterfaceStats of one network interface. */
export interface InterfaceStats {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

/** NetworkStats: the default interface inline, all of them in `interfaces`. */
export interface NetworkStats extends Partial<InterfaceStats> {
  time: number;
  interfaces?: InterfaceStats[];
}

/** FsStats of a filesystem or of one user of it. */
export interface FsStats {
  time: number;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** RlimitStats: the pid limit and the number of tasks. */
export interface RlimitStats {
  time: number;
  maxpid?: number;
  curproc?: number;
}

/** ContainerStats of a pod's container or of a system container ("kubelet", "pods"). */
export interface ContainerStats {
  name: string;
  startTime: number;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

/** NodeStats. */
export interface NodeStats {
  nodeName: string;
  systemContainers?: ContainerStats[];
  startTime: number;
  cpu?: CPUStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  fs?: FsStats;
  runtime?: { imageFs?: FsStats; containerFs?: FsStats };
  rlimit?: RlimitStats;
}

/** VolumeStats: an FsStats with the volume's name (and PVC when there is one). */
export interface VolumeStats extends FsStats {
  name?: string;
  pvcRef?: { name: string; namespace: string };
}

/** PodStats. */
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: number;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  volume?: VolumeStats[];
  'ephemeral-storage'?: FsStats;
  process_stats?: { process_count?: number };
}

/** Summary: the answer of /stats/summary. */
export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

/** metav1.Time's JSON form: RFC 3339 in UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The Summary as the kubelet writes it (go-restful's pretty JSON, one-space indent). */
export function summaryJSON(s: Summary): string {
  return JSON.stringify(s, (key, value: unknown) => ((key === 'time' || key === 'startTime') && typeof value === 'number' ? rfc3339(value) : value), 1);
}
