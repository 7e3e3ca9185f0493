// NodeResourcesBalancedAllocation (plugins/noderesources/balanced_allocation.go): prefers nodes whose
// cpu and memory utilization would stay close to each other with the pod on them, scoring
// (1 - standard deviation of the utilization fractions) * 100.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState, StateData } from '../../framework/cycle_state.ts';
import { MaxNodeScore, type Plugin, type PluginStatus, type PreScorePlugin, type ScorePlugin } from '../../framework/interface.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { ResourceAllocationScorer, defaultResourceSpecs, type ResourceSpec } from '../../framework/resource_allocation.ts';

export const Name = 'NodeResourcesBalancedAllocation';
const preScoreStateKey = `PreScore${Name}`;

/** NodeResourcesBalancedAllocationArgs. */
export interface BalancedAllocationArgs {
  resources?: ResourceSpec[];
}

class PreScoreState implements StateData {
  readonly podRequests: readonly number[];
  constructor(r: readonly number[]) {
    this.podRequests = r;
  }
  clone(): StateData {
    return this;
  }
}

/** 100 * (1 - std of the requested/allocatable fractions), fractions capped at 1. */
export function balancedResourceScorer(requested: Float64Array, allocatable: Float64Array): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const alloc = allocatable[i] as number;
    if (alloc === 0) continue;
    const f = Math.min((requested[i] as number) / alloc, 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] as number) - (fractions[1] as number)) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MaxNodeScore);
}

/** Balanced cpu/memory utilization. */
export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = Name;
  private readonly scorer: ResourceAllocationScorer;

  constructor(args: BalancedAllocationArgs = {}) {
    const resources = args.resources && args.resources.length > 0 ? args.resources : defaultResourceSpecs;
    this.scorer = new ResourceAllocationScorer(resources, balancedResourceScorer, true);
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    state.write(preScoreStateKey, new PreScoreState(this.scorer.podRequestList(pod)));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const requests = state.read<PreScoreState>(preScoreStateKey)?.podRequests ?? this.scorer.podRequestList(pod);
    return this.scorer.score(nodeInfo, requests);
  }
}

export function newBalancedAllocation(args: unknown): Plugin {
  return new BalancedAllocation((args ?? {}) as BalancedAllocationArgs);
}
