// The in-tree plugin registry (plugins/registry.go NewInTreeRegistry): every plugin name a profile
// may use, mapped to its factory. Plugins that upstream has and tkube does not (VolumeRestrictions,
// NodeVolumeLimits, VolumeZone, DynamicResources) are absent; naming them in a profile is an error.

import type { PluginFactory } from '../framework/interface.ts';
import type { Registry } from '../framework/registry.ts';
import { newDefaultBinder } from './default_binder/default_binder.ts';
import { newDefaultPreemption } from './default_preemption/default_preemption.ts';
import { newImageLocality } from './image_locality/image_locality.ts';
import { newInterPodAffinity } from './inter_pod_affinity/inter_pod_affinity.ts';
import { newNodeAffinity } from './node_affinity/node_affinity.ts';
import { newNodeName } from './node_name/node_name.ts';
import { newNodePorts } from './node_ports/node_ports.ts';
import { newBalancedAllocation } from './node_resources_balanced_allocation/node_resources_balanced_allocation.ts';
import { newNodeResourcesFit } from './node_resources_fit/node_resources_fit.ts';
import { newNodeUnschedulable } from './node_unschedulable/node_unschedulable.ts';
import { newPodTopologySpread } from './pod_topology_spread/pod_topology_spread.ts';
import { newPrioritySort } from './priority_sort/priority_sort.ts';
import { newSchedulingGates } from './scheduling_gates/scheduling_gates.ts';
import { newTaintToleration } from './taint_toleration/taint_toleration.ts';
import { newVolumeBinding } from './volume_binding/volume_binding.ts';

/** Plugin names as profiles spell them. */
export const PluginNames = {
  SchedulingGates: 'SchedulingGates',
  PrioritySort: 'PrioritySort',
  NodeUnschedulable: 'NodeUnschedulable',
  NodeName: 'NodeName',
  TaintToleration: 'TaintToleration',
  NodeAffinity: 'NodeAffinity',
  NodePorts: 'NodePorts',
  NodeResourcesFit: 'NodeResourcesFit',
  VolumeBinding: 'VolumeBinding',
  PodTopologySpread: 'PodTopologySpread',
  InterPodAffinity: 'InterPodAffinity',
  DefaultPreemption: 'DefaultPreemption',
  NodeResourcesBalancedAllocation: 'NodeResourcesBalancedAllocation',
  ImageLocality: 'ImageLocality',
  DefaultBinder: 'DefaultBinder',
} as const;

/** The in-tree plugins. */
export function inTreeRegistry(): Registry {
  const r = new Map<string, PluginFactory>([
    [PluginNames.SchedulingGates, newSchedulingGates],
    [PluginNames.PrioritySort, newPrioritySort],
    [PluginNames.NodeUnschedulable, newNodeUnschedulable],
    [PluginNames.NodeName, newNodeName],
    [PluginNames.TaintToleration, newTaintToleration],
    [PluginNames.NodeAffinity, newNodeAffinity],
    [PluginNames.NodePorts, newNodePorts],
    [PluginNames.NodeResourcesFit, newNodeResourcesFit],
    [PluginNames.VolumeBinding, newVolumeBinding],
    [PluginNames.PodTopologySpread, newPodTopologySpread],
    [PluginNames.InterPodAffinity, newInterPodAffinity],
    [PluginNames.DefaultPreemption, newDefaultPreemption],
    [PluginNames.NodeResourcesBalancedAllocation, newBalancedAllocation],
    [PluginNames.ImageLocality, newImageLocality],
    [PluginNames.DefaultBinder, newDefaultBinder],
  ]);
  return r;
}
