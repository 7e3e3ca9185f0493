// Node-level samples from procfs and statfs: CPU time (/proc/stat), memory (/proc/meminfo,
// /proc/vmstat), interface counters (/proc/net/dev, also per pod through its sandbox's pid), tasks
// (/proc/loadavg, pid_max) and filesystem usage. Parsers are pure; readers take the proc root.
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { FsStats, InterfaceStats } from './summary_types.ts';

/** USER_HZ: the unit of /proc/stat, 100 on every Linux ABI Kubernetes runs on. */
const USER_HZ = 100;

/** Cumulative busy CPU time of all cores (the first line of /proc/stat) and the boot time. */
export interface ProcStat {
  /** Nanoseconds spent outside idle and iowait (guest time is already part of user). */
  readonly busyNanos: number;
  /** Boot time, epoch milliseconds (btime). */
  readonly bootTimeMs: number;
}

/** Parses /proc/stat. */
export function parseProcStat(text: string): ProcStat {
  let busyNanos = 0;
  let bootTimeMs = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      // user nice system idle iowait irq softirq steal guest guest_nice
      const f = line.trim().split(/\s+/).slice(1).map(Number);
      const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
      busyNanos = busy * (1e9 / USER_HZ);
    } else if (line.startsWith('btime ')) {
      bootTimeMs = Number(line.slice(6).trim()) * 1000;
    }
  }
  return { busyNanos, bootTimeMs };
}

/** Parses a "Key: value [kB]" file (/proc/meminfo) into bytes, or "key value" (/proc/vmstat) as is. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):?\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

/** Node memory as cAdvisor derives it for the root cgroup: working set is usage without inactive file pages. */
export interface NodeMemory {
  readonly totalBytes: number;
  readonly usageBytes: number;
  readonly workingSetBytes: number;
  readonly rssBytes: number;
}

/** Node memory from /proc/meminfo. */
export function nodeMemory(meminfo: Map<string, number>): NodeMemory {
  const total = meminfo.get('MemTotal') ?? 0;
  const usage = Math.max(0, total - (meminfo.get('MemFree') ?? 0));
  const workingSet = Math.max(0, usage - (meminfo.get('Inactive(file)') ?? 0));
  return { totalBytes: total, usageBytes: usage, workingSetBytes: workingSet, rssBytes: meminfo.get('AnonPages') ?? 0 };
}

/** Interfaces that are plumbing, not the node's own links (cAdvisor leaves them out of node network stats). */
const VIRTUAL_INTERFACE = /^(lo|veth|cni|flannel|cali|tunl|docker|virbr|ifb|tkube|tke|dummy|kube-ipvs)/;

/** Parses /proc/net/dev into per-interface counters (all of them). */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs ...
    out.push({ name, rxBytes: f[0] ?? 0, rxErrors: f[2] ?? 0, txBytes: f[8] ?? 0, txErrors: f[10] ?? 0 });
  }
  return out;
}

/** The interfaces worth reporting for a network namespace, and the default one (eth0 when present). */
export function reportedInterfaces(all: readonly InterfaceStats[]): { default?: InterfaceStats; interfaces: InterfaceStats[] } {
  const interfaces = all.filter((s) => !VIRTUAL_INTERFACE.test(s.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { default: interfaces.find((s) => s.name === 'eth0') ?? interfaces[0], interfaces };
}

/** Number of tasks from /proc/loadavg ("0.00 0.01 0.05 1/123 4567": the 123), as sysinfo's procs. */
export function parseLoadavgTasks(text: string): number | undefined {
  const m = /\s\d+\/(\d+)\s/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Reads a file under the proc root, or undefined when it cannot. */
export function readProc(procRoot: string, path: string): string | undefined {
  try {
    return readFileSync(join(procRoot, path), 'utf8');
  } catch {
    return undefined;
  }
}

/** Capacity, availability and inodes of the filesystem holding `path`, with usedBytes as the filesystem's own usage. */
export function filesystemStats(path: string, time: number): FsStats | undefined {
  try {
    const s = statfsSync(path);
    return {
      time,
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}
