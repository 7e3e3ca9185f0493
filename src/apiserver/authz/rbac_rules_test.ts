// Table tests of RBAC rule matching and coverage, after upstream's evaluation helpers, RuleAllows
// and policy comparator cases.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyRule } from '../../api/types/rbac_v1.ts';
import type { Attributes } from './authorizer.ts';
import { breakdownRule, covers, nonResourceURLMatches, resourceMatches, ruleAllows, rulesEqual } from './rbac_rules.ts';

const user = { name: 'u', groups: [] };

function res(verb: string, group: string, resource: string, subresource = '', name = ''): Attributes {
  return { user, verb, isResourceRequest: true, namespace: 'ns', apiGroup: group, apiVersion: 'v1', resource, subresource, name, path: '' };
}

function url(verb: string, path: string): Attributes {
  return { user, verb, isResourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path };
}

describe('ruleAllows', () => {
  const cases: Array<[string, PolicyRule, Attributes, boolean]> = [
    ['star verb, group and resource allow anything', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, res('delete', 'apps', 'deployments'), true],
    ['exact match', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', '', 'pods'), true],
    ['another verb is refused', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('list', '', 'pods'), false],
    ['another group is refused', { verbs: ['get'], apiGroups: [''], resources: ['deployments'] }, res('get', 'apps', 'deployments'), false],
    ['a resource does not cover its subresources', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', '', 'pods', 'log'), false],
    ['resource/subresource matches exactly', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', '', 'pods', 'log'), true],
    ['*/subresource matches that subresource of any resource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', 'scale'), true],
    ['*/subresource does not match the resource itself', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments'), false],
    ['*/subresource does not match another subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', 'status'), false],
    ['resource/* is literal, as upstream', { verbs: ['get'], apiGroups: [''], resources: ['pods/*'] }, res('get', '', 'pods', 'log'), false],
    ['resourceNames admit the named object', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', '', 'configmaps', '', 'a'), true],
    ['resourceNames refuse other names', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', '', 'configmaps', '', 'b'), false],
    ['resourceNames refuse unnamed requests (list)', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('list', '', 'configmaps'), false],
    ['a resource rule does not allow a path', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, url('get', '/healthz'), false],
    ['a path rule does not allow a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, res('get', '', 'pods'), false],
    ['path exact match', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
    ['path verb must match', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('post', '/healthz'), false],
    ['path star matches every path', { verbs: ['get'], nonResourceURLs: ['*'] }, url('get', '/anything/at/all'), true],
    ['path prefix star matches below', { verbs: ['get'], nonResourceURLs: ['/api/*'] }, url('get', '/api/v1'), true],
    ['path prefix star matches the bare slash', { verbs: ['get'], nonResourceURLs: ['/api/*'] }, url('get', '/api/'), true],
    ['path prefix star does not match the parent', { verbs: ['get'], nonResourceURLs: ['/api/*'] }, url('get', '/api'), false],
    ['path star without slash matches by prefix', { verbs: ['get'], nonResourceURLs: ['/foo*'] }, url('get', '/foobar'), true],
  ];
  for (const [name, rule, attrs, want] of cases) {
    test(name, () => assert.equal(ruleAllows(attrs, rule), want));
  }

  test('resourceMatches and nonResourceURLMatches treat absent lists as empty', () => {
    assert.equal(resourceMatches({ verbs: ['get'] }, 'pods', ''), false);
    assert.equal(nonResourceURLMatches({ verbs: ['get'] }, '/'), false);
  });
});

describe('covers', () => {
  const pods = (verbs: string[]): PolicyRule => ({ verbs, apiGroups: [''], resources: ['pods'] });
  const cases: Array<[string, PolicyRule[], PolicyRule[], boolean]> = [
    ['everything covers anything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [pods(['get', 'delete'])], true],
    ['a verb subset is covered', [pods(['get', 'list', 'watch'])], [pods(['get', 'list'])], true],
    ['a missing verb is not', [pods(['get'])], [pods(['get', 'delete'])], false],
    ['rules combine', [pods(['get']), pods(['delete'])], [pods(['get', 'delete'])], true],
    ['*/subresource covers resource/subresource', [{ verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }],
      [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale'] }], true],
    ['a named rule does not cover an unnamed one', [{ ...pods(['get']), resourceNames: ['a'] }], [pods(['get'])], false],
    ['an unnamed rule covers a named one', [pods(['get'])], [{ ...pods(['get']), resourceNames: ['a'] }], true],
    ['url prefix covers below', [{ verbs: ['get'], nonResourceURLs: ['/api/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/api/v1'] }], true],
    ['url exact does not cover another', [{ verbs: ['get'], nonResourceURLs: ['/api'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis'] }], false],
    ['star group covers any group', [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }], [pods(['get'])], true],
  ];
  for (const [name, owner, servant, want] of cases) {
    test(name, () => assert.equal(covers(owner, servant).covered, want));
  }

  test('reports the uncovered pieces broken down one verb at a time', () => {
    const { missing } = covers([pods(['get'])], [pods(['get', 'delete', 'patch'])]);
    assert.deepEqual(missing, [pods(['delete']), pods(['patch'])]);
  });

  test('breakdownRule expands groups, resources, verbs and names', () => {
    const parts = breakdownRule({ verbs: ['get', 'list'], apiGroups: ['', 'apps'], resources: ['x'], resourceNames: ['a', 'b'] });
    assert.equal(parts.length, 8);
    assert.deepEqual(parts[0], { apiGroups: [''], resources: ['x'], verbs: ['get'], resourceNames: ['a'] });
    assert.deepEqual(breakdownRule({ verbs: ['get'], nonResourceURLs: ['/a', '/b'] }), [
      { nonResourceURLs: ['/a'], verbs: ['get'] }, { nonResourceURLs: ['/b'], verbs: ['get'] },
    ]);
  });

  test('rulesEqual treats absent and empty lists alike', () => {
    assert.equal(rulesEqual({ verbs: ['get'], resourceNames: [] }, { verbs: ['get'] }), true);
    assert.equal(rulesEqual({ verbs: ['get', 'list'] }, { verbs: ['list', 'get'] }), false);
  });
});
