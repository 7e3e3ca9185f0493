// The kind check of a create or update body against the URL's resource, worded as upstream's
// decoder fails: a body of another registered kind cannot be converted into the URL's internal type
// ("converting (v1.Service) to (core.Pod): unknown conversion"), a kind no scheme knows is "not
// registered". Same-kind bodies of another version are left to checkBodyAgainstRequest.
import { isServedGroupVersion, resourceForKind, resourcesOf } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { newBadRequest } from '../errors.ts';

/** Go package names of the internal API types, by group: the type names conversion errors print. */
const INTERNAL_PACKAGES: Readonly<Record<string, string>> = {
  '': 'core', 'apps': 'apps', 'batch': 'batch', 'autoscaling': 'autoscaling', 'policy': 'policy',
  'networking.k8s.io': 'networking', 'rbac.authorization.k8s.io': 'rbac', 'storage.k8s.io': 'storage',
  'certificates.k8s.io': 'certificates', 'coordination.k8s.io': 'coordination', 'discovery.k8s.io': 'discovery',
  'events.k8s.io': 'core', 'scheduling.k8s.io': 'scheduling', 'node.k8s.io': 'node',
  'admissionregistration.k8s.io': 'admissionregistration', 'apiextensions.k8s.io': 'apiextensions',
  'flowcontrol.apiserver.k8s.io': 'flowcontrol', 'resource.k8s.io': 'resource', 'apiregistration.k8s.io': 'apiregistration',
  'authentication.k8s.io': 'authentication', 'authorization.k8s.io': 'authorization', 'storagemigration.k8s.io': 'storagemigration',
  'internal.apiserver.k8s.io': 'apiserverinternal',
};

/** Kinds of meta.k8s.io/v1 that every group version registers. */
const META_KINDS = new Set(['Status', 'DeleteOptions', 'ListOptions', 'GetOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'WatchEvent']);

/** Whether the scheme knows `kind` at this served group version (resources, their lists and the meta kinds). */
function registered(group: string, version: string, kind: string): boolean {
  if (META_KINDS.has(kind) || resourceForKind(group, version, kind)) return true;
  return resourcesOf(group, version).some((r) => r.listKind === kind || r.subresources.some((s) => s.kind === kind && (s.group ?? group) === group && (s.version ?? version) === version));
}

/**
 * Throws upstream's 400 when the body names a kind other than the URL's resource. Runs before the
 * typed decode and strict field checks, as upstream's decoder fails before either.
 */
export function checkBodyKind(info: ResourceInfo, obj: Record<string, unknown>): void {
  const pkg = INTERNAL_PACKAGES[info.group];
  const kind = obj['kind'];
  if (pkg === undefined || typeof kind !== 'string' || kind === '' || kind === info.kind) return;
  const apiVersion = typeof obj['apiVersion'] === 'string' && obj['apiVersion'] !== '' ? obj['apiVersion'] : (info.group === '' ? info.version : `${info.group}/${info.version}`);
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!isServedGroupVersion(group, version)) return;
  const what = `${kind} in version "${version}" cannot be handled as a ${info.kind}`;
  if (!registered(group, version, kind)) {
    throw newBadRequest(`${what}: no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  }
  throw newBadRequest(`${what}: converting (${version}.${kind}) to (${pkg}.${info.kind}): unknown conversion`);
}
