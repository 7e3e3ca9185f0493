// PodInfo: a pod plus what the scheduler derives from it once (parsed affinity terms, effective
// requests, host ports, PVC references), so Filter and Score loops never re-parse a pod. QueuedPodInfo
// adds the queue's bookkeeping (attempts, timestamps, the plugins that rejected it).

import { labelSelectorAsSelector, matches, type Selector } from '../../api/labels.ts';
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../api/types/core_v1.ts';
import { selectorKey } from './node_fold.ts';
import { podRequests, type Resource } from './resources.ts';

/** A pod affinity term with its selectors parsed (framework.AffinityTerm). */
export class AffinityTerm {
  readonly namespaces: Set<string>;
  readonly selector: Selector;
  readonly topologyKey: string;
  namespaceSelector: Selector;
  private keyCache: string | null = null;

  constructor(namespaces: Set<string>, selector: Selector, topologyKey: string, namespaceSelector: Selector) {
    this.namespaces = namespaces;
    this.selector = selector;
    this.topologyKey = topologyKey;
    this.namespaceSelector = namespaceSelector;
  }

  /** True when `pod` is in the term's namespaces (or its namespace matches) and its labels match. */
  matches(pod: Pod, nsLabels: Readonly<Record<string, string>> | null): boolean {
    const ns = pod.metadata?.namespace ?? '';
    if (this.namespaces.has(ns) || matches(this.namespaceSelector, nsLabels ?? {})) {
      return matches(this.selector, pod.metadata?.labels);
    }
    return false;
  }

  /**
   * Equal for terms that match the same pods in the same topology (to group existing pods' terms).
   * Computed on first use: a term's namespaces and selectors must not change after that.
   */
  get key(): string {
    if (this.keyCache === null) {
      const nss = this.namespaces.size === 1 ? this.namespaces.values().next().value as string : [...this.namespaces].sort().join('\x01');
      this.keyCache = `${nss}\x02${selectorKey(this.namespaceSelector)}\x02${selectorKey(this.selector)}\x02${this.topologyKey}`;
    }
    return this.keyCache;
  }

  /** A copy whose namespace set may be extended (merging a namespace selector). */
  clone(): AffinityTerm {
    return new AffinityTerm(new Set(this.namespaces), this.selector, this.topologyKey, this.namespaceSelector);
  }
}

/** A preferred term with its weight. */
export interface WeightedAffinityTerm {
  readonly term: AffinityTerm;
  readonly weight: number;
}

function newAffinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const selector = labelSelectorAsSelector(t.labelSelector ?? null);
  const namespaces = new Set<string>();
  if ((t.namespaces ?? []).length === 0 && (t.namespaceSelector === undefined || t.namespaceSelector === null)) {
    namespaces.add(pod.metadata?.namespace ?? '');
  } else {
    for (const n of t.namespaces ?? []) namespaces.add(n);
  }
  return new AffinityTerm(namespaces, selector, t.topologyKey, labelSelectorAsSelector(t.namespaceSelector ?? null));
}

function affinityTerms(pod: Pod, terms: readonly PodAffinityTerm[] | undefined): AffinityTerm[] {
  return (terms ?? []).map((t) => newAffinityTerm(pod, t));
}

function weightedTerms(pod: Pod, terms: readonly WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] {
  return (terms ?? []).map((t) => ({ term: newAffinityTerm(pod, t.podAffinityTerm), weight: t.weight }));
}

/** One host port a pod asks for. */
export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

const noTerms: AffinityTerm[] = [];
const noWeightedTerms: WeightedAffinityTerm[] = [];

/** A pod and what the scheduler derives from it (framework.PodInfo). */
export class PodInfo {
  pod: Pod;
  requiredAffinityTerms: AffinityTerm[] = noTerms;
  requiredAntiAffinityTerms: AffinityTerm[] = noTerms;
  preferredAffinityTerms: WeightedAffinityTerm[] = noWeightedTerms;
  preferredAntiAffinityTerms: WeightedAffinityTerm[] = noWeightedTerms;
  /** Why the affinity terms could not be parsed (the pod then has none). */
  parseError: Error | null = null;
  private requestsCache: Resource | null = null;
  private nonZeroCache: Resource | null = null;
  private hostPortsCache: readonly HostPort[] | null = null;
  private pvcKeysCache: readonly string[] | null = null;

  constructor(pod: Pod) {
    this.pod = pod;
    this.parse();
  }

  /** Replaces the pod; spec-derived data is recomputed unless the spec object is the same. */
  update(pod: Pod): void {
    const sameSpec = pod.spec === this.pod.spec;
    this.pod = pod;
    if (sameSpec) return;
    this.requestsCache = null;
    this.nonZeroCache = null;
    this.hostPortsCache = null;
    this.pvcKeysCache = null;
    this.parse();
  }

  /** A PodInfo for a changed copy of the pod whose resources, ports, volumes and affinity are unchanged. */
  withPod(pod: Pod): PodInfo {
    const c = Object.create(PodInfo.prototype) as PodInfo;
    Object.assign(c, this);
    c.pod = pod;
    return c;
  }

  private parse(): void {
    const affinity = this.pod.spec?.affinity;
    this.parseError = null;
    if (!affinity || (!affinity.podAffinity && !affinity.podAntiAffinity)) {
      this.requiredAffinityTerms = noTerms;
      this.requiredAntiAffinityTerms = noTerms;
      this.preferredAffinityTerms = noWeightedTerms;
      this.preferredAntiAffinityTerms = noWeightedTerms;
      return;
    }
    try {
      this.requiredAffinityTerms = affinityTerms(this.pod, affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
      this.requiredAntiAffinityTerms = affinityTerms(this.pod, affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
      this.preferredAffinityTerms = weightedTerms(this.pod, affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
      this.preferredAntiAffinityTerms = weightedTerms(this.pod, affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    } catch (e) {
      // The apiserver does not fully validate affinity selectors; a bad one must not break scheduling.
      this.parseError = e instanceof Error ? e : new Error(String(e));
      this.requiredAffinityTerms = noTerms;
      this.requiredAntiAffinityTerms = noTerms;
      this.preferredAffinityTerms = noWeightedTerms;
      this.preferredAntiAffinityTerms = noWeightedTerms;
    }
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get namespace(): string {
    return this.pod.metadata?.namespace ?? '';
  }

  get name(): string {
    return this.pod.metadata?.name ?? '';
  }

  /** True when the pod has pod affinity or anti-affinity of any kind. */
  get hasAffinity(): boolean {
    return this.requiredAffinityTerms.length > 0 || this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 || this.preferredAntiAffinityTerms.length > 0;
  }

  /** The pod's effective requests. */
  get requests(): Resource {
    return (this.requestsCache ??= podRequests(this.pod, false));
  }

  /** The requests with the scoring defaults for missing cpu/memory (NonZeroRequested). */
  get nonZeroRequests(): Resource {
    return (this.nonZeroCache ??= podRequests(this.pod, true));
  }

  /** Host ports of the pod's containers and restartable init containers. */
  get hostPorts(): readonly HostPort[] {
    return (this.hostPortsCache ??= hostPortsOf(this.pod));
  }

  /** "<namespace>/<claim>" of every PVC the pod uses (including generic ephemeral volumes). */
  get pvcKeys(): readonly string[] {
    return (this.pvcKeysCache ??= pvcKeysOf(this.pod));
  }
}

/** Host ports of the pod's containers and restartable init containers. */
export function hostPortsOf(pod: Pod): readonly HostPort[] {
  const out: HostPort[] = [];
  const spec = pod.spec;
  if (!spec) return out;
  const add = (containers: typeof spec.containers | undefined, sidecarsOnly: boolean): void => {
    for (const c of containers ?? []) {
      if (sidecarsOnly && c.restartPolicy !== 'Always') continue;
      for (const p of c.ports ?? []) {
        if ((p.hostPort ?? 0) <= 0) continue;
        out.push({ ip: p.hostIP ?? '', protocol: p.protocol ?? '', port: p.hostPort ?? 0 });
      }
    }
  };
  add(spec.initContainers, true);
  add(spec.containers, false);
  return out;
}

function pvcKeysOf(pod: Pod): readonly string[] {
  const ns = pod.metadata?.namespace ?? '';
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push(`${ns}/${v.persistentVolumeClaim.claimName}`);
    else if (v.ephemeral) out.push(`${ns}/${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

/** A pod in the scheduling queue (framework.QueuedPodInfo). */
export class QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was added to the queue or last moved (ms). */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts = 0;
  /** When the pod was first popped for scheduling (ms), or null. */
  initialAttemptTimestamp: number | null = null;
  /** Plugins that rejected the pod in its last attempt. */
  unschedulablePlugins: Set<string> = new Set();
  /** Plugins that returned Pending in its last attempt. */
  pendingPlugins: Set<string> = new Set();
  /** True while a PreEnqueue plugin holds the pod back. */
  gated = false;
  /** The PreEnqueue plugin that gated it, if any. */
  gatingPlugin = '';

  constructor(podInfo: PodInfo, timestamp: number) {
    this.podInfo = podInfo;
    this.timestamp = timestamp;
  }

  get pod(): Pod {
    return this.podInfo.pod;
  }
}

/** Pod priority (corev1helpers.PodPriority): spec.priority, 0 when unset. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}
