// The Node object a simulated node registers (labels, annotations, taints, and the variables its
// status stages read: addresses, capacity, versions, machine identity) and its Lease in
// kube-node-lease. The status itself comes from stages/node-initialize.yaml.
import { createHash } from 'node:crypto';
import type { Node, Taint } from '../api/types/core_v1.ts';
import type { Lease } from '../api/types/coordination_v1.ts';
import { KUBERNETES_VERSION } from '../base/version.ts';
import type { PodAddressPool } from './ip_pool.ts';

/** Marks nodes played by the simulator (as KWOK's `type: kwok`). */
export const SIMULATED_LABEL = 'node.tkube.io/simulated';
/** Namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's Lease duration (seconds). */
export const NODE_LEASE_DURATION_SECONDS = 40;
/** What simulated kubelets report as their version. */
export const SIM_KUBELET_VERSION = `${KUBERNETES_VERSION}+tkube`;

/** One simulated node. */
export interface SimNodeSpec {
  readonly name: string;
  /** InternalIP (never contacted). */
  readonly ip: string;
  readonly capacity: Readonly<Record<string, string>>;
  /** Default: the capacity. */
  readonly allocatable?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  /** topology.kubernetes.io/zone, when zones are simulated. */
  readonly zone?: string;
}

/** A simulated node at run time: what it is, and what the API server last told us about it. */
export interface SimNode {
  readonly spec: SimNodeSpec;
  /** The `node` variable of its stages (nodeVars). */
  readonly vars: Readonly<Record<string, unknown>>;
  readonly pods: PodAddressPool;
  /** The Node as last written or read. */
  current?: Node;
  /** The Lease as last written or read. */
  lease?: Lease;
}

function uuidFrom(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The `node` variable of node stages: stable identity derived from the name, so restarts report the same. */
export function nodeVars(spec: SimNodeSpec): Record<string, unknown> {
  const uuid = uuidFrom('system', spec.name);
  return {
    name: spec.name,
    ip: spec.ip,
    capacity: { ...spec.capacity },
    allocatable: { ...(spec.allocatable ?? spec.capacity) },
    kubeletVersion: SIM_KUBELET_VERSION,
    machineID: uuidFrom('machine', spec.name).replaceAll('-', ''),
    systemUUID: uuid,
    bootID: uuidFrom('boot', spec.name),
  };
}

/** The Node to create, without status (rendered from the node-initialize stage). */
export function nodeObject(spec: SimNodeSpec): Node {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    [SIMULATED_LABEL]: 'true',
    ...(spec.zone !== undefined ? { 'topology.kubernetes.io/zone': spec.zone } : {}),
    ...spec.labels,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: spec.taints && spec.taints.length > 0 ? { taints: spec.taints.map((t) => ({ ...t })) } : {},
  };
}

/** The node's Lease, owned by the Node so that deleting the node deletes it. */
export function leaseObject(nodeName: string, nodeUid: string | undefined, renewTime: string): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime },
  };
}

/** The status of the node's Ready condition ("True", "False", "Unknown"), if the node is known. */
export function nodeReadyStatus(node: Node | undefined): string | undefined {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}
