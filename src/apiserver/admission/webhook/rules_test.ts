// Unit tests of webhook rule matching: wildcards, subresources, scope, matchPolicy Equivalent
// and the exemption of admission configuration objects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFor } from '../../../api/resource_table.ts';
import { attrs } from '../fake_lister.ts';
import { isExemptAdmissionConfigurationResource, matchRules, ruleMatches, type RuleTarget } from './rules.ts';

const pods: RuleTarget = { operation: 'CREATE', group: '', version: 'v1', resource: 'pods', subresource: '', namespace: 'ns' };

function rule(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*', ...extra };
}

describe('webhook rules', () => {
  test('operations, groups, versions and resources, with wildcards', () => {
    assert.equal(ruleMatches(rule(), pods), true);
    assert.equal(ruleMatches(rule(), { ...pods, operation: 'UPDATE' }), false);
    assert.equal(ruleMatches(rule({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }), { ...pods, operation: 'DELETE' }), true);
    assert.equal(ruleMatches(rule({ apiGroups: ['apps'] }), pods), false);
    assert.equal(ruleMatches(rule({ apiVersions: ['v2'] }), pods), false);
  });

  test('subresources are matched only when named (pods/status, */status, pods/*)', () => {
    const status = { ...pods, subresource: 'status' };
    assert.equal(ruleMatches(rule(), status), false);
    assert.equal(ruleMatches(rule({ resources: ['*'] }), status), false);
    assert.equal(ruleMatches(rule({ resources: ['pods/status'] }), status), true);
    assert.equal(ruleMatches(rule({ resources: ['*/status'] }), status), true);
    assert.equal(ruleMatches(rule({ resources: ['pods/*'] }), status), true);
    assert.equal(ruleMatches(rule({ resources: ['*/*'] }), pods), true);
  });

  test('scope: Namespaced and Cluster; a Namespace counts as cluster-scoped', () => {
    const ns = { ...pods, resource: 'namespaces', namespace: 'team' };
    assert.equal(ruleMatches(rule({ scope: 'Namespaced' }), pods), true);
    assert.equal(ruleMatches(rule({ scope: 'Cluster' }), pods), false);
    assert.equal(ruleMatches(rule({ resources: ['namespaces'], scope: 'Cluster' }), ns), true);
    assert.equal(ruleMatches(rule({ resources: ['namespaces'], scope: 'Namespaced' }), ns), false);
  });

  test('matchPolicy Equivalent also matches the other versions of a resource, Exact does not', () => {
    const hpa = { metadata: { name: 'h', namespace: 'ns' }, spec: {} };
    const a = { ...attrs('CREATE', 'autoscaling', 'horizontalpodautoscalers', hpa), requestInfo: resourceFor('autoscaling', 'v2', 'horizontalpodautoscalers')! };
    const v1Rule = rule({ apiGroups: ['autoscaling'], apiVersions: ['v1'], resources: ['horizontalpodautoscalers'] });
    assert.equal(matchRules([v1Rule], 'Exact', a), undefined);
    const m = matchRules([v1Rule], 'Equivalent', a);
    assert.deepEqual(m?.kind, { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' });
    assert.equal(m?.info.version, 'v1');
    const direct = matchRules([rule({ apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'] })], 'Exact', a);
    assert.equal(direct?.info.version, 'v2');
  });

  test('admission configuration objects are exempt', () => {
    assert.equal(isExemptAdmissionConfigurationResource(attrs('CREATE', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', { metadata: { name: 'x' } })), true);
    assert.equal(isExemptAdmissionConfigurationResource(attrs('CREATE', 'admissionregistration.k8s.io', 'validatingadmissionpolicybindings', { metadata: { name: 'x' } })), true);
    assert.equal(isExemptAdmissionConfigurationResource(attrs('CREATE', '', 'pods', { metadata: { name: 'x', namespace: 'n' } })), false);
  });
});
