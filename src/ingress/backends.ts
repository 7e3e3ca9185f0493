// Ingress backends → upstreams (pure): a Service port, named or numbered, resolved through the
// Service to the EndpointSlice port of the same name, and the ready addresses of its slices.
import type { Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import type { IngressBackend } from '../api/types/networking_v1.ts';

/** One address the proxy may connect to. */
export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Where a backend's traffic goes: its endpoints, or why there are none. */
export interface Upstream {
  /** "namespace/service:port", stable across table rebuilds (round-robin state hangs off it). */
  readonly key: string;
  readonly endpoints: readonly UpstreamEndpoint[];
  /** Why `endpoints` is empty, for logs. */
  readonly problem?: string;
}

/** Read access to the caches a resolution needs. */
export interface BackendLookup {
  service(namespace: string, name: string): Service | undefined;
  /** EndpointSlices labelled kubernetes.io/service-name=`name`. */
  endpointSlices(namespace: string, name: string): readonly EndpointSlice[];
}

/** The label tying an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Resolves one Ingress backend; resource backends are not supported and get no endpoints. */
export function resolveBackend(namespace: string, backend: IngressBackend, lookup: BackendLookup): Upstream {
  const svc = backend.service;
  if (!svc) {
    const r = backend.resource;
    return { key: `${namespace}/resource:${r?.kind ?? ''}/${r?.name ?? ''}`, endpoints: [], problem: 'resource backends are not supported' };
  }
  const portText = svc.port?.name ? svc.port.name : String(svc.port?.number ?? '');
  const key = `${namespace}/${svc.name}:${portText}`;
  const service = lookup.service(namespace, svc.name);
  if (!service) return { key, endpoints: [], problem: `service ${namespace}/${svc.name} not found` };
  if (service.spec?.type === 'ExternalName') return { key, endpoints: [], problem: 'ExternalName services are not supported' };
  const ports = service.spec?.ports ?? [];
  const sp = svc.port?.name ? ports.find((p) => p.name === svc.port?.name) : ports.find((p) => p.port === svc.port?.number);
  if (!sp || (sp.protocol ?? 'TCP') !== 'TCP') return { key, endpoints: [], problem: `service ${namespace}/${svc.name} has no TCP port ${portText}` };
  const portName = sp.name ?? '';
  const ready: UpstreamEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of lookup.endpointSlices(namespace, svc.name)) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ep = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
    if (!ep || ep.port === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      // A nil ready condition means ready (EndpointConditions' contract).
      if (e.conditions?.ready === false) continue;
      const address = e.addresses?.[0];
      if (!address) continue;
      const id = `${address}|${ep.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      ready.push({ host: address, port: ep.port });
    }
  }
  ready.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port));
  return ready.length > 0 ? { key, endpoints: ready } : { key, endpoints: [], problem: `no ready endpoints for ${key}` };
}
