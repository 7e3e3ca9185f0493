// Contracts of NetworkPolicy enforcement (src/netpol): the pods, namespaces and policies the
// renderer works from (flattened from API objects by inputs.ts), its options, and the command
// runner the apply step uses. The renderer (rules.ts) is pure over these.

import type { NetworkPolicy } from '../api/types/networking_v1.ts';

export type { NetworkPolicy };

/** Protocols a NetworkPolicy port can name. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A named container port, for resolving a policy's named ports against a pod. */
export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

/** A pod as policies see it: only pods with an IPv4 address on the pod network, not finished. */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** IPv4 addresses of status.podIPs (the rules are IPv4 iptables only). */
  ips: readonly string[];
  /** spec.nodeName: pods on this node get firewall chains, every pod can be a peer. */
  nodeName: string;
  namedPorts: readonly NamedPort[];
}

/** A namespace's labels (with `kubernetes.io/metadata.name` always set, as the apiserver does). */
export interface NamespaceInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** Everything one render works from. */
export interface NetpolState {
  /** Pods of every node, keyed or not; order does not matter (output is sorted). */
  pods: Iterable<PodInfo>;
  namespaces: Iterable<NamespaceInfo>;
  policies: Iterable<NetworkPolicy>;
}

/** What a denied packet gets: REJECT answers at once (kube-router), DROP lets it time out (Calico). */
export type DenyAction = 'REJECT' | 'DROP';

/** Options of the pure renderer; defaults come from `defaultNetpolConfig`. */
export interface NetpolConfig {
  /** Node name: pods with this spec.nodeName get firewall chains. */
  nodeName: string;
  /** The packet mark bit a policy sets when it allows a packet (kube-router's value: 0x10000). */
  markBit: string;
  denyAction: DenyAction;
  /** The kernel has the sctp match; without it SCTP ports allow nothing but pods stay isolated. */
  sctp: boolean;
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
