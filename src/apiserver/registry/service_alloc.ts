// ClusterIP and NodePort allocation for Services. The set of used addresses is rebuilt from the
// stored Services (so it is repaired by a restart) plus short-lived reservations for writes still
// in flight, and every allocation runs under one lock, so concurrent creates never collide.
import type { FieldError } from '../../api/field_errors.ts';
import { invalid, newPath, goValue } from '../../api/field_errors.ts';
import type { KObject } from './strategy.ts';

/** Where allocation reads the Services that exist now. */
export interface ServiceSource {
  /** Every stored Service (fresh enough: the caller syncs the cache first). */
  list(): Promise<KObject[]>;
}

/** Options of the allocator. */
export interface ServiceAllocatorOptions {
  readonly serviceCidr: string;
  readonly nodePortRange?: readonly [number, number];
  readonly source: ServiceSource;
}

const RESERVATION_MS = 60_000;

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.43.0.0/16" into the first and last usable addresses. */
export function cidrRange(cidr: string): { first: number; last: number; base: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`invalid service CIDR ${JSON.stringify(cidr)}: expected an IPv4 CIDR such as 10.43.0.0/16`);
  const bits = Number(m[2]);
  if (bits < 8 || bits > 30) throw new Error(`invalid service CIDR ${cidr}: prefix length must be between 8 and 30`);
  const size = 2 ** (32 - bits);
  const base = (ipToInt(m[1]!) & (~(size - 1) >>> 0)) >>> 0;
  return { first: base + 1, last: base + size - 2, base, size };
}

/** The n-th address of a CIDR (1 → the kubernetes Service's address). */
export function nthAddress(cidr: string, n: number): string {
  return intToIp(cidrRange(cidr).base + n);
}

/** Allocates ClusterIPs and NodePorts. */
export class ServiceAllocator {
  #range: ReturnType<typeof cidrRange>;
  #cidr: string;
  #ports: readonly [number, number];
  #source: ServiceSource;
  #lock: Promise<unknown> = Promise.resolve();
  #reservedIPs = new Map<string, number>();
  #reservedPorts = new Map<number, number>();

  constructor(opts: ServiceAllocatorOptions) {
    this.#cidr = opts.serviceCidr;
    this.#range = cidrRange(opts.serviceCidr);
    this.#ports = opts.nodePortRange ?? [30000, 32767];
    this.#source = opts.source;
  }

  /** Runs `fn` under the allocation lock. */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#lock.then(fn, fn);
    this.#lock = next.catch(() => undefined);
    return next;
  }

  async #used(excludeUid: string | undefined): Promise<{ ips: Set<string>; ports: Set<number> }> {
    const now = Date.now();
    const ips = new Set<string>();
    const ports = new Set<number>();
    const services = await this.#source.list();
    for (const svc of services) {
      const meta = (svc['metadata'] ?? {}) as Record<string, unknown>;
      if (excludeUid !== undefined && meta['uid'] === excludeUid) continue;
      const spec = (svc['spec'] ?? {}) as Record<string, unknown>;
      for (const ip of (spec['clusterIPs'] as string[] | undefined) ?? (spec['clusterIP'] ? [spec['clusterIP'] as string] : [])) ips.add(ip);
      for (const p of (spec['ports'] as Array<Record<string, unknown>> | undefined) ?? []) {
        if (typeof p['nodePort'] === 'number') ports.add(p['nodePort']);
      }
    }
    // A reservation covers a write in flight; once the Service is visible it is no longer needed
    // (so a Service deleted right after frees its address at once).
    for (const [ip, exp] of this.#reservedIPs) {
      if (exp <= now || ips.has(ip)) this.#reservedIPs.delete(ip);
      else ips.add(ip);
    }
    for (const [p, exp] of this.#reservedPorts) {
      if (exp <= now || ports.has(p)) this.#reservedPorts.delete(p);
      else ports.add(p);
    }
    return { ips, ports };
  }

  /**
   * Fills in spec.clusterIP(s) and nodePorts of a Service being created or updated (old = the stored
   * one). Returns field errors for addresses that are taken or out of range; reserves what it assigns.
   */
  allocate(svc: KObject, old: KObject | undefined): Promise<FieldError[]> {
    return this.#locked(async () => {
      const spec = (svc['spec'] ??= {}) as Record<string, unknown>;
      const oldSpec = ((old?.['spec']) ?? {}) as Record<string, unknown>;
      const uid = (((old ?? svc)['metadata'] ?? {}) as Record<string, unknown>)['uid'] as string | undefined;
      const { ips, ports } = await this.#used(uid);
      const errs: FieldError[] = [];
      const type = (spec['type'] as string | undefined) ?? 'ClusterIP';
      const specPath = newPath('spec');
      if (type === 'ExternalName') {
        delete spec['clusterIP'];
        delete spec['clusterIPs'];
      } else {
        let ip = spec['clusterIP'] as string | undefined;
        const oldIp = oldSpec['clusterIP'] as string | undefined;
        if ((ip === undefined || ip === '') && oldIp) ip = oldIp;
        if (ip === undefined || ip === '') {
          ip = this.#pickIP(ips);
          if (ip === undefined) {
            errs.push(invalid(specPath.child('clusterIPs'), goValue('[]string{}'), 'failed to allocate IP: range is full'));
          }
        } else if (ip !== 'None' && ip !== oldIp) {
          const n = /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? ipToInt(ip) : NaN;
          if (!(n >= this.#range.first && n <= this.#range.last)) {
            errs.push(invalid(specPath.child('clusterIPs').index(0), ip, `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.#cidr}`));
          } else if (ips.has(ip)) {
            errs.push(invalid(specPath.child('clusterIPs').index(0), ip, `failed to allocate IP ${ip}: provided IP is already allocated`));
          }
        }
        if (ip !== undefined && errs.length === 0) {
          spec['clusterIP'] = ip;
          spec['clusterIPs'] = [ip];
          if (ip !== 'None') this.#reservedIPs.set(ip, Date.now() + RESERVATION_MS);
        }
      }
      const needsNodePorts = type === 'NodePort' || (type === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
      const portsList = (spec['ports'] as Array<Record<string, unknown>> | undefined) ?? [];
      const oldPorts = (oldSpec['ports'] as Array<Record<string, unknown>> | undefined) ?? [];
      const oldNodePorts = new Set(oldPorts.map((p) => p['nodePort']).filter((p): p is number => typeof p === 'number'));
      portsList.forEach((p, i) => {
        if (!needsNodePorts) {
          if (type === 'ClusterIP' || type === 'ExternalName') delete p['nodePort'];
          return;
        }
        // An update that leaves out an allocated nodePort keeps it (upstream's patchAllocatedValues).
        if ((p['nodePort'] === undefined || p['nodePort'] === 0) && old) {
          const same = oldPorts.find((o) => o['port'] === p['port'] && (o['protocol'] ?? 'TCP') === (p['protocol'] ?? 'TCP'));
          if (typeof same?.['nodePort'] === 'number') p['nodePort'] = same['nodePort'];
        }
        const np = p['nodePort'];
        if (typeof np === 'number' && np !== 0) {
          if (oldNodePorts.has(np)) return;
          if (np < this.#ports[0] || np > this.#ports[1]) {
            errs.push(invalid(specPath.child('ports').index(i).child('nodePort'), np, `provided port is not in the valid range. The range of valid ports is ${this.#ports[0]}-${this.#ports[1]}`));
          } else if (ports.has(np)) {
            errs.push(invalid(specPath.child('ports').index(i).child('nodePort'), np, 'provided port is already allocated'));
          } else {
            ports.add(np);
            this.#reservedPorts.set(np, Date.now() + RESERVATION_MS);
          }
          return;
        }
        const picked = this.#pickPort(ports);
        if (picked === undefined) {
          errs.push(invalid(specPath.child('ports').index(i).child('nodePort'), 0, 'failed to allocate a nodePort: range is full'));
          return;
        }
        p['nodePort'] = picked;
        ports.add(picked);
        this.#reservedPorts.set(picked, Date.now() + RESERVATION_MS);
      });
      return errs;
    });
  }

  #pickIP(used: Set<string>): string | undefined {
    const { first, last } = this.#range;
    const span = last - first + 1;
    // Upstream keeps the low addresses for static assignment; start at a random offset.
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const n = first + ((start + i) % span);
      if (n === first) continue; // the first address belongs to the kubernetes Service
      const ip = intToIp(n);
      if (!used.has(ip)) return ip;
    }
    return undefined;
  }

  #pickPort(used: Set<number>): number | undefined {
    const [lo, hi] = this.#ports;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + i) % span);
      if (!used.has(p)) return p;
    }
    return undefined;
  }
}
