// CEL cost limits in ValidatingAdmissionPolicy: an expression past the per-call cost limit is
// cancelled with cel-go's error and, under failurePolicy Fail, denies the request; a regular
// expression with catastrophic backtracking answers at once instead of stalling the server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

function policy(name: string, expression: string): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
      matchConditions: [{ name: 'only-tests', expression: `object.metadata.name.startsWith('${name}-')` }],
      validations: [{ expression, message: `${name} says no` }],
    },
  });
}

function binding(name: string): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'] },
  });
}

function configMap(name: string, data: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
}

/** Creates a ConfigMap until the policy (seen through the watch cache) answers; returns the last reply. */
async function createUntil(name: string, data: Record<string, string>, done: (status: number, body: string) => boolean): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 5000;
  for (let i = 0; ; i++) {
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: configMap(`${name}-${i}`, data) });
    if (done(r.status, r.body) || Date.now() > deadline) return r;
  }
}

describe('CEL cost limits', () => {
  test('an expression past the per-call limit is cancelled and the request denied', async () => {
    const ten = '[0,1,2,3,4,5,6,7,8,9]';
    const expensive = `${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, ${ten}.all(e, ${ten}.all(f, a + b + c + d + e + f >= 0))))))`;
    for (const doc of [policy('costly', expensive), binding('costly')]) {
      assert.equal((await s.request('POST', doc.includes('"ValidatingAdmissionPolicyBinding"')
        ? '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings'
        : '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', { body: doc })).status, 201);
    }
    const started = Date.now();
    const r = await createUntil('costly', {}, (status) => status === 422);
    assert.equal(r.status, 422, r.body);
    assert.match(JSON.parse(r.body).message as string, /operation cancelled: actual cost limit exceeded/);
    assert.ok(Date.now() - started < 5000);
  });

  test('a catastrophic regular expression answers at once', async () => {
    for (const [path, doc] of [
      ['/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', policy('regex', "object.data.v.matches('^(a+)+$')")],
      ['/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', binding('regex')],
    ] as const) {
      assert.equal((await s.request('POST', path, { body: doc })).status, 201);
    }
    const started = Date.now();
    const r = await createUntil('regex', { v: `${'a'.repeat(5000)}b` }, (status) => status === 422);
    assert.equal(r.status, 422, r.body);
    assert.match(JSON.parse(r.body).message as string, /regex says no/);
    assert.ok(Date.now() - started < 5000);
  });
});
