// Tests of the RBAC authorizer over a MemoryRbacSource: subject matching (users, groups,
// ServiceAccounts), scopes, decision reasons, rule listing, index invalidation and speed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/types/rbac_v1.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { Attributes } from './authorizer.ts';
import { MemoryRbacSource, RbacAuthorizer } from './rbac.ts';

const G = 'rbac.authorization.k8s.io';

function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return { metadata: { name }, rules };
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { metadata: { name, namespace }, rules };
}

function crb(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return { metadata: { name }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: roleName }, subjects };
}

function rb(namespace: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: Subject[]): RoleBinding {
  return { metadata: { name, namespace }, roleRef: { apiGroup: G, kind, name: roleName }, subjects };
}

const userSubject = (name: string): Subject => ({ kind: 'User', apiGroup: G, name });
const groupSubject = (name: string): Subject => ({ kind: 'Group', apiGroup: G, name });
const saSubject = (name: string, namespace?: string): Subject => (namespace === undefined ? { kind: 'ServiceAccount', name } : { kind: 'ServiceAccount', name, namespace });

function attrs(user: UserInfo, verb: string, resource: string, namespace = '', more: Partial<Attributes> = {}): Attributes {
  return { user, verb, isResourceRequest: true, namespace, apiGroup: '', apiVersion: 'v1', resource, subresource: '', name: '', path: '', ...more };
}

const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const podReader = clusterRole('pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);

function fixture(): { source: MemoryRbacSource; authz: RbacAuthorizer } {
  const source = new MemoryRbacSource();
  source.upsert('ClusterRole', podReader);
  return { source, authz: new RbacAuthorizer(source) };
}

describe('RbacAuthorizer', () => {
  test('a ClusterRoleBinding to a user allows in every namespace, with upstream reason', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('read-pods', 'pod-reader', [userSubject('alice')]));
    assert.deepEqual(authz.authorize(attrs(alice, 'list', 'pods', 'x')), {
      decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "pod-reader" to User "alice"',
    });
    assert.equal(authz.authorize(attrs(alice, 'delete', 'pods', 'x')).decision, 'noopinion');
    assert.equal(authz.authorize(attrs({ name: 'bob', groups: [] }, 'list', 'pods', 'x')).decision, 'noopinion');
  });

  test('a group subject matches members of the group', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('devs-read', 'pod-reader', [groupSubject('devs')]));
    assert.deepEqual(authz.authorize(attrs(alice, 'get', 'pods', 'x')), {
      decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "devs-read" of ClusterRole "pod-reader" to Group "devs"',
    });
  });

  test('the reason names the first subject of the binding that matches', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('b', 'pod-reader', [userSubject('zed'), groupSubject('devs'), userSubject('alice')]));
    assert.match(authz.authorize(attrs(alice, 'get', 'pods')).reason, /to Group "devs"$/);
  });

  test('a RoleBinding applies only in its namespace, to a Role or a ClusterRole', () => {
    const { source, authz } = fixture();
    source.upsert('Role', role('a', 'cm-editor', [{ verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }]));
    source.upsert('RoleBinding', rb('a', 'edit-cm', 'Role', 'cm-editor', [userSubject('alice')]));
    source.upsert('RoleBinding', rb('a', 'read-pods', 'ClusterRole', 'pod-reader', [userSubject('alice')]));
    assert.deepEqual(authz.authorize(attrs(alice, 'create', 'configmaps', 'a')), {
      decision: 'allow', reason: 'RBAC: allowed by RoleBinding "edit-cm/a" of Role "cm-editor" to User "alice"',
    });
    assert.equal(authz.authorize(attrs(alice, 'list', 'pods', 'a')).decision, 'allow');
    assert.equal(authz.authorize(attrs(alice, 'create', 'configmaps', 'b')).decision, 'noopinion');
    assert.equal(authz.authorize(attrs(alice, 'list', 'pods', 'b')).decision, 'noopinion');
    assert.equal(authz.authorize(attrs(alice, 'list', 'pods', '')).decision, 'noopinion', 'cluster-wide list is not granted by a RoleBinding');
  });

  test('ServiceAccount subjects match system:serviceaccount:<ns>:<name>, defaulting to the binding namespace', () => {
    const { source, authz } = fixture();
    source.upsert('RoleBinding', rb('a', 'sa-read', 'ClusterRole', 'pod-reader', [saSubject('builder')]));
    source.upsert('ClusterRoleBinding', crb('sa-cluster', 'pod-reader', [saSubject('robot', 'ops')]));
    const builder: UserInfo = { name: 'system:serviceaccount:a:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'] };
    assert.deepEqual(authz.authorize(attrs(builder, 'list', 'pods', 'a')), {
      decision: 'allow', reason: 'RBAC: allowed by RoleBinding "sa-read/a" of ClusterRole "pod-reader" to ServiceAccount "builder/a"',
    });
    assert.equal(authz.authorize(attrs(builder, 'list', 'pods', 'b')).decision, 'noopinion');
    const other: UserInfo = { name: 'system:serviceaccount:b:builder', groups: [] };
    assert.equal(authz.authorize(attrs(other, 'list', 'pods', 'a')).decision, 'noopinion');
    const robot: UserInfo = { name: 'system:serviceaccount:ops:robot', groups: [] };
    assert.match(authz.authorize(attrs(robot, 'get', 'pods', 'z')).reason, /to ServiceAccount "robot\/ops"$/);
  });

  test('a ServiceAccount subject without namespace in a ClusterRoleBinding matches nobody', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('bad', 'pod-reader', [saSubject('x')]));
    assert.equal(authz.authorize(attrs({ name: 'system:serviceaccount::x', groups: [] }, 'get', 'pods')).decision, 'noopinion');
  });

  test('the serviceaccounts groups bind every ServiceAccount (of a namespace)', () => {
    const { source, authz } = fixture();
    source.upsert('RoleBinding', rb('a', 'all-sa', 'ClusterRole', 'pod-reader', [groupSubject('system:serviceaccounts:a')]));
    const sa: UserInfo = { name: 'system:serviceaccount:a:x', groups: ['system:serviceaccounts', 'system:serviceaccounts:a'] };
    assert.equal(authz.authorize(attrs(sa, 'get', 'pods', 'a')).decision, 'allow');
  });

  test('a missing role gives no opinion with the resolution error as reason', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('dangling', 'nope', [userSubject('alice')]));
    source.upsert('RoleBinding', rb('a', 'dangling-role', 'Role', 'gone', [userSubject('alice')]));
    assert.deepEqual(authz.authorize(attrs(alice, 'get', 'pods')), {
      decision: 'noopinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found',
    });
    assert.deepEqual(authz.authorize(attrs(alice, 'get', 'pods', 'a')), {
      decision: 'noopinion',
      reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "gone" not found]',
    });
    source.upsert('ClusterRoleBinding', crb('ok', 'pod-reader', [userSubject('alice')]));
    assert.equal(authz.authorize(attrs(alice, 'get', 'pods')).decision, 'allow', 'other bindings still apply');
  });

  test('non-resource requests match nonResourceURLs', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRole', clusterRole('health', [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/healthz/*'] }]));
    source.upsert('ClusterRoleBinding', crb('health', 'health', [groupSubject('system:authenticated')]));
    const path = (p: string): Attributes => ({ ...attrs(alice, 'get', ''), isResourceRequest: false, path: p });
    assert.equal(authz.authorize(path('/healthz/etcd')).decision, 'allow');
    assert.equal(authz.authorize(path('/metrics')).decision, 'noopinion');
  });

  test('changes to bindings and roles are seen by the next check', () => {
    const { source, authz } = fixture();
    assert.equal(authz.authorize(attrs(alice, 'get', 'pods')).decision, 'noopinion');
    source.upsert('ClusterRoleBinding', crb('b', 'pod-reader', [userSubject('alice')]));
    assert.equal(authz.authorize(attrs(alice, 'get', 'pods')).decision, 'allow');
    source.upsert('ClusterRole', clusterRole('pod-reader', [{ verbs: ['watch'], apiGroups: [''], resources: ['pods'] }]));
    assert.equal(authz.authorize(attrs(alice, 'get', 'pods')).decision, 'noopinion', 'role rules are read on each check');
    source.remove('ClusterRoleBinding', '', 'b');
    assert.equal(authz.authorize(attrs(alice, 'watch', 'pods')).decision, 'noopinion');
    source.upsert('RoleBinding', rb('a', 'x', 'ClusterRole', 'pod-reader', [userSubject('alice')]));
    assert.equal(authz.authorize(attrs(alice, 'watch', 'pods', 'a')).decision, 'allow');
    source.remove('RoleBinding', 'a', 'x');
    assert.equal(authz.authorize(attrs(alice, 'watch', 'pods', 'a')).decision, 'noopinion');
  });

  test('rulesFor lists cluster then namespace rules and reports a missing role as evaluationError', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRole', clusterRole('mixed', [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] },
      { verbs: ['get'], nonResourceURLs: ['/version'] },
    ]));
    source.upsert('ClusterRoleBinding', crb('m', 'mixed', [userSubject('alice')]));
    source.upsert('RoleBinding', rb('a', 'r', 'ClusterRole', 'pod-reader', [userSubject('alice')]));
    assert.deepEqual(authz.rulesFor(alice, 'a'), {
      resourceRules: [
        { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] },
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      ],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/version'] }],
      incomplete: false,
    });
    assert.equal(authz.rulesFor(alice, 'b').resourceRules.length, 1);
    source.upsert('RoleBinding', rb('a', 'dangling', 'Role', 'missing', [userSubject('alice')]));
    const withError = authz.rulesFor(alice, 'a');
    assert.equal(withError.incomplete, false);
    assert.equal(withError.evaluationError, 'role.rbac.authorization.k8s.io "missing" not found');
    assert.equal(withError.resourceRules.length, 2);
  });

  test('a binding naming the user twice is visited once', () => {
    const { source, authz } = fixture();
    source.upsert('ClusterRoleBinding', crb('twice', 'pod-reader', [userSubject('alice'), groupSubject('devs'), userSubject('alice')]));
    assert.equal(authz.policyRulesFor(alice, '').rules.length, 1);
  });

  test('authorize on 10,000 bindings costs microseconds (index by subject)', (t) => {
    const source = new MemoryRbacSource();
    source.upsert('ClusterRole', podReader);
    for (let i = 0; i < 5000; i++) source.upsert('ClusterRoleBinding', crb(`crb-${i}`, 'pod-reader', [userSubject(`user-${i}`)]));
    for (let i = 0; i < 5000; i++) source.upsert('RoleBinding', rb(`ns-${i % 50}`, `rb-${i}`, 'ClusterRole', 'pod-reader', [saSubject(`sa-${i}`)]));
    const authz = new RbacAuthorizer(source);
    const sa: UserInfo = { name: 'system:serviceaccount:ns-7:sa-4957', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns-7', 'system:authenticated'] };
    const hit = attrs(sa, 'list', 'pods', 'ns-7');
    const miss = attrs({ name: 'user-42', groups: ['system:authenticated'] }, 'delete', 'pods', 'ns-7');
    assert.equal(authz.authorize(hit).decision, 'allow');
    assert.equal(authz.authorize(miss).decision, 'noopinion');
    for (let i = 0; i < 20000; i++) { authz.authorize(hit); authz.authorize(miss); }
    const n = 100000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) { authz.authorize(hit); authz.authorize(miss); }
    const perCall = Number(process.hrtime.bigint() - start) / 1000 / (2 * n);
    t.diagnostic(`authorize: ${perCall.toFixed(2)} µs per call over 10,000 bindings`);
    assert.ok(perCall < 20, `authorize took ${perCall} µs per call`);
  });
});
