// Which requests an admission rule selects (upstream's webhook/predicates/rules): operations,
// API groups, versions, resources with `*` and subresources, and scope; plus matchPolicy
// Equivalent, which also tries the other versions and groups serving the same stored resource.
import type { ResourceInfo } from '../../../api/resource_types.ts';
import { RESOURCES } from '../../../api/resource_table.ts';
import { storagePrefix } from '../../registry/generic_store.ts';
import type { AdmissionAttributes, Operation } from '../types.ts';

/** A JSON object. */
type Obj = Record<string, unknown>;

/** What a rule looks at in a request. */
export interface RuleTarget {
  readonly operation: Operation;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
}

/** The resource an invocation matched, with the kind sent to the webhook or policy. */
export interface MatchedResource {
  readonly info: ResourceInfo;
  readonly subresource: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function splitResource(r: string): [string, string] {
  const i = r.indexOf('/');
  return i < 0 ? [r, ''] : [r.slice(0, i), r.slice(i + 1)];
}

function inList(list: string[], v: string): boolean {
  return list.some((x) => x === '*' || x === v);
}

/** Whether one RuleWithOperations selects the target. */
export function ruleMatches(rule: Obj, t: RuleTarget): boolean {
  const scope = typeof rule['scope'] === 'string' ? rule['scope'] : '*';
  const isNamespaceObject = t.group === '' && t.resource === 'namespaces';
  if (scope === 'Namespaced' && (isNamespaceObject || t.namespace === '')) return false;
  if (scope === 'Cluster' && !(isNamespaceObject || t.namespace === '')) return false;
  if (!inList(strs(rule['operations']), t.operation)) return false;
  if (!inList(strs(rule['apiGroups']), t.group)) return false;
  if (!inList(strs(rule['apiVersions']), t.version)) return false;
  return strs(rule['resources']).some((r) => {
    const [res, sub] = splitResource(r);
    return (res === '*' || res === t.resource) && (sub === '*' || sub === t.subresource);
  });
}

const CONFIGURATION_RESOURCES = new Set([
  'validatingwebhookconfigurations', 'mutatingwebhookconfigurations', 'validatingadmissionpolicies',
  'validatingadmissionpolicybindings', 'mutatingadmissionpolicies', 'mutatingadmissionpolicybindings',
]);

/** Admission configuration itself is never sent to webhooks or policies (so they cannot lock themselves in). */
export function isExemptAdmissionConfigurationResource(a: AdmissionAttributes): boolean {
  return a.info.group === 'admissionregistration.k8s.io' && CONFIGURATION_RESOURCES.has(a.info.resource);
}

/** The resource in the version the client asked for. */
export function requestResource(a: AdmissionAttributes): ResourceInfo {
  return a.requestInfo ?? a.info;
}

/** The kind a subresource request carries (Scale for scale, the parent's kind otherwise). */
export function kindFor(info: ResourceInfo, subresource: string): MatchedResource['kind'] {
  const sub = subresource === '' ? undefined : info.subresources.find((s) => s.name === subresource);
  if (sub && sub.kind !== info.kind) return { group: sub.group ?? info.group, version: sub.version ?? info.version, kind: sub.kind };
  return { group: info.group, version: info.version, kind: info.kind };
}

/** The namespace rules and selectors see: a Namespace object's own name, as upstream. */
export function effectiveNamespace(a: AdmissionAttributes): string {
  return a.info.group === '' && a.info.resource === 'namespaces' ? a.name : a.namespace;
}

function target(a: AdmissionAttributes, info: ResourceInfo): RuleTarget {
  return {
    operation: a.operation, group: info.group, version: info.version, resource: info.resource,
    subresource: a.subresource, namespace: effectiveNamespace(a),
  };
}

/** Other served versions and groups of the same stored resource (EquivalentResourcesFor). */
export function equivalentResources(info: ResourceInfo, subresource: string): ResourceInfo[] {
  const prefix = storagePrefix(info);
  return RESOURCES.filter((r) => storagePrefix(r) === prefix && r.resource === info.resource
    && (subresource === '' || r.subresources.some((s) => s.name === subresource)));
}

/**
 * The resource the rules select: the requested one, or with matchPolicy Equivalent the first
 * equivalent one an earlier rule selects. Undefined when nothing matches.
 */
export function matchRules(rules: readonly Obj[], matchPolicy: string, a: AdmissionAttributes): MatchedResource | undefined {
  const requested = requestResource(a);
  if (rules.some((r) => ruleMatches(r, target(a, requested)))) {
    return { info: requested, subresource: a.subresource, kind: kindFor(requested, a.subresource) };
  }
  if (matchPolicy !== 'Equivalent') return undefined;
  const equivalents = equivalentResources(requested, a.subresource).filter((r) => r !== requested);
  for (const rule of rules) {
    for (const eq of equivalents) {
      if (ruleMatches(rule, target(a, eq))) return { info: eq, subresource: a.subresource, kind: kindFor(eq, a.subresource) };
    }
  }
  return undefined;
}
