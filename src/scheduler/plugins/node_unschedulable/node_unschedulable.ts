// NodeUnschedulable (plugins/nodeunschedulable): cordoned nodes (spec.unschedulable) take only pods
// that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Plugin,
  type PluginStatus,
} from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { tolerationsTolerateTaint } from '../../framework/taints.ts';

export const Name = 'NodeUnschedulable';
/** The Filter reason for a cordoned node. */
export const ErrReasonUnschedulable = 'node(s) were unschedulable';
/** The taint a cordoned node stands for. */
export const TaintNodeUnschedulable = 'node.kubernetes.io/unschedulable';

/** Keeps pods off cordoned nodes. */
export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = Name;

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.UpdateNodeTaint } },
      { event: { resource: EventResource.Pod, actionType: ActionType.UpdatePodTolerations } },
    ];
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    if (!nodeInfo.unschedulable) return null;
    if (tolerationsTolerateTaint(pod.spec?.tolerations, { key: TaintNodeUnschedulable, effect: 'NoSchedule' })) return null;
    return newStatus(Code.UnschedulableAndUnresolvable, ErrReasonUnschedulable);
  }
}

export function newNodeUnschedulable(): Plugin {
  return new NodeUnschedulable();
}
