// ImageLocality (plugins/imagelocality): prefers nodes that already have the pod's images, weighting
// each image's size by how widely it is spread so popular images do not pull every pod to one node.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState } from '../../framework/cycle_state.ts';
import { MaxNodeScore, type Handle, type Plugin, type ScorePlugin } from '../../framework/interface.ts';
import type { ImageStateSummary, NodeInfo } from '../../framework/node_info.ts';

export const Name = 'ImageLocality';

const mb = 1024 * 1024;
/** Below this total the score is 0. */
export const minThreshold = 23 * mb;
/** Above this per container the score is maximal. */
export const maxContainerThreshold = 1000 * mb;

/** Adds ":latest" when the name has no tag, as the kubelet reports image names. */
export function normalizedImageName(name: string): string {
  if (name.lastIndexOf(':') <= name.lastIndexOf('/')) return `${name}:latest`;
  return name;
}

function scaledImageScore(state: ImageStateSummary, totalNumNodes: number): number {
  const spread = state.numNodes / totalNumNodes;
  return Math.trunc(state.size * spread);
}

/** Sum of the spread-scaled sizes of the pod's images present on the node. */
export function sumImageScores(nodeInfo: NodeInfo, pod: Pod, totalNumNodes: number): number {
  let sum = 0;
  if (nodeInfo.imageStates.size === 0) return 0;
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const st = nodeInfo.imageStates.get(normalizedImageName(c.image ?? ''));
    if (st !== undefined) sum += scaledImageScore(st, totalNumNodes);
  }
  return sum;
}

/** Maps the summed size into 0..100 between the thresholds. */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = maxContainerThreshold * numContainers;
  let s = sumScores;
  if (s < minThreshold) s = minThreshold;
  else if (s > maxThreshold) s = maxThreshold;
  return Math.trunc((MaxNodeScore * (s - minThreshold)) / (maxThreshold - minThreshold));
}

/** Image presence on nodes. */
export class ImageLocality implements ScorePlugin {
  readonly name = Name;
  private readonly handle: Handle;

  constructor(handle: Handle) {
    this.handle = handle;
  }

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    if (nodeInfo.imageStates.size === 0) return 0;
    const total = this.handle.snapshotSharedLister().nodeInfos().list().length;
    const numContainers = (pod.spec?.initContainers ?? []).length + (pod.spec?.containers ?? []).length;
    return calculatePriority(sumImageScores(nodeInfo, pod, total), numContainers);
  }
}

export function newImageLocality(_args: unknown, handle: Handle): Plugin {
  return new ImageLocality(handle);
}
