// Pods the kubelet must stop for good although the API did not delete them (TerminatePodAbnormally):
// evictions and admission rejections. The eviction manager asks and waits; the pod's worker does
// the killing in its next sync and reports phase Failed with the reason, message and condition.
import type { Pod, PodCondition, PodStatus } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { formatTime } from '../../client/clock.ts';

/** How to end a pod. */
export interface PodTermination {
  readonly graceSeconds: number;
  readonly reason: string;
  /** status.message. */
  readonly message: string;
  readonly condition?: PodCondition;
}

interface Pending extends PodTermination {
  readonly done: () => void;
}

/** Terminations asked for and not yet carried out, by pod UID. */
export class PodTerminations implements Disposable {
  readonly #pending = new Map<string, Pending>();
  readonly #kick: (uid: string) => void;

  /** `kick` makes the pod's worker sync soon. */
  constructor(kick: (uid: string) => void) {
    this.#kick = kick;
  }

  /** Asks for the pod to be ended; resolves once its containers are stopped and its status says so (or it is gone). */
  request(pod: Pod, t: PodTermination): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    return new Promise<void>((resolve) => {
      this.#pending.get(uid)?.done();
      this.#pending.set(uid, { ...t, done: resolve });
      this.#kick(uid);
    });
  }

  pending(uid: string): PodTermination | undefined {
    return this.#pending.get(uid);
  }

  has(uid: string): boolean {
    return this.#pending.has(uid);
  }

  /** The termination is carried out, or moot (the pod is gone). */
  finish(uid: string): void {
    const p = this.#pending.get(uid);
    this.#pending.delete(uid);
    p?.done();
  }

  dispose(): void {
    for (const uid of [...this.#pending.keys()]) this.finish(uid);
  }
}

/** The status of a pod ended this way: phase Failed with the reason, message and condition. */
export function terminatedStatus(status: PodStatus, t: PodTermination, now: number): PodStatus {
  const out: PodStatus = { ...status, phase: 'Failed', reason: t.reason, message: t.message };
  if (t.condition) {
    const c = t.condition;
    out.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), { ...c, lastTransitionTime: c.lastTransitionTime ?? formatTime(now) }];
  }
  return out;
}

/** Whether the pod never started here (admission applies only to such pods). */
export function neverStarted(status: PodStatus | undefined): boolean {
  return !status?.startTime && (status?.containerStatuses ?? []).length === 0 && (status?.phase ?? 'Pending') === 'Pending';
}
