// Choosing victims and nodes for preemption (defaultpreemption + preemption.go helpers): pod
// importance, which victims would violate a PodDisruptionBudget, and the tie-breaking chain that
// picks one node among the candidates.

import { isEmpty, labelSelectorAsSelector, matches } from '../../../api/labels.ts';
import type { Pod } from '../../../api/types/core_v1.ts';
import type { PodDisruptionBudget } from '../../../api/types/policy_v1.ts';
import { podPriority, type PodInfo } from '../../framework/pod_info.ts';

/** The pods to evict on a node and how many of them violate a PDB. */
export interface Victims {
  readonly pods: readonly Pod[];
  readonly numPDBViolations: number;
}

/** Parsed start times by their text: dry runs sort the same pods over and over. */
const parsedStartTimes = new Map<string, number>();

/** GetPodStartTime: status.startTime, or now for pods not started yet (ms). */
export function podStartTime(pod: Pod, now: number): number {
  const t = pod.status?.startTime;
  if (t) {
    let ms = parsedStartTimes.get(t);
    if (ms === undefined) {
      ms = Date.parse(t);
      if (parsedStartTimes.size >= 4096) parsedStartTimes.clear();
      parsedStartTimes.set(t, ms);
    }
    if (!Number.isNaN(ms)) return ms;
  }
  return now;
}

/** MoreImportantPod: higher priority, then earlier start. */
export function moreImportantPod(a: Pod, b: Pod, now: number): boolean {
  const p1 = podPriority(a);
  const p2 = podPriority(b);
  if (p1 !== p2) return p1 > p2;
  return podStartTime(a, now) < podStartTime(b, now);
}

/** Sorts pods most important first (MoreImportantPod), keeping the order of equals; start times are read once. */
export function sortByImportance(pods: PodInfo[], now: number): void {
  const n = pods.length;
  if (n < 2) return;
  if (n > 16) {
    const keyed = pods.map((pi) => ({ pi, prio: podPriority(pi.pod), start: podStartTime(pi.pod, now) }));
    keyed.sort((a, b) => (a.prio !== b.prio ? b.prio - a.prio : a.start < b.start ? -1 : b.start < a.start ? 1 : 0));
    for (let i = 0; i < n; i++) pods[i] = (keyed[i] as { pi: PodInfo }).pi;
    return;
  }
  // A node's few victims: a stable insertion sort without allocating a key object per pod.
  const prios: number[] = [];
  const starts: number[] = [];
  for (const pi of pods) {
    prios.push(podPriority(pi.pod));
    starts.push(podStartTime(pi.pod, now));
  }
  for (let i = 1; i < n; i++) {
    const pi = pods[i] as PodInfo;
    const p = prios[i] as number;
    const s = starts[i] as number;
    let j = i - 1;
    while (j >= 0 && ((prios[j] as number) < p || ((prios[j] as number) === p && (starts[j] as number) > s))) {
      pods[j + 1] = pods[j] as PodInfo;
      prios[j + 1] = prios[j] as number;
      starts[j + 1] = starts[j] as number;
      j--;
    }
    pods[j + 1] = pi;
    prios[j + 1] = p;
    starts[j + 1] = s;
  }
}

/**
 * filterPodsWithPDBViolation: splits pods (keeping their order) into those whose eviction would
 * exceed a matching PDB's disruptionsAllowed and the rest.
 */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  if (pdbs.length === 0) return { violating: [], nonViolating: pods.slice() };
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorAsSelector(p.spec?.selector ?? null);
    } catch {
      return null;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata?.labels ?? {};
    let violated = false;
    if (Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if ((pdb.metadata?.namespace ?? '') !== pi.namespace) return;
        const sel = selectors[i];
        // A nil or empty selector matches nothing here.
        if (!sel || sel.nothing || isEmpty(sel) || !matches(sel, labels)) return;
        // Pods the API already counted as disrupted do not use up the budget again.
        if (pdb.status?.disruptedPods && Object.prototype.hasOwnProperty.call(pdb.status.disruptedPods, pi.name)) return;
        allowed[i] = (allowed[i] as number) - 1;
        if ((allowed[i] as number) < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** GetEarliestPodStartTime: the earliest start among the highest-priority victims. */
export function earliestPodStartTime(victims: Victims, now: number): number {
  const first = victims.pods[0] as Pod;
  let earliest = podStartTime(first, now);
  let maxPriority = podPriority(first);
  for (const p of victims.pods) {
    const prio = podPriority(p);
    if (prio === maxPriority) {
      earliest = Math.min(earliest, podStartTime(p, now));
    } else if (prio > maxPriority) {
      maxPriority = prio;
      earliest = podStartTime(p, now);
    }
  }
  return earliest;
}

/**
 * pickOneNodeForPreemption: fewest PDB violations, then lowest highest-victim priority, then lowest
 * priority sum, then fewest victims, then latest start of the highest-priority victims, then the
 * first candidate.
 */
export function pickOneNodeForPreemption(nodesToVictims: ReadonlyMap<string, Victims>, now: number): string {
  if (nodesToVictims.size === 0) return '';
  const v = (n: string): Victims => nodesToVictims.get(n) as Victims;
  const scoreFuncs: Array<(node: string) => number> = [
    (n) => -v(n).numPDBViolations,
    (n) => -podPriority(v(n).pods[0] as Pod),
    // Shifting by 2^31 keeps every term positive so negative priorities do not reward more victims.
    (n) => -v(n).pods.reduce((sum, p) => sum + podPriority(p) + 2 ** 31, 0),
    (n) => -v(n).pods.length,
    (n) => earliestPodStartTime(v(n), now),
  ];
  let candidates = [...nodesToVictims.keys()];
  for (const f of scoreFuncs) {
    let best = -Infinity;
    let selected: string[] = [];
    for (const n of candidates) {
      const s = f(n);
      if (s > best) {
        best = s;
        selected = [];
      }
      if (s === best) selected.push(n);
    }
    if (selected.length === 1) return selected[0] as string;
    candidates = selected;
  }
  return candidates[0] as string;
}
