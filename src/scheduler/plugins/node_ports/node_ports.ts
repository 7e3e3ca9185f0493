// NodePorts (plugins/nodeports): a pod asking for host ports fits only nodes where no other pod holds
// the same port and protocol on the same (or the wildcard) host IP.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  asStatus,
  newStatus,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Plugin,
  type PluginStatus,
  type PreFilterPlugin,
  type PreFilterResult,
} from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { hostPortsOf, type HostPort } from '../../framework/pod_info.ts';

export const Name = 'NodePorts';
/** The Filter reason. */
export const ErrReason = "node(s) didn't have free ports for the requested pod ports";
const preFilterStateKey = `PreFilter${Name}`;

class PreFilterState implements StateData {
  readonly ports: readonly HostPort[];
  constructor(ports: readonly HostPort[]) {
    this.ports = ports;
  }
  clone(): StateData {
    return this;
  }
}

/** True when none of the wanted ports is taken on the node (fitsPorts). */
export function fitsPorts(want: readonly HostPort[], nodeInfo: NodeInfo): boolean {
  for (const p of want) if (nodeInfo.usedPorts.checkConflict(p.ip, p.protocol, p.port)) return false;
  return true;
}

/** Host port conflicts. */
export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = Name;

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      { event: { resource: EventResource.AssignedPod, actionType: ActionType.Delete } },
      { event: { resource: EventResource.Node, actionType: ActionType.Add | ActionType.Update } },
    ];
  }

  preFilter(state: CycleState, pod: Pod): readonly [PreFilterResult | null, PluginStatus] {
    const ports = hostPortsOf(pod);
    if (ports.length === 0) return [null, newStatus(Code.Skip)];
    state.write(preFilterStateKey, new PreFilterState(ports));
    return [null, null];
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (s === undefined) return asStatus(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    if (!fitsPorts(s.ports, nodeInfo)) return newStatus(Code.Unschedulable, ErrReason);
    return null;
  }
}

export function newNodePorts(): Plugin {
  return new NodePorts();
}
