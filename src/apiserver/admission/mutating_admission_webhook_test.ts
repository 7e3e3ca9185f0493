// Unit tests of both webhook plugins against a local HTTPS server: patches, dry run and side
// effects, deletes, unusable answers, denials, TLS failures and audit annotations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../base/pki.ts';
import { applyDefaults } from '../../api/defaults/registry.ts';
import { ApiError } from '../errors.ts';
import { attrs, FakeLister } from './fake_lister.ts';
import { MutatingAdmissionWebhook } from './mutating_admission_webhook.ts';
import { ValidatingAdmissionWebhook } from './validating_admission_webhook.ts';
import type { AuditLevel } from '../audit/policy.ts';
import { bindAuditAnnotationSink, type AdmissionAttributes } from './types.ts';

type Obj = Record<string, any>;
const AR = 'admissionregistration.k8s.io';
let server: Server;
let port = 0;
let caBundle = '';
/** What the test server answers with (the uid is filled in). */
let answer: (request: Obj) => Obj = () => ({ allowed: true });
let calls = 0;
let uid = 0;

before(async () => {
  const ca = await createCertificateAuthority({ commonName: 'unit-webhook-ca', days: 1 });
  const cert = await issueCertificate({ ca, commonName: 'w', ips: ['127.0.0.1'], usages: 'server', days: 1 });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls++;
      const request = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj)['request'] as Obj;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request['uid'], ...answer(request) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function config(kind: 'Mutating' | 'Validating', hook: Obj): Obj {
  const c = {
    apiVersion: `${AR}/v1`, kind: `${kind}WebhookConfiguration`, metadata: { name: `c${++uid}`, uid: `u${uid}`, resourceVersion: '1' },
    webhooks: [{
      name: 'hook.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None',
      clientConfig: { url: `https://127.0.0.1:${port}/`, caBundle },
      rules: [{ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
      ...hook,
    }],
  };
  applyDefaults(AR, 'v1', c.kind, c);
  return c;
}

function lister(kind: 'Mutating' | 'Validating', hook: Obj = {}): FakeLister {
  return new FakeLister()
    .add('', 'namespaces', { metadata: { name: 'ns' } })
    .add(AR, kind === 'Mutating' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations', config(kind, hook));
}

function configMap(): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' }, data: { a: 'b' } };
}

function patch(ops: unknown[]): Obj {
  return { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}

/** Audits the request at `level`: returns the annotations admission records for it. */
function audited(a: AdmissionAttributes, level: AuditLevel = 'Metadata'): Record<string, string> {
  const seen: Record<string, string> = {};
  bindAuditAnnotationSink(a.warnings, { level, addAnnotation: (k, v) => { seen[k] ??= v; } });
  return seen;
}

async function refusal(p: Promise<void>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('the request was admitted');
}

describe('MutatingAdmissionWebhook', () => {
  test('applies the JSONPatch answer to the object', async () => {
    answer = () => patch([{ op: 'add', path: '/data/added', value: 'yes' }]);
    const a = attrs('CREATE', '', 'configmaps', configMap());
    await new MutatingAdmissionWebhook().admit(a, lister('Mutating'));
    assert.deepEqual(a.object?.['data'], { a: 'b', added: 'yes' });
  });

  test('a dry run is refused for webhooks with side effects, and passed on otherwise', async () => {
    answer = () => ({ allowed: true });
    const before = calls;
    const some = lister('Mutating', { sideEffects: 'Some' });
    const e = await refusal(new MutatingAdmissionWebhook().admit(attrs('CREATE', '', 'configmaps', configMap(), { dryRun: true }), some));
    assert.deepEqual([e.code, e.message], [400, 'admission webhook "hook.example.com" does not support dry run']);
    assert.equal(calls, before, 'the webhook was called');
    await new MutatingAdmissionWebhook().admit(attrs('CREATE', '', 'configmaps', configMap(), { dryRun: true }), lister('Mutating', { sideEffects: 'NoneOnDryRun' }));
    assert.equal(calls, before + 1);
  });

  test('deletes reach mutating webhooks, which may deny but not patch', async () => {
    answer = () => patch([{ op: 'add', path: '/data/x', value: 'y' }]);
    const del = attrs('DELETE', '', 'configmaps', undefined, { oldObject: configMap() });
    const e = await refusal(new MutatingAdmissionWebhook().validate(del, lister('Mutating')));
    assert.equal(e.message, 'Internal error occurred: admission webhook "hook.example.com" attempted to modify the object, which is not supported for this operation');
    answer = () => ({ allowed: false, status: { message: 'keep it', reason: 'Forbidden', code: 403 } });
    const denied = await refusal(new MutatingAdmissionWebhook().validate(del, lister('Mutating')));
    assert.deepEqual([denied.code, denied.status.reason, denied.message], [403, 'Forbidden', 'admission webhook "hook.example.com" denied the request: keep it']);
  });

  test('unusable answers are call failures, subject to failurePolicy', async () => {
    answer = (r) => ({ allowed: true, uid: `${String(r['uid'])}-other` });
    const e = await refusal(new MutatingAdmissionWebhook().admit(attrs('CREATE', '', 'configmaps', configMap()), lister('Mutating')));
    assert.match(e.message, /^Internal error occurred: failed calling webhook "hook.example.com": received invalid webhook response: expected response.uid="[0-9a-f-]+", got "[0-9a-f-]+-other"$/);
    await new MutatingAdmissionWebhook().admit(attrs('CREATE', '', 'configmaps', configMap()), lister('Mutating', { failurePolicy: 'Ignore' }));
  });
});

describe('ValidatingAdmissionWebhook', () => {
  test('a denial without message says so; a patch from a validating webhook is a call failure', async () => {
    answer = () => ({ allowed: false });
    const e = await refusal(new ValidatingAdmissionWebhook().validate(attrs('CREATE', '', 'configmaps', configMap()), lister('Validating')));
    assert.deepEqual([e.code, e.message], [400, 'admission webhook "hook.example.com" denied the request without explanation']);
    answer = () => patch([]);
    const p = await refusal(new ValidatingAdmissionWebhook().validate(attrs('CREATE', '', 'configmaps', configMap()), lister('Validating')));
    assert.equal(p.message, 'Internal error occurred: failed calling webhook "hook.example.com": received invalid webhook response: validating webhook may not return response.patch');
  });

  test('a certificate from another CA fails the TLS handshake', async () => {
    answer = () => ({ allowed: true });
    const other = await createCertificateAuthority({ commonName: 'other', days: 1 });
    const l = lister('Validating', { clientConfig: { url: `https://127.0.0.1:${port}/`, caBundle: Buffer.from(other.certPem).toString('base64') } });
    const e = await refusal(new ValidatingAdmissionWebhook().validate(attrs('CREATE', '', 'configmaps', configMap()), l));
    assert.equal(e.message, 'Internal error occurred: failed calling webhook "hook.example.com": failed to call webhook: '
      + `Post "https://127.0.0.1:${port}/?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
  });

  test('objects of admission configuration are never sent to webhooks', async () => {
    const a = attrs('CREATE', AR, 'validatingwebhookconfigurations', { metadata: { name: 'x' } });
    assert.equal(new ValidatingAdmissionWebhook().handles(a), false);
    assert.equal(new MutatingAdmissionWebhook().handles(a), false);
  });
});

describe('webhook audit annotations', () => {
  test('a mutating call records whether it mutated, its patch from level Request, and its auditAnnotations', async () => {
    answer = () => ({ ...patch([{ value: '<x>', path: '/data/added', op: 'add' }]), auditAnnotations: { reason: 'added', 'bad/key': 'dropped' } });
    const l = lister('Mutating');
    const configName = String((l.list(AR, 'mutatingwebhookconfigurations')[0]?.['metadata'] as Obj)['name']);
    const a = attrs('CREATE', '', 'configmaps', configMap());
    const annotations = audited(a, 'Request');
    await new MutatingAdmissionWebhook().admit(a, l);
    assert.deepEqual(annotations, {
      'hook.example.com/reason': 'added',
      'patch.webhook.admission.k8s.io/round_0_index_0':
        `{"configuration":"${configName}","webhook":"hook.example.com","patch":[{"op":"add","path":"/data/added","value":"\\u003cx\\u003e"}],"patchType":"JSONPatch"}`,
      'mutation.webhook.admission.k8s.io/round_0_index_0': `{"configuration":"${configName}","webhook":"hook.example.com","mutated":true}`,
    });
    const m = attrs('CREATE', '', 'configmaps', configMap());
    const metadataOnly = audited(m);
    answer = () => patch([{ op: 'replace', path: '/data/a', value: 'b' }]);
    await new MutatingAdmissionWebhook().admit(m, l);
    assert.deepEqual(metadataOnly, { 'mutation.webhook.admission.k8s.io/round_0_index_0': `{"configuration":"${configName}","webhook":"hook.example.com","mutated":false}` });
  });

  test('failing open is recorded for mutating and validating webhooks', async () => {
    answer = (r) => ({ allowed: true, uid: `${String(r['uid'])}-other` });
    const m = attrs('CREATE', '', 'configmaps', configMap());
    const ma = audited(m);
    const ml = lister('Mutating', { failurePolicy: 'Ignore' });
    await new MutatingAdmissionWebhook().admit(m, ml);
    const configName = String((ml.list(AR, 'mutatingwebhookconfigurations')[0]?.['metadata'] as Obj)['name']);
    assert.deepEqual(ma, {
      'failed-open.mutation.webhook.admission.k8s.io/round_0_index_0': 'hook.example.com',
      'mutation.webhook.admission.k8s.io/round_0_index_0': `{"configuration":"${configName}","webhook":"hook.example.com","mutated":false}`,
    });
    const v = attrs('CREATE', '', 'configmaps', configMap());
    const va = audited(v);
    await new ValidatingAdmissionWebhook().validate(v, lister('Validating', { failurePolicy: 'Ignore' }));
    assert.deepEqual(va, { 'failed-open.validating.webhook.admission.k8s.io/round_0_index_0': 'hook.example.com' });
  });

  test("a validating webhook's auditAnnotations are recorded even when it denies", async () => {
    answer = () => ({ allowed: false, auditAnnotations: { why: 'no' } });
    const v = attrs('CREATE', '', 'configmaps', configMap());
    const va = audited(v);
    await refusal(new ValidatingAdmissionWebhook().validate(v, lister('Validating')));
    assert.deepEqual(va, { 'hook.example.com/why': 'no' });
  });

  test('requests nobody audits are admitted the same way', async () => {
    answer = () => ({ ...patch([{ op: 'add', path: '/data/added', value: 'yes' }]), auditAnnotations: { reason: 'added' } });
    const a = attrs('CREATE', '', 'configmaps', configMap());
    await new MutatingAdmissionWebhook().admit(a, lister('Mutating'));
    assert.deepEqual(a.object?.['data'], { a: 'b', added: 'yes' });
  });
});
