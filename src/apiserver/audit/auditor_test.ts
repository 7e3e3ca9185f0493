// Auditor: golden event lines in upstream's format, stages per request kind, admission annotations,
// and the request and response decoration over a real HTTP server.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequestInfo } from '../request_info.ts';
import { addAuditAnnotation, auditAnnotationSink, bindAuditAnnotationSink } from '../admission/types.ts';
import { attrs } from '../admission/fake_lister.ts';
import { Auditor, auditContextOf, type AuditBackend, type AuditContext } from './auditor.ts';
import { encodeEventLine, formatMicroTime, sourceIPs, type AuditEvent } from './event.ts';
import type { AuditPolicy } from './policy.ts';

const T0 = Date.UTC(2024, 4, 6, 7, 8, 9) * 1000 + 123456;
const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const UA = 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9';

class MemoryBackend implements AuditBackend {
  events: AuditEvent[] = [];
  processEvents(...events: AuditEvent[]): void {
    this.events.push(...events);
  }
  dispose(): void {}
  lines(): string[] {
    return this.events.map(encodeEventLine);
  }
  json(): Array<Record<string, unknown>> {
    return this.events.map((e) => JSON.parse(encodeEventLine(e)) as Record<string, unknown>);
  }
}

function setup(policy: AuditPolicy): { auditor: Auditor; backend: MemoryBackend } {
  const backend = new MemoryBackend();
  let t = T0;
  let n = 0;
  const auditor = new Auditor({ policy, backend, now: () => (t += 1000), newAuditID: () => `id-${++n}` });
  return { auditor, backend };
}

function fakeReq(method: string, url: string, headers: Record<string, string> = {}) {
  return { method, url, headers: { 'user-agent': UA, ...headers }, socket: { remoteAddress: '127.0.0.1' } };
}

function ri(method: string, url: string) {
  const u = new URL(url, 'https://localhost');
  return parseRequestInfo(method, u.pathname, u.searchParams);
}

describe('audit event format', () => {
  test('a list at level Metadata writes RequestReceived and ResponseComplete exactly as upstream', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const url = '/api/v1/namespaces/default/pods?limit=500';
    const ac = auditor.begin(fakeReq('GET', url), admin, ri('GET', url), { receivedAt: T0 });
    ac.setAuthorizationDecision({ decision: 'allow', reason: '' });
    ac.end({ code: 200 });
    assert.deepEqual(backend.lines(), [
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"RequestReceived",' +
        '"requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters","system:authenticated"]},' +
        `"sourceIPs":["127.0.0.1"],"userAgent":"${UA}","objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},` +
        '"requestReceivedTimestamp":"2024-05-06T07:08:09.123456Z","stageTimestamp":"2024-05-06T07:08:09.123456Z"}\n',
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"ResponseComplete",' +
        '"requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters","system:authenticated"]},' +
        `"sourceIPs":["127.0.0.1"],"userAgent":"${UA}","objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},` +
        '"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-06T07:08:09.123456Z","stageTimestamp":"2024-05-06T07:08:09.124456Z",' +
        '"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}\n',
    ]);
  });

  test('a forbidden get of a group resource records the Status and the impersonated user', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }], omitStages: ['RequestReceived'] });
    const url = '/apis/apps/v1/namespaces/team/deployments/web/scale';
    const ac = auditor.begin(fakeReq('GET', url, { 'x-forwarded-for': '10.0.0.7' }), { ...admin, uid: 'u-1' }, ri('GET', url), { receivedAt: T0 });
    ac.setImpersonatedUser({ name: 'bob', groups: ['system:authenticated'] });
    ac.setAuthorizationDecision({ decision: 'deny', reason: '' });
    ac.logResponseObject({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments/scale" in API group "apps" in the namespace "team"',
      reason: 'Forbidden', details: { name: 'web', group: 'apps', kind: 'deployments' }, code: 403,
    });
    ac.end({ code: 403 });
    assert.deepEqual(backend.lines(), [
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"ResponseComplete",' +
        '"requestURI":"/apis/apps/v1/namespaces/team/deployments/web/scale","verb":"get","user":{"username":"admin","uid":"u-1","groups":["system:masters","system:authenticated"]},' +
        '"impersonatedUser":{"username":"bob","groups":["system:authenticated"]},"sourceIPs":["10.0.0.7","127.0.0.1"],' +
        `"userAgent":"${UA}","objectRef":{"resource":"deployments","namespace":"team","name":"web","apiGroup":"apps","apiVersion":"v1","subresource":"scale"},` +
        '"responseStatus":{"metadata":{},"status":"Failure","message":"deployments.apps \\"web\\" is forbidden: User \\"bob\\" cannot get resource \\"deployments/scale\\" in API group \\"apps\\" in the namespace \\"team\\"",' +
        '"reason":"Forbidden","details":{"name":"web","group":"apps","kind":"deployments"},"code":403},' +
        '"requestReceivedTimestamp":"2024-05-06T07:08:09.123456Z","stageTimestamp":"2024-05-06T07:08:09.124456Z",' +
        '"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}\n',
    ]);
  });

  test('a non-resource request has no objectRef and its verb is the method', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'RequestResponse' }] });
    const ac = auditor.begin(fakeReq('GET', '/version'), admin, ri('GET', '/version'));
    ac.end({ code: 200, responseObject: { major: '1' } });
    const ev = backend.json()[1]!;
    assert.equal(ev['verb'], 'get');
    assert.equal(ev['objectRef'], undefined);
    assert.equal(ev['responseObject'], undefined, 'objects are not logged for non-resource requests');
  });

  test('failed authentication writes one ResponseStarted event with the methods tried', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const url = '/api/v1/namespaces/default/secrets';
    auditor.failedAuthentication(fakeReq('GET', url, { authorization: 'Bearer nope' }), ri('GET', url), { receivedAt: T0 });
    assert.deepEqual(backend.lines(), [
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"ResponseStarted",' +
        `"requestURI":"/api/v1/namespaces/default/secrets","verb":"list","user":{},"sourceIPs":["127.0.0.1"],"userAgent":"${UA}",` +
        '"objectRef":{"resource":"secrets","namespace":"default","apiVersion":"v1"},' +
        '"responseStatus":{"metadata":{},"message":"Authentication failed, attempted: bearer","code":401},' +
        '"requestReceivedTimestamp":"2024-05-06T07:08:09.123456Z","stageTimestamp":"2024-05-06T07:08:09.124456Z"}\n',
    ]);
  });

  test('a panic writes a Panic event instead of ResponseComplete', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const ac = auditor.begin(fakeReq('GET', '/api/v1/nodes'), admin, ri('GET', '/api/v1/nodes'));
    ac.panic(new Error('boom'));
    ac.end({ code: 500 });
    assert.deepEqual(backend.events.map((e) => e.stage), ['RequestReceived', 'Panic']);
    assert.deepEqual(backend.json()[1]!['responseStatus'], { metadata: {}, status: 'Failure', message: "APIServer panic'd: boom", reason: 'InternalError', code: 500 });
  });

  test('a watch writes ResponseStarted when headers go out, and honors omitStages', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata', omitStages: ['RequestReceived'] }] });
    const url = '/api/v1/pods?watch=true';
    const ac = auditor.begin(fakeReq('GET', url), admin, ri('GET', url));
    ac.responseStarted(200);
    ac.end();
    assert.deepEqual(backend.events.map((e) => [e.stage, e.responseStatus?.code]), [['ResponseStarted', 200], ['ResponseComplete', 200]]);
  });

  test('a watch closed before any header fakes the upstream success status', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const url = '/api/v1/pods?watch=1';
    auditor.begin(fakeReq('GET', url), admin, ri('GET', url)).end();
    assert.deepEqual(backend.events.map((e) => e.stage), ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
    assert.deepEqual(backend.json()[2]!['responseStatus'], { metadata: {}, status: 'Success', message: 'Connection closed early', code: 200 });
  });

  test('level None records nothing', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'None', verbs: ['get'] }, { level: 'Metadata' }] });
    const ac = auditor.begin(fakeReq('GET', '/api/v1/nodes/n1'), admin, ri('GET', '/api/v1/nodes/n1'));
    assert.equal(ac.enabled, false);
    ac.end({ code: 200 });
    assert.deepEqual(backend.events, []);
  });

  test('request objects complete objectRef at Metadata and are kept from Request; managed fields can be omitted', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }] }, { level: 'RequestResponse' }], omitManagedFields: true });
    const body = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm', resourceVersion: '7', managedFields: [{ manager: 'kubectl' }] }, data: { a: 'b' } };
    const ac = auditor.begin(fakeReq('PUT', '/api/v1/namespaces/ns/configmaps/cm'), admin, ri('PUT', '/api/v1/namespaces/ns/configmaps/cm'));
    ac.end({ code: 200, requestObject: body, responseObject: { ...body, metadata: { ...body.metadata, resourceVersion: '8' } } });
    const ev = backend.json()[1]!;
    assert.deepEqual(ev['objectRef'], { resource: 'configmaps', namespace: 'ns', name: 'cm', apiVersion: 'v1', resourceVersion: '7' });
    assert.deepEqual(ev['requestObject'], { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm', resourceVersion: '7' }, data: { a: 'b' } });
    assert.deepEqual((ev['responseObject'] as { metadata: unknown }).metadata, { name: 'cm', resourceVersion: '8' });

    const secret = { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's1' }, data: { password: 'aHVudGVyMg==' } };
    const sc = auditor.begin(fakeReq('POST', '/api/v1/namespaces/ns/secrets'), admin, ri('POST', '/api/v1/namespaces/ns/secrets'));
    sc.end({ code: 201, requestObject: secret, responseObject: secret });
    const sev = backend.json()[3]!;
    assert.equal((sev['objectRef'] as { name: string }).name, 's1');
    assert.equal(sev['requestObject'], undefined);
    assert.equal(sev['responseObject'], undefined);
    assert.doesNotMatch(backend.lines()[3]!, /aHVudGVyMg/);
  });

  test('an Audit-ID header from the client is kept', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const ac = auditor.begin(fakeReq('GET', '/api', { 'audit-id': 'abc-123' }), admin, ri('GET', '/api'));
    ac.end({ code: 200 });
    assert.equal(ac.auditID, 'abc-123');
    assert.deepEqual(backend.events.map((e) => e.auditID), ['abc-123', 'abc-123']);
  });

  test('admission annotations reach ResponseComplete and Panic, filtered by the request level', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }] }, { level: 'Request' }] });
    const admitted = (url: string, method: string, finish: (ac: AuditContext) => void) => {
      const ac = auditor.begin(fakeReq(method, url), admin, ri(method, url));
      const a = attrs('CREATE', '', 'configmaps', { metadata: { name: 'cm', namespace: 'ns' } });
      bindAuditAnnotationSink(a.warnings, ac);
      addAuditAnnotation(a, 'example.com/meta', 'm');
      addAuditAnnotation(a, 'example.com/request', 'r', 'Request');
      addAuditAnnotation(a, 'example.com/meta', 'changed');
      addAuditAnnotation(a, 'no-prefix', 'x');
      finish(ac);
    };
    admitted('/api/v1/namespaces/ns/configmaps', 'POST', (ac) => ac.end({ code: 201 }));
    admitted('/api/v1/namespaces/ns/secrets', 'POST', (ac) => ac.panic(new Error('boom')));
    assert.deepEqual(backend.json().map((e) => [e['stage'], e['annotations']]), [
      ['RequestReceived', undefined],
      ['ResponseComplete', { 'example.com/meta': 'm', 'example.com/request': 'r' }],
      ['RequestReceived', undefined],
      ['Panic', { 'example.com/meta': 'm' }],
    ]);
  });

  test('admission annotations of unaudited requests go nowhere', () => {
    const { auditor, backend } = setup({ rules: [{ level: 'None' }] });
    const ac = auditor.begin(fakeReq('POST', '/api/v1/namespaces/ns/configmaps'), admin, ri('POST', '/api/v1/namespaces/ns/configmaps'));
    const a = attrs('CREATE', '', 'configmaps', { metadata: { name: 'cm', namespace: 'ns' } });
    if (ac.enabled) bindAuditAnnotationSink(a.warnings, ac);
    assert.equal(auditAnnotationSink(a), undefined);
    addAuditAnnotation(a, 'example.com/meta', 'm');
    ac.end({ code: 201 });
    assert.deepEqual(backend.events, []);
  });

  test('micro times and source IPs follow Go', () => {
    assert.equal(formatMicroTime(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 7), '2024-01-02T03:04:05.000007Z');
    assert.deepEqual(sourceIPs({ 'x-forwarded-for': '1.2.3.4, bogus, 5.6.7.8', 'x-real-ip': '5.6.7.8' }, '::ffff:127.0.0.1'), ['1.2.3.4', '5.6.7.8', '127.0.0.1']);
    assert.deepEqual(sourceIPs({}, '127.0.0.1'), ['127.0.0.1']);
  });
});

describe('AuditContext.attach over HTTP', () => {
  async function serve(auditor: Auditor, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ac = auditor.begin(req, admin, parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams));
      ac.attach(req, res);
      handler(req, res).catch((err: unknown) => {
        auditContextOf(req)?.panic(err);
        res.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as AddressInfo).port };
  }

  function call(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function readAll(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }

  test('captures the request body the handler reads and the response it writes', async () => {
    const { auditor, backend } = setup({ rules: [{ level: 'RequestResponse' }] });
    const { server, port } = await serve(auditor, async (req, res) => {
      const obj = JSON.parse(await readAll(req)) as Record<string, unknown>;
      const created = { ...obj, metadata: { ...(obj['metadata'] as object), namespace: 'ns', uid: 'u1', resourceVersion: '5' } };
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(created) + '\n');
    });
    try {
      const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cfg' }, data: { k: 'v' } };
      const r = await call(port, 'POST', '/api/v1/namespaces/ns/configmaps?fieldManager=kubectl-create', JSON.stringify(cm));
      assert.equal(r.status, 201);
      assert.equal(r.headers['audit-id'], 'id-1');
      await waitFor(() => backend.events.length === 2);
      const ev = backend.json()[1]!;
      assert.equal(ev['stage'], 'ResponseComplete');
      assert.equal(ev['verb'], 'create');
      assert.deepEqual(ev['objectRef'], { resource: 'configmaps', namespace: 'ns', name: 'cfg', apiVersion: 'v1' });
      assert.deepEqual(ev['requestObject'], cm);
      assert.deepEqual(ev['responseObject'], { ...cm, metadata: { name: 'cfg', namespace: 'ns', uid: 'u1', resourceVersion: '5' } });
      assert.deepEqual(ev['responseStatus'], { metadata: {}, code: 201 });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('reads the Status of a failure at level Metadata and keeps no objects', async () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Metadata' }] });
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'secrets "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'secrets' }, code: 404 };
    const { server, port } = await serve(auditor, async (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status) + '\n');
    });
    try {
      await call(port, 'GET', '/api/v1/namespaces/default/secrets/nope');
      await waitFor(() => backend.events.length === 2);
      assert.deepEqual(backend.json()[1]!['responseStatus'], { metadata: {}, status: 'Failure', message: 'secrets "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'secrets' }, code: 404 });
      assert.equal(backend.json()[1]!['responseObject'], undefined);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('a patch is recorded as sent; a streamed watch gets ResponseStarted then ResponseComplete', async () => {
    const { auditor, backend } = setup({ rules: [{ level: 'Request' }] });
    const { server, port } = await serve(auditor, async (req, res) => {
      if (req.method === 'PATCH') {
        await readAll(req);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Pod"}\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"ADDED","object":{}}\n');
      await new Promise((r) => setImmediate(r));
      res.end();
    });
    try {
      await call(port, 'PATCH', '/api/v1/namespaces/ns/pods/p', '{"metadata":{"labels":{"a":"b"}}}', { 'Content-Type': 'application/merge-patch+json' });
      await call(port, 'GET', '/api/v1/namespaces/ns/pods?watch=true');
      await waitFor(() => backend.events.length === 5);
      const evs = backend.json();
      assert.deepEqual(evs.map((e) => `${e['verb']} ${e['stage']}`), [
        'patch RequestReceived', 'patch ResponseComplete', 'watch RequestReceived', 'watch ResponseStarted', 'watch ResponseComplete',
      ]);
      assert.deepEqual(evs[1]!['requestObject'], { metadata: { labels: { a: 'b' } } });
      assert.equal(evs[1]!['responseObject'], undefined, 'responses are kept at RequestResponse only');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
