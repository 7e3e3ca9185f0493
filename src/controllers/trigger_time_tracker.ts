// The last-change trigger time of a Service's endpoints (upstream endpointsliceutil
// TriggerTimeTracker): the earliest change, among pods and the Service, not yet reflected in its
// Endpoints, published as the endpoints.kubernetes.io/last-change-trigger-time annotation.
import type { Pod, Service } from '../api/types/core_v1.ts';
import { podReadyCondition } from './endpoint_pod_util.ts';

interface State {
  serviceTime: string;
  podTimes: Map<string, string>;
}

/** Remembers, per Service, which pod and Service change times it has already reported. */
export class TriggerTimeTracker {
  #states = new Map<string, State>();

  /** The earliest new trigger time for `key` (RFC 3339), or undefined when nothing changed. */
  computeEndpointLastChangeTriggerTime(key: string, service: Service, pods: readonly Pod[]): string | undefined {
    const state = this.#states.get(key);
    const next: State = { serviceTime: service.metadata?.creationTimestamp ?? '', podTimes: new Map() };
    let min: string | undefined;
    const consider = (t: string): void => {
      if (t !== '' && (min === undefined || Date.parse(t) < Date.parse(min))) min = t;
    };
    if (!state || state.serviceTime !== next.serviceTime) consider(next.serviceTime);
    for (const pod of pods) {
      const t = podReadyCondition(pod)?.lastTransitionTime ?? '';
      const name = pod.metadata?.name ?? '';
      next.podTimes.set(name, t);
      if (!state || state.podTimes.get(name) !== t) consider(t);
    }
    this.#states.set(key, next);
    return min;
  }

  /** Forgets a deleted Service. */
  deleteService(key: string): void {
    this.#states.delete(key);
  }
}
