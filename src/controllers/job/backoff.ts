// The delay before a Job replaces failed pods (upstream backoff_utils.go): failures since the last
// success, counted per Job in memory, give 10 s doubling per failure up to 6 minutes, measured from
// the last failure's finish time.
import type { Pod } from '../../api/types/core_v1.ts';
import { podFinishedTime } from './pod_utils.ts';

/** First pod-failure backoff (DefaultJobPodFailureBackOff). */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
/** Longest pod-failure backoff at v1.32 (MaxJobPodFailureBackOff). */
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;

/** Failures of one Job since its last success. */
export interface BackoffRecord {
  readonly key: string;
  readonly failuresAfterLastSuccess: number;
  readonly lastFailureTime: number | undefined;
}

/** Backoff records by Job key. */
export class BackoffStore {
  #records = new Map<string, BackoffRecord>();

  /** The record after counting newly finished pods (not stored until updateBackoffRecord). */
  newBackoffRecord(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const prev = this.#records.get(key) ?? { key, failuresAfterLastSuccess: 0, lastFailureTime: undefined };
    const failedTimes = newFailed.map(podFinishedTime).sort((a, b) => a - b);
    if (newSucceeded.length === 0) {
      if (failedTimes.length === 0) return prev;
      return { key, failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
    }
    const lastSuccess = Math.max(...newSucceeded.map(podFinishedTime));
    const after = failedTimes.filter((t) => t > lastSuccess);
    if (after.length === 0) return { key, failuresAfterLastSuccess: 0, lastFailureTime: undefined };
    return { key, failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] };
  }

  updateBackoffRecord(record: BackoffRecord): void {
    this.#records.set(record.key, record);
  }

  removeBackoffRecord(key: string): void {
    this.#records.delete(key);
  }
}

/** Time left before `failures` failures, the last at `lastFailure`, allow a new pod (0 = now). */
export function remainingTimeForFailures(now: number, failures: number, lastFailure: number | undefined, baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  if (failures <= 0 || lastFailure === undefined) return 0;
  let backoff = baseMs;
  for (let i = 1; i < failures; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = now - lastFailure;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
