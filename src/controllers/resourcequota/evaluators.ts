// What objects cost in ResourceQuota terms, for the quota controller's recount (upstream
// pkg/quota/v1/evaluator/core and generic): pods (compute resources and counts, by scope), services,
// persistent volume claims, and an object count for any other resource.
// The API server's quota admission has the same rules for single objects; it cannot be imported
// from here (components talk to the API only), so the rules are restated over typed objects.
import { addQuantity, canonicalQuantityString, cmpQuantity, isZero, newQuantity, tryParseQuantity, type Quantity } from '../../api/quantity.ts';
import type { Container, PersistentVolumeClaim, Pod, ScopedResourceSelectorRequirement, Service } from '../../api/types/core_v1.ts';
import type { KubeObject } from '../../client/resource_client.ts';

/** A ResourceList: resource name -> quantity. */
export type ResourceList = Map<string, Quantity>;

/** One scope requirement of a quota (spec.scopes entries become Exists). */
export interface ScopeSelector {
  readonly scopeName: string;
  readonly operator: string;
  readonly values: readonly string[];
}

/** How one group/resource is charged. */
export interface QuotaEvaluator {
  readonly group: string;
  readonly resource: string;
  /** The names among `names` this evaluator accounts for. */
  matchingResources(names: readonly string[]): string[];
  /** The usage of one object. */
  usage(obj: KubeObject, now: number): ResourceList;
  /** Whether the object falls under a scope (objects without scopes never do). */
  matchesScope(scope: ScopeSelector, obj: KubeObject): boolean;
}

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const LEGACY_COUNT_NAMES: Readonly<Record<string, string>> = {
  configmaps: 'configmaps', secrets: 'secrets', replicationcontrollers: 'replicationcontrollers', resourcequotas: 'resourcequotas',
};

/** A count quantity (DecimalSI). */
export function count(n: number): Quantity {
  return newQuantity(n, 'DecimalSI');
}

/** Parses a JSON ResourceList; unparseable values are skipped. */
export function parseResourceList(v: Readonly<Record<string, string | number>> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, raw] of Object.entries(v ?? {})) {
    const q = tryParseQuantity(String(raw));
    if (q) out.set(k, q);
  }
  return out;
}

/** a + b for every name in either. */
export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? addQuantity(cur, v) : v);
  }
  return out;
}

function maxInto(a: ResourceList, b: ResourceList): void {
  for (const [k, v] of b) {
    const cur = a.get(k);
    if (!cur || cmpQuantity(v, cur) > 0) a.set(k, v);
  }
}

/** The list as JSON with canonical quantity strings. */
export function toJson(a: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...a.keys()].sort()) out[k] = canonicalQuantityString(a.get(k)!);
  return out;
}

/** Value equality of two JSON ResourceLists. */
export function listsEqual(a: Readonly<Record<string, string | number>> | undefined, b: Readonly<Record<string, string | number>> | undefined): boolean {
  const la = parseResourceList(a), lb = parseResourceList(b);
  if (la.size !== lb.size) return false;
  for (const [k, v] of la) {
    const w = lb.get(k);
    if (!w || cmpQuantity(v, w) !== 0) return false;
  }
  return true;
}

/** `count/<resource>` for core resources, `count/<resource>.<group>` for the rest. */
export function objectCountName(group: string, resource: string): string {
  return group === '' ? `count/${resource}` : `count/${resource}.${group}`;
}

function objectCountEvaluator(group: string, resource: string): QuotaEvaluator {
  const names = [objectCountName(group, resource)];
  const legacy = group === '' ? LEGACY_COUNT_NAMES[resource] : undefined;
  if (legacy) names.push(legacy);
  return {
    group, resource,
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    usage: () => new Map(names.map((n) => [n, count(1)])),
    matchesScope: () => false,
  };
}

// ---- pods ----

const POD_RESOURCES = new Set(['count/pods', 'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory',
  'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods']);

function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

function isPodResourceName(name: string): boolean {
  if (POD_RESOURCES.has(name)) return true;
  if (name.startsWith('hugepages-') || name.startsWith('requests.hugepages-')) return true;
  return name.startsWith('requests.') && isExtendedResource(name.slice('requests.'.length));
}

function containerResources(c: Container, which: 'requests' | 'limits'): ResourceList {
  return parseResourceList(c.resources?.[which]);
}

/** A pod's effective requests or limits (resourcehelper.PodRequests/PodLimits) with overhead. */
export function podResources(pod: Pod, which: 'requests' | 'limits'): ResourceList {
  const spec = pod.spec;
  let total: ResourceList = new Map();
  for (const c of spec?.containers ?? []) total = addLists(total, containerResources(c, which));
  let sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of spec?.initContainers ?? []) {
    const r = containerResources(c, which);
    if (c.restartPolicy === 'Always') {
      total = addLists(total, r);
      sidecars = addLists(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      maxInto(initMax, addLists(r, sidecars));
    }
  }
  maxInto(total, initMax);
  const overhead = parseResourceList(spec?.overhead);
  if (which === 'requests') total = addLists(total, overhead);
  else for (const [k, v] of overhead) if (total.has(k)) total.set(k, addQuantity(total.get(k)!, v));
  return total;
}

function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', count(1)]]);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [r, v] of requests) {
    if (r.startsWith('hugepages-')) {
      out.set(r, v);
      out.set(`requests.${r}`, v);
    }
    if (isExtendedResource(r)) out.set(`requests.${r}`, v);
  }
  return out;
}

/** Whether a pod still costs compute quota (QuotaV1Pod): not terminal, not stuck past its grace period. */
export function podCountsForQuota(pod: Pod, now: number): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  const del = Date.parse(pod.metadata?.deletionTimestamp ?? '');
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  return !(!Number.isNaN(del) && typeof grace === 'number' && now > del + grace * 1000);
}

function isTerminatingScope(pod: Pod): boolean {
  const ads = pod.spec?.activeDeadlineSeconds;
  return typeof ads === 'number' && ads >= 0;
}

/** QoS BestEffort: no container requests or limits any cpu or memory. */
export function isBestEffort(pod: Pod): boolean {
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const which of ['requests', 'limits'] as const) {
      for (const [k, v] of containerResources(c, which)) if ((k === 'cpu' || k === 'memory') && !isZero(v)) return false;
    }
  }
  return true;
}

function usesCrossNamespacePodAffinity(pod: Pod): boolean {
  const affinity = pod.spec?.affinity;
  for (const a of [affinity?.podAffinity, affinity?.podAntiAffinity]) {
    const terms = [
      ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
    ];
    if (terms.some((t) => (t.namespaces ?? []).length > 0 || t.namespaceSelector !== undefined)) return true;
  }
  return false;
}

function matchesPriorityClass(scope: ScopeSelector, pod: Pod): boolean {
  const cls = pod.spec?.priorityClassName ?? '';
  switch (scope.operator) {
    case 'Exists': return cls !== '';
    case 'DoesNotExist': return cls === '';
    case 'In': return cls !== '' && scope.values.includes(cls);
    case 'NotIn': return cls === '' || !scope.values.includes(cls);
    default: return false;
  }
}

const POD_SCOPES: Readonly<Record<string, (scope: ScopeSelector, pod: Pod) => boolean>> = {
  Terminating: (_s, p) => isTerminatingScope(p),
  NotTerminating: (_s, p) => !isTerminatingScope(p),
  BestEffort: (_s, p) => isBestEffort(p),
  NotBestEffort: (_s, p) => !isBestEffort(p),
  PriorityClass: matchesPriorityClass,
  CrossNamespacePodAffinity: (_s, p) => usesCrossNamespacePodAffinity(p),
};

const podEvaluator: QuotaEvaluator = {
  group: '', resource: 'pods',
  matchingResources: (input) => input.filter(isPodResourceName),
  usage(obj, now) {
    const pod = obj as Pod;
    // count/pods tracks every stored pod; the compute resources only live ones.
    const out: ResourceList = new Map([['count/pods', count(1)]]);
    if (!podCountsForQuota(pod, now)) return out;
    return addLists(out, computeUsage(podResources(pod, 'requests'), podResources(pod, 'limits')));
  },
  matchesScope: (scope, pod) => POD_SCOPES[scope.scopeName]?.(scope, pod as Pod) ?? false,
};

// ---- services ----

const SERVICE_RESOURCES = ['count/services', 'services', 'services.loadbalancers', 'services.nodeports'];

const serviceEvaluator: QuotaEvaluator = {
  group: '', resource: 'services',
  matchingResources: (input) => input.filter((n) => SERVICE_RESOURCES.includes(n)),
  usage(obj) {
    const spec = (obj as Service).spec;
    const ports = spec?.ports ?? [];
    let nodePorts = 0, loadBalancers = 0;
    if (spec?.type === 'NodePort') nodePorts = ports.length;
    if (spec?.type === 'LoadBalancer') {
      loadBalancers = 1;
      nodePorts = spec.allocateLoadBalancerNodePorts === false ? ports.filter((p) => typeof p.nodePort === 'number' && p.nodePort !== 0).length : ports.length;
    }
    return new Map<string, Quantity>([
      ['count/services', count(1)], ['services', count(1)],
      ['services.loadbalancers', count(loadBalancers)], ['services.nodeports', count(nodePorts)],
    ]);
  },
  matchesScope: () => false,
};

// ---- persistent volume claims ----

function claimClass(pvc: PersistentVolumeClaim): string {
  const beta = pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  return beta ?? pvc.spec?.storageClassName ?? '';
}

const pvcEvaluator: QuotaEvaluator = {
  group: '', resource: 'persistentvolumeclaims',
  matchingResources: (input) => input.filter((n) => n === 'persistentvolumeclaims' || n === 'count/persistentvolumeclaims'
    || n === 'requests.storage' || n.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`)
    || n.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`)),
  usage(obj) {
    const pvc = obj as PersistentVolumeClaim;
    const out: ResourceList = new Map([['persistentvolumeclaims', count(1)], ['count/persistentvolumeclaims', count(1)]]);
    const cls = claimClass(pvc);
    if (cls !== '') out.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, count(1));
    // Charged the larger of what is asked and what is already allocated (an expansion in progress).
    const storage: ResourceList = new Map();
    const req = parseResourceList(pvc.spec?.resources?.requests).get('storage');
    if (req) storage.set('storage', req);
    const allocated = parseResourceList(pvc.status?.allocatedResources).get('storage');
    if (allocated) maxInto(storage, new Map([['storage', allocated]]));
    const s = storage.get('storage');
    if (s) {
      out.set('requests.storage', s);
      if (cls !== '') out.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, s);
    }
    return out;
  },
  matchesScope: () => false,
};

/** The evaluator of a group/resource (an object count for any resource without its own). */
export function evaluatorFor(group: string, resource: string): QuotaEvaluator {
  if (group === '') {
    if (resource === 'pods') return podEvaluator;
    if (resource === 'services') return serviceEvaluator;
    if (resource === 'persistentvolumeclaims') return pvcEvaluator;
  }
  return objectCountEvaluator(group, resource);
}

/** The group/resources whose objects a quota with these hard names must count. */
export function resourcesForHard(names: readonly string[]): { group: string; resource: string }[] {
  const out = new Map<string, { group: string; resource: string }>();
  const add = (group: string, resource: string): void => {
    out.set(`${resource}.${group}`, { group, resource });
  };
  for (const n of names) {
    if (podEvaluator.matchingResources([n]).length > 0) add('', 'pods');
    else if (serviceEvaluator.matchingResources([n]).length > 0) add('', 'services');
    else if (pvcEvaluator.matchingResources([n]).length > 0) add('', 'persistentvolumeclaims');
    else if (LEGACY_COUNT_NAMES[n]) add('', n);
    else if (n.startsWith('count/')) {
      const rest = n.slice('count/'.length);
      const dot = rest.indexOf('.');
      if (dot < 0) add('', rest);
      else add(rest.slice(dot + 1), rest.slice(0, dot));
    }
  }
  return [...out.values()];
}

/** A quota's scopes as selectors (spec.scopes, then spec.scopeSelector.matchExpressions). */
export function quotaScopes(spec: { scopes?: string[]; scopeSelector?: { matchExpressions?: ScopedResourceSelectorRequirement[] } } | undefined): ScopeSelector[] {
  const out: ScopeSelector[] = [];
  for (const s of spec?.scopes ?? []) out.push({ scopeName: s, operator: 'Exists', values: [] });
  for (const e of spec?.scopeSelector?.matchExpressions ?? []) out.push({ scopeName: e.scopeName, operator: e.operator, values: e.values ?? [] });
  return out;
}

/** The usage of `objects` for the quota's hard names and scopes (CalculateUsage, masked to what it tracks). */
export function calculateUsage(hard: readonly string[], scopes: readonly ScopeSelector[], objectsOf: (group: string, resource: string) => readonly KubeObject[] | undefined, now: number): ResourceList {
  let used: ResourceList = new Map();
  const matched = new Set<string>();
  for (const { group, resource } of resourcesForHard(hard)) {
    const ev = evaluatorFor(group, resource);
    const names = ev.matchingResources(hard);
    if (names.length === 0) continue;
    const objects = objectsOf(group, resource);
    if (objects === undefined) continue;
    for (const n of names) {
      matched.add(n);
      if (!used.has(n)) used.set(n, count(0));
    }
    for (const obj of objects) {
      if (!scopes.every((s) => ev.matchesScope(s, obj))) continue;
      const u = ev.usage(obj, now);
      used = addLists(used, new Map([...u].filter(([k]) => names.includes(k))));
    }
  }
  return new Map([...used].filter(([k]) => matched.has(k)));
}
