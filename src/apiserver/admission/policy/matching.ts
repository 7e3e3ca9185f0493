// Whether a ValidatingAdmissionPolicy's matchConstraints (or a binding's matchResources) select a
// request (upstream's policy/matching): selectors, exclude rules first, then resource rules with
// resourceNames, and matchPolicy Equivalent.
import type { AdmissionAttributes, AdmissionLister } from '../types.ts';
import { matchNamespaceSelector, matchObjectSelector, parseSelector, type ParsedSelector } from '../webhook/predicates.ts';
import { equivalentResources, kindFor, requestResource, ruleMatches, type MatchedResource } from '../webhook/rules.ts';
import { effectiveNamespace } from '../webhook/rules.ts';

/** A JSON object. */
type Obj = Record<string, unknown>;

/** matchResources, prepared once per object version. */
export interface MatchCriteria {
  readonly matchPolicy: string;
  readonly namespaceSelector: ParsedSelector;
  readonly objectSelector: ParsedSelector;
  readonly resourceRules: readonly Obj[];
  readonly excludeResourceRules: readonly Obj[];
}

function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter((x): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];
}

/** Prepares a MatchResources object. */
export function matchCriteria(mr: Obj): MatchCriteria {
  return {
    matchPolicy: typeof mr['matchPolicy'] === 'string' ? mr['matchPolicy'] : 'Equivalent',
    namespaceSelector: parseSelector(mr['namespaceSelector']),
    objectSelector: parseSelector(mr['objectSelector']),
    resourceRules: objs(mr['resourceRules']),
    excludeResourceRules: objs(mr['excludeResourceRules']),
  };
}

function namesOf(rule: Obj): string[] {
  const v = rule['resourceNames'];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function matchesResourceRules(rules: readonly Obj[], matchPolicy: string, a: AdmissionAttributes): MatchedResource | undefined {
  const requested = requestResource(a);
  const t = (info: typeof requested) => ({
    operation: a.operation, group: info.group, version: info.version, resource: info.resource,
    subresource: a.subresource, namespace: effectiveNamespace(a),
  });
  for (const rule of rules) {
    if (!ruleMatches(rule, t(requested))) continue;
    const names = namesOf(rule);
    if (names.length === 0 || names.includes(a.name)) return { info: requested, subresource: a.subresource, kind: kindFor(requested, a.subresource) };
  }
  if (matchPolicy !== 'Equivalent') return undefined;
  const equivalents = equivalentResources(requested, a.subresource).filter((r) => r !== requested);
  for (const rule of rules) {
    for (const eq of equivalents) {
      if (ruleMatches(rule, t(eq))) return { info: eq, subresource: a.subresource, kind: kindFor(eq, a.subresource) };
    }
  }
  return undefined;
}

/** Matcher.Matches: the matched resource, undefined when not selected; throws selector errors of selected requests. */
export async function matches(c: MatchCriteria, a: AdmissionAttributes, lister: AdmissionLister): Promise<MatchedResource | undefined> {
  const nsMatch = await matchNamespaceSelector(c.namespaceSelector, a, lister);
  if (nsMatch === false) return undefined;
  const objMatch = matchObjectSelector(c.objectSelector, a);
  if (objMatch === false) return undefined;
  if (matchesResourceRules(c.excludeResourceRules, c.matchPolicy, a)) return undefined;
  const requested = requestResource(a);
  const matched = c.resourceRules.length === 0
    ? { info: requested, subresource: a.subresource, kind: kindFor(requested, a.subresource) }
    : matchesResourceRules(c.resourceRules, c.matchPolicy, a);
  if (!matched) return undefined;
  if (nsMatch instanceof Error) throw nsMatch;
  if (objMatch instanceof Error) throw objMatch;
  return matched;
}
