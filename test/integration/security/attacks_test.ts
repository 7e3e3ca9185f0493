// Bad input and attacks (issue 10): expired, forged, wrong-audience and revoked credentials, a
// foreign CA, RBAC escalation, a kubelet reaching past its node, path tricks, oversized and
// malformed requests. Each is refused with upstream's status, reason and message, the server
// stays up, and each refusal is in the audit log (Metadata level) with its response code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auditor } from '../../../src/apiserver/audit/auditor.ts';
import { AuditLogBackend } from '../../../src/apiserver/audit/log_backend.ts';
import { parseAuditPolicy } from '../../../src/apiserver/audit/policy.ts';
import { loadServiceAccountKey, generateServiceAccountKeyPem } from '../../../src/apiserver/authn/service_account_key.ts';
import { TokenSigner, boundTokenClaims, DEFAULT_ISSUER } from '../../../src/apiserver/authn/service_account.ts';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../../src/base/pki.ts';
import { eventually, ok, startSecurityServer, type Identity, type SecurityServer } from './security_harness.ts';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
`;

let s: SecurityServer;
let logDir: string;
let logPath: string;
let backend: AuditLogBackend;
let n1: { cert: IssuedCertificate };
const kim: Identity = { token: 'kim-token' };
const bob: Identity = { token: 'bob-token' };
let seq = 0;

interface AuditLine {
  auditID: string;
  stage: string;
  verb: string;
  user: { username?: string };
  objectRef?: { resource?: string; name?: string; namespace?: string };
  responseStatus?: { code?: number; message?: string; reason?: string };
}

before(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'tkube-attacks-'));
  logPath = join(logDir, 'audit.log');
  backend = new AuditLogBackend({ path: logPath });
  s = await startSecurityServer({
    tokenFile: 'kim-token,kim,1001\nbob-token,bob,1002\n',
    auditor: new Auditor({ policy: parseAuditPolicy(POLICY), backend }),
  });
  n1 = { cert: await s.certificate('system:node:n1', ['system:nodes']) };
  await ok(s, ['create', 'namespace', 'team']);
  await ok(s, ['create', 'rolebinding', 'kim-admin', '--clusterrole=admin', '--user=kim', '-n', 'team']);
  await ok(s, ['create', 'serviceaccount', 'reader', '-n', 'team']);
  await ok(s, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'team']);
  await ok(s, ['create', 'rolebinding', 'reader-binding', '--role=pod-reader', '--serviceaccount=team:reader', '-n', 'team']);
});

after(async () => {
  await s?.stop();
  await backend?.dispose();
  if (logDir) await rm(logDir, { recursive: true, force: true });
});

/** The audit line of one request (by the Audit-ID it sent), once the log has it. */
async function auditLine(id: string): Promise<AuditLine> {
  return eventually(`audit event ${id}`, async () => {
    const lines = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
    return lines.filter((l) => l.auditID === id && (l.stage === 'ResponseComplete' || l.stage === 'ResponseStarted')).at(-1);
  });
}

interface Expected {
  readonly code: number;
  readonly reason?: string;
  /** The whole message (string) or a pattern. */
  readonly message?: string | RegExp;
}

/**
 * Sends a request with its own Audit-ID, checks the refusal against upstream's Status, that the
 * audit log recorded it with the same code, and that the server still answers.
 */
async function refused(method: string, path: string, want: Expected, opts: { as?: Identity; body?: string; headers?: Record<string, string> } = {}): Promise<{ body: string; audit: AuditLine }> {
  const id = `attack-${++seq}`;
  const r = await s.request(method, path, { ...opts, headers: { ...opts.headers, 'Audit-ID': id } });
  assert.equal(r.status, want.code, `${method} ${path}: ${r.body}`);
  if (want.reason !== undefined || want.message !== undefined) {
    const st = r.json<{ kind: string; status: string; reason: string; message: string; code: number }>();
    assert.equal(st.kind, 'Status');
    assert.equal(st.status, 'Failure');
    assert.equal(st.code, want.code);
    if (want.reason !== undefined) assert.equal(st.reason, want.reason);
    if (typeof want.message === 'string') assert.equal(st.message, want.message);
    else if (want.message) assert.match(st.message, want.message);
  }
  const audit = await auditLine(id);
  assert.equal(audit.responseStatus?.code, want.code, `audit of ${method} ${path}`);
  assert.equal((await s.request('GET', '/readyz')).status, 200, 'the server is still up');
  return { body: r.body, audit };
}

const UNAUTHORIZED: Expected = { code: 401, reason: 'Unauthorized', message: 'Unauthorized' };

describe('refused credentials', () => {
  async function readerClaims(now: Date, extra: Partial<Parameters<typeof boundTokenClaims>[0]> = {}) {
    const sa = JSON.parse(await ok(s, ['get', 'sa', 'reader', '-n', 'team', '-o', 'json'])) as Record<string, unknown>;
    return boundTokenClaims({ serviceAccount: sa, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now, ...extra });
  }

  test('an expired service-account token is a 401, audited as a failed bearer credential', async () => {
    const key = await loadServiceAccountKey(await readFile(s.serviceAccountKeyFile, 'utf8'));
    const expired = await new TokenSigner(key).sign(await readerClaims(new Date(Date.now() - 3600_000)), DEFAULT_ISSUER);
    const { audit } = await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token: expired } });
    assert.equal(audit.responseStatus?.message, 'Authentication failed, attempted: bearer');
    assert.equal(audit.stage, 'ResponseStarted');
    assert.deepEqual(audit.user, {});
  });

  test('a token signed with another key, or with a rewritten payload, is a 401', async () => {
    const claims = await readerClaims(new Date());
    const forged = await new TokenSigner(await loadServiceAccountKey(generateServiceAccountKeyPem())).sign(claims, DEFAULT_ISSUER);
    await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token: forged } });
    const key = await loadServiceAccountKey(await readFile(s.serviceAccountKeyFile, 'utf8'));
    const genuine = await new TokenSigner(key).sign(claims, DEFAULT_ISSUER);
    const [h, , sig] = genuine.split('.');
    const admin = Buffer.from(JSON.stringify({ ...claims, iss: DEFAULT_ISSUER, sub: 'system:serviceaccount:kube-system:clusterrole-aggregation-controller' })).toString('base64url');
    await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token: `${h}.${admin}.${sig}` } });
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iss: DEFAULT_ISSUER })).toString('base64url')}.`;
    await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token: none } });
    // the genuine token works, so the refusals above are about the forgery
    assert.equal((await s.request('GET', '/api/v1/namespaces/team/pods', { as: { token: genuine } })).status, 200);
  });

  test('a token for another audience is a 401', async () => {
    const vault = (await ok(s, ['create', 'token', 'reader', '-n', 'team', '--audience=vault'])).trim();
    await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token: vault } });
  });

  test('tokens bound to a deleted Secret or a deleted pod are revoked', async () => {
    await ok(s, ['create', 'secret', 'generic', 'anchor', '--from-literal=k=v', '-n', 'team']);
    const secretUid = (await ok(s, ['get', 'secret', 'anchor', '-n', 'team', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const bySecret = (await ok(s, ['create', 'token', 'reader', '-n', 'team', '--bound-object-kind=Secret', '--bound-object-name=anchor', `--bound-object-uid=${secretUid}`])).trim();
    await ok(s, ['run', 'holder', '--image=busybox', '-n', 'team', '--overrides={"spec":{"serviceAccountName":"reader"}}']);
    const podUid = (await ok(s, ['get', 'pod', 'holder', '-n', 'team', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const byPod = (await ok(s, ['create', 'token', 'reader', '-n', 'team', '--bound-object-kind=Pod', '--bound-object-name=holder', `--bound-object-uid=${podUid}`])).trim();
    for (const token of [bySecret, byPod]) assert.equal((await s.request('GET', '/api/v1/namespaces/team/pods', { as: { token } })).status, 200);
    await ok(s, ['delete', 'secret', 'anchor', '-n', 'team']);
    await ok(s, ['delete', 'pod', 'holder', '-n', 'team', '--grace-period=0', '--force']);
    for (const token of [bySecret, byPod]) {
      await eventually('the token to be revoked', async () => ((await s.request('GET', '/api', { as: { token } })).status === 401 ? true : undefined));
      await refused('GET', '/api/v1/namespaces/team/pods', UNAUTHORIZED, { as: { token } });
    }
  });

  test('an expired bootstrap token and one with the wrong secret are 401', async () => {
    const secret = (id: string, extra: Record<string, string> = {}) => JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      stringData: { 'token-id': id, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', ...extra },
    });
    await ok(s, ['apply', '-f', '-'], { input: secret('old123', { expiration: '2020-01-01T00:00:00Z' }) });
    await ok(s, ['apply', '-f', '-'], { input: secret('live12') });
    await eventually('the live token to work', async () => ((await s.request('GET', '/api', { as: { token: 'live12.0123456789abcdef' } })).status === 200 ? true : undefined));
    await refused('GET', '/api/v1/namespaces', UNAUTHORIZED, { as: { token: 'old123.0123456789abcdef' } });
    await refused('GET', '/api/v1/namespaces', UNAUTHORIZED, { as: { token: 'live12.fedcba9876543210' } });
  });

  test('a client certificate from another CA is a 401, even for system:masters', async () => {
    const otherCa = await createCertificateAuthority({ commonName: 'evil-ca', days: 1 });
    const foreign = await issueCertificate({ ca: otherCa, commonName: 'admin', organizations: ['system:masters'], usages: 'client', days: 1 });
    const { audit } = await refused('GET', '/api/v1/secrets', UNAUTHORIZED, { as: { cert: foreign } });
    assert.equal(audit.responseStatus?.message, 'Authentication failed, attempted: x509');
    const k = await s.kubectl(['get', 'secrets', '-A'], { as: { cert: foreign } });
    assert.match(k.stderr, /You must be logged in to the server \(Unauthorized\)/);
  });
});

const rbac = 'rbac.authorization.k8s.io';

function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: 'Role' | 'ClusterRole', role: string, user: string): string {
  return JSON.stringify({
    apiVersion: `${rbac}/v1`, kind, metadata: { name, ...(kind === 'RoleBinding' ? { namespace: 'team' } : {}) },
    roleRef: { apiGroup: rbac, kind: roleKind, name: role }, subjects: [{ kind: 'User', apiGroup: rbac, name: user }],
  });
}

function role(name: string, rules: unknown[]): string {
  return JSON.stringify({ apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name, namespace: 'team' }, rules });
}

describe('RBAC escalation and bind checks', () => {
  const notHeld = (what: string, name: string, user: string) => `${what} "${name}" is forbidden: user "${user}" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n`;

  test('a namespace admin cannot bind cluster-admin to itself', async () => {
    const { audit } = await refused('POST', `/apis/${rbac}/v1/namespaces/team/rolebindings`, {
      code: 403, reason: 'Forbidden',
      message: `${notHeld(`rolebindings.${rbac}`, 'kim-root', 'kim')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`,
    }, { as: kim, body: binding('RoleBinding', 'kim-root', 'ClusterRole', 'cluster-admin', 'kim') });
    assert.equal(audit.user.username, 'kim');
    assert.equal(audit.objectRef?.resource, 'rolebindings');
    const k = await s.kubectl(['create', 'rolebinding', 'kim-root2', '--clusterrole=cluster-admin', '--user=kim', '-n', 'team'], { as: kim });
    assert.match(k.stderr, /is attempting to grant RBAC permissions not currently held/);
    assert.equal((await s.kubectl(['get', 'rolebinding', 'kim-root', '-n', 'team'])).code, 1, 'nothing was created');
  });

  test('a namespace admin cannot create or widen a Role with rules it does not hold', async () => {
    await refused('POST', `/apis/${rbac}/v1/namespaces/team/roles`, {
      code: 403, reason: 'Forbidden', message: `${notHeld(`roles.${rbac}`, 'nodes-reader', 'kim')}{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`,
    }, { as: kim, body: role('nodes-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]) });
    await ok(s, ['create', 'role', 'narrow', '--verb=get', '--resource=pods', '-n', 'team'], { as: kim });
    await refused('PUT', `/apis/${rbac}/v1/namespaces/team/roles/narrow`, {
      code: 403, reason: 'Forbidden', message: `${notHeld(`roles.${rbac}`, 'narrow', 'kim')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`,
    }, { as: kim, body: role('narrow', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]) });
  });

  test('a user allowed to create ClusterRoleBindings still cannot grant what it lacks', async () => {
    await ok(s, ['create', 'clusterrole', 'crb-writer', `--verb=create,get`, '--resource=clusterrolebindings']);
    await ok(s, ['create', 'clusterrolebinding', 'bob-crb-writer', '--clusterrole=crb-writer', '--user=bob']);
    await refused('POST', `/apis/${rbac}/v1/clusterrolebindings`, {
      code: 403, reason: 'Forbidden',
      message: `${notHeld(`clusterrolebindings.${rbac}`, 'bob-root', 'bob')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`,
    }, { as: bob, body: binding('ClusterRoleBinding', 'bob-root', 'ClusterRole', 'cluster-admin', 'bob') });
    // kim has no right to create ClusterRoleBindings at all: RBAC refuses before any escalation check
    await refused('POST', `/apis/${rbac}/v1/clusterrolebindings`, {
      code: 403, reason: 'Forbidden',
      message: `clusterrolebindings.${rbac} is forbidden: User "kim" cannot create resource "clusterrolebindings" in API group "${rbac}" at the cluster scope`,
    }, { as: kim, body: binding('ClusterRoleBinding', 'kim-root', 'ClusterRole', 'cluster-admin', 'kim') });
  });

  test('the bind and escalate verbs are what lift the checks', async () => {
    await ok(s, ['create', 'clusterrole', 'bind-view', '--verb=bind', '--resource=clusterroles', '--resource-name=view']);
    await ok(s, ['create', 'clusterrolebinding', 'bob-bind-view', '--clusterrole=bind-view', '--user=bob']);
    await ok(s, ['create', 'clusterrole', 'crb-all', '--verb=create', '--resource=clusterrolebindings']);
    await ok(s, ['create', 'clusterrolebinding', 'bob-crb-all', '--clusterrole=crb-all', '--user=bob']);
    const allowed = await s.request('POST', `/apis/${rbac}/v1/clusterrolebindings`, { as: bob, body: binding('ClusterRoleBinding', 'bob-view', 'ClusterRole', 'view', 'bob') });
    assert.equal(allowed.status, 201, allowed.body);
    await refused('POST', `/apis/${rbac}/v1/clusterrolebindings`, { code: 403, reason: 'Forbidden', message: /is attempting to grant RBAC permissions not currently held/ },
      { as: bob, body: binding('ClusterRoleBinding', 'bob-edit', 'ClusterRole', 'edit', 'bob') });
    await ok(s, ['create', 'role', 'escalator', '--verb=escalate,create', '--resource=roles', '-n', 'team']);
    await ok(s, ['create', 'rolebinding', 'bob-escalator', '--role=escalator', '--user=bob', '-n', 'team']);
    const wide = await s.request('POST', `/apis/${rbac}/v1/namespaces/team/roles`, { as: bob, body: role('wide', [{ apiGroups: [''], resources: ['secrets'], verbs: ['*'] }]) });
    assert.equal(wide.status, 201, wide.body);
  });
});

describe('a kubelet identity beyond its node', () => {
  before(async () => {
    await ok(s, ['create', 'namespace', 'apps']);
    await ok(s, ['create', 'serviceaccount', 'app', '-n', 'apps']);
    for (const n of ['n1', 'n2']) await ok(s, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: n } }) });
    await ok(s, ['create', 'secret', 'generic', 'other-secret', '--from-literal=k=v', '-n', 'apps']);
    await ok(s, ['create', 'configmap', 'other-config', '--from-literal=k=v', '-n', 'apps']);
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'elsewhere', namespace: 'apps' },
        spec: {
          nodeName: 'n2', serviceAccountName: 'app', containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: 'other-config' } }] }],
          volumes: [{ name: 's', secret: { secretName: 'other-secret' } }],
        },
      }),
    });
  });

  test("reading the Secret or ConfigMap of another node's pod is forbidden", async () => {
    const why = (res: string, name: string) => `${res} "${name}" is forbidden: User "system:node:n1" cannot get resource "${res}" in API group "" in the namespace "apps": no relationship found between node 'n1' and this object`;
    await refused('GET', '/api/v1/namespaces/apps/secrets/other-secret', { code: 403, reason: 'Forbidden', message: why('secrets', 'other-secret') }, { as: n1 });
    await refused('GET', '/api/v1/namespaces/apps/configmaps/other-config', { code: 403, reason: 'Forbidden', message: why('configmaps', 'other-config') }, { as: n1 });
    await refused('GET', '/api/v1/namespaces/apps/secrets', { code: 403, reason: 'Forbidden', message: /^secrets is forbidden: User "system:node:n1" cannot list resource "secrets"/ }, { as: n1 });
  });

  test('updating another Node or the status of its pods is forbidden', async () => {
    const node = JSON.parse(await ok(s, ['get', 'node', 'n2', '-o', 'json'])) as { metadata: Record<string, unknown> };
    node.metadata['labels'] = { stolen: 'yes' };
    await refused('PUT', '/api/v1/nodes/n2', { code: 403, reason: 'Forbidden', message: 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"' }, { as: n1, body: JSON.stringify(node) });
    await refused('PATCH', '/api/v1/nodes/n2/status', { code: 403, reason: 'Forbidden', message: 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"' },
      { as: n1, body: JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }), headers: { 'Content-Type': 'application/strategic-merge-patch+json' } });
    await refused('PATCH', '/api/v1/namespaces/apps/pods/elsewhere/status', {
      code: 403, reason: 'Forbidden', message: 'pods "elsewhere" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself',
    }, { as: n1, body: JSON.stringify({ status: { phase: 'Failed' } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal((await ok(s, ['get', 'node', 'n2', '-o', 'jsonpath={.metadata.labels.stolen}'])).trim(), '');
  });
});

describe('path tricks', () => {
  before(async () => {
    await ok(s, ['create', 'configmap', 'plain', '--from-literal=k=v', '-n', 'team']);
    await ok(s, ['create', 'secret', 'generic', 'hidden', '--from-literal=k=v', '-n', 'team']);
    await ok(s, ['create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps', '-n', 'team']);
    await ok(s, ['create', 'rolebinding', 'bob-cm-reader', '--role=cm-reader', '--user=bob', '-n', 'team']);
  });

  test('dot segments are not resolved: pods/../secrets is not a list of Secrets', async () => {
    const notFound: Expected = { code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' };
    await refused('GET', '/api/v1/namespaces/team/pods/../secrets', notFound);
    await refused('GET', '/api/v1/namespaces/team/pods/%2e%2e/secrets', notFound);
    await refused('GET', '/api/v1/namespaces/team/configmaps/a%2Fb', notFound);
  });

  test("'..', '.' and '%' are not names: DELETE configmaps/.. does not delete the namespace", async () => {
    const invalid = (name: string, why: string): Expected => ({ code: 400, reason: 'BadRequest', message: `Name parameter invalid: "${name}": ${why}` });
    await refused('DELETE', '/api/v1/namespaces/team/configmaps/..', invalid('..', "may not be '..'"));
    await refused('DELETE', '/api/v1/namespaces/team/configmaps/%2E%2E', invalid('..', "may not be '..'"));
    await refused('GET', '/api/v1/namespaces/team/configmaps/.', invalid('.', "may not be '.'"));
    await refused('GET', '/api/v1/namespaces/team/configmaps/a%25b', invalid('a%b', "may not contain '%'"));
    assert.equal((await s.request('GET', '/api/v1/namespaces/team')).status, 200, 'the namespace is still there');
  });

  test('climbing out of a permitted resource is judged on the path as sent', async () => {
    assert.equal((await s.request('GET', '/api/v1/namespaces/team/configmaps/plain', { as: bob })).status, 200);
    await refused('GET', '/api/v1/namespaces/team/configmaps/../../../secrets/hidden', {
      code: 403, reason: 'Forbidden', message: 'configmaps ".." is forbidden: User "bob" cannot get resource "configmaps/.." in API group "" in the namespace "team"',
    }, { as: bob });
    await refused('GET', '/api/v1/namespaces/team/secrets/hidden', {
      code: 403, reason: 'Forbidden', message: 'secrets "hidden" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "team"',
    }, { as: bob });
    // HTML in a path comes back escaped, as upstream's sanitizer does
    await refused('GET', '/%3Cscript%3Ealert(1)%3C/script%3E', {
      code: 403, reason: 'Forbidden', message: 'forbidden: User "bob" cannot get path "/&lt;script&gt;alert(1)&lt;/script&gt;"',
    }, { as: bob });
  });

  test('names with invalid characters and very long names are refused as upstream validates them', async () => {
    const cm = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    await refused('POST', '/api/v1/namespaces/team/configmaps', {
      code: 422, reason: 'Invalid',
      message: `ConfigMap "Bad_Name!" is invalid: metadata.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    }, { body: cm('Bad_Name!') });
    const long = 'a'.repeat(254);
    await refused('POST', '/api/v1/namespaces/team/configmaps', { code: 422, reason: 'Invalid', message: `ConfigMap "${long}" is invalid: metadata.name: Invalid value: "${long}": must be no more than 253 characters` }, { body: cm(long) });
    await refused('GET', `/api/v1/namespaces/team/configmaps/${'b'.repeat(4000)}`, { code: 404, reason: 'NotFound', message: `configmaps "${'b'.repeat(4000)}" not found` });
  });

  test('a malformed escape is refused before any handler, as Go does', async () => {
    const r = await s.request('GET', '/api/v1/namespaces/team/configmaps/%zz');
    assert.equal(r.status, 400);
    assert.equal(r.body, '400 Bad Request');
    assert.equal((await s.request('GET', '/readyz')).status, 200);
  });
});

describe('oversized and malformed requests', () => {
  test('a body over 3 MiB is a 413 and nothing is stored', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024) } });
    await refused('POST', '/api/v1/namespaces/team/configmaps', { code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' }, { body: big });
    await refused('PUT', '/api/v1/namespaces/team/configmaps/plain', { code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' }, { body: big.replace('"huge"', '"plain"') });
    assert.equal((await s.request('GET', '/api/v1/namespaces/team/configmaps/huge')).status, 404);
  });

  test('headers past upstream\'s 1 MiB are a 431; below it they are served', async () => {
    const raw = (size: number) => new Promise<number | 'reset'>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: Number(new URL(s.url).port), path: '/version', method: 'GET', ca: s.ca.certPem, agent: false,
        headers: { 'X-Padding': 'p'.repeat(size) },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      // The server answers 431 and closes while a 2 MiB header may still be on its way, so a
      // loaded machine can show the client the reset before the answer: both are a refusal.
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve('reset') : reject(err)));
      req.end();
    });
    assert.equal(await raw(64 * 1024), 200);
    assert.ok([431, 'reset'].includes(await raw(2 * 1024 * 1024)));
    assert.equal((await s.request('GET', '/readyz')).status, 200);
  });

  test('malformed JSON and YAML get upstream\'s decode errors', async () => {
    const path = '/api/v1/namespaces/team/configmaps';
    const unrecognized = (why: string): Expected => ({ code: 400, reason: 'BadRequest', message: `the object provided is unrecognized (must be of type ConfigMap): ${why}` });
    await refused('POST', path, unrecognized("couldn't get version/kind; json parse error: invalid character 'n' looking for beginning of object key string ({not json)"), { body: '{not json' });
    await refused('POST', path, unrecognized(`couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Con ...)`), { body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{' });
    await refused('POST', path, unrecognized(`couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (5b5d)`), { body: '[]' });
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(20000)}${']'.repeat(20000)}}`;
    await refused('POST', path, { code: 400, reason: 'BadRequest', message: /json parse error: invalid character '\[' exceeded max depth/ }, { body: deep });
    const yaml = 'kind: ConfigMap\nmetadata: {name: [x\n';
    const hex = Buffer.from(yaml).subarray(0, 30).toString('hex');
    const { body } = await refused('POST', path, { code: 400, reason: 'BadRequest' }, { body: yaml, headers: { 'Content-Type': 'application/yaml' } });
    const message = JSON.parse(body).message as string;
    assert.ok(message.startsWith('the object provided is unrecognized (must be of type ConfigMap): error converting YAML to JSON: yaml: line 3: '), message);
    assert.ok(message.endsWith(` (${hex} ...)`), message);
    await refused('POST', path, { code: 400, reason: 'BadRequest', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data.a of type string' },
      { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed' }, data: { a: 1 } }) });
  });

  test('malformed patches get upstream\'s decode errors and change nothing', async () => {
    const path = '/api/v1/namespaces/team/configmaps/plain';
    const patch = (type: string) => ({ 'Content-Type': `application/${type}+json` });
    await refused('PATCH', path, { code: 400, reason: 'BadRequest', message: "error decoding patch: invalid character 'b' looking for beginning of object key string" }, { body: '{bad', headers: patch('merge-patch') });
    await refused('PATCH', path, { code: 400, reason: 'BadRequest', message: "invalid character 'b' looking for beginning of object key string" }, { body: '{bad', headers: patch('strategic-merge-patch') });
    await refused('PATCH', path, { code: 400, reason: 'BadRequest', message: 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp' }, { body: '{"op":"add"}', headers: patch('json-patch') });
    assert.equal((await ok(s, ['get', 'configmap', 'plain', '-n', 'team', '-o', 'jsonpath={.data.k}'])).trim(), 'v');
  });

  test('impersonation headers without a user are upstream\'s plain-text 500', async () => {
    const { body, audit } = await refused('GET', '/api/v1/namespaces', { code: 500 }, { headers: { 'Impersonate-Group': 'system:masters' } });
    assert.equal(body, 'Internal Server Error: "/api/v1/namespaces": requested [{Group  system:masters    }] without impersonating a user\n');
    assert.equal(audit.user.username, 'system:admin');
  });
});
