// NodeResourcesFit's scoring strategies (least_allocated.go, most_allocated.go,
// requested_to_capacity_ratio.go): each turns per-resource requested/allocatable values into a
// weighted 0..100 score with upstream's integer arithmetic.

import { MaxNodeScore } from '../../framework/interface.ts';
import type { ResourceScorer, ResourceSpec } from '../../framework/resource_allocation.ts';

/** A point of the RequestedToCapacityRatio shape: utilization 0..100 -> score 0..10. */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** ScoringStrategy of NodeResourcesFitArgs. */
export interface ScoringStrategy {
  type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
  resources?: ResourceSpec[];
  requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
}

/** The highest score a shape point may give (MaxCustomPriorityScore). */
export const MaxCustomPriorityScore = 10;
const maxUtilization = 100;

/** (capacity - requested) * 100 / capacity, 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MaxNodeScore) / capacity);
}

/** requested * 100 / capacity, with requested capped at capacity. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.trunc((Math.min(requested, capacity) * MaxNodeScore) / capacity);
}

function weightedAverage(perResource: (requested: number, capacity: number) => number): ResourceScorer {
  return (requested, allocatable, resources) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const alloc = allocatable[i] as number;
      if (alloc === 0) continue;
      const weight = (resources[i] as ResourceSpec).weight;
      nodeScore += perResource(requested[i] as number, alloc) * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** The broken-line function through the shape's points (helper.BuildBrokenLinearFunction). */
export function brokenLinearFunction(shape: readonly { utilization: number; score: number }[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      const cur = shape[i] as { utilization: number; score: number };
      if (p <= cur.utilization) {
        if (i === 0) return cur.score;
        const prev = shape[i - 1] as { utilization: number; score: number };
        return prev.score + Math.trunc(((cur.score - prev.score) * (p - prev.utilization)) / (cur.utilization - prev.utilization));
      }
    }
    return (shape[shape.length - 1] as { score: number }).score;
  };
}

function requestedToCapacityRatioScorer(shape: readonly UtilizationShapePoint[]): ResourceScorer {
  const scaled = shape.map((p) => ({ utilization: p.utilization, score: p.score * (MaxNodeScore / MaxCustomPriorityScore) }));
  const raw = brokenLinearFunction(scaled);
  const perResource = (requested: number, capacity: number): number =>
    capacity === 0 || requested > capacity ? raw(maxUtilization) : raw(Math.trunc((requested * maxUtilization) / capacity));
  return (requested, allocatable, resources) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const alloc = allocatable[i] as number;
      if (alloc === 0) continue;
      const weight = (resources[i] as ResourceSpec).weight;
      const s = perResource(requested[i] as number, alloc);
      if (s > 0) {
        nodeScore += s * weight;
        weightSum += weight;
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/** The scorer for a strategy. */
export function scorerFor(strategy: ScoringStrategy): ResourceScorer {
  switch (strategy.type) {
    case 'MostAllocated': return weightedAverage(mostRequestedScore);
    case 'RequestedToCapacityRatio': return requestedToCapacityRatioScorer(strategy.requestedToCapacityRatio?.shape ?? []);
    default: return weightedAverage(leastRequestedScore);
  }
}
