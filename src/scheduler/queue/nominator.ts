// Pods that preemption nominated to a node and that are not bound yet (backend/queue nominator):
// Filter counts them on their node so lower-priority pods do not take the room freed for them.

import type { Pod } from '../../api/types/core_v1.ts';
import type { PodNominator } from '../framework/interface.ts';
import type { PodInfo } from '../framework/pod_info.ts';

/** How to treat status.nominatedNodeName when (re)adding a nomination. */
export interface NominatingInfo {
  /** 'Override' sets nominatedNodeName (empty clears it); 'Noop' keeps the pod's own field. */
  readonly mode: 'Override' | 'Noop';
  readonly nominatedNodeName: string;
}

/** Nominated pods by node. */
export class Nominator implements PodNominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly nodeOf = new Map<string, string>();
  /** Returns the live pod, or undefined when it is gone or already bound (then it is not nominated). */
  private readonly lookup: ((pod: Pod) => Pod | undefined) | null;

  constructor(lookup: ((pod: Pod) => Pod | undefined) | null = null) {
    this.lookup = lookup;
  }

  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    if (this.byNode.size === 0) return noPods;
    return this.byNode.get(nodeName) ?? noPods;
  }

  nominatedNodeName(uid: string): string | undefined {
    return this.nodeOf.get(uid);
  }

  /** AddNominatedPod; `info` null means Noop (use the pod's status). */
  add(pi: PodInfo, info: NominatingInfo | null): void {
    this.delete(pi.pod);
    const nodeName = info === null || info.mode === 'Noop' ? pi.pod.status?.nominatedNodeName ?? '' : info.nominatedNodeName;
    if (nodeName === '') return;
    if (this.lookup !== null) {
      const live = this.lookup(pi.pod);
      if (live === undefined || (live.spec?.nodeName ?? '') !== '') return;
    }
    this.nodeOf.set(pi.uid, nodeName);
    const list = this.byNode.get(nodeName) ?? [];
    if (!list.some((p) => p.uid === pi.uid)) list.push(pi);
    this.byNode.set(nodeName, list);
  }

  /** DeleteNominatedPodIfExists. */
  delete(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const nodeName = this.nodeOf.get(uid);
    if (nodeName === undefined) return;
    this.nodeOf.delete(uid);
    const list = (this.byNode.get(nodeName) ?? []).filter((p) => p.uid !== uid);
    if (list.length === 0) this.byNode.delete(nodeName);
    else this.byNode.set(nodeName, list);
  }

  /** UpdateNominatedPod: keeps the nomination across updates unless the new pod changes it. */
  update(oldPod: Pod, newPi: PodInfo): void {
    const uid = oldPod.metadata?.uid ?? '';
    let info: NominatingInfo | null = null;
    const previous = this.nodeOf.get(uid);
    // An update that only touched status while nominatedNodeName was unset keeps the in-memory nomination.
    if (previous !== undefined && (oldPod.status?.nominatedNodeName ?? '') === '' && (newPi.pod.status?.nominatedNodeName ?? '') === '') {
      info = { mode: 'Override', nominatedNodeName: previous };
    }
    this.delete(oldPod);
    this.add(newPi, info);
  }
}

const noPods: readonly PodInfo[] = [];
