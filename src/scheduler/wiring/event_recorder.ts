// The scheduler's EventRecorder seam over the client's event broadcaster: one recorder per
// profile whose component is the profile's schedulerName ("default-scheduler"), as upstream
// reports events under the scheduler name of the pod's profile.

import type { Pod } from '../../api/types/core_v1.ts';
import type { EventBroadcaster, EventRecorder as ClientRecorder } from '../../client/events.ts';
import { DefaultSchedulerName } from '../config.ts';
import type { EventRecorder } from '../scheduler.ts';

/** Routes each event to the recorder of the pod's scheduler name. */
export class ProfileEventRecorder implements EventRecorder {
  readonly #broadcaster: EventBroadcaster;
  readonly #recorders = new Map<string, ClientRecorder>();

  constructor(broadcaster: EventBroadcaster) {
    this.#broadcaster = broadcaster;
  }

  eventf(regarding: Pod, _related: Pod | null, type: 'Normal' | 'Warning', reason: string, _action: string, message: string): void {
    this.record(regarding.spec?.schedulerName || DefaultSchedulerName, regarding, type, reason, message);
  }

  /** Records an event about `pod` as `component` (a profile's scheduler name). */
  record(component: string, pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    let rec = this.#recorders.get(component);
    if (rec === undefined) {
      rec = this.#broadcaster.newRecorder({ component });
      this.#recorders.set(component, rec);
    }
    // Assumed pods are copies that may lack TypeMeta; the event needs it for its reference.
    const obj = pod.kind !== undefined && pod.apiVersion !== undefined ? pod : { ...pod, apiVersion: 'v1', kind: 'Pod' };
    // event(), not eventf(): scheduler messages are final text and may contain '%'.
    rec.event(obj, type, reason, message);
  }
}
