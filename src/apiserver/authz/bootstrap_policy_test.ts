// Tests of the default policy: the objects it builds, reconciliation with stored objects, and a
// realistic cluster (bootstrap policy, aggregated roles) checked through the RBAC authorizer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding, RoleBinding } from '../../api/types/rbac_v1.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { Attributes } from './authorizer.ts';
import { aggregateClusterRoles } from './aggregation.ts';
import { AUTOUPDATE_ANNOTATION, bootstrapPolicy, reconcileBinding, reconcileRole } from './bootstrap_policy.ts';
import { MemoryRbacSource, RbacAuthorizer } from './rbac.ts';

/** A source holding the bootstrap policy with admin/edit/view aggregated, as a running cluster has. */
function bootstrappedSource(): MemoryRbacSource {
  const policy = bootstrapPolicy();
  const aggregated = aggregateClusterRoles(policy.clusterRoles);
  const source = new MemoryRbacSource();
  for (const r of policy.clusterRoles) source.upsert('ClusterRole', aggregated.has(r.metadata!.name!) ? { ...r, rules: aggregated.get(r.metadata!.name!)! } : r);
  for (const b of policy.clusterRoleBindings) source.upsert('ClusterRoleBinding', b);
  for (const r of policy.roles) source.upsert('Role', r);
  for (const b of policy.roleBindings) source.upsert('RoleBinding', b);
  return source;
}

function req(user: UserInfo, verb: string, group: string, resource: string, namespace = '', subresource = '', name = ''): Attributes {
  return { user, verb, isResourceRequest: true, namespace, apiGroup: group, apiVersion: 'v1', resource, subresource, name, path: '' };
}

function path(user: UserInfo, verb: string, p: string): Attributes {
  return { user, verb, isResourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: p };
}

describe('bootstrapPolicy', () => {
  const policy = bootstrapPolicy();
  const byName = new Map(policy.clusterRoles.map((r) => [r.metadata!.name!, r]));

  test('builds the v1.32 default roles and bindings with bootstrap metadata', () => {
    for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer',
      'system:node', 'system:node-proxier', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:kube-dns',
      'system:auth-delegator', 'system:monitoring', 'system:volume-scheduler', 'system:controller:replicaset-controller',
      'system:controller:clusterrole-aggregation-controller', 'system:certificates.k8s.io:kubelet-serving-approver']) {
      assert.ok(byName.has(name), name);
    }
    for (const obj of [...policy.clusterRoles, ...policy.clusterRoleBindings, ...policy.roles, ...policy.roleBindings]) {
      assert.equal(obj.metadata?.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', obj.metadata?.name);
      assert.equal(obj.metadata?.annotations?.[AUTOUPDATE_ANNOTATION], 'true', obj.metadata?.name);
    }
    assert.equal(policy.clusterRoles.length, 64);
    assert.equal(policy.clusterRoleBindings.length, 45);
    assert.deepEqual(policy.roles.map((r) => `${r.metadata!.namespace}/${r.metadata!.name}`), [
      'kube-system/extension-apiserver-authentication-reader', 'kube-system/system:controller:bootstrap-signer',
      'kube-system/system:controller:cloud-provider', 'kube-system/system:controller:token-cleaner',
      'kube-system/system::leader-locking-kube-controller-manager', 'kube-system/system::leader-locking-kube-scheduler',
      'kube-public/system:controller:bootstrap-signer',
    ]);
    assert.equal(policy.roleBindings.length, 7);
  });

  test('sorts each rule list and keeps rule order, as upstream', () => {
    assert.deepEqual(byName.get('system:discovery')!.rules, [{
      verbs: ['get'],
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
    }]);
    assert.deepEqual(byName.get('system:kube-dns')!.rules, [{ verbs: ['list', 'watch'], apiGroups: [''], resources: ['endpoints', 'services'] }]);
  });

  test('admin, edit and view aggregate through labels', () => {
    assert.deepEqual(byName.get('admin')!.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] });
    assert.equal(byName.get('admin')!.rules, undefined);
    assert.equal(byName.get('edit')!.metadata!.labels!['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    assert.equal(byName.get('view')!.metadata!.labels!['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
  });

  test('binds the defaults to the groups and identities upstream does', () => {
    const crb = new Map(policy.clusterRoleBindings.map((b) => [b.metadata!.name!, b]));
    const subjects = (n: string): string[] => (crb.get(n)!.subjects ?? []).map((s) => `${s.kind}:${s.namespace ? `${s.namespace}/` : ''}${s.name}`);
    assert.deepEqual(subjects('cluster-admin'), ['Group:system:masters']);
    assert.deepEqual(subjects('system:public-info-viewer'), ['Group:system:authenticated', 'Group:system:unauthenticated']);
    assert.deepEqual(subjects('system:discovery'), ['Group:system:authenticated']);
    assert.deepEqual(subjects('system:basic-user'), ['Group:system:authenticated']);
    assert.deepEqual(subjects('system:node-proxier'), ['User:system:kube-proxy']);
    assert.deepEqual(subjects('system:node'), []);
    assert.deepEqual(subjects('system:controller:job-controller'), ['ServiceAccount:kube-system/job-controller']);
    assert.deepEqual(crb.get('system:controller:job-controller')!.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:controller:job-controller' });
  });

  test('feature gates add the gated roles and rules', () => {
    const withDra = bootstrapPolicy({ featureGates: new Set(['DynamicResourceAllocation']) });
    assert.ok(withDra.clusterRoles.some((r) => r.metadata!.name === 'system:controller:resource-claim-controller'));
    assert.ok(!policy.clusterRoles.some((r) => r.metadata!.name === 'system:controller:resource-claim-controller'));
    const node = withDra.clusterRoles.find((r) => r.metadata!.name === 'system:node')!;
    assert.equal(node.rules!.length, byName.get('system:node')!.rules!.length + 2);
  });
});

describe('reconcile', () => {
  const expected = bootstrapPolicy().clusterRoles.find((r) => r.metadata!.name === 'system:kube-dns')!;

  test('creates what is missing and leaves what matches', () => {
    assert.equal(reconcileRole(undefined, expected).operation, 'create');
    assert.equal(reconcileRole(structuredClone(expected), expected).operation, 'none');
  });

  test('adds missing rules and keeps extra ones and user labels', () => {
    const stored: ClusterRole = { ...structuredClone(expected), rules: [{ verbs: ['list'], apiGroups: [''], resources: ['services'] }, { verbs: ['get'], apiGroups: [''], resources: ['nodes'] }] };
    stored.metadata!.labels = { mine: 'yes' };
    const out = reconcileRole(stored, expected);
    assert.equal(out.operation, 'update');
    assert.equal(out.protected, false);
    assert.deepEqual(out.object.metadata!.labels, { 'kubernetes.io/bootstrapping': 'rbac-defaults', mine: 'yes' });
    assert.deepEqual(out.object.rules, [
      { verbs: ['list'], apiGroups: [''], resources: ['services'] }, { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
      { verbs: ['list'], apiGroups: [''], resources: ['endpoints'] }, { verbs: ['watch'], apiGroups: [''], resources: ['endpoints'] },
      { verbs: ['watch'], apiGroups: [''], resources: ['services'] },
    ]);
  });

  test('respects autoupdate "false"', () => {
    const stored: ClusterRole = { ...structuredClone(expected), rules: [] };
    stored.metadata!.annotations = { [AUTOUPDATE_ANNOTATION]: 'false' };
    assert.equal(reconcileRole(stored, expected).protected, true);
  });

  test('keeps aggregated rules and adds missing selectors', () => {
    const admin = bootstrapPolicy().clusterRoles.find((r) => r.metadata!.name === 'admin')!;
    const stored: ClusterRole = { ...structuredClone(admin), rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], aggregationRule: { clusterRoleSelectors: [{ matchLabels: { extra: 'true' } }] } };
    const out = reconcileRole(stored, admin);
    assert.equal(out.operation, 'update');
    assert.equal(out.object.rules!.length, 1);
    assert.equal(out.object.aggregationRule!.clusterRoleSelectors!.length, 2);
  });

  test('adds missing subjects to bindings and recreates on a new roleRef', () => {
    const want = bootstrapPolicy().clusterRoleBindings.find((b) => b.metadata!.name === 'system:public-info-viewer')!;
    const stored: ClusterRoleBinding = { ...structuredClone(want), subjects: [want.subjects![0]!] };
    const out = reconcileBinding(stored, want);
    assert.equal(out.operation, 'update');
    assert.deepEqual(out.object.subjects, want.subjects);
    const moved: ClusterRoleBinding = { ...structuredClone(want), roleRef: { ...want.roleRef, name: 'other' } };
    assert.equal(reconcileBinding(moved, want).operation, 'recreate');
    const rb: RoleBinding = bootstrapPolicy().roleBindings[0]!;
    assert.equal(reconcileBinding(structuredClone(rb), rb).operation, 'none');
  });
});

describe('the bootstrap policy through the authorizer', () => {
  const authz = new RbacAuthorizer(bootstrappedSource());
  const admin: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
  const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

  test('system:masters can do anything', () => {
    assert.deepEqual(authz.authorize(req(admin, 'delete', 'apps', 'deployments', 'x')), {
      decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
    });
    assert.equal(authz.authorize(path(admin, 'post', '/anything')).decision, 'allow');
  });

  test('an authenticated user can discover and ask, but not list pods', () => {
    assert.equal(authz.authorize(path(alice, 'get', '/api')).decision, 'allow');
    assert.equal(authz.authorize(path(alice, 'get', '/apis/apps/v1')).decision, 'allow');
    assert.equal(authz.authorize(path(alice, 'get', '/version')).decision, 'allow');
    assert.match(authz.authorize(req(alice, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews')).reason, /ClusterRole "system:basic-user" to Group "system:authenticated"/);
    assert.equal(authz.authorize(req(alice, 'create', 'authentication.k8s.io', 'selfsubjectreviews')).decision, 'allow');
    assert.deepEqual(authz.authorize(req(alice, 'list', '', 'pods', 'default')), { decision: 'noopinion', reason: '' });
    assert.equal(authz.authorize(path(alice, 'get', '/metrics')).decision, 'noopinion');
  });

  test('anonymous users see only health and version', () => {
    assert.equal(authz.authorize(path(anonymous, 'get', '/healthz')).decision, 'allow');
    assert.equal(authz.authorize(path(anonymous, 'get', '/version')).decision, 'allow');
    assert.equal(authz.authorize(path(anonymous, 'get', '/api')).decision, 'noopinion');
    assert.equal(authz.authorize(req(anonymous, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews')).decision, 'noopinion');
  });

  test('a ServiceAccount bound to view in a can read pods in a only, and no secrets', () => {
    const source = bootstrappedSource();
    source.upsert('RoleBinding', {
      metadata: { name: 'sa-view', namespace: 'a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'a' }],
    });
    const local = new RbacAuthorizer(source);
    const sa: UserInfo = { name: 'system:serviceaccount:a:reader', groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'] };
    assert.deepEqual(local.authorize(req(sa, 'list', '', 'pods', 'a')), {
      decision: 'allow', reason: 'RBAC: allowed by RoleBinding "sa-view/a" of ClusterRole "view" to ServiceAccount "reader/a"',
    });
    assert.equal(local.authorize(req(sa, 'get', '', 'pods', 'a', 'log')).decision, 'allow');
    assert.equal(local.authorize(req(sa, 'list', '', 'pods', 'b')).decision, 'noopinion');
    assert.equal(local.authorize(req(sa, 'get', '', 'secrets', 'a', '', 's')).decision, 'noopinion');
    assert.equal(local.authorize(req(sa, 'create', '', 'pods', 'a')).decision, 'noopinion');
    assert.equal(local.authorize(path(sa, 'get', '/.well-known/openid-configuration')).decision, 'allow');
  });

  test('components hold their own roles', () => {
    const scheduler: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
    assert.equal(authz.authorize(req(scheduler, 'create', '', 'pods', 'x', 'binding')).decision, 'allow');
    assert.equal(authz.authorize(req(scheduler, 'update', 'coordination.k8s.io', 'leases', 'kube-system', '', 'kube-scheduler')).decision, 'allow');
    assert.equal(authz.authorize(req(scheduler, 'update', 'coordination.k8s.io', 'leases', 'default', '', 'other')).decision, 'noopinion');
    assert.match(authz.authorize(req(scheduler, 'update', 'coordination.k8s.io', 'leases', 'kube-system', '', 'other')).reason, /RoleBinding "system::leader-locking-kube-scheduler\/kube-system"/);
    assert.equal(authz.authorize(req(scheduler, 'get', '', 'secrets', 'x', '', 's')).decision, 'noopinion');
    const rsController: UserInfo = { name: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
    assert.equal(authz.authorize(req(rsController, 'create', '', 'pods', 'x')).decision, 'allow');
    assert.equal(authz.authorize(req(rsController, 'update', 'apps', 'replicasets', 'x', 'status')).decision, 'allow');
    const proxy: UserInfo = { name: 'system:kube-proxy', groups: ['system:authenticated'] };
    assert.equal(authz.authorize(req(proxy, 'watch', 'discovery.k8s.io', 'endpointslices')).decision, 'allow');
  });

  test('can-i --list for an authenticated user shows the basic rules', () => {
    const rules = authz.rulesFor(alice, 'default');
    assert.equal(rules.incomplete, false);
    assert.deepEqual(rules.resourceRules.map((r) => r.resources.join(',')).sort(), ['selfsubjectaccessreviews,selfsubjectrulesreviews', 'selfsubjectreviews']);
    assert.equal(rules.nonResourceRules.length, 2);
  });
});
