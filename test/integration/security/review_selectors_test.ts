// Access reviews with field and label selectors (AuthorizeWithSelectors): a review answers as the
// real request would (a node lists pods only with spec.nodeName=<itself>), malformed selectors are
// 422s with upstream's messages, and selectors that do not parse are reported in evaluationError.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IssuedCertificate } from '../../../src/base/pki.ts';
import { startSecurityServer, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;
let n1: { cert: IssuedCertificate };

before(async () => {
  s = await startSecurityServer();
  n1 = { cert: await s.certificate('system:node:n1', ['system:nodes']) };
});

after(async () => {
  await s?.stop();
});

interface ReviewStatus { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string }

function sar(resourceAttributes: Record<string, unknown>, subject: Record<string, unknown> = { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] }): string {
  return JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { ...subject, resourceAttributes } });
}

async function review(body: string): Promise<ReviewStatus> {
  const r = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body });
  assert.equal(r.status, 201, r.body);
  return r.json<{ status: ReviewStatus }>().status;
}

const listPods = { verb: 'list', resource: 'pods', version: 'v1' };

describe('access reviews with selectors', () => {
  test('a node may list pods with its own spec.nodeName, in a review as in a real request', async () => {
    for (const fieldSelector of [{ rawSelector: 'spec.nodeName=n1' }, { requirements: [{ key: 'spec.nodeName', operator: 'In', values: ['n1'] }] }]) {
      const st = await review(sar({ ...listPods, fieldSelector }));
      assert.equal(st.allowed, true, JSON.stringify(fieldSelector));
      assert.equal(st.evaluationError, undefined);
    }
    const real = await s.request('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', { as: n1 });
    assert.equal(real.status, 200);
  });

  test('another node name or no selector is refused, in a review as in a real request', async () => {
    const other = await review(sar({ ...listPods, fieldSelector: { rawSelector: 'spec.nodeName=n2' } }));
    assert.equal(other.allowed, false);
    const none = await review(sar(listPods));
    assert.equal(none.allowed, false);
    assert.match(none.reason ?? '', /can only list\/watch pods with spec.nodeName field selector/);
    const notIn = await review(sar({ ...listPods, fieldSelector: { requirements: [{ key: 'spec.nodeName', operator: 'NotIn', values: ['n1'] }] } }));
    assert.equal(notIn.allowed, false);
    assert.equal((await s.request('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2', { as: n1 })).status, 403);
    assert.equal((await s.request('GET', '/api/v1/pods', { as: n1 })).status, 403);
  });

  test('a selector that does not parse is ignored and reported in evaluationError', async () => {
    const raw = await review(sar({ ...listPods, fieldSelector: { rawSelector: 'spec.nodeName' } }));
    assert.equal(raw.allowed, false);
    assert.equal(raw.evaluationError, 'spec.resourceAttributes.fieldSelector ignored due to parse error');
    const partial = await review(sar({
      ...listPods,
      fieldSelector: { requirements: [{ key: 'spec.nodeName', operator: 'In', values: ['n1'] }, { key: 'x', operator: 'Exists' }] },
      labelSelector: { rawSelector: 'a in (' },
    }));
    assert.equal(partial.allowed, true);
    assert.equal(partial.evaluationError, 'spec.resourceAttributes.fieldSelector partially ignored due to parse error; spec.resourceAttributes.labelSelector ignored due to parse error');
  });

  test('malformed selectors are 422s with upstream messages', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ fieldSelector: { rawSelector: 'a=b', requirements: [{ key: 'a', operator: 'In', values: ['b'] }] } }, 'spec.resourceAttributes.fieldSelector.rawSelector: Invalid value: "a=b": may not specified at the same time as requirements'],
      [{ fieldSelector: {} }, 'spec.resourceAttributes.fieldSelector.requirements: Required value: when spec.resourceAttributes.fieldSelector is specified, requirements or rawSelector is required'],
      [{ fieldSelector: { requirements: [{ key: '', operator: 'In', values: ['x'] }] } }, 'spec.resourceAttributes.fieldSelector.requirements[0].key: Required value: must be specified'],
      [{ labelSelector: { requirements: [{ key: 'k', operator: 'Exists', values: ['v'] }] } }, "spec.resourceAttributes.labelSelector.requirements[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
    ];
    for (const [sel, message] of cases) {
      const r = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: sar({ ...listPods, ...sel }) });
      assert.equal(r.status, 422, r.body);
      assert.equal(r.json<{ message: string }>().message, `SubjectAccessReview.authorization.k8s.io "" is invalid: ${message}`);
    }
  });

  test('a SelfSubjectAccessReview carries selectors too (kubectl auth can-i as the node)', async () => {
    const body = JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { ...listPods, fieldSelector: { rawSelector: 'spec.nodeName==n1' } } } });
    const r = await s.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { as: n1, body });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json<{ status: ReviewStatus }>().status.allowed, true);
  });

  test('a subject review without user or groups is a 422', async () => {
    const r = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: sar(listPods, {}) });
    assert.equal(r.status, 422);
    assert.equal(r.json<{ message: string }>().message, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
  });
});
