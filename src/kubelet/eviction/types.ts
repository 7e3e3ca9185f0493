// Contracts of the kubelet's eviction manager (pkg/kubelet/eviction/api): the signals it watches,
// hard and soft thresholds on them, what the node and each pod use, and where those numbers come from.
// signals.ts reads them from the machine and the runtime; tests inject their own StatsSource.
import type { Quantity } from '../../api/quantity.ts';
import type { Pod } from '../../api/types/core_v1.ts';

/** Eviction signals, spelled as in --eviction-hard. */
export const Signal = {
  MemoryAvailable: 'memory.available',
  NodeFsAvailable: 'nodefs.available',
  NodeFsInodesFree: 'nodefs.inodesFree',
  ImageFsAvailable: 'imagefs.available',
  ImageFsInodesFree: 'imagefs.inodesFree',
  PIDAvailable: 'pid.available',
} as const;
export type Signal = (typeof Signal)[keyof typeof Signal];

/** An absolute quantity ("100Mi"), or a fraction of capacity (0.1 for "10%"). */
export interface ThresholdValue {
  readonly quantity?: Quantity;
  readonly percentage?: number;
}

/**
 * A threshold: the signal is met when what is available falls below the value. Hard ones act at
 * once; soft ones (gracePeriodMs > 0) only once met for that long.
 */
export interface Threshold extends ThresholdValue {
  readonly signal: Signal;
  /** --eviction-soft-grace-period; 0 or absent for a hard threshold. */
  readonly gracePeriodMs?: number;
  /** --eviction-minimum-reclaim: once met, the threshold stays met until this much more is available. */
  readonly minReclaim?: ThresholdValue;
}

/** What is available of a signal's resource, out of its capacity (bytes, inodes or PIDs). */
export interface Observation {
  readonly available: number;
  readonly capacity: number;
}

/** Observations by signal; a signal without one is never met. */
export type Observations = ReadonlyMap<Signal, Observation>;

/** Filesystem use of one thing (a writable layer, a log directory, a volume). */
export interface FsUsage {
  readonly bytes: number;
  readonly inodes: number;
}

/** One container's use (statsapi.ContainerStats in short). */
export interface ContainerUsage {
  readonly name: string;
  /** Working set (usage minus inactive file cache), bytes. */
  readonly memoryWorkingSet?: number;
  /** The writable layer. */
  readonly rootfs?: FsUsage;
  /** The container's log files. */
  readonly logs?: FsUsage;
}

/** One pod's use (statsapi.PodStats in short). */
export interface PodUsage {
  readonly uid: string;
  readonly containers: readonly ContainerUsage[];
  /** Local volumes by name (disk-backed emptyDir). */
  readonly volumes: ReadonlyMap<string, FsUsage>;
  /** Processes of the pod, for PID pressure. */
  readonly processes?: number;
}

/** Where the eviction manager's numbers come from. */
export interface StatsSource {
  /** The node's signals now. */
  observe(): Promise<Observations>;
  /** The use of these pods now (pods without numbers may be left out). */
  podUsage(pods: readonly Pod[]): Promise<ReadonlyMap<string, PodUsage>>;
}
