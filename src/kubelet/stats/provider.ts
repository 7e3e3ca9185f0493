// Collects the Summary the kubelet serves (/stats/summary, and /metrics/resource through
// resource_metrics.ts): containers from CRI ListContainerStats (containerd reads their cgroups),
// pods as the sum of their running containers, the node from procfs and statfs.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageService, RuntimeService } from '../cri/types.ts';
import type { Container, ContainerStats as CriContainerStats, PodSandbox } from '../cri/messages.ts';
import { CpuRates } from './cpu_rate.ts';
import {
  filesystemStats, nodeMemory, parseKeyValues, parseLoadavgTasks, parseNetDev, parseProcStat, readProc, reportedInterfaces,
} from './proc.ts';
import type { ContainerStats, CPUStats, FsStats, MemoryStats, NetworkStats, NodeStats, PodStats, Summary } from './summary_types.ts';

/** Options of StatsProvider. */
export interface StatsProviderOptions {
  /** The CRI runtime; with imageFsInfo the node's image filesystem is reported too. */
  readonly runtime: RuntimeService & Partial<Pick<ImageService, 'imageFsInfo'>>;
  readonly nodeName: string;
  /** A directory on the node filesystem (the kubelet's root dir); default "/". */
  readonly rootDir?: string;
  /** Default "/proc". */
  readonly procRoot?: string;
  /** Epoch milliseconds (tests pin it). */
  readonly now?: () => number;
}

/** What a summary should contain. */
export interface SummaryOptions {
  /** Only CPU and memory (upstream's only_cpu_and_memory): no network, filesystems or rlimits. */
  readonly onlyCpuAndMemory?: boolean;
}

/** What we remember of a sandbox between rounds: its pause process and log directory. */
interface SandboxInfo {
  readonly pid?: number;
  readonly logDir?: string;
  seen: boolean;
}

const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

function sum(values: readonly (number | undefined)[]): number | undefined {
  let total = 0;
  for (const v of values) {
    if (v === undefined) return undefined;
    total += v;
  }
  return total;
}

function nsToMs(ns: number | undefined, fallback: number): number {
  return ns ? ns / 1e6 : fallback;
}

/** Adds up CPU samples (the pod's from its containers); undefined fields stay undefined. */
function sumCpu(parts: readonly (CPUStats | undefined)[], time: number): CPUStats | undefined {
  const present = parts.filter((p): p is CPUStats => p !== undefined);
  if (present.length === 0 || present.length !== parts.length) return undefined;
  const out: CPUStats = { time: Math.max(time, ...present.map((p) => p.time)) };
  const rate = sum(present.map((p) => p.usageNanoCores));
  const total = sum(present.map((p) => p.usageCoreNanoSeconds));
  if (rate !== undefined) out.usageNanoCores = rate;
  if (total !== undefined) out.usageCoreNanoSeconds = total;
  return out;
}

function sumMemory(parts: readonly (MemoryStats | undefined)[], time: number): MemoryStats | undefined {
  const present = parts.filter((p): p is MemoryStats => p !== undefined);
  if (present.length === 0 || present.length !== parts.length) return undefined;
  const out: MemoryStats = { time: Math.max(time, ...present.map((p) => p.time)) };
  for (const k of ['usageBytes', 'workingSetBytes', 'rssBytes', 'pageFaults', 'majorPageFaults'] as const) {
    const v = sum(present.map((p) => p[k]));
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Bytes in the files of one directory (a container's log files); 0 when it is absent. */
function directoryBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      try {
        total += statSync(join(dir, name)).size;
      } catch { /* rotated away meanwhile */ }
    }
  } catch { /* no logs yet */ }
  return total;
}

/** The Summary API's data source for one node. */
export class StatsProvider {
  readonly #o: StatsProviderOptions;
  readonly #rates = new CpuRates();
  readonly #sandboxes = new Map<string, SandboxInfo>();

  constructor(opts: StatsProviderOptions) {
    this.#o = opts;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /** One summary of the node and its pods. */
  async summary(opts: SummaryOptions = {}): Promise<Summary> {
    const full = !opts.onlyCpuAndMemory;
    const rt = this.#o.runtime;
    const [sandboxes, containers, stats] = await Promise.all([
      rt.listPodSandbox({ state: { state: 'SANDBOX_READY' } }),
      rt.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
      rt.listContainerStats({}),
    ]);
    const now = this.#now();
    const statsById = new Map(stats.map((s) => [s.attributes?.id ?? '', s]));
    const fsCache = new Map<string, FsStats | undefined>();
    const fsOf = (path: string): FsStats | undefined => {
      if (!fsCache.has(path)) fsCache.set(path, filesystemStats(path, now));
      return fsCache.get(path);
    };

    // one pod per UID: its newest ready sandbox
    const bySandbox = new Map<string, PodSandbox>();
    const newest = new Map<string, PodSandbox>();
    for (const sb of sandboxes) {
      const uid = sb.metadata?.uid ?? '';
      const prev = newest.get(uid);
      if (!prev || prev.createdAt < sb.createdAt) newest.set(uid, sb);
    }
    for (const sb of newest.values()) bySandbox.set(sb.id, sb);
    const containersBySandbox = new Map<string, Container[]>();
    for (const c of containers) {
      if (!bySandbox.has(c.podSandboxId)) continue;
      const list = containersBySandbox.get(c.podSandboxId) ?? [];
      list.push(c);
      containersBySandbox.set(c.podSandboxId, list);
    }

    const pods: PodStats[] = [];
    for (const sb of [...bySandbox.values()].sort((a, b) => a.createdAt - b.createdAt)) {
      const info = full ? await this.#sandboxInfo(sb.id) : undefined;
      const cs = (containersBySandbox.get(sb.id) ?? [])
        .map((c) => this.#containerStats(c, statsById.get(c.id), now, full ? { fsOf, logDir: info?.logDir } : undefined))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const pod: PodStats = {
        podRef: { name: sb.metadata?.name ?? '', namespace: sb.metadata?.namespace ?? '', uid: sb.metadata?.uid ?? '' },
        startTime: nsToMs(sb.createdAt, now),
        containers: cs,
      };
      if (cs.length > 0) {
        const cpu = sumCpu(cs.map((c) => c.cpu), 0);
        const memory = sumMemory(cs.map((c) => c.memory), 0);
        if (cpu) pod.cpu = cpu;
        if (memory) pod.memory = memory;
      }
      if (full) {
        const network = info?.pid ? this.#network(`${info.pid}/net/dev`, now) : undefined;
        if (network) pod.network = network;
        const nodeFs = fsOf(this.#o.rootDir ?? '/');
        const used = sum(cs.flatMap((c) => [c.rootfs?.usedBytes ?? 0, c.logs?.usedBytes ?? 0]));
        pod['ephemeral-storage'] = {
          time: now,
          ...(nodeFs ? { availableBytes: nodeFs.availableBytes, capacityBytes: nodeFs.capacityBytes } : {}),
          usedBytes: used ?? 0,
          ...(nodeFs ? { inodesFree: nodeFs.inodesFree, inodes: nodeFs.inodes } : {}),
        };
      }
      pods.push(pod);
    }
    for (const [id, s] of this.#sandboxes) {
      if (!s.seen && full) this.#sandboxes.delete(id);
      s.seen = false;
    }

    const node = await this.#nodeStats(now, full, pods, fsOf);
    this.#rates.sweep();
    return { node, pods };
  }

  #containerStats(c: Container, st: CriContainerStats | undefined, now: number, fs: { fsOf: (p: string) => FsStats | undefined; logDir?: string } | undefined): ContainerStats {
    const name = c.metadata?.name ?? c.labels['io.kubernetes.container.name'] ?? '';
    const out: ContainerStats = { name, startTime: nsToMs(c.createdAt, now) };
    if (st?.cpu) {
      const time = nsToMs(st.cpu.timestamp, now);
      const cumulative = st.cpu.usageCoreNanoSeconds?.value;
      out.cpu = { time };
      if (cumulative !== undefined) {
        const rate = this.#rates.observe(`c/${c.id}`, time, cumulative);
        if (rate !== undefined) out.cpu.usageNanoCores = rate;
        out.cpu.usageCoreNanoSeconds = cumulative;
      }
    }
    if (st?.memory) {
      const m = st.memory;
      out.memory = { time: nsToMs(m.timestamp, now) };
      // containerd says 0 available when there is no limit; upstream leaves the field out then
      if (m.availableBytes?.value) out.memory.availableBytes = m.availableBytes.value;
      if (m.usageBytes) out.memory.usageBytes = m.usageBytes.value;
      if (m.workingSetBytes) out.memory.workingSetBytes = m.workingSetBytes.value;
      if (m.rssBytes) out.memory.rssBytes = m.rssBytes.value;
      if (m.pageFaults) out.memory.pageFaults = m.pageFaults.value;
      if (m.majorPageFaults) out.memory.majorPageFaults = m.majorPageFaults.value;
    }
    if (fs) {
      const layer = st?.writableLayer;
      const mount = layer?.fsId?.mountpoint;
      const backing = mount ? fs.fsOf(mount) : undefined;
      out.rootfs = {
        time: nsToMs(layer?.timestamp, now),
        ...(backing ? { availableBytes: backing.availableBytes, capacityBytes: backing.capacityBytes } : {}),
        usedBytes: layer?.usedBytes?.value ?? 0,
        ...(backing ? { inodesFree: backing.inodesFree, inodes: backing.inodes } : {}),
        inodesUsed: layer?.inodesUsed?.value ?? 0,
      };
      if (fs.logDir) {
        const logFs = fs.fsOf(fs.logDir);
        out.logs = {
          time: now,
          ...(logFs ? { availableBytes: logFs.availableBytes, capacityBytes: logFs.capacityBytes } : {}),
          usedBytes: directoryBytes(join(fs.logDir, name)),
          ...(logFs ? { inodesFree: logFs.inodesFree, inodes: logFs.inodes } : {}),
        };
      }
    }
    return out;
  }

  /** The sandbox's pause pid and log directory, from its verbose status once per sandbox. */
  async #sandboxInfo(id: string): Promise<SandboxInfo | undefined> {
    let info = this.#sandboxes.get(id);
    if (!info) {
      try {
        const st = await this.#o.runtime.podSandboxStatus(id, true);
        const parsed = JSON.parse(st.info['info'] ?? '{}') as { pid?: number; config?: { log_directory?: string } };
        info = { pid: parsed.pid || undefined, logDir: parsed.config?.log_directory || undefined, seen: false };
      } catch {
        return undefined;
      }
      this.#sandboxes.set(id, info);
    }
    info.seen = true;
    return info;
  }

  #network(procPath: string, time: number): NetworkStats | undefined {
    const text = readProc(this.#o.procRoot ?? '/proc', procPath);
    if (text === undefined) return undefined;
    const { default: def, interfaces } = reportedInterfaces(parseNetDev(text));
    return { time, ...def, interfaces };
  }

  async #nodeStats(now: number, full: boolean, pods: readonly PodStats[], fsOf: (p: string) => FsStats | undefined): Promise<NodeStats> {
    const procRoot = this.#o.procRoot ?? '/proc';
    const stat = parseProcStat(readProc(procRoot, 'stat') ?? '');
    const mem = nodeMemory(parseKeyValues(readProc(procRoot, 'meminfo') ?? ''));
    const vm = parseKeyValues(readProc(procRoot, 'vmstat') ?? '');
    const node: NodeStats = { nodeName: this.#o.nodeName, startTime: stat.bootTimeMs || PROCESS_START_MS };

    const self = process.cpuUsage();
    const selfCpuNs = (self.user + self.system) * 1000;
    const rss = process.memoryUsage.rss();
    const selfRate = this.#rates.observe('kubelet', now, selfCpuNs);
    const podsCpu = sumCpu(pods.flatMap((p) => (p.containers.length > 0 ? [p.cpu] : [])), now) ?? { time: now, usageNanoCores: 0, usageCoreNanoSeconds: 0 };
    const podsMemory = sumMemory(pods.flatMap((p) => (p.containers.length > 0 ? [p.memory] : [])), now) ?? { time: now, usageBytes: 0, workingSetBytes: 0 };
    node.systemContainers = [
      {
        name: 'kubelet', startTime: PROCESS_START_MS,
        cpu: { time: now, ...(selfRate !== undefined ? { usageNanoCores: selfRate } : {}), usageCoreNanoSeconds: selfCpuNs },
        memory: { time: now, usageBytes: rss, workingSetBytes: rss, rssBytes: rss },
      },
      { name: 'pods', startTime: node.startTime, cpu: podsCpu, memory: { ...podsMemory, availableBytes: Math.max(0, mem.totalBytes - (podsMemory.workingSetBytes ?? 0)) } },
    ];

    if (stat.busyNanos > 0) {
      const rate = this.#rates.observe('node', now, stat.busyNanos);
      node.cpu = { time: now, ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: stat.busyNanos };
    }
    if (mem.totalBytes > 0) {
      node.memory = {
        time: now,
        availableBytes: Math.max(0, mem.totalBytes - mem.workingSetBytes),
        usageBytes: mem.usageBytes,
        workingSetBytes: mem.workingSetBytes,
        rssBytes: mem.rssBytes,
        ...(vm.has('pgfault') ? { pageFaults: vm.get('pgfault') } : {}),
        ...(vm.has('pgmajfault') ? { majorPageFaults: vm.get('pgmajfault') } : {}),
      };
    }
    if (!full) return node;

    const network = this.#network('net/dev', now);
    if (network) node.network = network;
    const nodeFs = fsOf(this.#o.rootDir ?? '/');
    if (nodeFs) node.fs = nodeFs;
    const imageFs = await this.#imageFs(fsOf);
    if (imageFs) node.runtime = { imageFs, containerFs: imageFs };
    const pidMax = Number(readProc(procRoot, 'sys/kernel/pid_max')?.trim());
    const tasks = parseLoadavgTasks(readProc(procRoot, 'loadavg') ?? '');
    node.rlimit = { time: now, ...(pidMax > 0 ? { maxpid: pidMax } : {}), ...(tasks !== undefined ? { curproc: tasks } : {}) };
    return node;
  }

  /** The image filesystem: the runtime's image bytes on the filesystem that holds them. */
  async #imageFs(fsOf: (p: string) => FsStats | undefined): Promise<FsStats | undefined> {
    const imageFsInfo = this.#o.runtime.imageFsInfo;
    if (!imageFsInfo) return undefined;
    try {
      const usage = (await imageFsInfo.call(this.#o.runtime)).imageFilesystems[0];
      if (!usage) return undefined;
      const backing = usage.fsId?.mountpoint ? fsOf(usage.fsId.mountpoint) : undefined;
      return {
        time: nsToMs(usage.timestamp, this.#now()),
        ...(backing ? { availableBytes: backing.availableBytes, capacityBytes: backing.capacityBytes } : {}),
        usedBytes: usage.usedBytes?.value ?? 0,
        ...(backing ? { inodesFree: backing.inodesFree, inodes: backing.inodes } : {}),
        inodesUsed: usage.inodesUsed?.value ?? 0,
      };
    } catch {
      return undefined;
    }
  }
}
