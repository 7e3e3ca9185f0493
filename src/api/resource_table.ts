// The resource table: every built-in resource tkube serves, with scope, verbs, kinds and subresources
// from the OpenAPI document (resource_table.generated.ts) plus what the spec does not say, kept here
// as data: which group-versions are served and in what order, short names, categories, storage versions.
import type { ResourceInfo, SubresourceInfo } from './resource_types.ts';
import { groupVersionString, qualifiedResource } from './resource_types.ts';
import { SPEC_RESOURCES } from './resource_table.generated.ts';
import type { SpecResource } from './resource_table.generated.ts';

/** A served API group: its versions, preferred first. */
export interface ServedGroup {
  /** "" for core. */
  readonly name: string;
  /** Preferred version first, then by upstream's version priority. */
  readonly versions: readonly string[];
}

/**
 * Served groups in upstream's discovery order: core, then the aggregator's own group, then by
 * upstream's group priority (kube-apiserver's APIService priorities), ties by name.
 */
export const SERVED_GROUPS: readonly ServedGroup[] = [
  { name: '', versions: ['v1'] },
  { name: 'apiregistration.k8s.io', versions: ['v1'] },
  { name: 'apps', versions: ['v1'] },
  { name: 'events.k8s.io', versions: ['v1'] },
  { name: 'authentication.k8s.io', versions: ['v1'] },
  { name: 'authorization.k8s.io', versions: ['v1'] },
  { name: 'autoscaling', versions: ['v2', 'v1'] },
  { name: 'batch', versions: ['v1'] },
  { name: 'certificates.k8s.io', versions: ['v1'] },
  { name: 'networking.k8s.io', versions: ['v1'] },
  { name: 'policy', versions: ['v1'] },
  { name: 'rbac.authorization.k8s.io', versions: ['v1'] },
  { name: 'storage.k8s.io', versions: ['v1'] },
  { name: 'admissionregistration.k8s.io', versions: ['v1'] },
  { name: 'apiextensions.k8s.io', versions: ['v1'] },
  { name: 'scheduling.k8s.io', versions: ['v1'] },
  { name: 'coordination.k8s.io', versions: ['v1'] },
  { name: 'node.k8s.io', versions: ['v1'] },
  { name: 'discovery.k8s.io', versions: ['v1'] },
];

/** Short names by qualified resource ("pods", "deployments.apps"), as upstream's storages declare them. */
const SHORT_NAMES: Readonly<Record<string, readonly string[]>> = {
  componentstatuses: ['cs'],
  configmaps: ['cm'],
  endpoints: ['ep'],
  events: ['ev'],
  limitranges: ['limits'],
  namespaces: ['ns'],
  nodes: ['no'],
  persistentvolumeclaims: ['pvc'],
  persistentvolumes: ['pv'],
  pods: ['po'],
  replicationcontrollers: ['rc'],
  resourcequotas: ['quota'],
  serviceaccounts: ['sa'],
  services: ['svc'],
  'customresourcedefinitions.apiextensions.k8s.io': ['crd', 'crds'],
  'daemonsets.apps': ['ds'],
  'deployments.apps': ['deploy'],
  'replicasets.apps': ['rs'],
  'statefulsets.apps': ['sts'],
  'horizontalpodautoscalers.autoscaling': ['hpa'],
  'cronjobs.batch': ['cj'],
  'certificatesigningrequests.certificates.k8s.io': ['csr'],
  'events.events.k8s.io': ['ev'],
  'ingresses.networking.k8s.io': ['ing'],
  'networkpolicies.networking.k8s.io': ['netpol'],
  'poddisruptionbudgets.policy': ['pdb'],
  'priorityclasses.scheduling.k8s.io': ['pc'],
  'storageclasses.storage.k8s.io': ['sc'],
};

/** Categories by qualified resource: `all` (kubectl get all) and `api-extensions`. */
const CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  pods: ['all'],
  replicationcontrollers: ['all'],
  services: ['all'],
  'daemonsets.apps': ['all'],
  'deployments.apps': ['all'],
  'replicasets.apps': ['all'],
  'statefulsets.apps': ['all'],
  'horizontalpodautoscalers.autoscaling': ['all'],
  'cronjobs.batch': ['all'],
  'jobs.batch': ['all'],
  'apiservices.apiregistration.k8s.io': ['api-extensions'],
  'customresourcedefinitions.apiextensions.k8s.io': ['api-extensions'],
  'mutatingwebhookconfigurations.admissionregistration.k8s.io': ['api-extensions'],
  'validatingadmissionpolicies.admissionregistration.k8s.io': ['api-extensions'],
  'validatingadmissionpolicybindings.admissionregistration.k8s.io': ['api-extensions'],
  'validatingwebhookconfigurations.admissionregistration.k8s.io': ['api-extensions'],
};

/** Storage version by qualified resource, where a group serves one object in several versions. */
const STORAGE_VERSIONS: Readonly<Record<string, string>> = {
  'horizontalpodautoscalers.autoscaling': 'v2',
};

/** Subresources the spec lists that v1.32 serves only behind an alpha feature gate (off by default). */
const FEATURE_GATED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'pods/resize', // InPlacePodVerticalScaling, alpha in v1.32
]);

function buildResource(spec: SpecResource): ResourceInfo {
  const qualified = qualifiedResource(spec);
  const subresources: SubresourceInfo[] = spec.subresources
    .filter((s) => !FEATURE_GATED_SUBRESOURCES.has(`${qualified}/${s.name}`))
    .map((s) => ({ ...s }));
  return {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    listKind: spec.listKind,
    resource: spec.resource,
    // Upstream's built-in singular names are the lower-cased kind.
    singular: spec.kind.toLowerCase(),
    namespaced: spec.namespaced,
    shortNames: SHORT_NAMES[qualified] ?? [],
    categories: CATEGORIES[qualified] ?? [],
    verbs: spec.verbs,
    subresources,
    storageVersion: STORAGE_VERSIONS[qualified] ?? spec.version,
    definition: spec.definition,
  };
}

/** Every served built-in resource, in discovery order (served group order, then version, then name). */
export const RESOURCES: readonly ResourceInfo[] = SERVED_GROUPS.flatMap((g) =>
  g.versions.flatMap((v) =>
    SPEC_RESOURCES.filter((r) => r.group === g.name && r.version === v)
      .sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0))
      .map(buildResource),
  ),
);

const byGVR = new Map<string, ResourceInfo>(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));

/** "v1", "apps/v1", ... for every served group-version, in discovery order (preferred version first per group). */
export function servedGroupVersions(): string[] {
  return SERVED_GROUPS.flatMap((g) => g.versions.map((v) => groupVersionString(g.name, v)));
}

/** The preferred version of a served group, or undefined if the group is not served. */
export function preferredVersion(group: string): string | undefined {
  return SERVED_GROUPS.find((g) => g.name === group)?.versions[0];
}

/** The resource at group/version/resource ("" group for core), or undefined. */
export function resourceFor(group: string, version: string, resource: string): ResourceInfo | undefined {
  return byGVR.get(`${group}/${version}/${resource}`);
}

/** The resource in the group's preferred version that serves it (for "deployments.apps" style lookups). */
export function preferredResource(group: string, resource: string): ResourceInfo | undefined {
  const g = SERVED_GROUPS.find((s) => s.name === group);
  for (const v of g?.versions ?? []) {
    const r = resourceFor(group, v, resource);
    if (r) return r;
  }
  return undefined;
}

/** The resource whose kind is group/version/kind, or undefined (kind "Scale" is only a subresource kind). */
export function resourceForKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/** All resources of one served group-version, in name order. */
export function resourcesOf(group: string, version: string): ResourceInfo[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** A subresource of a resource by name ("status", "scale", "log", ...), or undefined. */
export function subresourceOf(info: ResourceInfo, name: string): SubresourceInfo | undefined {
  return info.subresources.find((s) => s.name === name);
}

/**
 * Resolves what a user typed, kubectl style (plural, singular, short name or kind, any case, optionally
 * qualified by group: "deploy", "deployments.apps", "hpa.autoscaling") to resources in their groups'
 * preferred versions. Several groups may match ("events": core and events.k8s.io); the result follows
 * discovery order, so the first is what kubectl picks.
 */
export function resolveResourceName(name: string): ResourceInfo[] {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const bare = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  const out: ResourceInfo[] = [];
  for (const g of SERVED_GROUPS) {
    if (group !== undefined && g.name !== group) continue;
    const seen = new Set<string>();
    for (const v of g.versions) {
      for (const r of resourcesOf(g.name, v)) {
        const matches = r.resource === bare || r.singular === bare || r.shortNames.includes(bare) || r.kind.toLowerCase() === bare;
        if (matches && !seen.has(r.resource)) {
          seen.add(r.resource);
          out.push(r);
        }
      }
    }
  }
  return out;
}

/** True when group/version is one tkube serves. */
export function isServedGroupVersion(group: string, version: string): boolean {
  return SERVED_GROUPS.some((g) => g.name === group && g.versions.includes(version));
}
