// From API objects to the renderer's inputs: a Pod becomes a PodInfo (or nothing, when policies
// cannot see it: host network, no IPv4 address yet, finished), a Namespace its labels.

import type { Namespace, Pod } from '../api/types/core_v1.ts';
import { parseIPv4 } from './cidr.ts';
import type { NamedPort, NamespaceInfo, PodInfo, Protocol } from './types.ts';

/** The label the apiserver sets on every namespace (NamespaceDefaultLabelName). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function protocolOf(p: string | undefined): Protocol | undefined {
  const v = p ?? 'TCP';
  return v === 'TCP' || v === 'UDP' || v === 'SCTP' ? v : undefined;
}

/**
 * The pod as policies see it, or undefined when policies do not apply to it: host-network pods
 * (their address is the node's, which is always allowed), pods without an IPv4 pod IP, and
 * Succeeded or Failed pods, whose addresses may already belong to someone else.
 */
export function podInfoFromPod(pod: Pod): PodInfo | undefined {
  const meta = pod.metadata ?? {};
  if (!meta.name || !meta.namespace) return undefined;
  if (pod.spec?.hostNetwork) return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const listed = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string');
  const all = listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : [];
  const ips = [...new Set(all.filter((ip) => parseIPv4(ip) !== null))];
  if (ips.length === 0) return undefined;
  const namedPorts: NamedPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      const protocol = protocolOf(p.protocol);
      if (p.name && protocol) namedPorts.push({ name: p.name, port: p.containerPort, protocol });
    }
  }
  return { namespace: meta.namespace, name: meta.name, labels: { ...(meta.labels ?? {}) }, ips, nodeName: pod.spec?.nodeName ?? '', namedPorts };
}

/** The namespace's labels, with the name label even when an old object lacks it. */
export function namespaceInfoFromNamespace(ns: Namespace): NamespaceInfo | undefined {
  const name = ns.metadata?.name;
  if (!name) return undefined;
  return { name, labels: { ...(ns.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name } };
}
