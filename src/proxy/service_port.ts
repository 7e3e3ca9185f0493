// Pure conversions from API objects to the proxy's model: a v1 Service becomes its ServicePortInfos,
// and EndpointSlices become per-service-port endpoint lists (upstream's serviceport.go,
// servicechangetracker.go and endpointslicecache.go, IPv4 only).

import type { EndpointSlice, Service } from './types.ts';
import { servicePortKey, type EndpointInfo, type EndpointsMap, type Protocol, type ServicePortInfo } from './types.ts';

/** Label naming the Service an EndpointSlice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Annotation the EndpointSlice controller sets to when the change that caused the write happened. */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Upstream's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_STICKY_SECONDS = 10800;

/** What the conversion needs to know about the node. */
export interface ServicePortOptions {
  /** Addresses the built-in load balancer opens LoadBalancer ports on; empty disables it. */
  serviceLoadBalancerAddresses: readonly string[];
}

/** "namespace/name" of an object. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** True for dotted-quad IPv4 literals. */
export function isIPv4(ip: string): boolean {
  const parts = ip.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv4CIDR(cidr: string): boolean {
  const [ip, bits, rest] = cidr.split('/');
  return rest === undefined && ip !== undefined && isIPv4(ip) && bits !== undefined && /^\d{1,2}$/.test(bits) && Number(bits) <= 32;
}

/** The Service's IPv4 ClusterIP, or '' for headless/ExternalName/IPv6-only Services. */
function ipv4ClusterIP(service: Service): string {
  const ips = service.spec?.clusterIPs?.length ? service.spec.clusterIPs : [service.spec?.clusterIP ?? ''];
  return ips.find((ip) => isIPv4(ip)) ?? '';
}

/** Upstream's ShouldSkipService: headless and ExternalName Services get no rules (DNS only). */
export function shouldSkipService(service: Service): boolean {
  if (service.spec?.type === 'ExternalName') return true;
  return ipv4ClusterIP(service) === '';
}

function externallyAccessible(service: Service): boolean {
  const type = service.spec?.type ?? 'ClusterIP';
  return type === 'NodePort' || type === 'LoadBalancer' || (service.spec?.externalIPs?.length ?? 0) > 0;
}

/** The service ports of a Service, keyed by servicePortKey; empty when the Service is skipped. */
export function servicePortsForService(service: Service, opts: ServicePortOptions): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  if (shouldSkipService(service)) return out;
  const spec = service.spec ?? {};
  const serviceKey = objectKey(service);
  const clusterIP = ipv4ClusterIP(service);
  const affinity = spec.sessionAffinity === 'ClientIP';
  const sticky = affinity ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_SECONDS) : 0;
  const externalPolicyLocal = externallyAccessible(service) && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(isIPv4CIDR);
  const vips: string[] = [];
  if (spec.type === 'LoadBalancer') {
    for (const ing of service.status?.loadBalancer?.ingress ?? []) {
      // Proxy-mode load balancers terminate traffic themselves; upstream programs only VIP mode.
      if (ing.ip && isIPv4(ing.ip) && ing.ipMode !== 'Proxy' && !vips.includes(ing.ip)) vips.push(ing.ip);
    }
    if (!spec.loadBalancerClass) {
      for (const ip of opts.serviceLoadBalancerAddresses) if (!vips.includes(ip)) vips.push(ip);
    }
  }
  const needsHealthCheck = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  for (const p of spec.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const portName = p.name ?? '';
    const nameString = portName ? `${serviceKey}:${portName}` : serviceKey;
    out.set(servicePortKey(serviceKey, portName, protocol), {
      serviceKey,
      nameString,
      portName,
      protocol,
      clusterIP,
      port: p.port,
      nodePort: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
      externalIPs,
      loadBalancerVIPs: vips,
      loadBalancerSourceRanges: sourceRanges,
      healthCheckNodePort: needsHealthCheck ? (spec.healthCheckNodePort ?? 0) : 0,
      sessionAffinityClientIP: affinity,
      stickyMaxAgeSeconds: sticky,
      externalPolicyLocal,
      internalPolicyLocal,
    });
  }
  return out;
}

/** The parts of one EndpointSlice the proxy cares about, in a canonical order for comparison. */
export interface SliceInfo {
  ports: { name: string; port: number; protocol: string }[];
  endpoints: { address: string; nodeName: string; ready: boolean; serving: boolean; terminating: boolean }[];
}

/** Reduces an EndpointSlice to SliceInfo (IPv4 slices only; others give no endpoints). */
export function sliceInfo(slice: EndpointSlice): SliceInfo {
  const ports = (slice.ports ?? [])
    .map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' }))
    .sort((a, b) => a.port - b.port || a.name.localeCompare(b.name));
  const endpoints: SliceInfo['endpoints'] = [];
  if (slice.addressType === 'IPv4') {
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (!address || !isIPv4(address)) continue;
      const c = ep.conditions ?? {};
      // Unset conditions mean ready and serving (upstream's nil handling).
      endpoints.push({
        address,
        nodeName: ep.nodeName ?? '',
        ready: c.ready ?? true,
        serving: c.serving ?? true,
        terminating: c.terminating ?? false,
      });
    }
    endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }
  return { ports, endpoints };
}

/** Merges the slices of one Service into per-service-port endpoint lists sorted by "ip:port". */
export function endpointsForSlices(serviceKey: string, slices: Iterable<SliceInfo>, nodeName: string): EndpointsMap {
  const bySP = new Map<string, Map<string, EndpointInfo>>();
  for (const s of slices) {
    for (const port of s.ports) {
      if (port.port === 0) continue;
      const key = servicePortKey(serviceKey, port.name, port.protocol);
      let set = bySP.get(key);
      if (!set) bySP.set(key, (set = new Map()));
      for (const ep of s.endpoints) {
        const endpoint = `${ep.address}:${port.port}`;
        const isLocal = nodeName !== '' && ep.nodeName === nodeName;
        // The same endpoint may sit in two slices while it moves; prefer the local view.
        if (set.has(endpoint) && !isLocal) continue;
        set.set(endpoint, {
          ip: ep.address,
          port: port.port,
          endpoint,
          nodeName: ep.nodeName,
          isLocal,
          ready: ep.ready,
          serving: ep.serving,
          terminating: ep.terminating,
        });
      }
    }
  }
  const out: EndpointsMap = new Map();
  for (const [key, set] of bySP) {
    if (set.size === 0) continue;
    out.set(key, [...set.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)));
  }
  return out;
}
