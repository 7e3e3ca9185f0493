// The RBAC authorizer (upstream's RBACAuthorizer over the default rule resolver): a request is
// allowed when a rule of a role bound to the user, one of its groups or its ServiceAccount allows
// it. Bindings are indexed by subject so a check costs O(bindings of the user), not O(all bindings).
import { goQuote } from '../../api/go_strings.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../../api/types/rbac_v1.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { Attributes, Authorizer, Decision, NonResourceRule, ResourceRule } from './authorizer.ts';
import { ruleAllows } from './rbac_rules.ts';

/**
 * Read access to the RBAC objects (backed by the watch caches, or a MemoryRbacSource fed from them).
 * getRole and getClusterRole run on every check, so they should be map lookups.
 */
export interface RbacSource {
  roles(namespace: string): readonly Role[];
  roleBindings(namespace: string): readonly RoleBinding[];
  clusterRoles(): readonly ClusterRole[];
  clusterRoleBindings(): readonly ClusterRoleBinding[];
  getRole(namespace: string, name: string): Role | undefined;
  getClusterRole(name: string): ClusterRole | undefined;
  /** Changes whenever any RoleBinding or ClusterRoleBinding changes; the subject indexes are rebuilt then. */
  generation(): number;
}

/** Why a roleRef yields no rules: upstream's lister NotFound, or a kind RBAC does not know. */
export type RoleRefError =
  | { readonly reason: 'NotFound'; readonly group: string; readonly resource: 'role' | 'clusterrole'; readonly name: string; readonly message: string }
  | { readonly reason: 'Unsupported'; readonly message: string };

/** The rules a roleRef grants, or why it grants none. */
export type RoleRefRules = { readonly rules: readonly PolicyRule[]; readonly error?: undefined } | { readonly rules?: undefined; readonly error: RoleRefError };

/** SelfSubjectRulesReview's answer plus upstream's evaluationError (see rulesFor). */
export interface RbacRules {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const SA_PREFIX = 'system:serviceaccount:';

type AnyBinding = RoleBinding | ClusterRoleBinding;

/** One binding that applies to a subject key, with the index of the first subject that matched. */
interface BindingRef {
  readonly ordinal: number;
  readonly subject: number;
  readonly binding: AnyBinding;
}

const NO_REFS: readonly BindingRef[] = [];

/** The username a ServiceAccount subject stands for, or undefined when it can match nobody. */
function subjectKey(s: Subject, bindingNamespace: string): { user?: string; group?: string } | undefined {
  switch (s.kind) {
    case 'User':
      return { user: s.name };
    case 'Group':
      return { group: s.name };
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns === '' ? undefined : { user: `${SA_PREFIX}${ns}:${s.name}` };
    }
    default:
      return undefined;
  }
}

/** Bindings of one scope (cluster, or one namespace) keyed by the users and groups they name. */
class SubjectIndex {
  readonly #byUser = new Map<string, BindingRef[]>();
  readonly #byGroup = new Map<string, BindingRef[]>();

  constructor(bindings: readonly AnyBinding[], bindingNamespace: string) {
    for (let ordinal = 0; ordinal < bindings.length; ordinal++) {
      const binding = bindings[ordinal]!;
      const subjects = binding.subjects ?? [];
      let seen: Set<string> | undefined;
      for (let i = 0; i < subjects.length; i++) {
        const key = subjectKey(subjects[i]!, bindingNamespace);
        if (key === undefined) continue;
        const tag = key.user !== undefined ? `u:${key.user}` : `g:${key.group}`;
        seen ??= new Set();
        if (seen.has(tag)) continue;
        seen.add(tag);
        const map = key.user !== undefined ? this.#byUser : this.#byGroup;
        const name = key.user ?? key.group!;
        let list = map.get(name);
        if (list === undefined) map.set(name, (list = []));
        list.push({ ordinal, subject: i, binding });
      }
    }
  }

  /** The bindings naming the user, in source order, each once with its first matching subject. */
  bindingsFor(user: UserInfo): readonly BindingRef[] {
    let only: readonly BindingRef[] | undefined;
    let many: BindingRef[] | undefined;
    const add = (refs: readonly BindingRef[] | undefined): void => {
      if (refs === undefined || refs.length === 0) return;
      if (only === undefined) only = refs;
      else (many ??= [...only]).push(...refs);
    };
    add(this.#byUser.get(user.name));
    for (const g of user.groups) add(this.#byGroup.get(g));
    if (many === undefined) return only ?? NO_REFS;
    many.sort((a, b) => a.ordinal - b.ordinal || a.subject - b.subject);
    const out: BindingRef[] = [];
    for (const r of many) if (out.length === 0 || out[out.length - 1]!.ordinal !== r.ordinal) out.push(r);
    return out;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${goQuote(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${goQuote(s.name)}`;
}

/** Upstream's description of where an allowing rule came from. */
function describeBinding(ref: BindingRef, namespace: string): string {
  const b = ref.binding;
  const subject = describeSubject(b.subjects![ref.subject]!, namespace);
  const role = `${b.roleRef.kind} ${goQuote(b.roleRef.name)}`;
  if (namespace === '') return `ClusterRoleBinding ${goQuote(b.metadata?.name ?? '')} of ${role} to ${subject}`;
  return `RoleBinding ${goQuote(`${b.metadata?.name ?? ''}/${namespace}`)} of ${role} to ${subject}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
export function aggregateMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** The RBAC authorizer. It never denies: a request no rule allows gets "no opinion", as upstream. */
export class RbacAuthorizer implements Authorizer {
  readonly #source: RbacSource;
  #generation = Number.NaN;
  #cluster: SubjectIndex | undefined;
  readonly #namespaces = new Map<string, SubjectIndex>();

  constructor(source: RbacSource) {
    this.#source = source;
  }

  #refresh(): void {
    const g = this.#source.generation();
    if (g === this.#generation) return;
    this.#generation = g;
    this.#cluster = undefined;
    this.#namespaces.clear();
  }

  #clusterIndex(): SubjectIndex {
    return (this.#cluster ??= new SubjectIndex(this.#source.clusterRoleBindings(), ''));
  }

  #namespaceIndex(namespace: string): SubjectIndex {
    let idx = this.#namespaces.get(namespace);
    if (idx === undefined) this.#namespaces.set(namespace, (idx = new SubjectIndex(this.#source.roleBindings(namespace), namespace)));
    return idx;
  }

  /** The rules a roleRef grants in a binding's namespace ("" for ClusterRoleBindings). */
  getRoleReferenceRules(roleRef: RoleRef, bindingNamespace: string): RoleRefRules {
    switch (roleRef.kind) {
      case 'Role': {
        const role = bindingNamespace === '' ? undefined : this.#source.getRole(bindingNamespace, roleRef.name);
        if (role === undefined) return { error: notFound('role', roleRef.name) };
        return { rules: role.rules ?? [] };
      }
      case 'ClusterRole': {
        const role = this.#source.getClusterRole(roleRef.name);
        if (role === undefined) return { error: notFound('clusterrole', roleRef.name) };
        return { rules: role.rules ?? [] };
      }
      default:
        return { error: { reason: 'Unsupported', message: `unsupported role reference kind: ${goQuote(roleRef.kind)}` } };
    }
  }

  /**
   * Calls visit for each rule that applies to the user in the namespace (cluster bindings first),
   * with a lazy description of its source, or with a resolution error; visit returns false to stop.
   */
  visitRulesFor(user: UserInfo, namespace: string, visit: (rule: PolicyRule | undefined, source: () => string, error: string | undefined) => boolean): void {
    this.#refresh();
    const scopes: Array<[SubjectIndex, string]> = [[this.#clusterIndex(), '']];
    if (namespace !== '') scopes.push([this.#namespaceIndex(namespace), namespace]);
    for (const [index, ns] of scopes) {
      for (const ref of index.bindingsFor(user)) {
        const resolved = this.getRoleReferenceRules(ref.binding.roleRef, ns);
        if (resolved.error !== undefined) {
          if (!visit(undefined, () => '', resolved.error.message)) return;
          continue;
        }
        const source = (): string => describeBinding(ref, ns);
        for (const rule of resolved.rules) if (!visit(rule, source, undefined)) return;
      }
    }
  }

  authorize(attrs: Attributes): Decision {
    let allowedBy: (() => string) | undefined;
    let errors: string[] | undefined;
    this.visitRulesFor(attrs.user, attrs.namespace, (rule, source, error) => {
      if (rule !== undefined && ruleAllows(attrs, rule)) {
        allowedBy = source;
        return false;
      }
      if (error !== undefined) (errors ??= []).push(error);
      return true;
    });
    if (allowedBy !== undefined) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy()}` };
    return { decision: 'noopinion', reason: errors === undefined ? '' : `RBAC: ${aggregateMessage(errors)}` };
  }

  /** Every rule that applies to the user in the namespace, and the resolution errors met. */
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (rule, _source, error) => {
      if (rule !== undefined) rules.push(rule);
      if (error !== undefined) errors.push(error);
      return true;
    });
    return { rules, errors };
  }

  /**
   * SelfSubjectRulesReview rules. As upstream, a missing role does not make the list incomplete;
   * it is reported as evaluationError, which the review handler copies into the status.
   */
  rulesFor(user: UserInfo, namespace: string): RbacRules {
    const { rules, errors } = this.policyRulesFor(user, namespace);
    const resourceRules: ResourceRule[] = [];
    const nonResourceRules: NonResourceRule[] = [];
    for (const r of rules) {
      if ((r.resources ?? []).length > 0) {
        const rr: { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] } = {
          verbs: [...r.verbs], apiGroups: [...(r.apiGroups ?? [])], resources: [...(r.resources ?? [])],
        };
        if ((r.resourceNames ?? []).length > 0) rr.resourceNames = [...r.resourceNames!];
        resourceRules.push(rr);
      }
      if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs!] });
    }
    const out: RbacRules = { resourceRules, nonResourceRules, incomplete: false };
    if (errors.length > 0) out.evaluationError = aggregateMessage(errors);
    return out;
  }
}

function notFound(resource: 'role' | 'clusterrole', name: string): RoleRefError {
  return { reason: 'NotFound', group: RBAC_GROUP, resource, name, message: `${resource}.${RBAC_GROUP} ${goQuote(name)} not found` };
}

/** The four RBAC kinds a MemoryRbacSource holds. */
export type RbacKind = 'Role' | 'RoleBinding' | 'ClusterRole' | 'ClusterRoleBinding';

/**
 * An RbacSource kept in maps, fed object by object (from watch events, or directly in tests).
 * Every change to a binding bumps the generation; role changes need not, as roles are looked up
 * by name on each check.
 */
export class MemoryRbacSource implements RbacSource {
  #generation = 0;
  readonly #roles = new Map<string, Map<string, Role>>();
  readonly #roleBindings = new Map<string, Map<string, RoleBinding>>();
  readonly #clusterRoles = new Map<string, ClusterRole>();
  readonly #clusterRoleBindings = new Map<string, ClusterRoleBinding>();

  /** Adds or replaces an object of the kind. */
  upsert(kind: RbacKind, obj: Role | RoleBinding | ClusterRole | ClusterRoleBinding): void {
    const name = obj.metadata?.name ?? '';
    const ns = obj.metadata?.namespace ?? '';
    switch (kind) {
      case 'Role': nested(this.#roles, ns).set(name, obj as Role); break;
      case 'RoleBinding': nested(this.#roleBindings, ns).set(name, obj as RoleBinding); this.#generation++; break;
      case 'ClusterRole': this.#clusterRoles.set(name, obj as ClusterRole); break;
      case 'ClusterRoleBinding': this.#clusterRoleBindings.set(name, obj as ClusterRoleBinding); this.#generation++; break;
    }
  }

  /** Removes an object of the kind, if present. */
  remove(kind: RbacKind, namespace: string, name: string): void {
    switch (kind) {
      case 'Role': this.#roles.get(namespace)?.delete(name); break;
      case 'RoleBinding': this.#roleBindings.get(namespace)?.delete(name); this.#generation++; break;
      case 'ClusterRole': this.#clusterRoles.delete(name); break;
      case 'ClusterRoleBinding': this.#clusterRoleBindings.delete(name); this.#generation++; break;
    }
  }

  roles(namespace: string): readonly Role[] {
    return [...(this.#roles.get(namespace)?.values() ?? [])];
  }

  roleBindings(namespace: string): readonly RoleBinding[] {
    return [...(this.#roleBindings.get(namespace)?.values() ?? [])];
  }

  clusterRoles(): readonly ClusterRole[] {
    return [...this.#clusterRoles.values()];
  }

  clusterRoleBindings(): readonly ClusterRoleBinding[] {
    return [...this.#clusterRoleBindings.values()];
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.#roles.get(namespace)?.get(name);
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.#clusterRoles.get(name);
  }

  generation(): number {
    return this.#generation;
  }
}

function nested<T>(m: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let inner = m.get(key);
  if (inner === undefined) m.set(key, (inner = new Map()));
  return inner;
}
