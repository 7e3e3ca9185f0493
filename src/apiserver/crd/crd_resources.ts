// What a CustomResourceDefinition serves, read off the object (apiextensions' apihelpers): its
// conditions, storage and served versions in upstream's version order, the ResourceInfo of each
// served version, and the warning a deprecated version answers with.
import type {
  CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionVersion,
  CustomResourceSubresources,
} from '../../api/types/apiextensions_v1.ts';
import type { ResourceInfo, SubresourceInfo } from '../../api/resource_types.ts';

/** The finalizer a CRD carries from its deletion until its custom resources are gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** Verbs of a custom resource, in upstream's discovery order. */
export const CUSTOM_RESOURCE_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'] as const;

const SUBRESOURCE_VERBS = ['get', 'patch', 'update'] as const;

/** The condition of a type, or undefined. */
export function findCondition(crd: CustomResourceDefinition, type: string): CustomResourceDefinitionCondition | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

/** Whether the condition of a type is "True". */
export function isConditionTrue(crd: CustomResourceDefinition, type: string): boolean {
  return findCondition(crd, type)?.status === 'True';
}

/**
 * Sets a condition (upstream's SetCRDCondition): a new one is appended; an existing one keeps its
 * lastTransitionTime unless its status changes.
 */
export function setCondition(crd: CustomResourceDefinition, cond: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>, now: string): void {
  const status = (crd.status ??= {});
  const conds = (status.conditions ??= []);
  const existing = conds.find((c) => c.type === cond.type);
  if (!existing) {
    conds.push({ type: cond.type, status: cond.status, lastTransitionTime: now, reason: cond.reason, message: cond.message });
    return;
  }
  if (existing.status !== cond.status || !existing.lastTransitionTime) existing.lastTransitionTime = now;
  existing.status = cond.status;
  existing.reason = cond.reason;
  existing.message = cond.message;
}

/** Whether two conditions say the same (upstream's IsCRDConditionEquivalent: times aside). */
export function conditionEquivalent(a: CustomResourceDefinitionCondition | undefined, b: CustomResourceDefinitionCondition | undefined): boolean {
  if (!a || !b) return a === b;
  return a.type === b.type && a.status === b.status && (a.reason ?? '') === (b.reason ?? '') && (a.message ?? '') === (b.message ?? '');
}

/** The version objects are stored in (the one marked storage), or undefined. */
export function storageVersionOf(crd: CustomResourceDefinition): string | undefined {
  return (crd.spec?.versions ?? []).find((v) => v.storage)?.name;
}

/** The spec entry of a version, or undefined. */
export function versionOf(crd: CustomResourceDefinition, version: string): CustomResourceDefinitionVersion | undefined {
  return (crd.spec?.versions ?? []).find((v) => v.name === version);
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Upstream's CompareKubeAwareVersionStrings: positive when `a` has priority over `b`. GA before
 * beta before alpha, then higher major, then higher minor; versions of other shapes come last, in
 * name order.
 */
export function compareKubeAwareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma && !mb) return a < b ? 1 : -1;
  if (!ma) return -1;
  if (!mb) return 1;
  const type = (m: RegExpExecArray): number => (m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2);
  if (type(ma) !== type(mb)) return type(ma) - type(mb);
  if (Number(ma[1]) !== Number(mb[1])) return Number(ma[1]) - Number(mb[1]);
  return Number(ma[3] ?? 0) - Number(mb[3] ?? 0);
}

/** Versions sorted by priority, highest first (the preferred version leads). */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort((a, b) => compareKubeAwareVersions(b, a));
}

/** The served versions, highest priority first. */
export function servedVersions(crd: CustomResourceDefinition): string[] {
  return sortVersions((crd.spec?.versions ?? []).filter((v) => v.served).map((v) => v.name));
}

/** The subresources of a version. */
export function subresourcesOf(crd: CustomResourceDefinition, version: string): CustomResourceSubresources | undefined {
  return versionOf(crd, version)?.subresources;
}

/** The additionalPrinterColumns of a version. */
export function columnsOf(crd: CustomResourceDefinition, version: string): readonly CustomResourceColumnDefinition[] {
  return versionOf(crd, version)?.additionalPrinterColumns ?? [];
}

/** The OpenAPI definition name upstream gives a custom resource kind: the group reversed, then version and kind. */
export function openAPIDefinitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

/** The ResourceInfo a served version of an accepted CRD answers with (names from status.acceptedNames). */
export function crdResourceInfo(crd: CustomResourceDefinition, version: string): ResourceInfo {
  const names = crd.status?.acceptedNames ?? crd.spec.names;
  const group = crd.spec.group;
  const kind = names.kind;
  const subs = subresourcesOf(crd, version);
  const subresources: SubresourceInfo[] = [];
  if (subs?.status) subresources.push({ name: 'status', kind, verbs: [...SUBRESOURCE_VERBS] });
  if (subs?.scale) subresources.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: [...SUBRESOURCE_VERBS] });
  return {
    group,
    version,
    kind,
    listKind: names.listKind || `${kind}List`,
    resource: names.plural,
    singular: names.singular || kind.toLowerCase(),
    namespaced: crd.spec.scope === 'Namespaced',
    shortNames: [...(names.shortNames ?? [])],
    categories: [...(names.categories ?? [])],
    verbs: [...CUSTOM_RESOURCE_VERBS],
    subresources,
    storageVersion: storageVersionOf(crd) ?? version,
    definition: openAPIDefinitionName(group, version, kind),
  };
}

/**
 * The warning requests to a deprecated version get: its deprecationWarning, else upstream's
 * default naming the highest-priority served, non-deprecated version above it.
 */
export function deprecationWarning(crd: CustomResourceDefinition, version: string): string | undefined {
  const v = versionOf(crd, version);
  if (!v?.deprecated) return undefined;
  if (v.deprecationWarning !== undefined) return v.deprecationWarning;
  const { group, names } = crd.spec;
  let msg = `${group}/${version} ${names.kind} is deprecated`;
  const newer = sortVersions(crd.spec.versions.filter((x) => x.served && !x.deprecated && compareKubeAwareVersions(version, x.name) < 0).map((x) => x.name));
  if (newer.length > 0) msg += `; use ${group}/${newer[0]} ${names.kind}`;
  return msg;
}
