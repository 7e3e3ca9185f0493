// Discovery documents built from the resource table: legacy /api, /apis, /api/v1, /apis/G/V and the
// aggregated apidiscovery.k8s.io/v2 lists kubectl asks for first. Pure functions; the apiserver picks
// the form by the request's Accept header and serializes the result.
import type { ResourceInfo } from './resource_types.ts';
import { groupVersionString } from './resource_types.ts';
import { RESOURCES, SERVED_GROUPS } from './resource_table.ts';
import type { ServedGroup } from './resource_table.ts';

/** The resources and groups a discovery document describes; defaults to the built-in table (CRDs add to it). */
export interface DiscoverySource {
  readonly groups: readonly ServedGroup[];
  readonly resources: readonly ResourceInfo[];
}

/** The built-in table as a discovery source. */
export const BUILTIN_DISCOVERY: DiscoverySource = { groups: SERVED_GROUPS, resources: RESOURCES };

/** Response content type of the aggregated form; kubectl dispatches on it, so it must be exact. */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** metav1.ServerAddressByClientCIDR */
export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

/** metav1.APIVersions, the legacy answer of /api. */
export interface APIVersions {
  kind: 'APIVersions';
  versions: string[];
  serverAddressByClientCIDRs: ServerAddressByClientCIDR[];
}

/** metav1.GroupVersionForDiscovery */
export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

/** metav1.APIGroup, as listed in /apis and answered at /apis/G. */
export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
  serverAddressByClientCIDRs?: ServerAddressByClientCIDR[];
}

/** metav1.APIGroupList, the legacy answer of /apis. */
export interface APIGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: APIGroup[];
}

/** metav1.APIResource; subresources are entries named "pods/log". */
export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

/** metav1.APIResourceList, the answer of /api/v1 and /apis/G/V. */
export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/** apidiscovery.k8s.io/v2 GroupVersionKind */
export interface DiscoveryGVK {
  group: string;
  version: string;
  kind: string;
}

/** apidiscovery.k8s.io/v2 APISubresourceDiscovery */
export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: DiscoveryGVK;
  verbs: string[];
}

/** apidiscovery.k8s.io/v2 APIResourceDiscovery */
export interface APIResourceDiscovery {
  resource: string;
  responseKind: DiscoveryGVK;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

/** apidiscovery.k8s.io/v2 APIVersionDiscovery */
export interface APIVersionDiscovery {
  version: string;
  resources: APIResourceDiscovery[];
  freshness: 'Current' | 'Stale';
}

/** apidiscovery.k8s.io/v2 APIGroupDiscovery */
export interface APIGroupDiscovery {
  metadata: { name?: string; creationTimestamp: null };
  versions: APIVersionDiscovery[];
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList */
export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: 'apidiscovery.k8s.io/v2';
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

function byName<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function resourcesIn(source: DiscoverySource, group: string, version: string): ResourceInfo[] {
  return source.resources.filter((r) => r.group === group && r.version === version).sort(byName((r) => r.resource));
}

/** Legacy `/api`: the core versions and the address clients should use (e.g. "10.0.0.5:6443"). */
export function apiVersions(serverAddress: string): APIVersions {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupVersionFor(group: string, version: string): GroupVersionForDiscovery {
  return { groupVersion: groupVersionString(group, version), version };
}

/** One non-core group as `/apis` lists it, or undefined if not served. */
export function apiGroup(name: string, source: DiscoverySource = BUILTIN_DISCOVERY): APIGroup | undefined {
  const g = source.groups.find((s) => s.name === name && name !== '');
  if (!g || g.versions.length === 0) return undefined;
  return {
    name: g.name,
    versions: g.versions.map((v) => groupVersionFor(g.name, v)),
    preferredVersion: groupVersionFor(g.name, g.versions[0]),
  };
}

/** Legacy `/apis/G`: one group with kind and apiVersion set, or undefined if not served. */
export function apiGroupDocument(name: string, source: DiscoverySource = BUILTIN_DISCOVERY): APIGroup | undefined {
  const g = apiGroup(name, source);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...g };
}

/** Legacy `/apis`: every served non-core group, in upstream's order. */
export function apiGroupList(source: DiscoverySource = BUILTIN_DISCOVERY): APIGroupList {
  const groups: APIGroup[] = [];
  for (const g of source.groups) {
    const entry = g.name === '' ? undefined : apiGroup(g.name, source);
    if (entry) groups.push(entry);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

function apiResourceEntries(r: ResourceInfo): APIResource[] {
  const main: APIResource = {
    name: r.resource,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) main.shortNames = [...r.shortNames];
  if (r.categories.length > 0) main.categories = [...r.categories];
  // Subresources of another group-version (pods/eviction, */scale) say which; Go field order kept.
  const subs = r.subresources.map((s): APIResource => ({
    name: `${r.resource}/${s.name}`,
    singularName: '',
    namespaced: r.namespaced,
    ...(s.group !== undefined || s.version !== undefined ? { group: s.group ?? r.group, version: s.version ?? r.version } : {}),
    kind: s.kind,
    verbs: [...s.verbs],
  }));
  return [main, ...subs];
}

/**
 * Legacy `/api/v1` or `/apis/G/V`: the resources of one group-version, each followed by its
 * subresources ("pods", "pods/attach", ...), or undefined if the group-version is not served.
 */
export function apiResourceList(group: string, version: string, source: DiscoverySource = BUILTIN_DISCOVERY): APIResourceList | undefined {
  if (!source.groups.some((g) => g.name === group && g.versions.includes(version))) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionString(group, version),
    resources: resourcesIn(source, group, version).flatMap(apiResourceEntries),
  };
}

function resourceDiscovery(r: ResourceInfo): APIResourceDiscovery {
  const out: APIResourceDiscovery = {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) out.shortNames = [...r.shortNames];
  if (r.categories.length > 0) out.categories = [...r.categories];
  if (r.subresources.length > 0) {
    out.subresources = [...r.subresources].sort(byName((s) => s.name)).map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
      verbs: [...s.verbs],
    }));
  }
  return out;
}

function groupDiscovery(g: ServedGroup, source: DiscoverySource): APIGroupDiscovery {
  return {
    metadata: g.name === '' ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
    versions: g.versions.map((v) => ({
      version: v,
      resources: resourcesIn(source, g.name, v).map(resourceDiscovery),
      freshness: 'Current',
    })),
  };
}

/**
 * Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList): for `/api` (which = "api")
 * only the core group, for `/apis` every other group. Serve it with AGGREGATED_DISCOVERY_CONTENT_TYPE.
 */
export function aggregatedDiscovery(which: 'api' | 'apis', source: DiscoverySource = BUILTIN_DISCOVERY): APIGroupDiscoveryList {
  const groups = source.groups.filter((g) => (which === 'api' ? g.name === '' : g.name !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => groupDiscovery(g, source)),
  };
}
