// Audit policy: decoding and validation messages, and rule matching (after upstream's checker tests).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditPolicyError, PolicyChecker, loadAuditPolicy, parseAuditPolicy, ruleMatches, type AuditAttributes, type PolicyRule } from './policy.ts';

const alice = { name: 'alice', groups: ['dev', 'system:authenticated'] };

function res(over: Partial<AuditAttributes> = {}): AuditAttributes {
  return {
    user: alice, verb: 'get', isResourceRequest: true, namespace: 'default', apiGroup: '', resource: 'pods',
    subresource: '', name: 'web', path: '/api/v1/namespaces/default/pods/web', ...over,
  };
}

function nonRes(path: string, over: Partial<AuditAttributes> = {}): AuditAttributes {
  return { user: alice, verb: 'get', isResourceRequest: false, namespace: '', apiGroup: '', resource: '', subresource: '', name: '', path, ...over };
}

describe('audit policy rule matching', () => {
  const cases: Array<[string, PolicyRule, AuditAttributes, boolean]> = [
    ['an empty rule matches everything', { level: 'Metadata' }, res(), true],
    ['an empty rule matches non-resource requests', { level: 'Metadata' }, nonRes('/healthz'), true],
    ['users match by name', { level: 'Metadata', users: ['alice'] }, res(), true],
    ['users reject other names', { level: 'Metadata', users: ['bob'] }, res(), false],
    ['users reject a request without user', { level: 'Metadata', users: ['alice'] }, res({ user: undefined }), false],
    ['userGroups match any group', { level: 'Metadata', userGroups: ['ops', 'dev'] }, res(), true],
    ['userGroups reject', { level: 'Metadata', userGroups: ['ops'] }, res(), false],
    ['verbs match', { level: 'Metadata', verbs: ['get', 'list'] }, res(), true],
    ['verbs reject', { level: 'Metadata', verbs: ['create'] }, res(), false],
    ['namespaces match', { level: 'Metadata', namespaces: ['default'] }, res(), true],
    ['namespaces reject', { level: 'Metadata', namespaces: ['kube-system'] }, res(), false],
    ['"" namespace matches cluster-scoped', { level: 'Metadata', namespaces: [''] }, res({ namespace: '', resource: 'nodes' }), true],
    ['namespaces never match non-resource requests', { level: 'Metadata', namespaces: ['default'] }, nonRes('/api'), false],
    ['group with no resources matches every resource of it', { level: 'Metadata', resources: [{ group: '' }] }, res(), true],
    ['group must equal the request group', { level: 'Metadata', resources: [{ group: 'apps' }] }, res(), false],
    ['resource by name', { level: 'Metadata', resources: [{ group: '', resources: ['pods'] }] }, res(), true],
    ['plain resource does not match a subresource', { level: 'Metadata', resources: [{ group: '', resources: ['pods'] }] }, res({ subresource: 'log' }), false],
    ['resource/subresource', { level: 'Metadata', resources: [{ group: '', resources: ['pods/log'] }] }, res({ subresource: 'log' }), true],
    ['resource/subresource rejects the main resource', { level: 'Metadata', resources: [{ group: '', resources: ['pods/log'] }] }, res(), false],
    ['*/status matches any status', { level: 'Metadata', resources: [{ group: 'apps', resources: ['*/status'] }] }, res({ apiGroup: 'apps', resource: 'deployments', subresource: 'status' }), true],
    ['*/status rejects other subresources', { level: 'Metadata', resources: [{ group: 'apps', resources: ['*/status'] }] }, res({ apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), false],
    ['pods/* matches any pods subresource', { level: 'Metadata', resources: [{ group: '', resources: ['pods/*'] }] }, res({ subresource: 'exec' }), true],
    ['* matches resources and subresources', { level: 'Metadata', resources: [{ group: '', resources: ['*'] }] }, res({ subresource: 'exec' }), true],
    ['resourceNames match', { level: 'Metadata', resources: [{ group: '', resources: ['pods'], resourceNames: ['web'] }] }, res(), true],
    ['resourceNames reject', { level: 'Metadata', resources: [{ group: '', resources: ['pods'], resourceNames: ['db'] }] }, res(), false],
    ['resources never match non-resource requests', { level: 'Metadata', resources: [{ group: '' }] }, nonRes('/api'), false],
    ['nonResourceURLs exact', { level: 'Metadata', nonResourceURLs: ['/healthz'] }, nonRes('/healthz'), true],
    ['nonResourceURLs exact rejects longer', { level: 'Metadata', nonResourceURLs: ['/healthz'] }, nonRes('/healthz/etcd'), false],
    ['nonResourceURLs trailing *', { level: 'Metadata', nonResourceURLs: ['/healthz*'] }, nonRes('/healthz/etcd'), true],
    ['nonResourceURLs *', { level: 'Metadata', nonResourceURLs: ['*'] }, nonRes('/version'), true],
    ['nonResourceURLs never match resource requests', { level: 'Metadata', nonResourceURLs: ['*'] }, res(), false],
    ['all fields must match', { level: 'Metadata', users: ['alice'], verbs: ['delete'] }, res(), false],
  ];
  for (const [name, rule, attrs, want] of cases) {
    test(name, () => assert.equal(ruleMatches(rule, attrs), want));
  }
});

describe('PolicyChecker', () => {
  test('the first matching rule wins and stages are unioned with the policy', () => {
    const c = new PolicyChecker({
      omitStages: ['RequestReceived'],
      rules: [
        { level: 'None', users: ['system:kube-proxy'] },
        { level: 'RequestResponse', resources: [{ group: '', resources: ['configmaps'] }], omitStages: ['ResponseStarted'] },
        { level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }], omitManagedFields: false },
        { level: 'Request' },
      ],
      omitManagedFields: true,
    });
    assert.deepEqual(c.evaluate(res({ resource: 'configmaps' })), { level: 'RequestResponse', omitStages: ['RequestReceived', 'ResponseStarted'], omitManagedFields: true });
    assert.deepEqual(c.evaluate(res({ resource: 'secrets' })), { level: 'Metadata', omitStages: ['RequestReceived'], omitManagedFields: false });
    assert.equal(c.evaluate(res({ user: { name: 'system:kube-proxy', groups: [] } })).level, 'None');
    assert.equal(c.evaluate(nonRes('/version')).level, 'Request');
  });

  test('no matching rule means None', () => {
    const c = new PolicyChecker({ rules: [{ level: 'Metadata', verbs: ['create'] }] });
    assert.deepEqual(c.evaluate(res()), { level: 'None', omitStages: [], omitManagedFields: false });
  });
});

describe('parseAuditPolicy', () => {
  test('reads the documented example policy', () => {
    const p = parseAuditPolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: ""
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*"
    - "/version"
  - level: Request
    resources:
    - group: ""
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    omitStages:
      - "RequestReceived"
`);
    assert.equal(p.rules.length, 7);
    assert.deepEqual(p.omitStages, ['RequestReceived']);
    assert.deepEqual(p.rules[2]!.resources, [{ group: '', resources: ['configmaps'], resourceNames: ['controller-leader'] }]);
  });

  const bad: Array<[string, string, string]> = [
    ['a missing level', 'rules:\n- users: [a]', 'rules[0].level: Required value'],
    ['an unknown level', 'rules:\n- level: Everything', 'rules[0].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"'],
    ['a relative URL', 'rules:\n- level: None\n  nonResourceURLs: ["healthz"]', `rules[0].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character`],
    ['a * inside a URL', 'rules:\n- level: None\n  nonResourceURLs: ["/a*/b"]', `rules[0].nonResourceURLs[0]: Invalid value: "/a*/b": non-resource URL wildcards '*' must be the final character of the rule`],
    ['resources and URLs together', 'rules:\n- level: None\n  nonResourceURLs: ["/a"]\n  namespaces: [x]',
      'rules[0].nonResourceURLs: Invalid value: []string{"/a"}: rules cannot apply to both regular resources and non-resource URLs'],
    ['resourceNames without resources', 'rules:\n- level: None\n  resources: [{group: "", resourceNames: [x]}]',
      'rules[0].resources.resourceNames: Invalid value: []string{"x"}: using resourceNames requires at least one resource'],
    ['a group with a version', 'rules:\n- level: None\n  resources: [{group: "rbac.authorization.k8s.io/v1"}]',
      `rules[0].resources.group: Invalid value: "rbac.authorization.k8s.io/v1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['an unknown stage', 'rules:\n- level: None\n  omitStages: [Sometime]', 'rules[0].omitStages[0]: Invalid value: "Sometime": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic'],
    ['no rules', 'rules: []', 'loaded illegal policy with 0 rules'],
  ];
  for (const [name, body, msg] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parseAuditPolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${body}\n`), (err: unknown) => {
        assert.ok(err instanceof AuditPolicyError);
        assert.equal(err.message, msg);
        return true;
      });
    });
  }

  test('several errors aggregate as [a, b]', () => {
    assert.throws(() => parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- {}\n- level: x\n'),
      { message: '[rules[0].level: Required value, rules[1].level: Unsupported value: "x": supported values: "None", "Metadata", "Request", "RequestResponse"]' });
  });

  test('rejects another kind or version', () => {
    assert.throws(() => parseAuditPolicy('apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n'), /no kind "Policy" is registered for version "audit.k8s.io\/v1beta1"/);
  });
});

describe('loadAuditPolicy', () => {
  test('names the file in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-policy-'));
    try {
      const path = join(dir, 'policy.yaml');
      await writeFile(path, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
      await assert.rejects(loadAuditPolicy(path), { message: `loaded illegal policy with 0 rules: from file ${path}` });
      await assert.rejects(loadAuditPolicy(join(dir, 'missing.yaml')), { name: 'AuditPolicyError', message: /^failed to read file path ".*missing.yaml": ENOENT/ });
      await writeFile(path, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n');
      assert.deepEqual((await loadAuditPolicy(path)).rules.map((r) => r.level), ['Metadata']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
