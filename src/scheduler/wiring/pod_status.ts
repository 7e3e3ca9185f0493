// Pod status writes of the scheduler (util.PatchPodStatus): the PodScheduled condition and
// status.nominatedNodeName as a strategic-merge patch on pods/status carrying only what changed
// (conditions merge by type), retried on transient failures as upstream's DefaultBackoff does.

import type { Pod, PodCondition } from '../../api/types/core_v1.ts';
import {
  isConnectionError,
  isInternalError,
  isServiceUnavailable,
  isTimeout,
} from '../../client/api_errors.ts';
import { sleep, type Clock } from '../../client/clock.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import type { PodStatusUpdate, PodStatusUpdater } from '../scheduler.ts';

/** The strategic-merge patch for `update` against `pod`, or null when nothing would change. */
export function podStatusPatch(pod: Pod, update: PodStatusUpdate): { status: Record<string, unknown> } | null {
  const status: Record<string, unknown> = {};
  if (update.conditions !== undefined) {
    const old = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c] as const));
    const changed = update.conditions.filter((c) => !sameCondition(old.get(c.type), c));
    if (changed.length > 0) status['conditions'] = changed;
  }
  if (update.nominatedNodeName !== undefined && update.nominatedNodeName !== (pod.status?.nominatedNodeName ?? '')) {
    // null deletes the field, as the two-way merge patch from "set" to "empty" does.
    status['nominatedNodeName'] = update.nominatedNodeName === '' ? null : update.nominatedNodeName;
  }
  return Object.keys(status).length === 0 ? null : { status };
}

function sameCondition(a: PodCondition | undefined, b: PodCondition): boolean {
  if (a === undefined) return false;
  return a.status === b.status && (a.reason ?? '') === (b.reason ?? '') && (a.message ?? '') === (b.message ?? '') &&
    (a.lastTransitionTime ?? null) === (b.lastTransitionTime ?? null) && (a.lastProbeTime ?? null) === (b.lastProbeTime ?? null);
}

/** Errors worth another try (upstream's Retriable: network trouble, timeouts, 500 and 503). */
export function retriable(err: unknown): boolean {
  return isConnectionError(err) || isTimeout(err) || isServiceUnavailable(err) || isInternalError(err);
}

/** retry.DefaultBackoff: 4 tries, 10 ms then x5. */
export async function withRetries<T>(clock: Clock, fn: () => Promise<T>): Promise<T> {
  let delay = 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 4 || !retriable(err)) throw err;
      await sleep(clock, delay);
      delay *= 5;
    }
  }
}

/** Patches pods/status of `pod` with `patch` (no-op for null). */
export async function patchPodStatus(pods: ResourceClient<Pod>, clock: Clock, pod: Pod, patch: { status: Record<string, unknown> } | null): Promise<void> {
  if (patch === null) return;
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  await withRetries(clock, () => pods.inNamespace(ns).patchStatus(name, 'strategic', patch));
}

/** The PodStatusUpdater seam over the API. */
export class ApiPodStatusUpdater implements PodStatusUpdater {
  readonly #pods: ResourceClient<Pod>;
  readonly #clock: Clock;

  constructor(pods: ResourceClient<Pod>, clock: Clock) {
    this.#pods = pods;
    this.#clock = clock;
  }

  updatePodStatus(pod: Pod, update: PodStatusUpdate): Promise<void> {
    return patchPodStatus(this.#pods, this.#clock, pod, podStatusPatch(pod, update));
  }
}
