// The PreemptionApi seam over the API (the Evaluator's PreemptPod and clearNominatedNodeName): a
// victim first gets the DisruptionTarget condition (reason PreemptionByScheduler), then is deleted
// with its own grace period, then a "Preempted" event is recorded on it.

import type { Pod, PodCondition } from '../../api/types/core_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { formatTime, type Clock } from '../../client/clock.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { DefaultSchedulerName } from '../config.ts';
import type { PreemptionApi } from '../scheduler.ts';
import type { ProfileEventRecorder } from './event_recorder.ts';
import { patchPodStatus, podStatusPatch, withRetries } from './pod_status.ts';

/** The DisruptionTarget condition a preempted pod gets. */
export function preemptionCondition(preemptor: Pod, now: string): PodCondition {
  return {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'PreemptionByScheduler',
    message: `${preemptor.spec?.schedulerName || DefaultSchedulerName}: preempting to accommodate a higher priority pod`,
    lastTransitionTime: now,
  };
}

/** Victim deletion and nomination clearing through the API. */
export class ApiPreemption implements PreemptionApi {
  readonly #pods: ResourceClient<Pod>;
  readonly #clock: Clock;
  readonly #events: ProfileEventRecorder;

  constructor(pods: ResourceClient<Pod>, clock: Clock, events: ProfileEventRecorder) {
    this.#pods = pods;
    this.#clock = clock;
    this.#events = events;
  }

  async preemptPod(victim: Pod, preemptor: Pod, nodeName: string): Promise<void> {
    const ns = victim.metadata?.namespace ?? '';
    const name = victim.metadata?.name ?? '';
    const wanted = preemptionCondition(preemptor, formatTime(this.#clock.now()));
    const existing = (victim.status?.conditions ?? []).find((c) => c.type === wanted.type);
    // UpdatePodCondition keeps the transition time when the status did not flip.
    if (existing !== undefined && existing.status === wanted.status && existing.lastTransitionTime) wanted.lastTransitionTime = existing.lastTransitionTime;
    try {
      await patchPodStatus(this.#pods, this.#clock, victim, podStatusPatch(victim, { conditions: [wanted] }));
      await withRetries(this.#clock, () => this.#pods.inNamespace(ns).delete(name));
    } catch (err) {
      // Already gone: the preemption has nothing left to do.
      if (isNotFound(err)) return;
      throw err;
    }
    this.#events.record(preemptor.spec?.schedulerName || DefaultSchedulerName, victim, 'Normal', 'Preempted',
      `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${nodeName}`);
  }

  async clearNominatedNodeName(pods: readonly Pod[]): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(pods.map(async (p) => {
      try {
        await patchPodStatus(this.#pods, this.#clock, p, podStatusPatch(p, { nominatedNodeName: '' }));
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
    }));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'clearing nominatedNodeName failed');
  }
}
