// The audit log checked line by line after real kubectl traffic against an API server started
// with an audit policy and log: levels per resource, Status of failures, impersonation, refused
// credentials, watch stages and the Event field order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { startAuditedServer, type AuditedServer } from '../../../src/testing/integration_helpers.ts';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/version", "/openapi/*"]
  - level: Metadata
    resources: [{group: "", resources: ["secrets"]}]
  - level: RequestResponse
    resources: [{group: "", resources: ["configmaps"]}]
    omitManagedFields: true
  - level: Metadata
`;
const PASSWORD = 'correct-horse-battery-staple';

let s: AuditedServer;

before(async () => {
  s = await startAuditedServer(POLICY);
});

after(async () => {
  await s?.stop();
});

describe('audit log (--audit-policy-file, --audit-log-path)', () => {
  test('a Secret is audited at Metadata without its data', async () => {
    const r = await s.kubectl(['create', 'secret', 'generic', 'db', '--from-literal', `password=${PASSWORD}`]);
    assert.equal(r.code, 0, r.stderr);
    const events = await s.untilLogged('create secret', (e) => e.verb === 'create' && e.objectRef?.['resource'] === 'secrets');
    const ev = events.find((e) => e.verb === 'create' && e.objectRef?.['resource'] === 'secrets')!;
    assert.equal(ev.level, 'Metadata');
    assert.equal(ev.stage, 'ResponseComplete');
    assert.match(ev.requestURI, /^\/api\/v1\/namespaces\/default\/secrets(\?|$)/);
    assert.deepEqual(ev.user, { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] });
    assert.deepEqual(ev.sourceIPs, ['127.0.0.1']);
    assert.match(ev.userAgent ?? '', /^kubectl\//);
    assert.deepEqual(ev.objectRef, { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' });
    assert.deepEqual(ev.responseStatus, { metadata: {}, code: 201 });
    assert.deepEqual(ev.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' });
    assert.match(ev.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(ev.stageTimestamp >= ev.requestReceivedTimestamp);
    assert.match(ev.auditID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const text = (await s.logLines()).join('\n');
    assert.ok(!text.includes(PASSWORD) && !text.includes(Buffer.from(PASSWORD).toString('base64')), 'secret data never reaches the log');
  });

  test('a ConfigMap is audited with request and response objects, without managed fields', async () => {
    const r = await s.kubectl(['create', 'configmap', 'settings', '--from-literal', 'mode=fast']);
    assert.equal(r.code, 0, r.stderr);
    const events = await s.untilLogged('create configmap', (e) => e.verb === 'create' && e.objectRef?.['resource'] === 'configmaps');
    const ev = events.find((e) => e.verb === 'create' && e.objectRef?.['resource'] === 'configmaps')!;
    assert.equal(ev.level, 'RequestResponse');
    assert.deepEqual(ev.requestObject?.['data'], { mode: 'fast' });
    assert.equal(ev.requestObject?.['kind'], 'ConfigMap');
    const meta = ev.responseObject?.['metadata'] as Record<string, unknown>;
    assert.equal(meta['name'], 'settings');
    assert.equal(typeof meta['uid'], 'string');
    assert.equal(meta['managedFields'], undefined);
  });

  test('failures carry the Status: not found, forbidden under impersonation, and refused credentials', async () => {
    assert.notEqual((await s.kubectl(['get', 'secret', 'nope'])).code, 0);
    const forbidden = await s.kubectl(['get', 'secrets', '--as', 'alice']);
    assert.match(forbidden.stderr, /forbidden/);
    // kubectl without credentials stops at discovery (level None here); a raw request reaches a resource.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: s.port, path: '/api/v1/namespaces/default/pods', ca: s.pki.ca.certPem, agent: false,
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);

    const events = await s.untilLogged('the 401', (e) => e.responseStatus?.code === 401);
    const notFound = events.find((e) => e.responseStatus?.code === 404)!;
    assert.deepEqual(notFound.responseStatus, {
      metadata: {}, status: 'Failure', message: 'secrets "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'secrets' }, code: 404,
    } as unknown);
    assert.deepEqual(notFound.objectRef, { resource: 'secrets', namespace: 'default', name: 'nope', apiVersion: 'v1' });

    const denied = events.find((e) => e.responseStatus?.code === 403)!;
    assert.equal(denied.verb, 'list');
    assert.equal(denied.user.username, 'system:admin');
    assert.equal(denied.impersonatedUser?.username, 'alice');
    assert.equal(denied.responseStatus?.reason, 'Forbidden');
    assert.equal(denied.responseStatus?.message, 'secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"');
    assert.equal(denied.annotations?.['authorization.k8s.io/decision'], 'forbid');

    const refused = events.filter((e) => e.responseStatus?.code === 401);
    assert.ok(refused.length >= 1);
    for (const e of refused) {
      assert.equal(e.stage, 'ResponseStarted');
      assert.deepEqual(e.user, {});
      assert.deepEqual(e.responseStatus, { metadata: {}, message: 'Authentication failed, no credentials provided', code: 401 });
    }
  });

  test('a watch logs ResponseStarted and ResponseComplete; RequestReceived is omitted by the policy', async () => {
    const r = await s.kubectl(['get', 'configmaps', '--watch', '--request-timeout=1s']);
    assert.ok(r.code === 0 || /timeout|Client.Timeout/i.test(r.stderr), r.stderr);
    const events = await s.untilLogged('watch completion', (e) => e.verb === 'watch' && e.stage === 'ResponseComplete');
    const watch = events.filter((e) => e.verb === 'watch');
    const id = watch.find((e) => e.stage === 'ResponseComplete')!.auditID;
    assert.deepEqual(watch.filter((e) => e.auditID === id).map((e) => [e.stage, e.responseStatus?.code]), [['ResponseStarted', 200], ['ResponseComplete', 200]]);
    assert.equal(events.filter((e) => e.stage === 'RequestReceived').length, 0);
  });

  test('every line is one audit.k8s.io/v1 Event, in upstream field order', async () => {
    const lines = await s.logLines();
    assert.ok(lines.length >= 6, `only ${lines.length} lines`);
    const order = ['kind', 'apiVersion', 'level', 'auditID', 'stage', 'requestURI', 'verb', 'user', 'impersonatedUser', 'sourceIPs', 'userAgent',
      'objectRef', 'responseStatus', 'requestObject', 'responseObject', 'requestReceivedTimestamp', 'stageTimestamp', 'annotations'];
    for (const line of lines) {
      const obj = JSON.parse(line) as Record<string, unknown>;
      assert.equal(obj['kind'], 'Event');
      assert.equal(obj['apiVersion'], 'audit.k8s.io/v1');
      const keys = Object.keys(obj);
      assert.deepEqual(keys, order.filter((k) => keys.includes(k)), line);
      // Discovery is level None in this policy: only resource requests and refusals are logged.
      assert.ok(obj['objectRef'] !== undefined || (obj['responseStatus'] as { code: number }).code === 401, line);
    }
  });
});
