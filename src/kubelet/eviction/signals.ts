// The eviction manager's numbers from the real node (cAdvisor and CRI stats in short): memory from
// the root memory cgroup or /proc/meminfo, nodefs/imagefs from statfs, pids from /proc; per pod,
// working sets and writable layers over CRI plus the sizes of logs and disk-backed emptyDirs.
import { readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';
import type { ImageService, RuntimeService } from '../cri/types.ts';
import { CONTAINER_NAME_LABEL, POD_UID_LABEL } from '../labels.ts';
import { podDirs } from '../container_config.ts';
import { Signal, type ContainerUsage, type FsUsage, type Observation, type Observations, type PodUsage, type StatsSource } from './types.ts';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** /proc/meminfo fields in bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return out;
}

/** A memory.stat field. */
function statField(text: string | undefined, name: string): number | undefined {
  const m = text ? new RegExp(`^${name} (\\d+)$`, 'm').exec(text) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * memory.available: capacity minus the node's working set (usage less inactive file cache), read as
 * the kubelet's cAdvisor does from the root memory cgroup on v1, from /proc/meminfo otherwise.
 */
export function memoryObservation(cgroupRoot = '/sys/fs/cgroup', meminfoPath = '/proc/meminfo'): Observation | undefined {
  const meminfo = parseMeminfo(readText(meminfoPath) ?? '');
  const capacity = meminfo.get('MemTotal');
  if (capacity === undefined) return undefined;
  let workingSet: number | undefined;
  const usage = readText(join(cgroupRoot, 'memory', 'memory.usage_in_bytes'));
  if (usage !== undefined) {
    const inactive = statField(readText(join(cgroupRoot, 'memory', 'memory.stat')), 'total_inactive_file') ?? 0;
    workingSet = Math.max(Number(usage.trim()) - inactive, 0);
  } else {
    const inactive = statField(readText(join(cgroupRoot, 'memory.stat')), 'inactive_file');
    const free = meminfo.get('MemFree') ?? 0;
    workingSet = inactive !== undefined ? Math.max(capacity - free - inactive, 0) : capacity - (meminfo.get('MemAvailable') ?? free);
  }
  return { available: Math.max(capacity - workingSet, 0), capacity };
}

/** Bytes and inodes of the filesystem holding `path`. */
export function fsObservations(path: string): { bytes: Observation; inodes: Observation } | undefined {
  try {
    const s = statfsSync(path);
    return {
      bytes: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize },
      inodes: { available: s.ffree, capacity: s.files },
    };
  } catch {
    return undefined;
  }
}

/** pid.available: pid_max less the processes running. */
export function pidObservation(proc = '/proc'): Observation | undefined {
  const max = Number(readText(join(proc, 'sys', 'kernel', 'pid_max'))?.trim());
  if (!Number.isFinite(max) || max <= 0) return undefined;
  let running = 0;
  try {
    for (const e of readdirSync(proc)) if (/^\d+$/.test(e)) running++;
  } catch {
    return undefined;
  }
  return { available: max - running, capacity: max };
}

/** Disk use of a directory tree: allocated bytes (blocks, as du) and inodes. Missing: zero. */
export async function diskUsage(dir: string): Promise<FsUsage> {
  let bytes = 0;
  let inodes = 0;
  const seen = new Set<number>();
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await lstat(p);
    } catch {
      return;
    }
    // hard links count once
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    bytes += st.blocks * 512;
    inodes++;
    if (!st.isDirectory()) return;
    let names: string[] = [];
    try {
      names = await readdir(p);
    } catch {
      return;
    }
    for (const n of names) await walk(join(p, n));
  };
  await walk(dir);
  return { bytes, inodes };
}

/** Options of NodeStatsSource. */
export interface NodeStatsSourceOptions {
  readonly runtime: RuntimeService & ImageService;
  /** The kubelet's root (nodefs; pods/ and logs/ live there). */
  readonly rootDir: string;
  readonly cgroupRoot?: string;
}

/** The StatsSource of a real node. */
export class NodeStatsSource implements StatsSource {
  readonly #o: NodeStatsSourceOptions;

  constructor(opts: NodeStatsSourceOptions) {
    this.#o = opts;
  }

  /** The image filesystem's mount point as the runtime reports it (undefined: unknown). */
  async imageFsPath(): Promise<string | undefined> {
    try {
      const info = await this.#o.runtime.imageFsInfo();
      return info.imageFilesystems[0]?.fsId?.mountpoint || undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether images live on another filesystem than the kubelet's root (HasDedicatedImageFs). */
  async dedicatedImageFs(): Promise<boolean> {
    const p = await this.imageFsPath();
    if (!p) return false;
    try {
      return statSync(p).dev !== statSync(this.#o.rootDir).dev;
    } catch {
      return false;
    }
  }

  /** Bytes of the image filesystem (the kubelet's own when the runtime does not say). */
  async imageFs(): Promise<Observation | undefined> {
    return fsObservations((await this.imageFsPath()) ?? this.#o.rootDir)?.bytes;
  }

  async observe(): Promise<Observations> {
    const out = new Map<Signal, Observation>();
    const mem = memoryObservation(this.#o.cgroupRoot);
    if (mem) out.set(Signal.MemoryAvailable, mem);
    const node = fsObservations(this.#o.rootDir);
    if (node) {
      out.set(Signal.NodeFsAvailable, node.bytes);
      out.set(Signal.NodeFsInodesFree, node.inodes);
    }
    const image = fsObservations((await this.imageFsPath()) ?? this.#o.rootDir) ?? node;
    if (image) {
      out.set(Signal.ImageFsAvailable, image.bytes);
      out.set(Signal.ImageFsInodesFree, image.inodes);
    }
    const pids = pidObservation();
    if (pids) out.set(Signal.PIDAvailable, pids);
    return out;
  }

  async podUsage(pods: readonly Pod[]): Promise<ReadonlyMap<string, PodUsage>> {
    const wanted = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    const [containers, stats] = await Promise.all([this.#o.runtime.listContainers(), this.#o.runtime.listContainerStats()]);
    // the newest instance of each container counts (removeTerminatedContainers)
    const newest = new Map<string, { id: string; createdAt: number }>();
    for (const c of containers) {
      const uid = c.labels[POD_UID_LABEL];
      if (!uid || !wanted.has(uid)) continue;
      const key = `${uid}/${c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? ''}`;
      const prev = newest.get(key);
      if (!prev || c.createdAt > prev.createdAt) newest.set(key, { id: c.id, createdAt: c.createdAt });
    }
    const keep = new Set([...newest.values()].map((c) => c.id));
    const byPod = new Map<string, ContainerUsage[]>();
    for (const s of stats) {
      const id = s.attributes?.id ?? '';
      if (!keep.has(id)) continue;
      const uid = s.attributes?.labels[POD_UID_LABEL] ?? '';
      const name = s.attributes?.labels[CONTAINER_NAME_LABEL] ?? s.attributes?.metadata?.name ?? '';
      const pod = wanted.get(uid)!;
      const logs = await diskUsage(join(podDirs(this.#o.rootDir, pod).logDir, name));
      const list = byPod.get(uid) ?? [];
      byPod.set(uid, list);
      list.push({
        name,
        ...(s.memory?.workingSetBytes ? { memoryWorkingSet: Number(s.memory.workingSetBytes.value) } : {}),
        rootfs: { bytes: Number(s.writableLayer?.usedBytes?.value ?? 0), inodes: Number(s.writableLayer?.inodesUsed?.value ?? 0) },
        logs,
      });
    }
    const out = new Map<string, PodUsage>();
    for (const [uid, pod] of wanted) {
      const list = byPod.get(uid);
      if (!list) continue;
      const volumes = new Map<string, FsUsage>();
      for (const v of pod.spec?.volumes ?? []) {
        if (!v.emptyDir || v.emptyDir.medium === 'Memory') continue;
        volumes.set(v.name, await diskUsage(join(podDirs(this.#o.rootDir, pod).podDir, 'volumes', 'kubernetes.io~empty-dir', v.name)));
      }
      out.set(uid, { uid, containers: list, volumes });
    }
    return out;
  }
}
