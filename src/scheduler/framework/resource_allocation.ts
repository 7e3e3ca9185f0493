// The resource-allocation scorer shared by NodeResourcesFit's scoring strategies and
// NodeResourcesBalancedAllocation (noderesources/resource_allocation.go): for each configured
// resource, what the node could give and what it would hold with the pod, fed to a scorer function.
// Scratch arrays are reused across nodes so the Score loop allocates nothing.

import type { Pod } from '../../api/types/core_v1.ts';
import type { NodeInfo } from './node_info.ts';
import { isScalarResourceName, podRequests, type Resource } from './resources.ts';

/** A resource and its weight in a scoring strategy (config.ResourceSpec). */
export interface ResourceSpec {
  readonly name: string;
  readonly weight: number;
}

/** cpu and memory with weight 1, the default for every resource scorer. */
export const defaultResourceSpecs: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** Turns per-resource requested/allocatable values into a 0..100 node score. */
export type ResourceScorer = (requested: Float64Array, allocatable: Float64Array, resources: readonly ResourceSpec[]) => number;

function resourceValue(r: Resource, name: string): number {
  switch (name) {
    case 'cpu': return r.milliCPU;
    case 'memory': return r.memory;
    case 'ephemeral-storage': return r.ephemeralStorage;
    default: return r.scalar(name);
  }
}

/** Scores nodes by how their resources would be allocated with the pod on them. */
export class ResourceAllocationScorer {
  readonly resources: readonly ResourceSpec[];
  /** Count requests as they are (true) or with the scoring defaults for missing cpu/memory (false). */
  readonly useRequested: boolean;
  private readonly scorer: ResourceScorer;
  private readonly requested: Float64Array;
  private readonly allocatable: Float64Array;

  constructor(resources: readonly ResourceSpec[], scorer: ResourceScorer, useRequested: boolean) {
    this.resources = resources;
    this.scorer = scorer;
    this.useRequested = useRequested;
    this.requested = new Float64Array(resources.length);
    this.allocatable = new Float64Array(resources.length);
  }

  /** The pod's request for each configured resource (calculatePodResourceRequestList). */
  podRequestList(pod: Pod): number[] {
    const r = podRequests(pod, !this.useRequested);
    return this.resources.map((spec) => resourceValue(r, spec.name));
  }

  /** The node's score for a pod with these requests. */
  score(nodeInfo: NodeInfo, podRequestList: readonly number[]): number {
    const n = this.resources.length;
    for (let i = 0; i < n; i++) {
      const name = (this.resources[i] as ResourceSpec).name;
      const podRequest = podRequestList[i] as number;
      this.allocatable[i] = 0;
      this.requested[i] = 0;
      // A scalar resource the pod does not ask for is left out of the score.
      if (podRequest === 0 && isScalarResourceName(name)) continue;
      const requested = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
      switch (name) {
        case 'cpu':
          this.allocatable[i] = nodeInfo.allocatable.milliCPU;
          this.requested[i] = requested.milliCPU + podRequest;
          break;
        case 'memory':
          this.allocatable[i] = nodeInfo.allocatable.memory;
          this.requested[i] = requested.memory + podRequest;
          break;
        case 'ephemeral-storage':
          this.allocatable[i] = nodeInfo.allocatable.ephemeralStorage;
          this.requested[i] = nodeInfo.requested.ephemeralStorage + podRequest;
          break;
        default:
          if (nodeInfo.allocatable.scalarResources?.has(name)) {
            this.allocatable[i] = nodeInfo.allocatable.scalar(name);
            this.requested[i] = nodeInfo.requested.scalar(name) + podRequest;
          }
      }
      if (this.allocatable[i] === 0) this.requested[i] = 0;
    }
    return this.scorer(this.requested, this.allocatable, this.resources);
  }
}
