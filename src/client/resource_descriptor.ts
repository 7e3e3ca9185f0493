// Which resource a request is about, and the URL path the API server serves it at
// (/api/v1/namespaces/NS/pods/NAME/status, /apis/apps/v1/deployments).
import { resourceFor } from '../api/resource_table.ts';

/** A resource at one group/version; `ResourceInfo` from the resource table satisfies it. */
export interface ResourceDescriptor {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural lower-case name ("pods"). */
  readonly resource: string;
  readonly namespaced: boolean;
  /** Kind of the objects ("Pod"), used to fill TypeMeta on list items. */
  readonly kind?: string;
}

/** The built-in resource `resource` at `apiVersion` ("v1", "apps/v1"); throws if tkube does not serve it. */
export function resourceDescriptor(apiVersion: string, resource: string): ResourceDescriptor {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const info = resourceFor(group, version, resource);
  if (!info) throw new Error(`resourceDescriptor: no resource ${JSON.stringify(resource)} in ${JSON.stringify(apiVersion)}`);
  return { group: info.group, version: info.version, resource: info.resource, namespaced: info.namespaced, kind: info.kind };
}

/** "apps/v1", or "v1" for core. */
export function apiVersionOf(desc: Pick<ResourceDescriptor, 'group' | 'version'>): string {
  return desc.group === '' ? desc.version : `${desc.group}/${desc.version}`;
}

/** "deployments.apps", or "pods" for core: the resource as upstream names it in messages and keys. */
export function groupResourceOf(desc: Pick<ResourceDescriptor, 'group' | 'resource'>): string {
  return desc.group === '' ? desc.resource : `${desc.resource}.${desc.group}`;
}

/**
 * The path of a collection, an object or a subresource. `namespace` is ignored for cluster-scoped
 * resources and, when empty, addresses all namespaces (list/watch only).
 */
export function resourcePath(desc: ResourceDescriptor, namespace?: string, name?: string, subresource?: string): string {
  let p = desc.group === '' ? `/api/${desc.version}` : `/apis/${desc.group}/${desc.version}`;
  if (desc.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${desc.resource}`;
  if (name !== undefined) {
    if (name === '') throw new Error(`resourcePath: empty name for ${groupResourceOf(desc)}`);
    p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
  } else if (subresource) {
    throw new Error(`resourcePath: subresource ${JSON.stringify(subresource)} needs a name`);
  }
  return p;
}
