// Facts about the machine the node reports (cAdvisor's MachineInfo and the kubelet's nodestatus
// setters in spirit): CPUs, memory, the data dir's filesystem size, kernel and OS image, machine and
// boot IDs, and the address of the interface holding the default route.
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, networkInterfaces, release, totalmem } from 'node:os';

/** What the node status says about the machine. */
export interface MachineInfo {
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Size of the filesystem holding the kubelet's data (ephemeral-storage). */
  readonly filesystemBytes: number;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
  /** GOARCH spelling: amd64, arm64, ... */
  readonly architecture: string;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PRETTY_NAME from os-release, as the kubelet reports the OS image. */
export function osImage(osRelease = '/etc/os-release'): string {
  const text = readTrimmed(osRelease);
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (!m) return 'Linux';
  return m[1]!.trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

/** Node's process.arch as Go's GOARCH. */
export function goArch(a: string = arch()): string {
  switch (a) {
    case 'x64': return 'amd64';
    case 'ia32': return '386';
    case 'ppc64': return 'ppc64le';
    default: return a;
  }
}

/** Reads the machine's facts; `dataDir` names the filesystem whose size is ephemeral-storage. */
export function machineInfo(dataDir: string): MachineInfo {
  let filesystemBytes = 0;
  try {
    const fs = statfsSync(dataDir);
    filesystemBytes = fs.blocks * fs.bsize;
  } catch { /* unknown */ }
  return {
    cpus: cpus().length || 1,
    memoryBytes: totalmem(),
    filesystemBytes,
    kernelVersion: release(),
    osImage: osImage(),
    machineID: readTrimmed('/etc/machine-id'),
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid').toLowerCase(),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    architecture: goArch(),
  };
}

/** The interface holding the IPv4 default route (from /proc/net/route), if any. */
export function defaultRouteInterface(routeFile = '/proc/net/route'): string | undefined {
  const lines = readTrimmed(routeFile).split('\n').slice(1);
  let best: { iface: string; metric: number } | undefined;
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { iface: f[0]!, metric };
  }
  return best?.iface;
}

/** The node IP when none is given: the default-route interface's IPv4 address, else any non-loopback one, else 127.0.0.1. */
export function detectNodeIP(): string {
  const ifaces = networkInterfaces();
  const iface = defaultRouteInterface();
  const v4 = (name: string): string | undefined => ifaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (iface) {
    const ip = v4(iface);
    if (ip) return ip;
  }
  for (const name of Object.keys(ifaces)) {
    const ip = v4(name);
    if (ip) return ip;
  }
  return '127.0.0.1';
}
