// What each object costs in ResourceQuota terms (upstream's quota evaluators): pods (compute
// resources, by scope), services, persistent volume claims, and an object count for everything.
import { isZero, type Quantity } from '../../api/quantity.ts';
import type { KObject } from '../registry/strategy.ts';
import type { Operation } from './types.ts';
import { getArr, getMap, getObj, getStr, metaOf, type Obj } from './plugin_util.ts';
import { claimClass } from './persistent_volume_claim_resize.ts';
import { addLists, containerResources, count, maxInto, parseResourceList, podResources, type ResourceList } from './resource_lists.ts';

/** One scope requirement of a quota (spec.scopes entries become Exists). */
export interface ScopeSelector {
  readonly scopeName: string;
  readonly operator: string;
  readonly values: readonly string[];
}

/** A quota evaluator for one group/resource. */
export interface QuotaEvaluator {
  /** Whether an operation can change usage. */
  handles(op: Operation): boolean;
  /** The names among `names` this evaluator accounts for. */
  matchingResources(names: readonly string[]): string[];
  /** The usage of one object. */
  usage(obj: KObject, now: Date): ResourceList;
  /** Whether the object falls under a scope (resources without scopes never do). */
  matchesScope(scope: ScopeSelector, obj: KObject): boolean;
  /** A refusal when the object lacks something a quota requires (pods: explicit requests/limits). */
  constraints?(required: readonly string[], obj: KObject): string | undefined;
}

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const LEGACY_COUNT_NAMES: Readonly<Record<string, string>> = {
  configmaps: 'configmaps', secrets: 'secrets', replicationcontrollers: 'replicationcontrollers', resourcequotas: 'resourcequotas',
};

/** `count/<resource>` for core resources, `count/<resource>.<group>` for the rest. */
export function objectCountName(group: string, resource: string): string {
  return group === '' ? `count/${resource}` : `count/${resource}.${group}`;
}

function noScope(): boolean {
  return false;
}

/** The generic object-count evaluator. */
function objectCountEvaluator(group: string, resource: string): QuotaEvaluator {
  const names = [objectCountName(group, resource)];
  const legacy = group === '' ? LEGACY_COUNT_NAMES[resource] : undefined;
  if (legacy) names.push(legacy);
  return {
    handles: (op) => op === 'CREATE',
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    usage: () => new Map(names.map((n) => [n, count(1)])),
    matchesScope: noScope,
  };
}

// ---- pods ----

const POD_RESOURCES = new Set(['count/pods', 'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory',
  'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods']);
/** Resources that each container must state when a quota tracks them. */
const VALIDATION_SET = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

/** An extended resource: a qualified name outside kubernetes.io that is not a requests. name. */
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

function isPodResourceName(name: string): boolean {
  if (POD_RESOURCES.has(name)) return true;
  if (name.startsWith('hugepages-') || name.startsWith('requests.hugepages-')) return true;
  return name.startsWith('requests.') && isExtendedResource(name.slice('requests.'.length));
}

/** podComputeUsageHelper: the quota names a set of requests and limits are charged as. */
export function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
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

/** Whether a pod still costs compute quota (not terminal, not stuck past its grace period). */
function podCountsForQuota(pod: KObject, now: Date): boolean {
  const phase = getStr(getObj(pod, 'status'), 'phase');
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  const m = metaOf(pod);
  const del = Date.parse(getStr(m, 'deletionTimestamp'));
  const grace = m['deletionGracePeriodSeconds'];
  if (!Number.isNaN(del) && typeof grace === 'number' && now.getTime() > del + grace * 1000) return false;
  return true;
}

function isTerminating(pod: KObject): boolean {
  const ads = getObj(pod, 'spec')?.['activeDeadlineSeconds'];
  return typeof ads === 'number' && ads >= 0;
}

/** QoS BestEffort: no container requests or limits any cpu or memory. */
export function isBestEffort(pod: KObject): boolean {
  const spec = getObj(pod, 'spec') ?? {};
  for (const c of [...getArr(spec, 'initContainers'), ...getArr(spec, 'containers')]) {
    for (const which of ['requests', 'limits'] as const) {
      for (const [k, v] of containerResources(c, which)) if ((k === 'cpu' || k === 'memory') && !isZero(v)) return false;
    }
  }
  return true;
}

function usesCrossNamespacePodAffinity(pod: KObject): boolean {
  const affinity = getObj(getObj(pod, 'spec'), 'affinity');
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const a = getObj(affinity, kind);
    const terms = [
      ...getArr(a, 'requiredDuringSchedulingIgnoredDuringExecution'),
      ...getArr(a, 'preferredDuringSchedulingIgnoredDuringExecution').map((w) => getObj(w, 'podAffinityTerm') ?? {}),
    ];
    if (terms.some((t) => getArr(t, 'namespaces').length > 0 || getObj(t, 'namespaceSelector') !== undefined)) return true;
  }
  return false;
}

function matchesPriorityClass(scope: ScopeSelector, pod: KObject): boolean {
  const cls = getStr(getObj(pod, 'spec'), 'priorityClassName');
  switch (scope.operator) {
    case 'Exists': return cls !== '';
    case 'DoesNotExist': return cls === '';
    case 'In': return cls !== '' && scope.values.includes(cls);
    case 'NotIn': return cls === '' || !scope.values.includes(cls);
    default: return false;
  }
}

const POD_SCOPES: Readonly<Record<string, (scope: ScopeSelector, pod: KObject) => boolean>> = {
  Terminating: (_s, p) => isTerminating(p),
  NotTerminating: (_s, p) => !isTerminating(p),
  BestEffort: (_s, p) => isBestEffort(p),
  NotBestEffort: (_s, p) => !isBestEffort(p),
  PriorityClass: matchesPriorityClass,
  CrossNamespacePodAffinity: (_s, p) => usesCrossNamespacePodAffinity(p),
};

const podEvaluator: QuotaEvaluator = {
  handles: (op) => op === 'CREATE',
  matchingResources: (input) => input.filter(isPodResourceName),
  usage(pod, now) {
    // count/pods tracks every stored pod; the compute resources only live ones.
    const out: ResourceList = new Map([['count/pods', count(1)]]);
    if (!podCountsForQuota(pod, now)) return out;
    const spec = getObj(pod, 'spec') ?? {};
    return addLists(out, computeUsage(podResources(spec, 'requests', true), podResources(spec, 'limits', true)));
  },
  matchesScope: (scope, pod) => POD_SCOPES[scope.scopeName]?.(scope, pod) ?? false,
  constraints(required, pod) {
    const needed = required.filter((r) => VALIDATION_SET.has(r));
    if (needed.length === 0) return undefined;
    const spec = getObj(pod, 'spec') ?? {};
    const missing = new Map<string, Set<string>>();
    for (const c of [...getArr(spec, 'containers'), ...getArr(spec, 'initContainers')]) {
      const have = computeUsage(containerResources(c, 'requests'), containerResources(c, 'limits'));
      for (const r of needed) {
        if (have.has(r)) continue;
        const set = missing.get(r) ?? new Set<string>();
        set.add(getStr(c, 'name'));
        missing.set(r, set);
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...(missing.get(r) as Set<string>)].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---- services ----

const SERVICE_RESOURCES = ['count/services', 'services', 'services.loadbalancers', 'services.nodeports'];

const serviceEvaluator: QuotaEvaluator = {
  handles: (op) => op === 'CREATE' || op === 'UPDATE',
  matchingResources: (input) => input.filter((n) => SERVICE_RESOURCES.includes(n)),
  usage(svc) {
    const spec = getObj(svc, 'spec') ?? {};
    const ports = getArr(spec, 'ports');
    let nodePorts = 0, loadBalancers = 0;
    const type = getStr(spec, 'type');
    if (type === 'NodePort') nodePorts = ports.length;
    if (type === 'LoadBalancer') {
      loadBalancers = 1;
      // Without node port allocation only the ports that name one explicitly are charged.
      nodePorts = spec['allocateLoadBalancerNodePorts'] === false
        ? ports.filter((p) => typeof p['nodePort'] === 'number' && p['nodePort'] !== 0).length
        : ports.length;
    }
    return new Map<string, Quantity>([
      ['count/services', count(1)], ['services', count(1)],
      ['services.loadbalancers', count(loadBalancers)], ['services.nodeports', count(nodePorts)],
    ]);
  },
  matchesScope: noScope,
};

// ---- persistent volume claims ----

const pvcEvaluator: QuotaEvaluator = {
  handles: (op) => op === 'CREATE' || op === 'UPDATE',
  matchingResources: (input) => input.filter((n) => n === 'persistentvolumeclaims' || n === 'count/persistentvolumeclaims'
    || n === 'requests.storage' || n.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`)
    || n.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`)),
  usage(pvc) {
    const out: ResourceList = new Map([['persistentvolumeclaims', count(1)], ['count/persistentvolumeclaims', count(1)]]);
    const cls = claimClass(pvc);
    if (cls !== '') out.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, count(1));
    // Charged the larger of what is asked and what is already allocated (an expansion in progress).
    const storage: ResourceList = new Map();
    const req = parseResourceList(getMap(getObj(getObj(pvc, 'spec'), 'resources'), 'requests')).get('storage');
    if (req) storage.set('storage', req);
    const allocated = parseResourceList(getMap(getObj(pvc, 'status'), 'allocatedResources')).get('storage');
    if (allocated) maxInto(storage, new Map([['storage', allocated]]));
    const s = storage.get('storage');
    if (s) {
      out.set('requests.storage', s);
      if (cls !== '') out.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, s);
    }
    return out;
  },
  matchesScope: noScope,
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

/** A quota's scopes as selectors (spec.scopes then spec.scopeSelector.matchExpressions). */
export function quotaScopes(quota: Obj): ScopeSelector[] {
  const spec = getObj(quota, 'spec') ?? {};
  const out: ScopeSelector[] = [];
  for (const s of Array.isArray(spec['scopes']) ? spec['scopes'] as string[] : []) out.push({ scopeName: s, operator: 'Exists', values: [] });
  for (const e of getArr(getObj(spec, 'scopeSelector'), 'matchExpressions')) {
    out.push({ scopeName: getStr(e, 'scopeName'), operator: getStr(e, 'operator'), values: Array.isArray(e['values']) ? e['values'] as string[] : [] });
  }
  return out;
}
