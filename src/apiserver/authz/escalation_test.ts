// Tests of escalation prevention: upstream's message format, the bind and escalate verbs,
// system:masters, aggregationRule protection and GC-only updates, over the bootstrap policy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoleBinding } from '../../api/types/rbac_v1.ts';
import type { UserInfo } from '../handlers/context.ts';
import { aggregateClusterRoles } from './aggregation.ts';
import { bootstrapPolicy } from './bootstrap_policy.ts';
import { bindAllowed, compactRules, compactString, confirmNoEscalation, isOnlyMutatingGCFields, roleWriteAllowed } from './escalation.ts';
import { MemoryRbacSource, RbacAuthorizer } from './rbac.ts';

const G = 'rbac.authorization.k8s.io';

function cluster(): { source: MemoryRbacSource; authz: RbacAuthorizer } {
  const policy = bootstrapPolicy();
  const aggregated = aggregateClusterRoles(policy.clusterRoles);
  const source = new MemoryRbacSource();
  for (const r of policy.clusterRoles) source.upsert('ClusterRole', { ...r, rules: aggregated.get(r.metadata!.name!) ?? r.rules });
  for (const b of policy.clusterRoleBindings) source.upsert('ClusterRoleBinding', b);
  return { source, authz: new RbacAuthorizer(source) };
}

function bindUser(source: MemoryRbacSource, namespace: string, user: string, clusterRole: string): void {
  const b: RoleBinding = {
    metadata: { name: `${user}-${clusterRole}`, namespace }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: clusterRole },
    subjects: [{ kind: 'User', apiGroup: G, name: user }],
  };
  source.upsert('RoleBinding', b);
}

const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };
const carol: UserInfo = { name: 'carol', groups: ['system:authenticated'] };

describe('messages', () => {
  test('compactString prints Go %q lists and leaves out empty parts', () => {
    assert.equal(compactString({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }), '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}');
    assert.equal(compactString({ verbs: ['get'], nonResourceURLs: ['/x'] }), '{NonResourceURLs:["/x"], Verbs:["get"]}');
    assert.equal(compactString({ verbs: ['get'], apiGroups: ['a'], resources: ['r'], resourceNames: ['n"1'] }), '{APIGroups:["a"], Resources:["r"], ResourceNames:["n\\"1"], Verbs:["get"]}');
  });

  test('compactRules merges verbs of simple rules and passes the rest through', () => {
    const out = compactRules([
      { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
      { verbs: ['get'], nonResourceURLs: ['/x'] },
    ]);
    assert.deepEqual(out, [
      { verbs: ['get'], nonResourceURLs: ['/x'] },
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
    ]);
  });

  test('confirmNoEscalation words the missing rights as upstream, sorted', () => {
    const msg = confirmNoEscalation({ name: 'u', groups: ['g1', 'g2'] }, [
      { verbs: ['list', 'get'], apiGroups: [''], resources: ['secrets', 'pods'] },
      { verbs: ['get'], nonResourceURLs: ['/metrics'] },
    ], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    assert.equal(msg, 'user "u" (groups=["g1" "g2"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}\n' +
      '{APIGroups:[""], Resources:["secrets"], Verbs:["list" "get"]}\n' +
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}');
    assert.equal(confirmNoEscalation({ name: 'u', groups: [] }, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]), undefined);
  });

  test('resolution errors of the owner are appended', () => {
    const msg = confirmNoEscalation({ name: 'u', groups: [] }, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [], ['role.rbac.authorization.k8s.io "x" not found']);
    assert.match(msg!, /; resolution errors: \[role\.rbac\.authorization\.k8s\.io "x" not found\]$/);
  });
});

describe('bindAllowed', () => {
  test('edit cannot create a RoleBinding granting admin', async () => {
    const { source, authz } = cluster();
    bindUser(source, 'a', 'bob', 'edit');
    const res = await bindAllowed({
      user: bob, resource: 'rolebindings', name: 'sneaky', roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'admin' }, namespace: 'a', authorizer: authz, resolver: authz,
    });
    assert.deepEqual(res, {
      allowed: false, reason: 'Forbidden', group: G, resource: 'rolebindings', name: 'sneaky',
      message: 'user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["authorization.k8s.io"], Resources:["localsubjectaccessreviews"], Verbs:["create"]}\n' +
        '{APIGroups:["rbac.authorization.k8s.io"], Resources:["rolebindings"], Verbs:["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"]}\n' +
        '{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"]}',
    });
  });

  test('a user may bind what it already holds, only where it holds it', async () => {
    const { source, authz } = cluster();
    bindUser(source, 'a', 'carol', 'admin');
    const check = (name: string, namespace: string, resource: 'rolebindings' | 'clusterrolebindings' = 'rolebindings') =>
      bindAllowed({ user: carol, resource, name: 'x', roleRef: { apiGroup: G, kind: 'ClusterRole', name }, namespace, authorizer: authz, resolver: authz });
    assert.deepEqual(await check('edit', 'a'), { allowed: true });
    assert.deepEqual(await check('view', 'a'), { allowed: true });
    assert.equal((await check('edit', 'b')).allowed, false);
    assert.equal((await check('cluster-admin', 'a')).allowed, false);
    assert.equal((await check('view', '', 'clusterrolebindings')).allowed, false, 'namespace rights do not cover a cluster-wide grant');
  });

  test('the bind verb on the role allows binding it without holding it', async () => {
    const { source, authz } = cluster();
    source.upsert('ClusterRole', { metadata: { name: 'binder' }, rules: [{ verbs: ['bind'], apiGroups: [G], resources: ['clusterroles'], resourceNames: ['admin'] }] });
    source.upsert('ClusterRoleBinding', { metadata: { name: 'binder' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'binder' }, subjects: [{ kind: 'User', apiGroup: G, name: 'bob' }] });
    const opts = { user: bob, resource: 'rolebindings' as const, name: 'x', namespace: 'a', authorizer: authz, resolver: authz };
    assert.deepEqual(await bindAllowed({ ...opts, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'admin' } }), { allowed: true });
    assert.equal((await bindAllowed({ ...opts, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' } })).allowed, false);
  });

  test('system:masters may bind anything, even a role that does not exist yet', async () => {
    const { authz } = cluster();
    const root: UserInfo = { name: 'root', groups: ['system:masters'] };
    assert.deepEqual(await bindAllowed({ user: root, resource: 'clusterrolebindings', name: 'x', roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'later' }, namespace: '', authorizer: authz, resolver: authz }), { allowed: true });
  });

  test('binding a missing role is NotFound for others', async () => {
    const { authz } = cluster();
    assert.deepEqual(await bindAllowed({ user: bob, resource: 'rolebindings', name: 'x', roleRef: { apiGroup: G, kind: 'Role', name: 'ghost' }, namespace: 'a', authorizer: authz, resolver: authz }), {
      allowed: false, reason: 'NotFound', group: G, resource: 'role', name: 'ghost', message: 'role.rbac.authorization.k8s.io "ghost" not found',
    });
  });

  test('an update touching only GC fields is not checked', async () => {
    const { authz } = cluster();
    const res = await bindAllowed({ user: bob, resource: 'rolebindings', name: 'x', roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'admin' }, namespace: 'a', authorizer: authz, resolver: authz, onlyGCFieldsChanged: true });
    assert.deepEqual(res, { allowed: true });
  });
});

describe('roleWriteAllowed', () => {
  test('an admin may create Roles within its rights in its namespace only', async () => {
    const { source, authz } = cluster();
    bindUser(source, 'a', 'carol', 'admin');
    const opts = { user: carol, resource: 'roles' as const, name: 'r', authorizer: authz, resolver: authz };
    const secrets = [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }];
    assert.deepEqual(await roleWriteAllowed({ ...opts, namespace: 'a', rules: secrets }), { allowed: true });
    assert.equal((await roleWriteAllowed({ ...opts, namespace: 'b', rules: secrets })).allowed, false);
    const nodes = await roleWriteAllowed({ ...opts, namespace: 'a', rules: [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }] });
    assert.deepEqual(nodes, {
      allowed: false, reason: 'Forbidden', group: G, resource: 'roles', name: 'r',
      message: 'user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}',
    });
  });

  test('the escalate verb allows granting more than one holds', async () => {
    const { source, authz } = cluster();
    source.upsert('ClusterRole', { metadata: { name: 'escalator' }, rules: [{ verbs: ['escalate'], apiGroups: [G], resources: ['clusterroles'] }] });
    source.upsert('ClusterRoleBinding', { metadata: { name: 'escalator' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'escalator' }, subjects: [{ kind: 'User', apiGroup: G, name: 'bob' }] });
    const res = await roleWriteAllowed({ user: bob, resource: 'clusterroles', name: 'big', namespace: '', rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], authorizer: authz, resolver: authz });
    assert.deepEqual(res, { allowed: true });
  });

  test('an aggregationRule needs cluster-admin rights', async () => {
    const { source, authz } = cluster();
    const opts = { resource: 'clusterroles' as const, name: 'agg', namespace: '', rules: [], hasAggregationRule: true, authorizer: authz, resolver: authz };
    assert.deepEqual(await roleWriteAllowed({ ...opts, user: bob }), {
      allowed: false, reason: 'Forbidden', group: G, resource: 'clusterroles', name: 'agg', message: 'must have cluster-admin privileges to use the aggregationRule',
    });
    source.upsert('ClusterRoleBinding', { metadata: { name: 'ops' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', apiGroup: G, name: 'carol' }] });
    assert.deepEqual(await roleWriteAllowed({ ...opts, user: carol }), { allowed: true });
  });
});

describe('isOnlyMutatingGCFields', () => {
  const old = { metadata: { name: 'x', finalizers: ['a'] }, subjects: [{ kind: 'User', name: 'u' }] };
  test('ignores ownerReferences, finalizers and managedFields', () => {
    assert.equal(isOnlyMutatingGCFields({ metadata: { name: 'x', ownerReferences: [{ uid: '1' }] }, subjects: [{ kind: 'User', name: 'u' }] }, old), true);
  });
  test('sees any other change', () => {
    assert.equal(isOnlyMutatingGCFields({ metadata: { name: 'x', finalizers: ['a'], labels: { a: 'b' } }, subjects: [{ kind: 'User', name: 'u' }] }, old), false);
    assert.equal(isOnlyMutatingGCFields({ metadata: { name: 'x' }, subjects: [] }, old), false);
    assert.equal(isOnlyMutatingGCFields(old, undefined), false);
  });
});
