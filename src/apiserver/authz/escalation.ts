// Privilege-escalation prevention for RBAC writes (upstream's rbac/validation ConfirmNoEscalation
// and the policy-based role/binding storages): a user may only grant what it holds, unless it may
// `escalate` (roles) or `bind` (bindings) or is in system:masters. Callers map results to Status.
import { goQuote, sortGoStrings } from '../../api/go_strings.ts';
import type { PolicyRule, RoleRef } from '../../api/types/rbac_v1.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { Attributes, Authorizer } from './authorizer.ts';
import { RBAC_GROUP, aggregateMessage, type RoleRefRules } from './rbac.ts';
import { covers } from './rbac_rules.ts';

/** The group whose members may grant anything (user.SystemPrivilegedGroup). */
export const SYSTEM_PRIVILEGED_GROUP = 'system:masters';

/** What the role and binding storages need of the RBAC rule resolver (RbacAuthorizer has it). */
export interface RuleResolver {
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] };
  getRoleReferenceRules(roleRef: RoleRef, bindingNamespace: string): RoleRefRules;
}

/** The outcome of a write check: allowed, or the Status the write must fail with. */
export type EscalationCheck =
  | { readonly allowed: true }
  /** 403: `<resource>.rbac.authorization.k8s.io "<name>" is forbidden: <message>`. */
  | { readonly allowed: false; readonly reason: 'Forbidden'; readonly group: string; readonly resource: string; readonly name: string; readonly message: string }
  /** 404 for a binding whose role does not exist (details.kind is the singular `role`/`clusterrole`). */
  | { readonly allowed: false; readonly reason: 'NotFound'; readonly group: string; readonly resource: string; readonly name: string; readonly message: string };

const ALLOWED: EscalationCheck = { allowed: true };

/** `*` on everything: what an aggregationRule requires, since it can gather any rule. */
export const FULL_AUTHORITY: readonly PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** Whether the user may grant anything without checks (EscalationAllowed). */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_PRIVILEGED_GROUP);
}

/** fmt's %q of a []string: `["a" "b"]`. */
function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`, empty parts left out. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuoteList(r.apiGroups!)}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${goQuoteList(r.resources!)}`);
  if ((r.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs!)}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuoteList(r.resourceNames!)}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** CompactRules: merges the verbs of rules on one (group, resource[, one name]); others pass through. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule & { verbs: string[] }>();
  for (const r of rules) {
    const names = r.resourceNames ?? [];
    const isSimple = names.length <= 1 && (r.nonResourceURLs ?? []).length === 0 &&
      (r.apiGroups ?? []).length === 1 && (r.resources ?? []).length === 1;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups![0], r.resources![0], names.length > 0, names[0] ?? '']);
    const existing = simple.get(key);
    if (existing !== undefined) existing.verbs.push(...r.verbs);
    else simple.set(key, { ...r, verbs: [...r.verbs] });
  }
  out.push(...simple.values());
  return out;
}

/**
 * ConfirmNoEscalation: undefined when ownerRules cover rules, otherwise upstream's message
 * (`user "u" (groups=["g"]) is attempting to grant RBAC permissions not currently held:` then
 * one compact rule per line, sorted), with the owner's rule-resolution errors appended.
 */
export function confirmNoEscalation(user: UserInfo, rules: readonly PolicyRule[], ownerRules: readonly PolicyRule[], resolutionErrors: readonly string[] = []): string | undefined {
  const { covered, missing } = covers(ownerRules, rules);
  if (covered) return undefined;
  const descriptions = sortGoStrings([...new Set(compactRules(missing).map(compactString))]);
  let msg = `user ${goQuote(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  // Upstream appends a []error holding the one aggregate error of rule resolution.
  if (resolutionErrors.length > 0) msg += `; resolution errors: [${aggregateMessage(resolutionErrors)}]`;
  return msg;
}

function ownerCheck(resolver: RuleResolver, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): string | undefined {
  const owner = resolver.policyRulesFor(user, namespace);
  return confirmNoEscalation(user, rules, owner.rules, owner.errors);
}

async function authorized(authorizer: Authorizer, attrs: Attributes): Promise<boolean> {
  return (await authorizer.authorize(attrs)).decision === 'allow';
}

/** Options of bindAllowed. */
export interface BindCheckOptions {
  readonly user: UserInfo;
  /** "rolebindings" or "clusterrolebindings". */
  readonly resource: 'rolebindings' | 'clusterrolebindings';
  /** The binding's name, for the Forbidden message. */
  readonly name: string;
  readonly roleRef: RoleRef;
  /** The binding's namespace; "" for ClusterRoleBindings. */
  readonly namespace: string;
  /** The whole authorizer chain (the `bind` verb may be granted by any authorizer). */
  readonly authorizer: Authorizer;
  readonly resolver: RuleResolver;
  /** On update: true when only ownerReferences/finalizers/managedFields changed (isOnlyMutatingGCFields). */
  readonly onlyGCFieldsChanged?: boolean;
}

/**
 * Whether a RoleBinding or ClusterRoleBinding may be created or updated: system:masters, the `bind`
 * verb on the referenced role, or already holding every permission of the referenced role.
 */
export async function bindAllowed(o: BindCheckOptions): Promise<EscalationCheck> {
  if (escalationAllowed(o.user) || o.onlyGCFieldsChanged === true) return ALLOWED;
  const { kind } = o.roleRef;
  // An unknown roleRef kind is refused by validation with a field error; upstream would answer 500.
  if (kind !== 'Role' && kind !== 'ClusterRole') return ALLOWED;
  const bind: Attributes = {
    user: o.user, verb: 'bind', isResourceRequest: true, namespace: o.namespace, apiGroup: o.roleRef.apiGroup,
    apiVersion: '*', resource: kind === 'Role' ? 'roles' : 'clusterroles', subresource: '', name: o.roleRef.name, path: '',
  };
  if (await authorized(o.authorizer, bind)) return ALLOWED;
  const resolved = o.resolver.getRoleReferenceRules(o.roleRef, o.namespace);
  if (resolved.error !== undefined) {
    const e = resolved.error;
    if (e.reason === 'NotFound') return { allowed: false, reason: 'NotFound', group: e.group, resource: e.resource, name: e.name, message: e.message };
    return ALLOWED;
  }
  const msg = ownerCheck(o.resolver, o.user, o.namespace, resolved.rules);
  if (msg === undefined) return ALLOWED;
  return { allowed: false, reason: 'Forbidden', group: RBAC_GROUP, resource: o.resource, name: o.name, message: msg };
}

/** Options of roleWriteAllowed. */
export interface RoleWriteCheckOptions {
  readonly user: UserInfo;
  readonly resource: 'roles' | 'clusterroles';
  readonly name: string;
  /** The role's namespace; "" for ClusterRoles. */
  readonly namespace: string;
  /** The rules the new object grants. */
  readonly rules: readonly PolicyRule[];
  /** ClusterRoles: whether the new object, or on update the old one, has clusterRoleSelectors. */
  readonly hasAggregationRule?: boolean;
  readonly authorizer: Authorizer;
  readonly resolver: RuleResolver;
  /** On update: true when only ownerReferences/finalizers/managedFields changed. */
  readonly onlyGCFieldsChanged?: boolean;
}

/**
 * Whether a Role or ClusterRole may be created or updated: system:masters, the `escalate` verb on
 * it, or already holding every rule it grants; an aggregationRule further requires `*` on everything.
 */
export async function roleWriteAllowed(o: RoleWriteCheckOptions): Promise<EscalationCheck> {
  if (escalationAllowed(o.user)) return ALLOWED;
  const escalate: Attributes = {
    user: o.user, verb: 'escalate', isResourceRequest: true, namespace: o.namespace, apiGroup: RBAC_GROUP,
    apiVersion: '*', resource: o.resource, subresource: '', name: o.name, path: '',
  };
  if (await authorized(o.authorizer, escalate)) return ALLOWED;
  if (o.onlyGCFieldsChanged === true) return ALLOWED;
  const forbidden = (message: string): EscalationCheck => ({ allowed: false, reason: 'Forbidden', group: RBAC_GROUP, resource: o.resource, name: o.name, message });
  const msg = ownerCheck(o.resolver, o.user, o.namespace, o.rules);
  if (msg !== undefined) return forbidden(msg);
  if (o.hasAggregationRule === true && ownerCheck(o.resolver, o.user, o.namespace, FULL_AUTHORITY) !== undefined) {
    return forbidden('must have cluster-admin privileges to use the aggregationRule');
  }
  return ALLOWED;
}

/** Whether an aggregationRule selects anything (hasAggregationRule). */
export function hasAggregationRule(role: { aggregationRule?: { clusterRoleSelectors?: readonly unknown[] } } | undefined): boolean {
  return (role?.aggregationRule?.clusterRoleSelectors ?? []).length > 0;
}

const GC_FIELDS = ['ownerReferences', 'finalizers', 'selfLink', 'managedFields'] as const;

/** IsOnlyMutatingGCFields: whether obj differs from old only in the metadata the garbage collector writes. */
export function isOnlyMutatingGCFields(obj: Record<string, unknown>, old: Record<string, unknown> | undefined): boolean {
  if (old === undefined) return false;
  const copy = structuredClone(obj);
  const meta = (copy['metadata'] ?? {}) as Record<string, unknown>;
  const oldMeta = (old['metadata'] ?? {}) as Record<string, unknown>;
  for (const f of GC_FIELDS) {
    if (oldMeta[f] === undefined) delete meta[f];
    else meta[f] = oldMeta[f];
  }
  copy['metadata'] = meta;
  return deepEqual(copy, old);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
