// Indexed Jobs: completion indexes on pods, ordered index intervals and their "0-2,4" text form
// (status.completedIndexes/failedIndexes), the next indexes to start, and which pods hold a
// duplicate or out-of-range index (upstream indexed_job_utils.go).
import type { Pod, PodTemplateSpec } from '../../api/types/core_v1.ts';
import { compareActivePods } from './pod_utils.ts';

export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
export const JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Longest generateName the API server keeps whole (names.MaxGeneratedNameLength). */
const MAX_GENERATED_NAME_LENGTH = 58;

export const UNKNOWN_COMPLETION_INDEX = -1;

/** An inclusive range of indexes. */
export interface Interval {
  first: number;
  last: number;
}

/** Sorted, non-overlapping, non-adjacent intervals. */
export type OrderedIntervals = Interval[];

/** The pod's completion index from its annotation, or UNKNOWN_COMPLETION_INDEX. */
export function completionIndexOf(pod: Pod): number {
  const v = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^[0-9]+$/.test(v)) return UNKNOWN_COMPLETION_INDEX;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : UNKNOWN_COMPLETION_INDEX;
}

/** Total number of indexes in the intervals. */
export function totalOf(oi: OrderedIntervals): number {
  let n = 0;
  for (const v of oi) n += v.last - v.first + 1;
  return n;
}

/** Whether `ix` is in the intervals. */
export function hasIndex(oi: OrderedIntervals | undefined, ix: number): boolean {
  if (!oi) return false;
  for (const v of oi) {
    if (ix < v.first) return false;
    if (ix <= v.last) return true;
  }
  return false;
}

/** The intervals plus sorted `newIndexes`, merged. */
export function withOrderedIndexes(oi: OrderedIntervals, newIndexes: readonly number[]): OrderedIntervals {
  const added: OrderedIntervals = [];
  for (const ix of [...newIndexes].sort((a, b) => a - b)) added.push({ first: ix, last: ix });
  return mergeIntervals(oi, added);
}

/** Union of two interval lists. */
export function mergeIntervals(a: OrderedIntervals, b: OrderedIntervals): OrderedIntervals {
  const all = [...a, ...b].map((v) => ({ ...v })).sort((x, y) => x.first - y.first);
  const out: OrderedIntervals = [];
  for (const v of all) {
    const last = out[out.length - 1];
    if (last && v.first <= last.last + 1) last.last = Math.max(last.last, v.last);
    else out.push(v);
  }
  return out;
}

/** "0-2,4" (two neighbours print as "5,6", as upstream does). */
export function intervalsString(oi: OrderedIntervals): string {
  const parts: string[] = [];
  for (const v of oi) {
    if (v.last === v.first) parts.push(String(v.first));
    else if (v.last === v.first + 1) parts.push(`${v.first},${v.last}`);
    else parts.push(`${v.first}-${v.last}`);
  }
  return parts.join(',');
}

/** Parses "0-2,4", dropping indexes >= completions and anything malformed. */
export function parseIndexesFromString(s: string | undefined, completions: number): OrderedIntervals {
  if (!s) return [];
  const out: OrderedIntervals = [];
  for (const part of s.split(',')) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    let last = m[2] !== undefined ? Number(m[2]) : first;
    if (first >= completions || last < first) continue;
    last = Math.min(last, completions - 1);
    out.push({ first, last });
  }
  return mergeIntervals([], out);
}

/** Sets of the indexes of `pods` (unknown indexes left out). */
export function indexesOf(pods: readonly Pod[]): Set<number> {
  const s = new Set<number>();
  for (const p of pods) {
    const ix = completionIndexOf(p);
    if (ix !== UNKNOWN_COMPLETION_INDEX) s.add(ix);
  }
  return s;
}

/** The first `count` indexes below `completions` that are not in `nonPending`. */
export function firstPendingIndexes(nonPending: OrderedIntervals, count: number, completions: number): number[] {
  const result: number[] = [];
  if (count <= 0) return result;
  let candidate = 0;
  for (const v of nonPending) {
    for (; candidate < completions && result.length < count && candidate < v.first; candidate++) result.push(candidate);
    if (candidate < v.last + 1) candidate = v.last + 1;
  }
  for (; candidate < completions && result.length < count; candidate++) result.push(candidate);
  return result;
}

/**
 * Splits active pods into those to remove (unknown or out-of-range index, and all but the best pod
 * of a repeated index) and the rest.
 */
export function duplicatedIndexPodsForRemoval(pods: readonly Pod[], completions: number): { rm: Pod[]; left: Pod[] } {
  const rm: Pod[] = [];
  const left: Pod[] = [];
  const byIndex = new Map<number, Pod[]>();
  for (const p of pods) {
    const ix = completionIndexOf(p);
    if (ix === UNKNOWN_COMPLETION_INDEX || ix >= completions) {
      rm.push(p);
      continue;
    }
    const list = byIndex.get(ix) ?? [];
    list.push(p);
    byIndex.set(ix, list);
  }
  for (const ix of [...byIndex.keys()].sort((a, b) => a - b)) {
    const same = byIndex.get(ix)!;
    if (same.length === 1) {
      left.push(same[0]!);
      continue;
    }
    same.sort(compareActivePods);
    rm.push(...same.slice(0, -1));
    left.push(same[same.length - 1]!);
  }
  return { rm, left };
}

/** Adds JOB_COMPLETION_INDEX (from the annotation) to every container that lacks it. */
export function addCompletionIndexEnvVariables(template: PodTemplateSpec): void {
  const spec = template.spec;
  if (!spec) return;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (c.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) continue;
    c.env = [...(c.env ?? []), {
      name: COMPLETION_INDEX_ENV,
      valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } },
    }];
  }
}

/** Annotation, label and hostname of the pod for `index`. */
export function addCompletionIndex(template: PodTemplateSpec, jobName: string, index: number): void {
  const md = (template.metadata ??= {});
  md.annotations = { ...md.annotations, [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
  md.labels = { ...md.labels, [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
  if (template.spec) template.spec.hostname = `${jobName}-${index}`;
}

/** "<job>-<index>-", cutting the job name so the whole prefix stays generatable. */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  if (prefix.length > MAX_GENERATED_NAME_LENGTH) return jobName.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix;
  return prefix;
}

function annotationCount(pod: Pod | undefined, key: string): number {
  const v = pod?.metadata?.annotations?.[key];
  if (v === undefined || !/^[0-9]+$/.test(v)) return 0;
  return Number(v);
}

/** The failures counted against the pod's index before this pod. */
export function indexFailureCount(pod: Pod | undefined): number {
  return annotationCount(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION);
}

/** Counted plus ignored failures of the pod's index before this pod. */
export function indexAbsoluteFailureCount(pod: Pod | undefined): number {
  return annotationCount(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION) + annotationCount(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
}

/** Ignored failures of the pod's index before this pod. */
export function indexIgnoredFailureCount(pod: Pod | undefined): number {
  return annotationCount(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
}
