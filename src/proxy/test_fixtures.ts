// Builders of Service and EndpointSlice objects for the proxy's tests (imported only by *_test.ts).

import type { EndpointSlice, Service } from './types.ts';

/** Fields of a test Service. */
export interface ServiceSpecInput {
  ns?: string;
  name: string;
  type?: string;
  clusterIP?: string;
  ports?: { name?: string; port: number; protocol?: string; nodePort?: number; targetPort?: number }[];
  sessionAffinity?: string;
  timeoutSeconds?: number;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  externalIPs?: string[];
  loadBalancerSourceRanges?: string[];
  loadBalancerClass?: string;
  healthCheckNodePort?: number;
  ingressIPs?: string[];
  externalName?: string;
}

/** A v1 Service as the apiserver would return it. */
export function makeService(s: ServiceSpecInput): Service {
  const clusterIP = s.clusterIP ?? (s.type === 'ExternalName' ? undefined : '10.43.0.10');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: s.ns ?? 'default', name: s.name, resourceVersion: '1' },
    spec: {
      type: s.type ?? 'ClusterIP',
      ...(clusterIP !== undefined ? { clusterIP, clusterIPs: [clusterIP] } : {}),
      ports: (s.ports ?? [{ name: 'http', port: 80 }]).map((p) => ({
        name: p.name,
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort ?? p.port,
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
      })),
      sessionAffinity: s.sessionAffinity ?? 'None',
      ...(s.sessionAffinity === 'ClientIP' ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.timeoutSeconds ?? 10800 } } } : {}),
      ...(s.externalTrafficPolicy ? { externalTrafficPolicy: s.externalTrafficPolicy } : {}),
      internalTrafficPolicy: s.internalTrafficPolicy ?? 'Cluster',
      ...(s.externalIPs ? { externalIPs: s.externalIPs } : {}),
      ...(s.loadBalancerSourceRanges ? { loadBalancerSourceRanges: s.loadBalancerSourceRanges } : {}),
      ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
      ...(s.healthCheckNodePort ? { healthCheckNodePort: s.healthCheckNodePort } : {}),
      ...(s.externalName ? { externalName: s.externalName } : {}),
    },
    status: { loadBalancer: s.ingressIPs ? { ingress: s.ingressIPs.map((ip) => ({ ip, ipMode: 'VIP' })) } : {} },
  };
}

/** One endpoint of a test slice. */
export interface EndpointInput {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** A discovery.k8s.io/v1 EndpointSlice for Service `service`. */
export function makeSlice(
  service: string,
  endpoints: EndpointInput[],
  opts: { ns?: string; name?: string; ports?: { name?: string; port: number; protocol?: string }[]; triggerTime?: string } = {},
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: {
      namespace: opts.ns ?? 'default',
      name: opts.name ?? `${service}-abcde`,
      labels: { 'kubernetes.io/service-name': service },
      ...(opts.triggerTime ? { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': opts.triggerTime } } : {}),
    },
    ports: (opts.ports ?? [{ name: 'http', port: 8080 }]).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node ?? 'node-b',
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  };
}
