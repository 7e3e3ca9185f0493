// Which endpoints a service port uses for Cluster and for Local traffic policy, with upstream's
// fallback to serving-terminating endpoints when no ready one exists (pkg/proxy/topology.go).
// Topology hints (trafficDistribution) are not applied: every ready endpoint is a cluster endpoint.

import type { EndpointInfo, ServicePortInfo } from './types.ts';

/** Reachable through a NodePort, a load balancer VIP or an external IP. */
export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length > 0 || sp.externalIPs.length > 0;
}

/** Sends some traffic by Cluster policy (external Local policy still short-circuits pod traffic). */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

/** Sends some traffic by Local policy. */
export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));
}

/** The endpoint sets a service port's rules are built from. */
export interface CategorizedEndpoints {
  /** Endpoints for Cluster policy; empty when the port never uses it. */
  clusterEndpoints: EndpointInfo[];
  /** Endpoints for Local policy; empty when the port never uses it. */
  localEndpoints: EndpointInfo[];
  /** Union of both: every endpoint that gets a KUBE-SEP chain, sorted by "ip:port". */
  allReachable: EndpointInfo[];
  /** Some usable endpoint exists somewhere in the cluster. */
  hasAnyEndpoints: boolean;
}

/** Splits `endpoints` as upstream's CategorizeEndpoints does. */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], sp: ServicePortInfo): CategorizedEndpoints {
  const out: CategorizedEndpoints = { clusterEndpoints: [], localEndpoints: [], allReachable: [], hasAnyEndpoints: false };
  if (endpoints.length === 0) return out;
  let mergedNeeded = false;
  if (usesClusterEndpoints(sp)) {
    out.clusterEndpoints = endpoints.filter((e) => e.ready);
    if (out.clusterEndpoints.length === 0) out.clusterEndpoints = endpoints.filter((e) => e.serving && e.terminating);
    if (out.clusterEndpoints.length > 0) out.hasAnyEndpoints = true;
  }
  if (!usesLocalEndpoints(sp)) {
    out.allReachable = out.clusterEndpoints;
    return out;
  }
  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      out.hasAnyEndpoints = true;
      if (e.isLocal) localReady = true;
    } else if (e.serving && e.terminating) {
      out.hasAnyEndpoints = true;
      if (e.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) {
    out.localEndpoints = endpoints.filter((e) => e.isLocal && e.ready);
  } else if (localServingTerminating) {
    mergedNeeded = true;
    out.localEndpoints = endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
  }
  if (!usesClusterEndpoints(sp)) {
    out.allReachable = out.localEndpoints;
    return out;
  }
  if (!mergedNeeded) {
    // Local endpoints are ready ones, and every ready endpoint is already a cluster endpoint.
    out.allReachable = out.clusterEndpoints;
    return out;
  }
  const byName = new Map<string, EndpointInfo>();
  for (const e of out.clusterEndpoints) byName.set(e.endpoint, e);
  for (const e of out.localEndpoints) byName.set(e.endpoint, e);
  out.allReachable = [...byName.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return out;
}
