// The audit log checked line by line after real kubectl traffic. Until the Auditor is wired into
// ApiServer, an HTTP/2 front in this test does what the server will do (authenticate the client
// certificate, begin + attach the audit context, record impersonation and the decision) and
// forwards each request to a real in-process API server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki, parseCertificateIdentity, type ClusterPki } from '../../../src/base/pki.ts';
import { writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { ApiServer } from '../../../src/apiserver/server.ts';
import { bootstrapCluster } from '../../../src/apiserver/bootstrap.ts';
import { ORDERED_PLUGINS } from '../../../src/apiserver/admission/chain.ts';
import { newUnauthorized } from '../../../src/apiserver/errors.ts';
import { writeError, type Req, type Res } from '../../../src/apiserver/http_util.ts';
import { parseRequestInfo } from '../../../src/apiserver/request_info.ts';
import { Auditor, auditContextOf } from '../../../src/apiserver/audit/auditor.ts';
import { AuditLogBackend } from '../../../src/apiserver/audit/log_backend.ts';
import { loadAuditPolicy } from '../../../src/apiserver/audit/policy.ts';
import { openStore } from '../../../src/storage/registry.ts';
import type { Store } from '../../../src/storage/types.ts';
import '../../../src/storage/drivers/all.ts';

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

let dir: string;
let pki: ClusterPki;
let store: Store;
let api: ApiServer;
let front: Http2SecureServer;
let backend: AuditLogBackend;
let logPath: string;
let kubeconfig: string;
const sessions = new Set<import('node:http2').ServerHttp2Session>();

/** What the API server will do per request once wired (see the lead's wiring notes). */
function frontHandler(auditor: Auditor, apiPort: number) {
  return async (req: Req, res: Res): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const ri = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    const sock = req.socket as TLSSocket;
    const cert = sock.authorized ? sock.getPeerCertificate() : undefined;
    if (!cert?.raw) {
      auditor.failedAuthentication(req, ri);
      writeError(res, newUnauthorized());
      return;
    }
    const id = parseCertificateIdentity(cert.raw);
    const ac = auditor.begin(req, { name: id.commonName, groups: [...id.organizations, 'system:authenticated'] }, ri);
    ac.attach(req, res);
    const as = req.headers['impersonate-user'];
    if (typeof as === 'string') ac.setImpersonatedUser({ name: as, groups: ['system:authenticated'] });
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!k.startsWith(':') && typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    }
    headers['content-length'] = String(body.length);
    await new Promise<void>((resolve, reject) => {
      const up = httpsRequest({
        host: '127.0.0.1', port: apiPort, method: req.method, path: req.url, headers, agent: false,
        ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem,
      }, (upRes) => {
        // Stand-in for the authorizer's answer, which the server records right after authorizing.
        ac.setAuthorizationDecision({ decision: upRes.statusCode === 403 ? 'deny' : 'allow', reason: '' });
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers)) {
          if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
        }
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.on('data', (c: Buffer) => (res as ServerResponse).write(c));
        upRes.on('end', () => {
          res.end();
          resolve();
        });
        upRes.on('error', reject);
      });
      res.once('close', () => {
        up.destroy();
        resolve();
      });
      up.on('error', (err) => (res.writableEnded ? resolve() : reject(err)));
      up.end(body);
    });
  };
}

function kubectl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cacheDir = join(dir, 'kubectl-cache');
    execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
      env: { ...process.env, HOME: dir, KUBECACHEDIR: cacheDir }, timeout: 30_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

interface LoggedEvent {
  level: string; auditID: string; stage: string; requestURI: string; verb: string;
  user: { username?: string; groups?: string[] }; impersonatedUser?: { username: string };
  sourceIPs: string[]; userAgent?: string;
  objectRef?: Record<string, string>; responseStatus?: { metadata: object; status?: string; message?: string; reason?: string; code?: number };
  requestObject?: Record<string, unknown>; responseObject?: Record<string, unknown>;
  requestReceivedTimestamp: string; stageTimestamp: string; annotations?: Record<string, string>;
}

async function logLines(): Promise<string[]> {
  await backend.flush();
  return (await readFile(logPath, 'utf8')).split('\n').filter((l) => l !== '');
}

/** Waits until the log holds a line matching `pred`; returns every line. */
async function untilLogged(what: string, pred: (e: LoggedEvent) => boolean): Promise<LoggedEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = (await logLines()).map((l) => JSON.parse(l) as LoggedEvent);
    if (events.some(pred)) return events;
    if (Date.now() > deadline) assert.fail(`no audit line for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tkube-audit-'));
  pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
  store = await openStore({ endpoint: 'memory://' });
  api = new ApiServer({
    store, port: 0, bindAddress: '127.0.0.1', admissionPlugins: ORDERED_PLUGINS.filter((p) => p !== 'ServiceAccount'),
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
  });
  await api.start();
  await bootstrapCluster({ storeFor: (i) => api.storeFor(i), serviceCidr: '10.43.0.0/16', advertiseIP: '127.0.0.1', advertisePort: api.port });

  const policyPath = join(dir, 'audit-policy.yaml');
  await writeFile(policyPath, POLICY);
  logPath = join(dir, 'log', 'audit.log');
  backend = new AuditLogBackend({ path: logPath, maxAgeDays: 7, maxBackups: 3, maxSizeMB: 10 });
  const auditor = new Auditor({ policy: await loadAuditPolicy(policyPath), backend });
  front = createSecureServer({
    cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false, allowHTTP1: true,
  });
  front.on('session', (sess) => {
    sessions.add(sess);
    sess.on('close', () => sessions.delete(sess));
  });
  const handle = frontHandler(auditor, api.port);
  front.on('request', (req: Req, res: Res) => {
    handle(req, res).catch((err: unknown) => {
      auditContextOf(req)?.panic(err);
      res.destroy();
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${(front.address() as AddressInfo).port}`, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem,
  });
});

after(async () => {
  if (front) {
    const closed = new Promise((r) => front.close(r));
    for (const s of sessions) s.destroy();
    await closed;
  }
  await backend?.dispose();
  await api?.dispose();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('audit log (--audit-policy-file, --audit-log-path)', () => {
  test('a Secret is audited at Metadata without its data', async () => {
    const r = await kubectl(['create', 'secret', 'generic', 'db', '--from-literal', `password=${PASSWORD}`]);
    assert.equal(r.code, 0, r.stderr);
    const events = await untilLogged('create secret', (e) => e.verb === 'create' && e.objectRef?.['resource'] === 'secrets');
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
    const text = (await logLines()).join('\n');
    assert.ok(!text.includes(PASSWORD) && !text.includes(Buffer.from(PASSWORD).toString('base64')), 'secret data never reaches the log');
  });

  test('a ConfigMap is audited with request and response objects, without managed fields', async () => {
    const r = await kubectl(['create', 'configmap', 'settings', '--from-literal', 'mode=fast']);
    assert.equal(r.code, 0, r.stderr);
    const events = await untilLogged('create configmap', (e) => e.verb === 'create' && e.objectRef?.['resource'] === 'configmaps');
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
    assert.notEqual((await kubectl(['get', 'secret', 'nope'])).code, 0);
    const forbidden = await kubectl(['get', 'secrets', '--as', 'alice']);
    assert.match(forbidden.stderr, /forbidden/);
    // kubectl without credentials stops at discovery (level None here); a raw request reaches a resource.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: (front.address() as AddressInfo).port, path: '/api/v1/namespaces/default/pods', ca: pki.ca.certPem, agent: false,
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);

    const events = await untilLogged('the 401', (e) => e.responseStatus?.code === 401);
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
    const r = await kubectl(['get', 'configmaps', '--watch', '--request-timeout=1s']);
    assert.ok(r.code === 0 || /timeout|Client.Timeout/i.test(r.stderr), r.stderr);
    const events = await untilLogged('watch completion', (e) => e.verb === 'watch' && e.stage === 'ResponseComplete');
    const watch = events.filter((e) => e.verb === 'watch');
    const id = watch.find((e) => e.stage === 'ResponseComplete')!.auditID;
    assert.deepEqual(watch.filter((e) => e.auditID === id).map((e) => [e.stage, e.responseStatus?.code]), [['ResponseStarted', 200], ['ResponseComplete', 200]]);
    assert.equal(events.filter((e) => e.stage === 'RequestReceived').length, 0);
  });

  test('every line is one audit.k8s.io/v1 Event, in upstream field order', async () => {
    const lines = await logLines();
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
