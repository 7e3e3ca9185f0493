// NodeName (plugins/nodename): a pod that names its node (spec.nodeName) fits only that node.

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

export const Name = 'NodeName';
/** The Filter reason. */
export const ErrReason = "node(s) didn't match the requested node name";

/** Checks spec.nodeName against the node. */
export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = Name;

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [{ event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.Update } }];
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    if (!fits(pod, nodeInfo)) return newStatus(Code.UnschedulableAndUnresolvable, ErrReason);
    return null;
  }
}

/** True when the pod names no node or names this one. */
export function fits(pod: Pod, nodeInfo: NodeInfo): boolean {
  const want = pod.spec?.nodeName ?? '';
  return want === '' || want === nodeInfo.name;
}

export function newNodeName(): Plugin {
  return new NodeName();
}
