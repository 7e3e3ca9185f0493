// The cluster DNS record index: Services, EndpointSlices, Namespaces and Pods reduced to what DNS
// answers need, with forward (namespace/name) and reverse (IP) indexes kept up to date one object at a
// time, so a change costs the size of that object, not of the cluster. Pure: no I/O; resolve.ts reads it.

import type { Namespace, Pod, Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import { canonicalIP } from './ip.ts';
import type { Disposable } from '../base/disposable.ts';
import type { ClusterDnsOptions, DnsEvent, DnsSource, PodMode } from './types.ts';

/** The label naming the Service an EndpointSlice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A port of a Service or EndpointSlice; port -1 stands for "no ports declared" (CoreDNS's sentinel). */
export interface PortEntry {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

/** How a Service is answered. */
export type ServiceKind = 'clusterIP' | 'headless' | 'externalName';

/** A Service as DNS sees it. */
export interface ServiceEntry {
  readonly namespace: string;
  readonly name: string;
  readonly kind: ServiceKind;
  /** Canonical cluster IPs (none for headless and ExternalName Services). */
  readonly clusterIPs: readonly string[];
  readonly externalName: string;
  readonly ports: readonly PortEntry[];
  readonly publishNotReadyAddresses: boolean;
}

/** One address of an EndpointSlice endpoint. */
export interface AddressEntry {
  readonly ip: string;
  /** The DNS label naming this address under its Service: the endpoint's hostname, else the dashed IP. */
  readonly hostname: string;
  /** conditions.ready, with "unset" read as ready (the API's advice, and CoreDNS's reading). */
  readonly ready: boolean;
}

/** An EndpointSlice as DNS sees it. */
export interface SliceEntry {
  readonly namespace: string;
  readonly name: string;
  /** The owning Service's name (its kubernetes.io/service-name label); "" if unlabelled. */
  readonly service: string;
  readonly ports: readonly PortEntry[];
  readonly addresses: readonly AddressEntry[];
}

const NO_PORTS: readonly PortEntry[] = [{ name: '', port: -1, protocol: '' }];

/** Options with their defaults applied. */
export interface ResolvedDnsOptions {
  readonly zone: string;
  readonly ttl: number;
  readonly podMode: PodMode;
  readonly nameservers: readonly string[];
  readonly requireNamespaces: boolean;
  readonly now: () => number;
}

function resolveOptions(o: ClusterDnsOptions): ResolvedDnsOptions {
  const zone = (o.zone ?? 'cluster.local').toLowerCase().replace(/^\.+|\.+$/g, '');
  if (zone === '' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(zone)) {
    throw new Error(`zone: invalid cluster domain ${JSON.stringify(o.zone)}`);
  }
  const ttl = o.ttl ?? 5;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
    throw new Error(`ttl: must be an integer between 0 and 3600, got ${JSON.stringify(o.ttl)}`);
  }
  const podMode = o.podMode ?? 'insecure';
  if (podMode !== 'disabled' && podMode !== 'insecure' && podMode !== 'verified') {
    throw new Error(`podMode: must be disabled, insecure or verified, got ${JSON.stringify(podMode)}`);
  }
  const nameservers = (o.nameservers ?? ['10.43.0.10']).map((ip) => {
    const c = canonicalIP(ip);
    if (c === undefined) throw new Error(`nameservers: invalid IP ${JSON.stringify(ip)}`);
    return c;
  });
  return { zone, ttl, podMode, nameservers, requireNamespaces: o.requireNamespaces ?? true, now: o.now ?? Date.now };
}

/** Adds `value` to the set at `key`. */
function addTo<K, V>(m: Map<K, Set<V>>, key: K, value: V): void {
  let s = m.get(key);
  if (s === undefined) m.set(key, (s = new Set()));
  s.add(value);
}

/** Removes `value` from the set at `key`, dropping emptied sets. */
function removeFrom<K, V>(m: Map<K, Set<V>>, key: K, value: V): void {
  const s = m.get(key);
  if (s === undefined) return;
  s.delete(value);
  if (s.size === 0) m.delete(key);
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The label CoreDNS gives an address with no endpoint hostname: its IP with separators dashed. */
function dashedIP(ip: string): string {
  if (!ip.includes(':')) return ip.replaceAll('.', '-');
  const h = ip.replaceAll(':', '-');
  return h.endsWith('-') ? `${h}0` : h;
}

function ports(list: readonly { name?: string; port?: number; protocol?: string }[] | undefined): readonly PortEntry[] {
  if (!list || list.length === 0) return NO_PORTS;
  return list.map((p) => ({
    name: (p.name ?? '').toLowerCase(),
    port: p.port ?? -1,
    protocol: (p.protocol ?? '').toLowerCase(),
  }));
}

/** Reduces a Service to its DNS entry. */
export function serviceEntry(svc: Service): ServiceEntry | undefined {
  const namespace = svc.metadata?.namespace?.toLowerCase();
  const name = svc.metadata?.name?.toLowerCase();
  if (!namespace || !name) return undefined;
  const spec = svc.spec ?? {};
  const ips = spec.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : [spec.clusterIP ?? ''];
  let kind: ServiceKind = 'clusterIP';
  if (spec.type === 'ExternalName') kind = 'externalName';
  else if (ips[0] === 'None') kind = 'headless';
  const clusterIPs: string[] = [];
  if (kind === 'clusterIP') {
    for (const ip of ips) {
      const c = canonicalIP(ip);
      if (c !== undefined) clusterIPs.push(c);
    }
  }
  return {
    namespace,
    name,
    kind,
    clusterIPs,
    externalName: (spec.externalName ?? '').replace(/\.$/, ''),
    ports: ports(spec.ports),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
  };
}

/** Reduces an EndpointSlice to its DNS entry (FQDN slices carry no addresses DNS can answer with). */
export function sliceEntry(slice: EndpointSlice): SliceEntry | undefined {
  const namespace = slice.metadata?.namespace?.toLowerCase();
  const name = slice.metadata?.name;
  if (!namespace || !name) return undefined;
  const addresses: AddressEntry[] = [];
  if (slice.addressType === 'IPv4' || slice.addressType === 'IPv6') {
    for (const ep of slice.endpoints ?? []) {
      const ready = ep.conditions?.ready !== false;
      for (const a of ep.addresses ?? []) {
        const ip = canonicalIP(a);
        if (ip === undefined) continue;
        addresses.push({ ip, hostname: (ep.hostname ?? '').toLowerCase() || dashedIP(ip), ready });
      }
    }
  }
  return {
    namespace,
    name,
    service: (slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '').toLowerCase(),
    ports: ports(slice.ports),
    addresses,
  };
}

/**
 * The record index, updated one event at a time. Readers get entries by name or by IP; nothing here
 * knows about DNS wire formats or questions.
 */
export class DnsIndex {
  readonly options: ResolvedDnsOptions;
  #services = new Map<string, ServiceEntry>();
  #slices = new Map<string, SliceEntry>();
  /** ns/service -> slice keys. */
  #slicesByService = new Map<string, Set<string>>();
  #servicesByIP = new Map<string, Set<string>>();
  #slicesByIP = new Map<string, Set<string>>();
  #namespaces = new Set<string>();
  /** ns/pod -> its IPs, and IP -> pods, for podMode "verified". */
  #podIPs = new Map<string, readonly string[]>();
  #podsByIP = new Map<string, Set<string>>();
  #modified: number;
  #synced = false;

  constructor(options: ClusterDnsOptions = {}) {
    this.options = resolveOptions(options);
    this.#modified = this.options.now();
  }

  /** Applies one change from the DnsSource. */
  apply(event: DnsEvent): void {
    if (event.type === 'synced') {
      this.#synced = true;
      return;
    }
    const del = event.type === 'delete';
    switch (event.kind) {
      case 'Service':
        if (del) this.deleteService(event.object);
        else this.upsertService(event.object);
        break;
      case 'EndpointSlice':
        if (del) this.deleteEndpointSlice(event.object);
        else this.upsertEndpointSlice(event.object);
        break;
      case 'Pod':
        if (del) this.deletePod(event.object);
        else this.upsertPod(event.object);
        break;
      case 'Namespace':
        if (del) this.deleteNamespace(event.object);
        else this.upsertNamespace(event.object);
        break;
    }
  }

  /** Marks the initial lists as delivered (until then unknown names are SERVFAIL, not NXDOMAIN). */
  markSynced(): void {
    this.#synced = true;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** The SOA serial: the Unix time (seconds) of the last change, as CoreDNS. */
  serial(): number {
    return Math.floor(this.#modified / 1000) >>> 0;
  }

  upsertService(svc: Service): void {
    const e = serviceEntry(svc);
    if (e === undefined) return;
    const k = key(e.namespace, e.name);
    this.#dropService(k);
    this.#services.set(k, e);
    for (const ip of e.clusterIPs) addTo(this.#servicesByIP, ip, k);
    this.#touch();
  }

  deleteService(svc: Service): void {
    const ns = svc.metadata?.namespace?.toLowerCase();
    const name = svc.metadata?.name?.toLowerCase();
    if (!ns || !name) return;
    this.#dropService(key(ns, name));
    this.#touch();
  }

  #dropService(k: string): void {
    const old = this.#services.get(k);
    if (old === undefined) return;
    for (const ip of old.clusterIPs) removeFrom(this.#servicesByIP, ip, k);
    this.#services.delete(k);
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const e = sliceEntry(slice);
    if (e === undefined) return;
    const k = key(e.namespace, e.name);
    this.#dropSlice(k);
    this.#slices.set(k, e);
    if (e.service !== '') addTo(this.#slicesByService, key(e.namespace, e.service), k);
    for (const a of e.addresses) addTo(this.#slicesByIP, a.ip, k);
    this.#touch();
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    const ns = slice.metadata?.namespace?.toLowerCase();
    const name = slice.metadata?.name;
    if (!ns || !name) return;
    this.#dropSlice(key(ns, name));
    this.#touch();
  }

  #dropSlice(k: string): void {
    const old = this.#slices.get(k);
    if (old === undefined) return;
    if (old.service !== '') removeFrom(this.#slicesByService, key(old.namespace, old.service), k);
    for (const a of old.addresses) removeFrom(this.#slicesByIP, a.ip, k);
    this.#slices.delete(k);
  }

  upsertNamespace(ns: Namespace): void {
    const name = ns.metadata?.name?.toLowerCase();
    if (!name) return;
    this.#namespaces.add(name);
    this.#touch();
  }

  deleteNamespace(ns: Namespace): void {
    const name = ns.metadata?.name?.toLowerCase();
    if (!name) return;
    this.#namespaces.delete(name);
    this.#touch();
  }

  /** Pods matter only in podMode "verified"; terminating pods are left out, as CoreDNS does. */
  upsertPod(pod: Pod): void {
    const ns = pod.metadata?.namespace?.toLowerCase();
    const name = pod.metadata?.name;
    if (!ns || !name) return;
    const k = key(ns, name);
    this.#dropPod(k);
    if (pod.metadata?.deletionTimestamp) return;
    const texts = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
    const ips = texts.map(canonicalIP).filter((ip): ip is string => ip !== undefined);
    if (ips.length === 0) return;
    this.#podIPs.set(k, ips);
    for (const ip of ips) addTo(this.#podsByIP, ip, k);
  }

  deletePod(pod: Pod): void {
    const ns = pod.metadata?.namespace?.toLowerCase();
    const name = pod.metadata?.name;
    if (!ns || !name) return;
    this.#dropPod(key(ns, name));
  }

  #dropPod(k: string): void {
    const old = this.#podIPs.get(k);
    if (old === undefined) return;
    for (const ip of old) removeFrom(this.#podsByIP, ip, k);
    this.#podIPs.delete(k);
  }

  #touch(): void {
    this.#modified = this.options.now();
  }

  /** The Service `name` in `namespace` (both lower case). */
  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.#services.get(key(namespace, name));
  }

  /** The EndpointSlices labelled for Service `name` in `namespace`. */
  *slicesOf(namespace: string, name: string): Iterable<SliceEntry> {
    const keys = this.#slicesByService.get(key(namespace, name));
    if (keys === undefined) return;
    for (const k of keys) {
      const s = this.#slices.get(k);
      if (s !== undefined) yield s;
    }
  }

  /** Services with cluster IP `ip` (canonical). */
  *servicesWithClusterIP(ip: string): Iterable<ServiceEntry> {
    for (const k of this.#servicesByIP.get(ip) ?? []) {
      const s = this.#services.get(k);
      if (s !== undefined) yield s;
    }
  }

  /** EndpointSlices holding address `ip` (canonical), ready or not. */
  *slicesWithAddress(ip: string): Iterable<SliceEntry> {
    for (const k of this.#slicesByIP.get(ip) ?? []) {
      const s = this.#slices.get(k);
      if (s !== undefined) yield s;
    }
  }

  /** Whether names in `namespace` exist (CoreDNS answers NXDOMAIN under unknown namespaces). */
  hasNamespace(namespace: string): boolean {
    return !this.options.requireNamespaces || this.#namespaces.has(namespace);
  }

  /** Whether a running (not terminating) pod in `namespace` has IP `ip` (canonical). */
  hasPodWithIP(namespace: string, ip: string): boolean {
    for (const k of this.#podsByIP.get(ip) ?? []) {
      if (k.startsWith(`${namespace}/`)) return true;
    }
    return false;
  }

  /** Object counts, for logs and benchmarks. */
  counts(): { services: number; endpointSlices: number; namespaces: number; pods: number } {
    return { services: this.#services.size, endpointSlices: this.#slices.size, namespaces: this.#namespaces.size, pods: this.#podIPs.size };
  }
}

/** Feeds `index` from `source` until the returned disposable is disposed. */
export function followSource(index: DnsIndex, source: DnsSource): Disposable {
  return source.subscribe((event) => index.apply(event));
}
