// Builders of Pods, Namespaces and NetworkPolicies as the API returns them, and a small cluster
// used by the golden tests. Imported only by *_test.ts.

import type { Namespace, Pod } from '../api/types/core_v1.ts';
import type { NetworkPolicy, NetworkPolicySpec } from '../api/types/networking_v1.ts';
import { namespaceInfoFromNamespace, podInfoFromPod } from './inputs.ts';
import type { NamespaceInfo, NetpolState, PodInfo } from './types.ts';

/** What a test says about a pod. */
export interface PodInput {
  namespace?: string;
  name: string;
  ip: string;
  node?: string;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number; protocol?: string }[];
}

/** A running Pod object. */
export function makePod(p: PodInput): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: p.namespace ?? 'default', name: p.name, labels: p.labels ?? {} },
    spec: { nodeName: p.node ?? 'node-a', containers: [{ name: 'c', image: 'busybox', ports: p.ports ?? [] }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  };
}

/** A Namespace object (the apiserver's name label added, as it does). */
export function makeNamespace(name: string, labels: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

/** A NetworkPolicy object. */
export function makePolicy(namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

/** The renderer's state from API objects, through inputs.ts. */
export function stateOf(pods: Pod[], namespaces: Namespace[], policies: NetworkPolicy[]): NetpolState {
  return {
    pods: pods.map(podInfoFromPod).filter((p): p is PodInfo => p !== undefined),
    namespaces: namespaces.map(namespaceInfoFromNamespace).filter((n): n is NamespaceInfo => n !== undefined),
    policies,
  };
}

/** Namespaces of the golden cluster. */
export const NAMESPACES = [
  makeNamespace('default'),
  makeNamespace('prod', { team: 'operations', project: 'myproject' }),
  makeNamespace('dev', { team: 'operations' }),
  makeNamespace('kube-system'),
];

/** Pods of the golden cluster: three on node-a (this node), the rest elsewhere. */
export const PODS = [
  makePod({ name: 'db', ip: '10.42.0.10', labels: { role: 'db' }, ports: [{ name: 'postgres', containerPort: 5432 }] }),
  makePod({ name: 'web', ip: '10.42.0.11', labels: { app: 'web', role: 'frontend' }, ports: [{ name: 'http', containerPort: 8080 }] }),
  makePod({ name: 'client', ip: '10.42.0.12', labels: { role: 'client' } }),
  makePod({ name: 'remote-frontend', ip: '10.42.1.20', node: 'node-b', labels: { role: 'frontend' } }),
  makePod({ namespace: 'prod', name: 'api', ip: '10.42.1.21', node: 'node-b', labels: { role: 'frontend' }, ports: [{ name: 'http', containerPort: 9090 }] }),
  makePod({ namespace: 'dev', name: 'tool', ip: '10.42.1.22', node: 'node-b', labels: { role: 'client' } }),
  makePod({
    namespace: 'kube-system',
    name: 'coredns',
    ip: '10.42.1.53',
    node: 'node-b',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53 }],
  }),
];
