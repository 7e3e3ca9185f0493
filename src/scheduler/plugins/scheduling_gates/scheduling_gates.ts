// SchedulingGates (plugins/schedulinggates): a pod with spec.schedulingGates waits outside the active
// queue until every gate is removed.

import type { Pod } from '../../../api/types/core_v1.ts';
import {
  ActionType,
  Code,
  EventResource,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type Plugin,
  type PluginStatus,
  type PreEnqueuePlugin,
} from '../../framework/interface.ts';

export const Name = 'SchedulingGates';

/** Holds gated pods back. */
export class SchedulingGates implements PreEnqueuePlugin, EnqueueExtensions {
  readonly name = Name;

  preEnqueue(pod: Pod): PluginStatus {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return null;
    return newStatus(Code.UnschedulableAndUnresolvable, `waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [{ event: { resource: EventResource.Pod, actionType: ActionType.UpdatePodSchedulingGatesEliminated } }];
  }
}

export function newSchedulingGates(): Plugin {
  return new SchedulingGates();
}
