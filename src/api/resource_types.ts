// The shape of one entry of the resource table (resource_table.ts holds the data). Everything the
// apiserver, discovery, kubectl's printers and the clients need to know about a resource is here.

/** A subresource such as status, scale, log, exec, eviction, binding. */
export interface SubresourceInfo {
  /** "status", "scale", "log", "exec", ... */
  readonly name: string;
  /** Kind it accepts/returns; group/version when it differs from the parent (scale → autoscaling/v1 Scale). */
  readonly kind: string;
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

/** A served resource at one group/version. */
export interface ResourceInfo {
  /** "" for core. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  /** Plural, lower case ("pods"). */
  readonly resource: string;
  /** Singular, lower case ("pod"). */
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Verbs on the resource itself: create delete deletecollection get list patch update watch. */
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /** The version objects are stored in (for groups served in several versions, e.g. autoscaling). */
  readonly storageVersion: string;
  /** The OpenAPI definition name of the kind, e.g. "io.k8s.api.core.v1.Pod". */
  readonly definition: string;
}

/** "apps/v1", or "v1" for core. */
export function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** "deployments.apps", or "pods" for core: how upstream names a resource in messages. */
export function qualifiedResource(info: Pick<ResourceInfo, 'group' | 'resource'>): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}
