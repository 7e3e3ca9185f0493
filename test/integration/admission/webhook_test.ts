// Admission webhooks end to end: an HTTPS webhook server on 127.0.0.1 with its own CA, and
// kubectl against an in-process API server: mutation by JSONPatch (with IfNeeded reinvocation),
// denials with the webhook's message, failurePolicy when the server is down or slow, selectors,
// matchConditions, dry run, warnings, Service references and the configurations' own validation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../../src/base/pki.ts';
import { applyAdmissionConfiguration, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

type Obj = Record<string, any>;

let s: TestServer;
let hooks: Server;
let hookPort = 0;
let caBundle = '';
let counter = 0;
/** Every AdmissionReview request the webhook server received, by path. */
const received: { path: string; request: Obj }[] = [];
const pending = new Set<NodeJS.Timeout>();

function respond(res: ServerResponse, uid: string, response: Obj): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } }));
}

function jsonPatch(ops: unknown[]): Obj {
  return { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}

/** The webhook server's behaviours, by path. */
function handle(path: string, request: Obj, res: ServerResponse): void {
  const uid = request['uid'] as string;
  const object = request['object'] as Obj | null;
  switch (path) {
    case '/add-label': {
      const labels = object?.['metadata']?.['labels'];
      respond(res, uid, { allowed: true, ...jsonPatch(labels ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }]
        : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }]) });
      return;
    }
    case '/add-annotation': {
      const annotations = object?.['metadata']?.['annotations'];
      respond(res, uid, { allowed: true, ...jsonPatch(annotations ? [{ op: 'add', path: '/metadata/annotations/second', value: 'yes' }]
        : [{ op: 'add', path: '/metadata/annotations', value: { second: 'yes' } }]) });
      return;
    }
    case '/deny':
      respond(res, uid, { allowed: false, status: { code: 403, message: `pods named ${request['name']} are not welcome here` } });
      return;
    case '/warn':
      respond(res, uid, { allowed: true, warnings: ['this pod is looked at closely'] });
      return;
    case '/slow': {
      const t = setTimeout(() => {
        pending.delete(t);
        respond(res, uid, { allowed: true });
      }, 2500);
      pending.add(t);
      return;
    }
    default:
      respond(res, uid, { allowed: true });
  }
}

async function startWebhookServer(): Promise<void> {
  const ca = await createCertificateAuthority({ commonName: 'webhook-test-ca', days: 1 });
  const cert = await issueCertificate({ ca, commonName: 'webhook', ips: ['127.0.0.1'], dnsNames: ['hooks.webhook-svc.svc'], usages: 'server', days: 1 });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  hooks = createServer({ key: cert.keyPem, cert: cert.certPem }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj;
      const path = (req.url ?? '/').split('?')[0]!;
      received.push({ path, request: review['request'] as Obj });
      handle(path, review['request'] as Obj, res);
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookPort = (hooks.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const ns = `wh${++counter}-${process.pid}`;
  const l = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  await kubectlOk(s, ['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n${l ? `  labels:\n${l}\n` : ''}`);
  return ns;
}

function pod(name: string, labels = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${labels}spec:\n  containers:\n  - name: c\n    image: nginx:1.27\n`;
}

interface HookSpec {
  readonly name: string;
  readonly path?: string;
  readonly url?: string;
  readonly service?: string;
  readonly failurePolicy?: 'Fail' | 'Ignore';
  readonly timeoutSeconds?: number;
  readonly sideEffects?: string;
  readonly namespaceSelector?: string;
  readonly objectSelector?: string;
  readonly matchConditions?: string;
  readonly reinvocationPolicy?: string;
  readonly operations?: string;
  readonly resources?: string;
}

function webhookYaml(h: HookSpec): string {
  const client = h.service ?? `    url: ${h.url ?? `https://127.0.0.1:${hookPort}${h.path ?? ''}`}\n    caBundle: ${caBundle}\n`;
  return `- name: ${h.name}
  admissionReviewVersions: ["v1"]
  sideEffects: ${h.sideEffects ?? 'None'}
  failurePolicy: ${h.failurePolicy ?? 'Fail'}
${h.timeoutSeconds ? `  timeoutSeconds: ${h.timeoutSeconds}\n` : ''}${h.reinvocationPolicy ? `  reinvocationPolicy: ${h.reinvocationPolicy}\n` : ''}  clientConfig:
${client}  rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ${h.operations ?? '["CREATE"]'}
    resources: ${h.resources ?? '["pods"]'}
${h.namespaceSelector ?? ''}${h.objectSelector ?? ''}${h.matchConditions ?? ''}`;
}

async function configure(kind: 'Mutating' | 'Validating', name: string, ...webhooks: HookSpec[]): Promise<void> {
  await applyAdmissionConfiguration(s, `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}WebhookConfiguration
metadata:
  name: ${name}
webhooks:
${webhooks.map(webhookYaml).join('')}`);
}

function onlyNamespace(ns: string): string {
  return `  namespaceSelector:\n    matchLabels:\n      kubernetes.io/metadata.name: ${ns}\n`;
}

function requestsTo(path: string, ns: string): Obj[] {
  return received.filter((r) => r.path === path && r.request['namespace'] === ns).map((r) => r.request);
}

async function labelsOf(ns: string, name: string): Promise<Record<string, string>> {
  const r = await kubectlOk(s, ['get', 'pod', name, '-n', ns, '-o', 'json']);
  return (JSON.parse(r.stdout) as Obj)['metadata']['labels'] ?? {};
}

before(async () => {
  await startWebhookServer();
  s = await startTestServer();
});

after(async () => {
  for (const t of pending) clearTimeout(t);
  await s?.stop();
  hooks?.closeAllConnections();
  await new Promise<void>((resolve) => (hooks ? hooks.close(() => resolve()) : resolve()));
});

describe('admission webhooks through kubectl', () => {
  test('a mutating webhook adds a label with a JSONPatch and sees a full AdmissionReview', async () => {
    const ns = await namespace();
    await configure('Mutating', `label-${ns}`, { name: 'label.example.com', path: '/add-label', namespaceSelector: onlyNamespace(ns) });
    await kubectlOk(s, ['create', '-n', ns, '-f', '-'], pod('web'));
    assert.equal((await labelsOf(ns, 'web'))['mutated'], 'yes');
    const [req] = requestsTo('/add-label', ns);
    assert.ok(req);
    assert.match(req['uid'], /^[0-9a-f-]{36}$/);
    assert.deepEqual(req['kind'], { group: '', version: 'v1', kind: 'Pod' });
    assert.deepEqual(req['resource'], { group: '', version: 'v1', resource: 'pods' });
    assert.deepEqual(req['requestKind'], { group: '', version: 'v1', kind: 'Pod' });
    assert.deepEqual(req['requestResource'], { group: '', version: 'v1', resource: 'pods' });
    assert.equal(req['name'], 'web');
    assert.equal(req['operation'], 'CREATE');
    assert.equal(req['userInfo']['username'], 'system:admin');
    assert.ok((req['userInfo']['groups'] as string[]).includes('system:masters'));
    assert.equal(req['object']['metadata']['name'], 'web');
    assert.equal(req['oldObject'], null);
    assert.equal(req['dryRun'], false);
    assert.deepEqual(req['options'], { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' });
    // Other namespaces are left alone.
    const other = await namespace();
    await kubectlOk(s, ['create', '-n', other, '-f', '-'], pod('web'));
    assert.equal((await labelsOf(other, 'web'))['mutated'], undefined);
  });

  test('IfNeeded webhooks are called again when a later webhook changed the object', async () => {
    const ns = await namespace();
    await configure('Mutating', `a-reinvoke-${ns}`, {
      name: 'observer.example.com', path: '/observe', reinvocationPolicy: 'IfNeeded', namespaceSelector: onlyNamespace(ns),
    });
    await configure('Mutating', `b-reinvoke-${ns}`, { name: 'annotate.example.com', path: '/add-annotation', namespaceSelector: onlyNamespace(ns) });
    await kubectlOk(s, ['create', '-n', ns, '-f', '-'], pod('p'));
    const seen = requestsTo('/observe', ns);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!['object']['metadata']['annotations'], undefined);
    assert.equal(seen[1]!['object']['metadata']['annotations']['second'], 'yes');
  });

  test('a validating webhook denies with its message and code; warnings reach kubectl', async () => {
    const ns = await namespace();
    await configure('Validating', `deny-${ns}`,
      { name: 'deny.example.com', path: '/deny', namespaceSelector: onlyNamespace(ns), objectSelector: '  objectSelector:\n    matchLabels:\n      check: "yes"\n' },
      { name: 'warn.example.com', path: '/warn', namespaceSelector: onlyNamespace(ns) });
    // The webhook's status has a code but no reason, so kubectl names none (as against upstream).
    const err = await kubectlFails(s, ['create', '-n', ns, '-f', '-'], pod('bad', '  labels:\n    check: "yes"\n'));
    assert.equal(err, 'Warning: this pod is looked at closely\nError from server: error when creating "STDIN": '
      + 'admission webhook "deny.example.com" denied the request: pods named bad are not welcome here');
    const raw = await s.request('POST', `/api/v1/namespaces/${ns}/pods`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad2', labels: { check: 'yes' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }),
    });
    assert.equal(raw.status, 403);
    assert.deepEqual(raw.json(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'admission webhook "deny.example.com" denied the request: pods named bad2 are not welcome here', code: 403,
    });
    // The object selector leaves unlabelled pods to the other webhook, whose warning kubectl prints.
    const r = await kubectlOk(s, ['create', '-n', ns, '-f', '-'], pod('good'));
    assert.equal(r.stderr.trim(), 'Warning: this pod is looked at closely');
  });

  test('failurePolicy decides when the webhook server is down', async () => {
    const port = await closedPort();
    const failNs = await namespace();
    const ignoreNs = await namespace();
    await configure('Validating', `down-${failNs}`,
      { name: 'down-fail.example.com', url: `https://127.0.0.1:${port}/check`, namespaceSelector: onlyNamespace(failNs) },
      { name: 'down-ignore.example.com', url: `https://127.0.0.1:${port}/check`, failurePolicy: 'Ignore', namespaceSelector: onlyNamespace(ignoreNs) });
    const err = await kubectlFails(s, ['create', '-n', failNs, '-f', '-'], pod('p'));
    assert.equal(err, 'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook '
      + `"down-fail.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/check?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`);
    await kubectlOk(s, ['create', '-n', ignoreNs, '-f', '-'], pod('p'));
  });

  test('a webhook slower than timeoutSeconds fails the request (or is ignored)', async () => {
    const ns = await namespace();
    const ignoreNs = await namespace();
    await configure('Mutating', `slow-${ns}`,
      { name: 'slow.example.com', path: '/slow', timeoutSeconds: 1, namespaceSelector: onlyNamespace(ns) },
      { name: 'slow-ignored.example.com', path: '/slow', timeoutSeconds: 1, failurePolicy: 'Ignore', namespaceSelector: onlyNamespace(ignoreNs) });
    const started = Date.now();
    const [err, ignored] = await Promise.all([kubectlFails(s, ['create', '-n', ns, '-f', '-'], pod('p')), kubectlOk(s, ['create', '-n', ignoreNs, '-f', '-'], pod('p'))]);
    assert.ok(Date.now() - started < 2500, 'the calls were not cut at one second');
    assert.equal(err, 'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook '
      + `"slow.example.com": failed to call webhook: Post "https://127.0.0.1:${hookPort}/slow?timeout=1s": context deadline exceeded`);
    assert.equal(ignored.stdout.trim(), 'pod/p created');
  });

  test('namespaceSelector uses namespace labels and matchConditions can skip a webhook', async () => {
    const on = await namespace({ webhooks: 'on' });
    const off = await namespace({ webhooks: 'off' });
    await configure('Mutating', `selected-${on}`, {
      name: 'selected.example.com', path: '/add-label',
      namespaceSelector: '  namespaceSelector:\n    matchExpressions:\n    - {key: webhooks, operator: In, values: ["on"]}\n',
      matchConditions: "  matchConditions:\n  - name: not-skipped\n    expression: \"!object.metadata.name.startsWith('skip')\"\n",
    });
    await kubectlOk(s, ['create', '-n', on, '-f', '-'], pod('a'));
    await kubectlOk(s, ['create', '-n', on, '-f', '-'], pod('skip-me'));
    await kubectlOk(s, ['create', '-n', off, '-f', '-'], pod('a'));
    assert.equal((await labelsOf(on, 'a'))['mutated'], 'yes');
    assert.equal((await labelsOf(on, 'skip-me'))['mutated'], undefined);
    assert.equal((await labelsOf(off, 'a'))['mutated'], undefined);
  });

  test('matchConditions past their own cost budget fail the request (Fail) or skip the webhook (Ignore)', async () => {
    const failNs = await namespace();
    const ignoreNs = await namespace();
    // Each condition costs about 904,000 (cel-go's contains cost on 9,500 characters), under the
    // per-expression limit; three pass the 2,500,000 a webhook's matchConditions may spend together.
    const costly = 'object.metadata.annotations.big.contains(object.metadata.annotations.big)';
    const conditions = `  matchConditions:\n${[0, 1, 2].map((i) => `  - name: costly-${i}\n    expression: "${costly}"\n`).join('')}`;
    await configure('Validating', `budget-${failNs}`, {
      name: 'budget-fail.example.com', path: '/deny', namespaceSelector: onlyNamespace(failNs), matchConditions: conditions,
    });
    await configure('Validating', `budget-${ignoreNs}`, {
      name: 'budget-ignore.example.com', path: '/deny', failurePolicy: 'Ignore', namespaceSelector: onlyNamespace(ignoreNs), matchConditions: conditions,
    });
    const big = `  annotations:\n    big: "${'x'.repeat(9500)}"\n`;
    assert.equal(await kubectlFails(s, ['create', '-n', failNs, '-f', '-'], pod('p', big)), 'Error from server (Forbidden): error when creating "STDIN": '
      + 'pods "p" is forbidden: validation failed due to running out of cost budget, no further validation rules will be run');
    assert.equal((await kubectlOk(s, ['create', '-n', ignoreNs, '-f', '-'], pod('p', big))).stdout.trim(), 'pod/p created');
    assert.deepEqual(requestsTo('/deny', failNs), []);
    assert.deepEqual(requestsTo('/deny', ignoreNs), [], 'the webhook was skipped, not called');
  });

  test('dry-run requests reach webhooks without side effects, flagged dryRun', async () => {
    const ns = await namespace();
    await configure('Mutating', `dry-${ns}`, { name: 'dry.example.com', path: '/add-label', sideEffects: 'NoneOnDryRun', namespaceSelector: onlyNamespace(ns) });
    const r = await kubectlOk(s, ['create', '-n', ns, '-f', '-', '--dry-run=server', '-o', 'json'], pod('p'));
    assert.equal((JSON.parse(r.stdout) as Obj)['metadata']['labels']['mutated'], 'yes');
    const [req] = requestsTo('/add-label', ns);
    assert.equal(req?.['dryRun'], true);
    assert.deepEqual(req?.['options'], { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] });
    assert.equal((await s.kubectl(['get', 'pod', 'p', '-n', ns])).code, 1);
  });

  test('a webhook behind a Service is reached through its endpoints', async () => {
    const ns = await namespace();
    await kubectlOk(s, ['create', 'namespace', 'webhook-svc']).catch(() => undefined);
    await kubectlOk(s, ['apply', '-n', 'webhook-svc', '-f', '-'], `apiVersion: v1
kind: Service
metadata:
  name: hooks
spec:
  ports:
  - name: https
    port: 443
    targetPort: ${hookPort}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: hooks
subsets:
- addresses:
  - ip: 127.0.0.1
  ports:
  - name: https
    port: ${hookPort}
`);
    await configure('Mutating', `svc-${ns}`, {
      name: 'svc.example.com', namespaceSelector: onlyNamespace(ns),
      service: `    service:\n      namespace: webhook-svc\n      name: hooks\n      path: /add-label\n    caBundle: ${caBundle}\n`,
    });
    await kubectlOk(s, ['create', '-n', ns, '-f', '-'], pod('p'));
    assert.equal((await labelsOf(ns, 'p'))['mutated'], 'yes');
  });

  test('webhook configurations are validated with upstream field paths', async () => {
    const err = await kubectlFails(s, ['apply', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: invalid-config
webhooks:
- name: nodots
  admissionReviewVersions: ["v1beta2"]
  clientConfig:
    url: http://127.0.0.1/x
  rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE", "*"]
    resources: ["pods"]
`);
    assert.equal(err, 'The ValidatingWebhookConfiguration "invalid-config" is invalid: \n'
      + '* webhooks[0].name: Invalid value: "nodots": should be a domain with at least three segments separated by dots\n'
      + '* webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{"CREATE", "*"}: if \'*\' is present, must not specify other operations\n'
      + '* webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun\n'
      + '* webhooks[0].clientConfig.url: Invalid value: "http": \'https\' is the only allowed URL scheme; desired format: https://host[/path]\n'
      + '* webhooks[0].admissionReviewVersions: Invalid value: []string{"v1beta2"}: must include at least one of v1, v1beta1');
  });
});
