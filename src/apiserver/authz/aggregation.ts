// ClusterRole aggregation (upstream's clusterrole-aggregation controller, as pure functions): a
// ClusterRole with an aggregationRule holds the union of the rules of the ClusterRoles its selectors
// match. The controller (or the bootstrap) writes the result; the authorizer reads stored rules only.
import { compareGoStrings } from '../../api/go_strings.ts';
import { labelSelectorAsSelector, matches } from '../../api/labels.ts';
import type { ClusterRole, PolicyRule } from '../../api/types/rbac_v1.ts';
import { rulesEqual } from './rbac_rules.ts';

/**
 * The rules an aggregating role should hold given all ClusterRoles: for each selector in order, the
 * matching roles by name (itself excluded), their rules in order, each distinct rule once.
 * Undefined when the role has no aggregationRule. Throws LabelSelectorError for a bad selector.
 */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  if (role.aggregationRule === undefined) return undefined;
  const selectors = role.aggregationRule.clusterRoleSelectors ?? [];
  const self = role.metadata?.name ?? '';
  const out: PolicyRule[] = [];
  for (const ls of selectors) {
    const sel = labelSelectorAsSelector(ls);
    const picked = all.filter((r) => matches(sel, r.metadata?.labels)).sort((a, b) => compareGoStrings(a.metadata?.name ?? '', b.metadata?.name ?? ''));
    for (const r of picked) {
      if ((r.metadata?.name ?? '') === self) continue;
      for (const rule of r.rules ?? []) if (!out.some((x) => rulesEqual(x, rule))) out.push(rule);
    }
  }
  return out;
}

function sameRules(a: readonly PolicyRule[] | undefined, b: readonly PolicyRule[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => rulesEqual(r, y[i]!));
}

/**
 * Aggregates until nothing changes (an aggregated role may itself be aggregated, as edit is into
 * admin), like the controller's repeated syncs. Returns the new rules of every role that changed;
 * roles with an invalid selector are left as they are.
 */
export function aggregateClusterRoles(roles: readonly ClusterRole[]): Map<string, PolicyRule[]> {
  const current = roles.map((r) => ({ ...r }));
  const changed = new Map<string, PolicyRule[]>();
  // Each pass settles at least one more level of nesting, so as many passes as roles always suffice.
  for (let pass = 0; pass <= current.length; pass++) {
    let any = false;
    for (let i = 0; i < current.length; i++) {
      const role = current[i]!;
      let next: PolicyRule[] | undefined;
      try {
        next = aggregatedRules(role, current);
      } catch {
        continue;
      }
      if (next === undefined || sameRules(next, role.rules)) continue;
      current[i] = { ...role, rules: next };
      changed.set(role.metadata?.name ?? '', next);
      any = true;
    }
    if (!any) break;
  }
  for (const r of roles) {
    const name = r.metadata?.name ?? '';
    if (changed.has(name) && sameRules(changed.get(name), r.rules)) changed.delete(name);
  }
  return changed;
}
