// Checks of the configuration and access printers: config maps, secrets, service accounts,
// resource quotas, disruption budgets, role bindings, webhooks and admission policies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterRoleBindingPrinter, configMapPrinter, podDisruptionBudgetPrinter, resourceQuotaPrinter, roleBindingPrinter,
  secretPrinter, serviceAccountPrinter, validatingAdmissionPolicyBindingPrinter, validatingAdmissionPolicyPrinter,
  webhookConfigurationPrinter,
} from './config.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function meta(name: string) {
  return { name, creationTimestamp: new Date(NOW - 10 * 24 * 3600 * 1000).toISOString() };
}

describe('config map, secret and service account printers', () => {
  test('a config map counts data and binaryData keys', () => {
    const cm = { metadata: meta('settings'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } };
    assert.deepEqual(configMapPrinter.row(cm, ctx).cells, ['settings', 3, '10d']);
  });

  test('a secret prints its type and key count', () => {
    const s = { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } };
    assert.deepEqual(secretPrinter.row(s, ctx).cells, ['tls', 'kubernetes.io/tls', 2, '10d']);
  });

  test('a service account counts its secrets', () => {
    assert.deepEqual(serviceAccountPrinter.row({ metadata: meta('default') }, ctx).cells, ['default', 0, '10d']);
    assert.deepEqual(serviceAccountPrinter.row({ metadata: meta('ci'), secrets: [{ name: 'ci-token' }] }, ctx).cells, ['ci', 1, '10d']);
  });
});

describe('resource quota printer', () => {
  test('splits limits.* from the rest and sorts by resource name', () => {
    const q = {
      metadata: meta('compute'),
      status: {
        hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi', 'limits.cpu': '8', 'requests.memory': '4Gi' },
        used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': '1' },
      },
    };
    assert.deepEqual(resourceQuotaPrinter.row(q, ctx).cells, [
      'compute',
      'pods: 3/10, requests.cpu: 500m/4, requests.memory: 0/4Gi',
      'limits.cpu: 1/8, limits.memory: 0/8Gi',
      '10d',
    ]);
  });
});

describe('pod disruption budget printer', () => {
  test('prints min available, or N/A, and allowed disruptions', () => {
    const pdb = { metadata: meta('web'), spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } };
    assert.deepEqual(podDisruptionBudgetPrinter.row(pdb, ctx).cells, ['web', '2', 'N/A', 1, '10d']);
    const pct = { metadata: meta('db'), spec: { maxUnavailable: '25%' }, status: {} };
    assert.deepEqual(podDisruptionBudgetPrinter.row(pct, ctx).cells, ['db', 'N/A', '25%', 0, '10d']);
  });
});

describe('role binding printers', () => {
  const rb = {
    metadata: meta('readers'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'User', name: 'bob' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
    ],
  };
  test('a role binding prints Kind/name and, wide, its subjects', () => {
    assert.deepEqual(roleBindingPrinter.row(rb, ctx).cells, ['readers', 'ClusterRole/view', '10d', 'alice, bob', 'devs', 'tools/ci']);
  });
  test('a cluster role binding without subjects', () => {
    const crb = { metadata: meta('admin'), roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } };
    assert.deepEqual(clusterRoleBindingPrinter.row(crb, ctx).cells, ['admin', 'ClusterRole/cluster-admin', '10d', '', '', '']);
  });
});

describe('admission printers', () => {
  test('a webhook configuration counts its webhooks', () => {
    const w = { metadata: meta('policy'), webhooks: [{ name: 'a.example.com' }, { name: 'b.example.com' }] };
    assert.deepEqual(webhookConfigurationPrinter.row(w, ctx).cells, ['policy', 2, '10d']);
  });

  test('a validating admission policy prints its rule count and param kind', () => {
    const p = { metadata: meta('replicas'), spec: { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, validations: [{ expression: 'true' }] } };
    assert.deepEqual(validatingAdmissionPolicyPrinter.row(p, ctx).cells, ['replicas', 1, 'v1/ConfigMap', '10d']);
    assert.equal(validatingAdmissionPolicyPrinter.row({ metadata: meta('x'), spec: {} }, ctx).cells[2], '<unset>');
  });

  test('a policy binding prints its param reference', () => {
    const b = (paramRef?: object) => ({ metadata: meta('bind'), spec: { policyName: 'replicas', paramRef } });
    assert.deepEqual(validatingAdmissionPolicyBindingPrinter.row(b({ name: 'limits', namespace: 'prod' }), ctx).cells, ['bind', 'replicas', 'prod/limits', '10d']);
    assert.equal(validatingAdmissionPolicyBindingPrinter.row(b({ name: 'limits' }), ctx).cells[2], '*/limits');
    assert.equal(validatingAdmissionPolicyBindingPrinter.row(b(), ctx).cells[2], '<unset>');
    assert.equal(
      validatingAdmissionPolicyBindingPrinter.row(b({ selector: { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] } }), ctx).cells[2],
      '&LabelSelector{MatchLabels:map[string]string{env: prod,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}',
    );
  });
});
