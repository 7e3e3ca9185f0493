// The metrics.k8s.io/v1beta1 resources as the API server serves them: `nodes` (NodeMetrics) and
// namespaced `pods` (PodMetrics), get and list with label and field selectors, JSON or Table, built
// from MetricsStorage and the current Node and Pod objects exactly as metrics-server answers.
import type { Node, Pod } from '../../api/types/core_v1.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { DiscoverySource } from '../../api/discovery.ts';
import { LabelSelectorError, isEmpty, matches, parseSelector, type Selector } from '../../api/labels.ts';
import { FieldSelectorError, isEmptyFieldSelector, matchesFields, parseFieldSelector, type FieldSelector } from '../../api/fields.ts';
import { canonicalQuantityString, newQuantity, newScaledQuantity, parseQuantity, quantityValue, scaledValue } from '../../api/quantity.ts';
import { formatDuration } from '../../api/duration.ts';
import { newBadRequest, newMethodNotAllowed, newNoResource, newNotFound } from '../errors.ts';
import { negotiate, writeJSON, type Req, type Res } from '../http_util.ts';
import type { RequestInfo } from '../request_info.ts';
import type { MetricsStorage } from './storage.ts';
import { METRICS_API_VERSION, METRICS_GROUP, METRICS_VERSION, type NodeMetrics, type PodMetrics, type Usage } from './types.ts';

/** The Node and Pod objects metrics are reported for (the API server's watch caches). */
export interface MetricsObjects {
  /** Every node. */
  nodes(): Promise<Node[]>;
  /** Pods of a namespace ("" for all). */
  pods(namespace: string): Promise<Pod[]>;
}

const COMMON = {
  group: METRICS_GROUP, version: METRICS_VERSION, singular: '', shortNames: [], categories: [],
  verbs: ['get', 'list'], subresources: [], storageVersion: METRICS_VERSION, definition: '',
} as const;

/** The group's resources for discovery (metrics-server registers no singular names). */
export const METRICS_RESOURCES: readonly ResourceInfo[] = [
  { ...COMMON, kind: 'NodeMetrics', listKind: 'NodeMetricsList', resource: 'nodes', namespaced: false },
  { ...COMMON, kind: 'PodMetrics', listKind: 'PodMetricsList', resource: 'pods', namespaced: true },
];

/** metav1.Time: RFC 3339, whole seconds, UTC. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** CPU in nanocores as a quantity ("12345n"), memory in bytes as a binary one ("1234Ki"). */
export function usageQuantities(cpuNanoCores: number, memoryBytes: number): { cpu: string; memory: string } {
  return {
    cpu: canonicalQuantityString(newScaledQuantity(BigInt(Math.max(0, Math.trunc(cpuNanoCores))), -9)),
    memory: canonicalQuantityString(newQuantity(BigInt(Math.max(0, Math.trunc(memoryBytes))), 'BinarySI')),
  };
}

function windowString(ms: number): string {
  return formatDuration(BigInt(Math.round(ms * 1e6)));
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Selection {
  readonly labels: Selector;
  readonly fields: FieldSelector;
}

function parseListSelection(q: URLSearchParams): Selection {
  try {
    return { labels: parseSelector(q.get('labelSelector') ?? ''), fields: parseFieldSelector(q.get('fieldSelector') ?? '') };
  } catch (err) {
    if (err instanceof LabelSelectorError || err instanceof FieldSelectorError) throw newBadRequest(err.message);
    throw err;
  }
}

/** Selects by labels and by the object-meta fields metrics-server knows (name, and namespace for pods). */
function selected(sel: Selection, meta: { name?: string; namespace?: string; labels?: Record<string, string> } | undefined, namespaced: boolean): boolean {
  if (!isEmpty(sel.labels) && !matches(sel.labels, meta?.labels ?? {})) return false;
  if (isEmptyFieldSelector(sel.fields)) return true;
  const fields: Record<string, string> = { 'metadata.name': meta?.name ?? '' };
  if (namespaced) fields['metadata.namespace'] = meta?.namespace ?? '';
  return matchesFields(sel.fields, fields);
}

/** The metrics.k8s.io API of one API server. */
export class MetricsApi {
  readonly #storage: MetricsStorage;
  readonly #objects: MetricsObjects;
  readonly #now: () => number;
  #discovery: { base: DiscoverySource; extended: DiscoverySource } | undefined;

  constructor(storage: MetricsStorage, objects: MetricsObjects, now: () => number = Date.now) {
    this.#storage = storage;
    this.#objects = objects;
    this.#now = now;
  }

  /** True for requests to the metrics.k8s.io group. */
  serves(group: string): boolean {
    return group === METRICS_GROUP;
  }

  /** A discovery source with this group added after the built-in ones (an aggregated API's place). */
  discovery(base: DiscoverySource): DiscoverySource {
    if (this.#discovery?.base !== base) {
      this.#discovery = {
        base,
        extended: {
          groups: [...base.groups, { name: METRICS_GROUP, versions: [METRICS_VERSION] }],
          resources: [...base.resources, ...METRICS_RESOURCES],
        },
      };
    }
    return this.#discovery.extended;
  }

  /** Answers an (authenticated and authorized) resource request to the group. */
  async handle(req: Req, res: Res, ri: RequestInfo, query: URLSearchParams): Promise<void> {
    const info = METRICS_RESOURCES.find((r) => r.resource === ri.resource);
    if (ri.version !== METRICS_VERSION || !info || ri.subresource !== '' || (!info.namespaced && ri.namespace !== '')) throw newNoResource();
    if (ri.verb !== 'get' && ri.verb !== 'list') throw newMethodNotAllowed();
    const as = negotiate(req.headers['accept'], { allowTable: true }).as;
    if (info.resource === 'nodes') {
      const items = ri.verb === 'get' ? [await this.nodeMetrics(ri.name)] : await this.listNodeMetrics(parseListSelection(query));
      this.#respond(res, as, query, info, ri.verb === 'get', items);
    } else {
      const items = ri.verb === 'get' ? [await this.podMetrics(ri.namespace, ri.name)] : await this.listPodMetrics(ri.namespace, parseListSelection(query));
      this.#respond(res, as, query, info, ri.verb === 'get', items);
    }
  }

  #nodeObject(node: Node, usage: Usage): NodeMetrics {
    const md = node.metadata ?? {};
    return {
      kind: 'NodeMetrics', apiVersion: METRICS_API_VERSION,
      metadata: { name: md.name ?? '', creationTimestamp: rfc3339(this.#now()), ...(md.labels ? { labels: md.labels } : {}) },
      timestamp: rfc3339(usage.timestamp), window: windowString(usage.windowMs),
      usage: usageQuantities(usage.cpuNanoCores, usage.memoryBytes),
    };
  }

  #podObject(pod: Pod): PodMetrics | undefined {
    const md = pod.metadata ?? {};
    const u = this.#storage.podUsage(md.namespace ?? '', md.name ?? '');
    if (!u) return undefined;
    return {
      kind: 'PodMetrics', apiVersion: METRICS_API_VERSION,
      metadata: { name: md.name ?? '', namespace: md.namespace ?? '', creationTimestamp: rfc3339(this.#now()), ...(md.labels ? { labels: md.labels } : {}) },
      timestamp: rfc3339(u.timestamp), window: windowString(u.windowMs),
      containers: u.containers.map((c) => ({ name: c.name, usage: usageQuantities(c.usage.cpuNanoCores, c.usage.memoryBytes) })),
    };
  }

  /** NodeMetrics of one node: 404 for an unknown node (the node lister's words) or one without metrics. */
  async nodeMetrics(name: string): Promise<NodeMetrics> {
    const node = (await this.#objects.nodes()).find((n) => n.metadata?.name === name);
    if (!node) throw newNotFound({ group: '', resource: 'node' }, name);
    const u = this.#storage.nodeUsage(name);
    if (!u) throw newNotFound({ group: METRICS_GROUP, resource: 'nodemetrics' }, name);
    return this.#nodeObject(node, u.usage);
  }

  /** NodeMetrics of the selected nodes that have metrics, by name. */
  async listNodeMetrics(sel: Selection): Promise<NodeMetrics[]> {
    const out: NodeMetrics[] = [];
    for (const node of await this.#objects.nodes()) {
      if (!selected(sel, node.metadata, false)) continue;
      const u = this.#storage.nodeUsage(node.metadata?.name ?? '');
      if (u) out.push(this.#nodeObject(node, u.usage));
    }
    return out.sort((a, b) => byName(a.metadata.name, b.metadata.name));
  }

  /** PodMetrics of one pod: 404 for an unknown pod or one without metrics (metrics-server's messages). */
  async podMetrics(namespace: string, name: string): Promise<PodMetrics> {
    const pod = (await this.#objects.pods(namespace)).find((p) => p.metadata?.name === name);
    if (!pod) throw newNotFound({ group: '', resource: 'pods' }, name);
    const m = this.#podObject(pod);
    if (!m) throw newNotFound({ group: METRICS_GROUP, resource: 'podmetrics' }, `${namespace}/${name}`);
    return m;
  }

  /** PodMetrics of the selected pods that have metrics, by namespace and name. */
  async listPodMetrics(namespace: string, sel: Selection): Promise<PodMetrics[]> {
    const out: PodMetrics[] = [];
    for (const pod of await this.#objects.pods(namespace)) {
      if (!selected(sel, pod.metadata, true)) continue;
      const m = this.#podObject(pod);
      if (m) out.push(m);
    }
    return out.sort((a, b) => byName(a.metadata.namespace, b.metadata.namespace) || byName(a.metadata.name, b.metadata.name));
  }

  #respond(res: Res, as: string, query: URLSearchParams, info: ResourceInfo, single: boolean, items: Array<NodeMetrics | PodMetrics>): void {
    if (as === 'table') {
      writeJSON(res, 200, metricsTable(items, query.get('includeObject') ?? 'Metadata'));
    } else if (as === 'metadata') {
      const meta = items.map((i) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: i.metadata }));
      writeJSON(res, 200, single ? meta[0] : { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: meta });
    } else {
      writeJSON(res, 200, single ? items[0] : { kind: info.listKind, apiVersion: METRICS_API_VERSION, metadata: {}, items });
    }
  }
}

/** metrics-server's table: Name, one column per resource (summed over containers), Window; no columns when empty. */
export function metricsTable(items: ReadonlyArray<NodeMetrics | PodMetrics>, includeObject: string): Record<string, unknown> {
  const rows = items.map((m) => {
    let cpu = 0n;
    let memory = 0n;
    const usages = 'usage' in m ? [m.usage] : m.containers.map((c) => c.usage);
    for (const u of usages) {
      cpu += scaledValue(parseQuantity(u.cpu), -9);
      memory += quantityValue(parseQuantity(u.memory));
    }
    const q = usageQuantities(Number(cpu), Number(memory));
    const object = includeObject === 'None' ? undefined
      : includeObject === 'Object' ? m
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: m.metadata };
    return { cells: [m.metadata.name, q.cpu, q.memory, m.window], ...(object ? { object } : {}) };
  });
  const columnDefinitions = items.length === 0 ? [] : [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
    { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
    { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
    { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
  ];
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions, rows };
}
