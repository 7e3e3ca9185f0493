// The built-in service load balancer's status side (k3s ServiceLB-like), pure: which
// status.loadBalancer a LoadBalancer Service should carry. The proxy opens the ports itself (see
// service_port.ts); whoever owns an API client writes this status when it differs.

import type { LoadBalancerStatus, Node } from '../api/types/core_v1.ts';
import { isIPv4 } from './service_port.ts';
import type { Service } from './types.ts';

/** True if the built-in load balancer serves this Service (LoadBalancer without a loadBalancerClass). */
export function handledByServiceLB(service: Service): boolean {
  return service.spec?.type === 'LoadBalancer' && !service.spec.loadBalancerClass;
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The status the Service should have: one ingress entry (ipMode VIP) per Ready, schedulable node,
 * with the node's ExternalIPs when any node has one, else InternalIPs (as ServiceLB does); null for
 * Services the built-in load balancer does not handle.
 */
export function serviceLBStatus(service: Service, nodes: readonly Node[]): LoadBalancerStatus | null {
  if (!handledByServiceLB(service)) return null;
  const usable = nodes.filter((n) => isReady(n) && !n.spec?.unschedulable);
  const addrs = (type: string): string[] =>
    usable.flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === type && isIPv4(a.address)).map((a) => a.address));
  const external = addrs('ExternalIP');
  const ips = [...new Set(external.length > 0 ? external : addrs('InternalIP'))].sort();
  return ips.length > 0 ? { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } : {};
}

/** Whether two statuses list the same ingress entries (order-insensitive). */
export function loadBalancerStatusEqual(a: LoadBalancerStatus | undefined, b: LoadBalancerStatus | undefined): boolean {
  const key = (s: LoadBalancerStatus | undefined): string =>
    JSON.stringify((s?.ingress ?? []).map((i) => `${i.ip ?? ''}|${i.hostname ?? ''}|${i.ipMode ?? ''}`).sort());
  return key(a) === key(b);
}
