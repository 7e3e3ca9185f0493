// Pod predicates the Job controller needs beyond controller_utils.ts: terminating, the plain
// ActivePods deletion order (Jobs do not rank by co-located pods or deletion cost) and when a pod
// finished, for backoff.
import type { Pod } from '../../api/types/core_v1.ts';
import { parseTime } from '../../client/clock.ts';
import { isPodReady } from '../controller_utils.ts';

/** Being deleted but not finished (controller.IsPodTerminating). */
export function isPodTerminating(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !!p.metadata?.deletionTimestamp;
}

function readyTime(p: Pod): number {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  return parseTime(c?.lastTransitionTime) ?? 0;
}

function maxRestarts(p: Pod): number {
  let n = 0;
  for (const s of p.status?.containerStatuses ?? []) n = Math.max(n, s.restartCount ?? 0);
  return n;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods so the cheapest to lose come first: unscheduled, pending, not ready, ready for less
 * time, more restarts, newer (controller.ActivePods).
 */
export function compareActivePods(a: Pod, b: Pod): number {
  const an = a.spec?.nodeName ?? '', bn = b.spec?.nodeName ?? '';
  if ((an === '') !== (bn === '')) return an === '' ? -1 : 1;
  const ap = PHASE_RANK[a.status?.phase ?? ''] ?? 0, bp = PHASE_RANK[b.status?.phase ?? ''] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a), br = isPodReady(b);
  if (ar !== br) return ar ? 1 : -1;
  if (ar && br) {
    const at = readyTime(a), bt = readyTime(b);
    if (at !== bt) return bt - at;
  }
  const rr = maxRestarts(b) - maxRestarts(a);
  if (rr !== 0) return rr;
  const ac = parseTime(a.metadata?.creationTimestamp) ?? 0, bc = parseTime(b.metadata?.creationTimestamp) ?? 0;
  return bc - ac;
}

/**
 * When a pod finished, for backoff: the latest container finishedAt, else the Ready=False
 * transition, else the deletion timestamp, else the creation time (job backoff_utils).
 */
export function podFinishedTime(p: Pod): number {
  let latest: number | undefined;
  for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const t = parseTime(s.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
  const rt = parseTime(ready?.lastTransitionTime);
  if (rt !== undefined) return rt;
  return parseTime(p.metadata?.deletionTimestamp) ?? parseTime(p.metadata?.creationTimestamp) ?? 0;
}
