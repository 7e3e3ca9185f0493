// The labels and annotations the kubelet puts on CRI sandboxes and containers, named as upstream's
// kubelet names them, so a restarted agent (or crictl) can tell which pod and container each one
// belongs to, its restart count, spec hash and grace period, without any state of its own.
import { createHash } from 'node:crypto';
import type { Container, Pod } from '../api/types/core_v1.ts';
import type { StringMap } from './cri/messages.ts';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';
export const CONTAINER_RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
export const CONTAINER_PORTS_ANNOTATION = 'io.kubernetes.container.ports';
export const CONTAINER_TYPE_ANNOTATION = 'io.kubernetes.container.type';
export const POD_DELETION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.deletionGracePeriod';
export const POD_TERMINATION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';

/** Values of CONTAINER_TYPE_ANNOTATION. */
export const ContainerType = { Init: 'init', Container: 'container', Ephemeral: 'ephemeral' } as const;
export type ContainerType = (typeof ContainerType)[keyof typeof ContainerType];

/** The sandbox's labels: the pod's own labels plus its name, namespace and UID. */
export function newPodLabels(pod: Pod): StringMap {
  return {
    ...pod.metadata?.labels,
    [POD_NAME_LABEL]: pod.metadata?.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata?.uid ?? '',
  };
}

/** A container's labels: which pod and which container of its spec. */
export function newContainerLabels(container: Container, pod: Pod): StringMap {
  return {
    [POD_NAME_LABEL]: pod.metadata?.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata?.uid ?? '',
    [CONTAINER_NAME_LABEL]: container.name,
  };
}

/**
 * A stable hash of a container's spec. Upstream hashes the Go struct; ours hashes canonical JSON, so
 * the value differs from upstream's but is equally stable across agent restarts.
 */
export function hashContainer(container: Container): string {
  return createHash('sha256').update(canonicalJson(container)).digest('hex').slice(0, 8);
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A container's annotations (upstream's newContainerAnnotations). */
export function newContainerAnnotations(container: Container, pod: Pod, restartCount: number, type: ContainerType): StringMap {
  const a: StringMap = {
    [CONTAINER_HASH_ANNOTATION]: hashContainer(container),
    [CONTAINER_RESTART_COUNT_ANNOTATION]: String(restartCount),
    [CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION]: container.terminationMessagePath ?? '',
    [CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? '',
    [CONTAINER_TYPE_ANNOTATION]: type,
  };
  if (pod.metadata?.deletionGracePeriodSeconds !== undefined) a[POD_DELETION_GRACE_PERIOD_ANNOTATION] = String(pod.metadata.deletionGracePeriodSeconds);
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) a[POD_TERMINATION_GRACE_PERIOD_ANNOTATION] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.ports && container.ports.length > 0) a[CONTAINER_PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return a;
}

/** An integer annotation, or `fallback` when absent or malformed. */
export function intAnnotation(annotations: StringMap | undefined, key: string, fallback = 0): number {
  const v = annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return fallback;
  return Number(v);
}
