// Contracts of the Service proxy (src/proxy): the node it runs on, the Service and EndpointSlice
// objects the informers hand in, and the per-service-port and per-endpoint facts the pure rules
// renderer works from (kube-proxy's ServicePort and Endpoint, pkg/proxy/{serviceport,endpoint}.go).

import type { Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';

export type { Service, EndpointSlice };

/** The node the proxy programs, and the cluster ranges it must know about. */
export interface NodeInfo {
  /** Node name, compared with EndpointSlice endpoints' nodeName to find local endpoints. */
  name: string;
  /** The node's IPv4 addresses (NodePorts and the built-in load balancer listen on these). */
  ips: readonly string[];
  /** Pod CIDR of the whole cluster (10.42.0.0/16): traffic from outside it is masqueraded. */
  clusterCIDR: string;
  /** Service CIDR (10.43.0.0/16). */
  serviceCIDR?: string;
}

/** Options of the pure renderer; defaults come from `defaultRulesConfig`. */
export interface RulesConfig {
  /** Node name, to tell local endpoints apart. */
  nodeName: string;
  /** The node's IPs; LoadBalancer services without a loadBalancerClass are opened on them. */
  nodeIPs: readonly string[];
  /** Cluster pod CIDR; `! -s CIDR` decides which ClusterIP traffic is masqueraded. */
  clusterCIDR: string;
  /** Service CIDR; traffic to its addresses that no Service rule took is rejected (null: no rule). */
  serviceCIDR: string | null;
  /** 'all' (every local address, upstream's empty --nodeport-addresses) or explicit IPs. */
  nodePortAddresses: 'all' | readonly string[];
  /** NodePorts answer on 127.0.0.1 too (needs route_localnet=1, guarded by KUBE-FIREWALL). */
  localhostNodePorts: boolean;
  /** Masquerade all ClusterIP traffic (upstream --masquerade-all). */
  masqueradeAll: boolean;
  /** The fwmark bit for SNAT, as upstream prints it (bit 14: 0x4000). */
  masqueradeMark: string;
  /** MASQUERADE gets --random-fully (iptables >= 1.6.2). */
  randomFully: boolean;
  /** nf_conntrack_tcp_be_liberal is set, so INVALID packets are not dropped. */
  conntrackTCPLiberal: boolean;
  /** Built-in service load balancer (k3s ServiceLB-like): LoadBalancer ports open on this node. */
  serviceLoadBalancer: boolean;
}

/** Protocols a Service port can carry. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One port of one Service, flattened with the Service-wide facts the rules need. */
export interface ServicePortInfo {
  /** "namespace/name", the key of the Service. */
  serviceKey: string;
  /** "namespace/name:portName" (no ":" when the port is unnamed), upstream's ServicePortName. */
  nameString: string;
  /** The port's name ('' when unnamed); EndpointSlice ports are matched by it. */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the Service has no NodePort. */
  nodePort: number;
  externalIPs: readonly string[];
  /** status.loadBalancer.ingress IPs plus, for the built-in load balancer, this node's addresses. */
  loadBalancerVIPs: readonly string[];
  loadBalancerSourceRanges: readonly string[];
  /** 0 when none. */
  healthCheckNodePort: number;
  sessionAffinityClientIP: boolean;
  /** sessionAffinityConfig.clientIP.timeoutSeconds (default 10800). */
  stickyMaxAgeSeconds: number;
  /** externalTrafficPolicy Local on a NodePort or LoadBalancer Service. */
  externalPolicyLocal: boolean;
  /** internalTrafficPolicy Local. */
  internalPolicyLocal: boolean;
}

/** One backend of one service port, as the EndpointSlices describe it. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port", the identity of the endpoint. */
  endpoint: string;
  nodeName: string;
  /** On this node. */
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** Service ports by `servicePortKey`. */
export type ServicePortMap = Map<string, ServicePortInfo>;
/** Endpoints by `servicePortKey`, each list sorted by "ip:port". */
export type EndpointsMap = Map<string, EndpointInfo[]>;

/** Map key joining a service port with its endpoints: upstream's ServicePortName with protocol. */
export function servicePortKey(serviceKey: string, portName: string, protocol: string): string {
  return `${serviceKey}:${portName}/${protocol}`;
}

/** What the informers call on Service events (upstream's config.ServiceHandler). */
export interface ServiceHandler {
  onServiceAdd(service: Service): void;
  onServiceUpdate(oldService: Service, service: Service): void;
  onServiceDelete(service: Service): void;
  /** The initial list has been delivered. */
  onServicesSynced(): void;
}

/** What the informers call on EndpointSlice events (upstream's config.EndpointSliceHandler). */
export interface EndpointSliceHandler {
  onEndpointSliceAdd(slice: EndpointSlice): void;
  onEndpointSliceUpdate(oldSlice: EndpointSlice, slice: EndpointSlice): void;
  onEndpointSliceDelete(slice: EndpointSlice): void;
  /** The initial list has been delivered. */
  onEndpointSlicesSynced(): void;
}

/** Result of running one external command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs commands for the apply step; tests prefix `ip netns exec NS` or record calls. */
export interface CommandRunner {
  run(cmd: string, args: readonly string[], opts?: { input?: string }): Promise<ExecResult>;
}
