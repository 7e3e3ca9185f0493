// A small cluster of Services, EndpointSlices and Namespaces as the API returns them, for the DNS
// tests and the DNS benchmark: ClusterIP, headless with StatefulSet hostnames, not-ready endpoints,
// ExternalName, dual-stack. Imported only by tests and bench/, never by the server.

import type { Namespace, Pod, Service, ServicePort } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import { SERVICE_NAME_LABEL } from './records.ts';
import type { DnsEvent } from './types.ts';

/** A Service object. */
export function service(namespace: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

/** A ClusterIP Service with the given IP(s) and ports. */
export function clusterIPService(namespace: string, name: string, ips: string | string[], ports: ServicePort[]): Service {
  const list = typeof ips === 'string' ? [ips] : ips;
  return service(namespace, name, { type: 'ClusterIP', clusterIP: list[0], clusterIPs: list, ports });
}

/** One endpoint of a slice: its address(es), readiness and optional hostname. */
export interface FixtureEndpoint {
  readonly ip: string | string[];
  readonly ready?: boolean;
  readonly hostname?: string;
  readonly pod?: string;
}

/** An EndpointSlice for `svc`. */
export function endpointSlice(
  namespace: string,
  svc: string,
  name: string,
  endpoints: readonly FixtureEndpoint[],
  ports: { name?: string; port: number; protocol?: string }[],
  addressType = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { [SERVICE_NAME_LABEL]: svc } },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: typeof e.ip === 'string' ? [e.ip] : e.ip,
      conditions: e.ready === undefined ? {} : { ready: e.ready },
      ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
      ...(e.pod !== undefined ? { targetRef: { kind: 'Pod', namespace, name: e.pod } } : {}),
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  };
}

/** A Namespace object. */
export function namespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** A running Pod with IP `ip`. */
export function pod(ns: string, name: string, ip: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: { containers: [] }, status: { podIP: ip, podIPs: [{ ip }] } };
}

/** The fixture cluster as DnsIndex events (ending with 'synced'). */
export function fixtureEvents(): DnsEvent[] {
  const svcs: Service[] = [
    clusterIPService('default', 'web', '10.43.0.20', [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
      { port: 8080, protocol: 'TCP' },
    ]),
    service('default', 'nginx', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'web', port: 80, protocol: 'TCP' }] }),
    service('default', 'plain-headless', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 9000, protocol: 'TCP' }] }),
    service('default', 'notready', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'peer', port: 2380, protocol: 'TCP' }] }),
    service('default', 'empty-headless', { clusterIP: 'None', ports: [{ name: 'x', port: 1, protocol: 'TCP' }] }),
    service('default', 'ext', { type: 'ExternalName', externalName: 'www.example.com' }),
    service('default', 'ext-internal', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
    clusterIPService('default', 'noports', '10.43.0.30', []),
    clusterIPService('kube-system', 'kube-dns', '10.43.0.10', [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ]),
    clusterIPService('prod', 'dual', ['10.43.0.40', 'fd00:43::40'], [{ name: 'http', port: 80, protocol: 'TCP' }]),
  ];
  const slices: EndpointSlice[] = [
    endpointSlice('default', 'web', 'web-a1', [{ ip: '10.42.3.1', ready: true }], [{ name: 'http', port: 8080 }]),
    endpointSlice(
      'default',
      'nginx',
      'nginx-x7k2p',
      [
        { ip: '10.42.0.5', ready: true, hostname: 'web-0', pod: 'web-0' },
        { ip: '10.42.0.6', ready: true, hostname: 'web-1', pod: 'web-1' },
        { ip: '10.42.0.7', ready: false, hostname: 'web-2', pod: 'web-2' },
      ],
      [{ name: 'web', port: 80 }],
    ),
    endpointSlice('default', 'plain-headless', 'plain-headless-1', [{ ip: '10.42.1.1' }], [{ port: 9000 }]),
    endpointSlice('default', 'plain-headless', 'plain-headless-2', [{ ip: '10.42.1.2', ready: true }], [{ port: 9000 }]),
    endpointSlice('default', 'notready', 'notready-1', [{ ip: '10.42.2.1', ready: false, hostname: 'etcd-0' }], [{ name: 'peer', port: 2380 }]),
  ];
  return [
    ...['default', 'kube-system', 'prod'].map((n): DnsEvent => ({ type: 'upsert', kind: 'Namespace', object: namespace(n) })),
    ...svcs.map((object): DnsEvent => ({ type: 'upsert', kind: 'Service', object })),
    ...slices.map((object): DnsEvent => ({ type: 'upsert', kind: 'EndpointSlice', object })),
    { type: 'synced' },
  ];
}
