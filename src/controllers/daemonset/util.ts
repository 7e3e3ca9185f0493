// DaemonSet helpers without I/O (upstream pkg/controller/daemon/util and daemon_controller.go's
// predicates): whether a node should run the daemon pod (nodeName, nodeSelector, required node
// affinity, taints after the default daemon tolerations), the pod template with generation and
// hash labels, node pinning through matchFields metadata.name, and surge/unavailable budgets.
import type { DaemonSet } from '../../api/types/apps_v1.ts';
import type { IntOrString } from '../../api/types/apimachinery.ts';
import type { Affinity, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, PodTemplateSpec, Taint, Toleration } from '../../api/types/core_v1.ts';
import { parseTime } from '../../client/clock.ts';

/** Pod label carrying the template generation (DaemonSetTemplateGenerationKey). */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Pod and revision label carrying the revision hash (DefaultDaemonSetUniqueLabelKey). */
export const DAEMONSET_UNIQUE_LABEL = 'controller-revision-hash';
/** DaemonSet annotation with its template generation (the v1 form of spec.templateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export const DAEMONSET_KIND = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;

/** Adds `t` unless an equal toleration exists; replaces one that differs only in tolerationSeconds. */
function addOrUpdateToleration(spec: PodSpec, t: Toleration): void {
  const list = [...(spec.tolerations ?? [])];
  const i = list.findIndex((x) => (x.key ?? '') === (t.key ?? '') && (x.operator ?? '') === (t.operator ?? '') && (x.value ?? '') === (t.value ?? '') && (x.effect ?? '') === (t.effect ?? ''));
  if (i >= 0) {
    if (list[i]!.tolerationSeconds === t.tolerationSeconds) return;
    list[i] = t;
  } else {
    list.push(t);
  }
  spec.tolerations = list;
}

/** The tolerations every daemon pod gets so node problems do not evict it (AddOrUpdateDaemonPodTolerations). */
export function addOrUpdateDaemonPodTolerations(spec: PodSpec): void {
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' });
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addOrUpdateToleration(spec, { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' });
  if (spec.hostNetwork) addOrUpdateToleration(spec, { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
}

function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if ((t.effect ?? '') !== '' && t.effect !== taint.effect) return false;
  if ((t.key ?? '') !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal': return (t.value ?? '') === (taint.value ?? '');
    case 'Exists': return true;
    default: return false;
  }
}

function hasUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined, effects: readonly string[]): boolean {
  return taints.some((taint) => effects.includes(taint.effect) && !(tolerations ?? []).some((t) => toleratesTaint(t, taint)));
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?[0-9]+$/.test(value) || !/^-?[0-9]+$/.test(values[0]!)) return false;
      const a = BigInt(value), b = BigInt(values[0]!);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default: return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects nothing.
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) {
    // Only metadata.name is a supported node field (validation rejects others).
    const v = r.key === 'metadata.name' ? node.metadata?.name : undefined;
    if (r.key !== 'metadata.name' || !requirementMatches(r, v)) return false;
  }
  return true;
}

/** nodeSelector and required node affinity of the pod match the node (GetRequiredNodeAffinity.Match). */
export function requiredNodeAffinityMatches(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return true;
  return req.nodeSelectorTerms.some((t) => termMatches(t, node));
}

/** The daemon pod as it would run on `nodeName` (NewPod). */
export function newDaemonPod(ds: DaemonSet, nodeName: string): Pod {
  const spec = structuredClone(ds.spec!.template.spec!);
  spec.nodeName = nodeName;
  addOrUpdateDaemonPodTolerations(spec);
  return { metadata: { ...structuredClone(ds.spec!.template.metadata ?? {}), namespace: ds.metadata?.namespace ?? '' }, spec };
}

/**
 * Whether the daemon pod should be created on the node, and whether an existing one may stay
 * (NodeShouldRunDaemonPod): a NoSchedule taint blocks new pods, only NoExecute evicts.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const pod = newDaemonPod(ds, node.metadata?.name ?? '');
  const tmplNode = ds.spec?.template.spec?.nodeName ?? '';
  if (tmplNode !== '' && tmplNode !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!requiredNodeAffinityMatches(pod.spec!, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  if (hasUntoleratedTaint(taints, pod.spec!.tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: !hasUntoleratedTaint(taints, pod.spec!.tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** Requires the pod onto `nodeName` through matchFields, replacing other required terms (ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function replaceDaemonSetPodNodeNameNodeAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const selector = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const a: Affinity = affinity ? structuredClone(affinity) : {};
  a.nodeAffinity = { ...(a.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: selector };
  return a;
}

/** The node a daemon pod is for: spec.nodeName, else its single matchFields metadata.name value (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** The template generation from the DaemonSet's annotation (GetTemplateGeneration). */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (v === undefined || !/^-?[0-9]+$/.test(v)) return undefined;
  return Number(v);
}

/** The template pods are created from: daemon tolerations, generation and hash labels (CreatePodTemplate). */
export function createPodTemplate(template: PodTemplateSpec, generation: number | undefined, hash: string): PodTemplateSpec {
  const t = structuredClone(template);
  t.spec ??= { containers: [] };
  addOrUpdateDaemonPodTolerations(t.spec);
  const md = (t.metadata ??= {});
  md.labels = { ...(md.labels ?? {}) };
  if (generation !== undefined) md.labels[POD_TEMPLATE_GENERATION_LABEL] = String(generation);
  if (hash) md.labels[DAEMONSET_UNIQUE_LABEL] = hash;
  return t;
}

/** The pod runs the current template (IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const templateMatches = generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === String(generation);
  const hashMatches = hash.length > 0 && labels[DAEMONSET_UNIQUE_LABEL] === hash;
  return hashMatches || templateMatches;
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValueFromIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?[0-9]+)%$/.exec(v);
  if (!m) {
    if (/^-?[0-9]+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxUnavailable for `desired` nodes (UnavailableCount). */
export function unavailableCount(ds: DaemonSet, desired: number): number {
  const s = ds.spec?.updateStrategy;
  if (s?.type !== 'RollingUpdate' || !s.rollingUpdate) return 0;
  return scaledValueFromIntOrPercent(s.rollingUpdate.maxUnavailable, desired, true);
}

/** maxSurge for `desired` nodes (SurgeCount). */
export function surgeCount(ds: DaemonSet, desired: number): number {
  const s = ds.spec?.updateStrategy;
  if (s?.type !== 'RollingUpdate' || !s.rollingUpdate?.maxSurge) return 0;
  return scaledValueFromIntOrPercent(s.rollingUpdate.maxSurge, desired, true);
}

/** The DaemonSet may run two pods on a node during an update (AllowsSurge). */
export function allowsSurge(ds: DaemonSet): boolean {
  try {
    return surgeCount(ds, 1) !== 0;
  } catch {
    return false;
  }
}

/** Scheduled pods first, then oldest, then by name (podByCreationTimestampAndPhase). */
export function compareByCreationTimestampAndPhase(a: Pod, b: Pod): number {
  const an = !!a.spec?.nodeName, bn = !!b.spec?.nodeName;
  if (an !== bn) return an ? -1 : 1;
  const ta = parseTime(a.metadata?.creationTimestamp) ?? 0, tb = parseTime(b.metadata?.creationTimestamp) ?? 0;
  if (ta === tb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
  return ta - tb;
}

/** Exponential backoff per key (client-go flowcontrol.Backoff): deleting failed pods 1 s doubling to 15 min. */
export class FailedPodsBackoff {
  #entries = new Map<string, { backoff: number; lastUpdate: number }>();
  #initial: number;
  #max: number;

  constructor(initialMs = 1000, maxMs = 15 * 60_000) {
    this.#initial = initialMs;
    this.#max = maxMs;
  }

  get(key: string): number {
    return this.#entries.get(key)?.backoff ?? 0;
  }

  next(key: string, now: number): void {
    const e = this.#entries.get(key);
    if (!e || now - e.lastUpdate > 2 * this.#max) this.#entries.set(key, { backoff: this.#initial, lastUpdate: now });
    else this.#entries.set(key, { backoff: Math.min(e.backoff * 2, this.#max), lastUpdate: now });
  }

  isInBackOffSinceUpdate(key: string, now: number): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    if (now - e.lastUpdate > 2 * this.#max) return false;
    return now - e.lastUpdate < e.backoff;
  }
}
