// Builds the default RBAC objects from bootstrap_policy_data.ts (labels, autoupdate annotation, sorted
// rule lists, controller bindings) and reconciles them with stored ones at start as upstream does:
// missing rules, selectors and subjects are added, nothing removed, `autoupdate: "false"` is respected.
import { sortGoStrings } from '../../api/go_strings.ts';
import type { ObjectMeta } from '../../api/types/meta_v1.ts';
import type { AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../../api/types/rbac_v1.ts';
import {
  CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, CONTROLLER_ROLES, NAMESPACE_ROLE_BINDINGS, NAMESPACE_ROLES,
  type RuleSpec, type SubjectsSpec,
} from './bootstrap_policy_data.ts';
import { covers } from './rbac_rules.ts';

const GROUP = 'rbac.authorization.k8s.io';
const API_VERSION = `${GROUP}/v1`;
/** Marks objects the API server owns and reconciles. */
export const BOOTSTRAP_LABELS: Readonly<Record<string, string>> = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
/** Stored objects with this annotation set to "false" are left alone by reconciliation. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
/** The prefix of controller roles; each is bound to the kube-system ServiceAccount named by the rest. */
export const CONTROLLER_ROLE_PREFIX = 'system:controller:';

/** The default objects. */
export interface BootstrapPolicy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

/** Options of bootstrapPolicy. */
export interface BootstrapPolicyOptions {
  /** Feature gates that are on; v1.32's defaults leave every gated entry of the policy off. */
  readonly featureGates?: ReadonlySet<string>;
}

function metadata(name: string, namespace?: string, labels?: Readonly<Record<string, string>>): ObjectMeta {
  const meta: ObjectMeta = { name };
  if (namespace !== undefined) meta.namespace = namespace;
  meta.labels = { ...labels, ...BOOTSTRAP_LABELS };
  meta.annotations = { [AUTOUPDATE_ANNOTATION]: 'true' };
  return meta;
}

function rules(specs: readonly RuleSpec[] | undefined, gates: ReadonlySet<string>): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const s of specs ?? []) {
    if (s.gate !== undefined && !gates.has(s.gate)) continue;
    const r: PolicyRule = { verbs: sortGoStrings(s.verbs) };
    if (s.apiGroups !== undefined) r.apiGroups = sortGoStrings(s.apiGroups);
    if (s.resources !== undefined) r.resources = sortGoStrings(s.resources);
    if (s.resourceNames !== undefined) r.resourceNames = sortGoStrings(s.resourceNames);
    if (s.nonResourceURLs !== undefined) r.nonResourceURLs = sortGoStrings(s.nonResourceURLs);
    out.push(r);
  }
  return out;
}

function subjects(s: SubjectsSpec): Subject[] {
  const out: Subject[] = [];
  for (const name of s.users ?? []) out.push({ kind: 'User', apiGroup: GROUP, name });
  for (const name of s.groups ?? []) out.push({ kind: 'Group', apiGroup: GROUP, name });
  for (const [namespace, name] of s.serviceAccounts ?? []) out.push({ kind: 'ServiceAccount', name, namespace });
  return out;
}

function clusterRole(name: string, spec: { labels?: Readonly<Record<string, string>>; aggregate?: ReadonlyArray<Readonly<Record<string, string>>>; rules?: readonly RuleSpec[] }, gates: ReadonlySet<string>): ClusterRole {
  const role: ClusterRole = { apiVersion: API_VERSION, kind: 'ClusterRole', metadata: metadata(name, undefined, spec.labels) };
  if (spec.rules !== undefined) role.rules = rules(spec.rules, gates);
  if (spec.aggregate !== undefined) role.aggregationRule = { clusterRoleSelectors: spec.aggregate.map((m) => ({ matchLabels: { ...m } })) };
  return role;
}

function clusterRoleBinding(name: string, role: string, s: SubjectsSpec): ClusterRoleBinding {
  const b: ClusterRoleBinding = { apiVersion: API_VERSION, kind: 'ClusterRoleBinding', metadata: metadata(name), roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: role } };
  const subs = subjects(s);
  if (subs.length > 0) b.subjects = subs;
  return b;
}

/** The default ClusterRoles, ClusterRoleBindings, Roles and RoleBindings, as fresh objects. */
export function bootstrapPolicy(opts: BootstrapPolicyOptions = {}): BootstrapPolicy {
  const gates = opts.featureGates ?? new Set<string>();
  const on = (gate: string | undefined): boolean => gate === undefined || gates.has(gate);
  const out: BootstrapPolicy = { clusterRoles: [], clusterRoleBindings: [], roles: [], roleBindings: [] };
  for (const spec of CLUSTER_ROLES) if (on(spec.gate)) out.clusterRoles.push(clusterRole(spec.name, spec, gates));
  for (const spec of CONTROLLER_ROLES) {
    if (!on(spec.gate)) continue;
    const name = CONTROLLER_ROLE_PREFIX + spec.name;
    out.clusterRoles.push(clusterRole(name, spec, gates));
  }
  for (const spec of CLUSTER_ROLE_BINDINGS) if (on(spec.gate)) out.clusterRoleBindings.push(clusterRoleBinding(spec.name ?? spec.role, spec.role, spec));
  for (const spec of CONTROLLER_ROLES) {
    if (!on(spec.gate)) continue;
    const name = CONTROLLER_ROLE_PREFIX + spec.name;
    out.clusterRoleBindings.push(clusterRoleBinding(name, name, { serviceAccounts: [['kube-system', spec.name]] }));
  }
  for (const spec of NAMESPACE_ROLES) {
    out.roles.push({ apiVersion: API_VERSION, kind: 'Role', metadata: metadata(spec.name, spec.namespace), rules: rules(spec.rules, gates) });
  }
  for (const spec of NAMESPACE_ROLE_BINDINGS) {
    out.roleBindings.push({
      apiVersion: API_VERSION, kind: 'RoleBinding', metadata: metadata(spec.name ?? spec.role, spec.namespace),
      roleRef: { apiGroup: GROUP, kind: 'Role', name: spec.role }, subjects: subjects(spec),
    });
  }
  return out;
}

/** What reconciliation has to do with one object. */
export type ReconcileOperation = 'create' | 'update' | 'recreate' | 'none';

/** The outcome for one object: the object to write (when operation is not "none" and not protected). */
export interface ReconcileResult<T> {
  readonly operation: ReconcileOperation;
  /** The stored object opted out with `autoupdate: "false"`: write nothing. */
  readonly protected: boolean;
  readonly object: T;
}

function merged(expected: Readonly<Record<string, string>> | undefined, existing: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (expected === undefined && existing === undefined) return undefined;
  return { ...expected, ...existing };
}

function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

/** Metadata with expected labels/annotations merged under the existing ones; whether that changed anything. */
function mergeMeta(existing: ObjectMeta | undefined, expected: ObjectMeta | undefined): { meta: ObjectMeta; changed: boolean } {
  const meta: ObjectMeta = structuredClone(existing ?? {});
  const annotations = merged(expected?.annotations, existing?.annotations);
  const labels = merged(expected?.labels, existing?.labels);
  if (annotations !== undefined) meta.annotations = annotations;
  if (labels !== undefined) meta.labels = labels;
  return { meta, changed: !sameMap(annotations, existing?.annotations) || !sameMap(labels, existing?.labels) };
}

function isProtected(existing: { metadata?: ObjectMeta }): boolean {
  return existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

/** computeReconciledRole for Roles and ClusterRoles: add missing rules (and aggregation selectors). */
export function reconcileRole<T extends Role | ClusterRole>(existing: T | undefined, expected: T): ReconcileResult<T> {
  if (existing === undefined) return { operation: 'create', protected: false, object: expected };
  const { meta, changed } = mergeMeta(existing.metadata, expected.metadata);
  const object = { ...structuredClone(existing), metadata: meta } as T;
  let operation: ReconcileOperation = changed ? 'update' : 'none';
  const { missing } = covers(existing.rules ?? [], expected.rules ?? []);
  if (missing.length > 0) {
    object.rules = [...(existing.rules ?? []), ...missing];
    operation = 'update';
  }
  const want = (expected as ClusterRole).aggregationRule;
  const have = (existing as ClusterRole).aggregationRule;
  if (want === undefined && have !== undefined) {
    delete (object as ClusterRole).aggregationRule;
    operation = 'update';
  } else if (want !== undefined && have === undefined) {
    (object as ClusterRole).aggregationRule = structuredClone(want);
    operation = 'update';
  } else if (want !== undefined && have !== undefined) {
    const selectors = [...(have.clusterRoleSelectors ?? [])];
    for (const sel of want.clusterRoleSelectors ?? []) {
      if (!selectors.some((s) => JSON.stringify(s) === JSON.stringify(sel))) {
        selectors.push(structuredClone(sel));
        operation = 'update';
      }
    }
    (object as ClusterRole).aggregationRule = { ...structuredClone(have), clusterRoleSelectors: selectors } satisfies AggregationRule;
  }
  return { operation, protected: isProtected(existing), object };
}

function sameRoleRef(a: RoleRef, b: RoleRef): boolean {
  return a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name;
}

function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && (a.apiGroup ?? '') === (b.apiGroup ?? '') && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

/** computeReconciledRoleBinding: recreate on a different roleRef, otherwise add missing subjects. */
export function reconcileBinding<T extends RoleBinding | ClusterRoleBinding>(existing: T | undefined, expected: T): ReconcileResult<T> {
  if (existing === undefined) return { operation: 'create', protected: false, object: expected };
  if (!sameRoleRef(existing.roleRef, expected.roleRef)) return { operation: 'recreate', protected: isProtected(existing), object: expected };
  const { meta, changed } = mergeMeta(existing.metadata, expected.metadata);
  const object = { ...structuredClone(existing), metadata: meta } as T;
  let operation: ReconcileOperation = changed ? 'update' : 'none';
  const have = existing.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => sameSubject(h, s)));
  if (missing.length > 0) {
    object.subjects = [...have, ...missing];
    operation = 'update';
  }
  return { operation, protected: isProtected(existing), object };
}
