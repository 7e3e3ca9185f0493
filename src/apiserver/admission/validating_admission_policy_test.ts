// Unit tests of the ValidatingAdmissionPolicy plugin over an in-memory lister: messages, reasons
// and codes, validation actions, audit annotations, failurePolicy, params, variables and match criteria.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { applyDefaults } from '../../api/defaults/registry.ts';
import { attrs, FakeLister } from './fake_lister.ts';
import { ValidatingAdmissionPolicyPlugin } from './validating_admission_policy.ts';
import { bindAuditAnnotationSink, type AdmissionAttributes } from './types.ts';

type Obj = Record<string, unknown>;
const AR = 'admissionregistration.k8s.io';
let uid = 0;

function policy(name: string, spec: Obj): Obj {
  const p: Obj = {
    apiVersion: `${AR}/v1`, kind: 'ValidatingAdmissionPolicy', metadata: { name, uid: `u${++uid}`, resourceVersion: '1' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }] },
      ...spec,
    },
  };
  applyDefaults(AR, 'v1', 'ValidatingAdmissionPolicy', p);
  return p;
}

function binding(name: string, policyName: string, spec: Obj = {}): Obj {
  return {
    apiVersion: `${AR}/v1`, kind: 'ValidatingAdmissionPolicyBinding', metadata: { name, uid: `u${++uid}`, resourceVersion: '1' },
    spec: { policyName, validationActions: ['Deny'], ...spec },
  };
}

function deployment(replicas: number, ns = 'team'): Obj {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns, labels: { app: 'web' } }, spec: { replicas } };
}

function lister(...objs: [string, string, Obj][]): FakeLister {
  const l = new FakeLister().add('', 'namespaces', { metadata: { name: 'team', labels: { env: 'test' } } });
  for (const [g, r, o] of objs) l.add(g, r, o);
  return l;
}

/** Audits the request at Metadata level: returns the annotations admission records for it. */
function audited(a: AdmissionAttributes): Record<string, string> {
  const seen: Record<string, string> = {};
  bindAuditAnnotationSink(a.warnings, { level: 'Metadata', addAnnotation: (k, v) => { seen[k] ??= v; } });
  return seen;
}

async function refusal(p: ValidatingAdmissionPolicyPlugin, a: ReturnType<typeof attrs>, l: FakeLister): Promise<ApiError> {
  try {
    await p.validate(a, l);
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return e;
  }
  assert.fail('the request was admitted');
}

describe('ValidatingAdmissionPolicy', () => {
  test("denies with upstream's message, reason Invalid (422) and the message as a cause", async () => {
    const l = lister([AR, 'validatingadmissionpolicies', policy('max-replicas', { validations: [{ expression: 'object.spec.replicas <= 5' }] })],
      [AR, 'validatingadmissionpolicybindings', binding('b', 'max-replicas')]);
    const p = new ValidatingAdmissionPolicyPlugin();
    await p.validate(attrs('CREATE', 'apps', 'deployments', deployment(5)), l);
    const e = await refusal(p, attrs('CREATE', 'apps', 'deployments', deployment(6)), l);
    const msg = "ValidatingAdmissionPolicy 'max-replicas' with binding 'b' denied request: failed expression: object.spec.replicas <= 5";
    assert.deepEqual(e.status, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `deployments.apps "web" is forbidden: ${msg}`, reason: 'Invalid',
      details: { name: 'web', group: 'apps', kind: 'deployments', causes: [{ message: msg }] }, code: 422,
    });
  });

  test('a policy without bindings, or a binding not selecting the request, does nothing', async () => {
    const pol = policy('max-replicas', { validations: [{ expression: 'false' }] });
    const p = new ValidatingAdmissionPolicyPlugin();
    await p.validate(attrs('CREATE', 'apps', 'deployments', deployment(1)), lister([AR, 'validatingadmissionpolicies', pol]));
    const other = binding('b', 'max-replicas', { matchResources: { namespaceSelector: { matchLabels: { env: 'prod' } }, objectSelector: {} } });
    await p.validate(attrs('CREATE', 'apps', 'deployments', deployment(1)), lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', other]));
    await p.validate(attrs('CREATE', '', 'configmaps', { metadata: { name: 'c', namespace: 'team' } }),
      lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', binding('b', 'max-replicas')]));
  });

  test('Warn and Audit admit; Warn adds the warning', async () => {
    const l = lister([AR, 'validatingadmissionpolicies', policy('p', { validations: [{ expression: 'object.spec.replicas <= 5', message: 'too many' }] })],
      [AR, 'validatingadmissionpolicybindings', binding('w', 'p', { validationActions: ['Warn', 'Audit'] })]);
    const a = attrs('CREATE', 'apps', 'deployments', deployment(9));
    await new ValidatingAdmissionPolicyPlugin().validate(a, l);
    assert.deepEqual(a.warnings, ["Validation failed for ValidatingAdmissionPolicy 'p' with binding 'w': too many"]);
  });

  test('runtime errors deny under Fail and are ignored under Ignore', async () => {
    const spec = { validations: [{ expression: 'object.spec.nothing == 1' }] };
    const fail = lister([AR, 'validatingadmissionpolicies', policy('p', spec)], [AR, 'validatingadmissionpolicybindings', binding('b', 'p')]);
    const e = await refusal(new ValidatingAdmissionPolicyPlugin(), attrs('CREATE', 'apps', 'deployments', deployment(1)), fail);
    assert.match(e.message, /denied request: expression 'object\.spec\.nothing == 1' resulted in error: no such key: nothing$/);
    const ignore = lister([AR, 'validatingadmissionpolicies', policy('p', { ...spec, failurePolicy: 'Ignore' })], [AR, 'validatingadmissionpolicybindings', binding('b', 'p')]);
    await new ValidatingAdmissionPolicyPlugin().validate(attrs('CREATE', 'apps', 'deployments', deployment(1)), ignore);
  });

  test('params, messageExpression, reason, namespaceObject and request', async () => {
    const pol = policy('p', {
      paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
      validations: [
        { expression: 'object.spec.replicas <= int(params.data.max)', messageExpression: "'at most ' + params.data.max + ' in ' + namespaceObject.metadata.name", reason: 'Forbidden' },
        { expression: "request.operation == 'CREATE' && request.userInfo.username == 'admin'" },
      ],
    });
    const b = binding('b', 'p', { paramRef: { name: 'limits', parameterNotFoundAction: 'Allow' } });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'limits', namespace: 'team' }, data: { max: '2' } };
    const withParam = lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', b], ['', 'configmaps', cm]);
    const e = await refusal(new ValidatingAdmissionPolicyPlugin(), attrs('CREATE', 'apps', 'deployments', deployment(3)), withParam);
    assert.equal(e.status.code, 403);
    assert.equal(e.status.reason, 'Forbidden');
    assert.match(e.message, /with binding 'b' denied request: at most 2 in team$/);
    await new ValidatingAdmissionPolicyPlugin().validate(attrs('CREATE', 'apps', 'deployments', deployment(2)), withParam);
    // Missing params: Allow admits, Deny refuses with a configuration error.
    const noParam = lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', b]);
    await new ValidatingAdmissionPolicyPlugin().validate(attrs('CREATE', 'apps', 'deployments', deployment(3)), noParam);
    const deny = lister([AR, 'validatingadmissionpolicies', pol],
      [AR, 'validatingadmissionpolicybindings', binding('b', 'p', { paramRef: { name: 'limits', parameterNotFoundAction: 'Deny' } })]);
    const e2 = await refusal(new ValidatingAdmissionPolicyPlugin(), attrs('CREATE', 'apps', 'deployments', deployment(3)), deny);
    assert.match(e2.message, /denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction$/);
  });

  test('an unknown paramKind is a configuration error of the policy', async () => {
    const l = lister([AR, 'validatingadmissionpolicies', policy('p', { paramKind: { apiVersion: 'example.com/v1', kind: 'Limits' }, validations: [{ expression: 'true' }] })],
      [AR, 'validatingadmissionpolicybindings', binding('b', 'p', { paramRef: { name: 'x', parameterNotFoundAction: 'Deny' } })]);
    const e = await refusal(new ValidatingAdmissionPolicyPlugin(), attrs('CREATE', 'apps', 'deployments', deployment(1)), l);
    assert.match(e.message, /ValidatingAdmissionPolicy 'p' denied request: failed to configure policy: failed to find resource referenced by paramKind: 'example.com\/v1, Kind=Limits'$/);
  });

  test('a policy that runs out of its runtime cost budget is denied with that error alone', async () => {
    // each validation is cancelled just past the per-call limit, so the tenth no longer fits the budget
    const ten = '[0,1,2,3,4,5,6,7,8,9]';
    const costly = `${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, ${ten}.all(e, ${ten}.all(f, a + b + c + d + e + f >= 0))))))`;
    const l = lister([AR, 'validatingadmissionpolicies', policy('p', { validations: Array.from({ length: 10 }, () => ({ expression: costly })) })],
      [AR, 'validatingadmissionpolicybindings', binding('b', 'p')]);
    const e = await refusal(new ValidatingAdmissionPolicyPlugin(), attrs('CREATE', 'apps', 'deployments', deployment(1)), l);
    assert.equal(e.status.message, 'deployments.apps "web" is forbidden: ValidatingAdmissionPolicy \'p\' with binding \'b\' denied request: '
      + 'validation failed due to running out of cost budget, no further validation rules will be run');
  });

  test('variables, matchConditions and excludeResourceRules', async () => {
    const pol = policy('p', {
      matchConstraints: {
        resourceRules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
        excludeResourceRules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], resourceNames: ['excluded'] }],
      },
      matchConditions: [{ name: 'labelled', expression: "has(object.metadata.labels) && 'app' in object.metadata.labels" }],
      variables: [{ name: 'r', expression: 'object.spec.replicas' }, { name: 'twice', expression: 'variables.r * 2' }],
      validations: [{ expression: 'variables.twice <= 4' }],
    });
    const l = lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', binding('b', 'p')]);
    const p = new ValidatingAdmissionPolicyPlugin();
    await p.validate(attrs('CREATE', 'apps', 'deployments', deployment(2)), l);
    await refusal(p, attrs('CREATE', 'apps', 'deployments', deployment(3)), l);
    const unlabelled = deployment(3);
    delete (unlabelled['metadata'] as Obj)['labels'];
    await p.validate(attrs('CREATE', 'apps', 'deployments', unlabelled), l);
    const excluded = deployment(3);
    (excluded['metadata'] as Obj)['name'] = 'excluded';
    await p.validate(attrs('CREATE', 'apps', 'deployments', excluded), l);
  });
});

describe('ValidatingAdmissionPolicy audit annotations', () => {
  test('Audit records the first failure as validation_failure, in upstream\'s JSON', async () => {
    const pol = policy('p', { validations: [{ expression: 'true' }, { expression: 'object.spec.replicas <= 5', message: 'too <many>' }, { expression: 'false' }] });
    const l = lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', binding('b', 'p', { validationActions: ['Audit', 'Warn'] })]);
    const a = attrs('CREATE', 'apps', 'deployments', deployment(9));
    const annotations = audited(a);
    await new ValidatingAdmissionPolicyPlugin().validate(a, l);
    assert.deepEqual(annotations, {
      'validation.policy.admission.k8s.io/validation_failure':
        '[{"message":"too \\u003cmany\\u003e","policy":"p","binding":"b","expressionIndex":1,"validationActions":["Audit","Warn"]}]',
    });
    assert.equal(a.warnings.length, 2);
  });

  test('Deny without Audit records no failure; auditAnnotations are recorded even when denied', async () => {
    const pol = policy('p', {
      validations: [{ expression: 'object.spec.replicas <= 5' }],
      auditAnnotations: [
        { key: 'replicas', valueExpression: "'replicas=' + string(object.spec.replicas)" },
        { key: 'skipped', valueExpression: 'null' },
        { key: 'blank', valueExpression: "'  '" },
        { key: 'high-replica-count', valueExpression: "object.spec.replicas > 5 ? dyn('replicas set to ' + string(object.spec.replicas)) : null" },
        { key: 'low-replica-count', valueExpression: "object.spec.replicas < 2 ? dyn('replicas set to ' + string(object.spec.replicas)) : null" },
      ],
    });
    const l = lister([AR, 'validatingadmissionpolicies', pol], [AR, 'validatingadmissionpolicybindings', binding('b', 'p')]);
    const a = attrs('CREATE', 'apps', 'deployments', deployment(9));
    const annotations = audited(a);
    await refusal(new ValidatingAdmissionPolicyPlugin(), a, l);
    assert.deepEqual(annotations, { 'p/replicas': 'replicas=9', 'p/high-replica-count': 'replicas set to 9' });
  });

  test('distinct values of one key across bindings are joined; equal ones kept once', async () => {
    const pol = policy('p', {
      paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
      validations: [{ expression: 'true' }],
      auditAnnotations: [{ key: 'tier', valueExpression: 'params.data.tier' }, { key: 'fixed', valueExpression: "'same'" }],
    });
    const cm = (name: string, tier: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'team' }, data: { tier } });
    const l = lister([AR, 'validatingadmissionpolicies', pol],
      [AR, 'validatingadmissionpolicybindings', binding('b1', 'p', { paramRef: { name: 'gold', parameterNotFoundAction: 'Deny' } })],
      [AR, 'validatingadmissionpolicybindings', binding('b2', 'p', { paramRef: { name: 'silver', parameterNotFoundAction: 'Deny' } })],
      ['', 'configmaps', cm('gold', 'gold')], ['', 'configmaps', cm('silver', 'silver')]);
    const a = attrs('CREATE', 'apps', 'deployments', deployment(1));
    const annotations = audited(a);
    await new ValidatingAdmissionPolicyPlugin().validate(a, l);
    assert.deepEqual(annotations, { 'p/tier': 'gold, silver', 'p/fixed': 'same' });
  });
});
