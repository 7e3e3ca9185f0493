// PrioritySort (plugins/queuesort): the active queue pops higher-priority pods first, and among equal
// priorities the one queued earliest.

import { podPriority, type QueuedPodInfo } from '../../framework/pod_info.ts';
import type { Plugin, QueueSortPlugin } from '../../framework/interface.ts';

export const Name = 'PrioritySort';

/** Orders pods by priority, then by queue timestamp. */
export class PrioritySort implements QueueSortPlugin {
  readonly name = Name;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = podPriority(a.pod);
    const p2 = podPriority(b.pod);
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}

export function newPrioritySort(): Plugin {
  return new PrioritySort();
}
