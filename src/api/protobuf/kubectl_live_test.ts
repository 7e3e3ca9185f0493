// Runs the real kubectl (v1.32) against a tiny capturing HTTP server, decodes the protobuf bodies its
// typed commands POST, and compares them with what kubectl prints for `--dry-run=client -o json`
// (the same object through Go's JSON encoder). TKUBE_UPDATE_FIXTURES=1 rewrites testdata/ from it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeKubernetesProtobuf } from './decode.ts';
import { ProtobufDecodeError } from './errors.ts';

const kubectl = '/usr/bin/kubectl';
const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const updateFixtures = process.env.TKUBE_UPDATE_FIXTURES === '1';

interface Captured {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

const version = {
  major: '1', minor: '32', gitVersion: 'v1.32.4', gitCommit: 'capture', gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/amd64',
};
const apiVersions = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
const certificatesV1 = { groupVersion: 'certificates.k8s.io/v1', version: 'v1' };
const apiGroups = { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'certificates.k8s.io', versions: [certificatesV1], preferredVersion: certificatesV1 }] };
const certificatesResources = {
  kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'certificates.k8s.io/v1',
  resources: [
    { name: 'certificatesigningrequests', singularName: 'certificatesigningrequest', namespaced: false, kind: 'CertificateSigningRequest', verbs: ['create', 'get', 'list', 'update'], shortNames: ['csr'] },
    { name: 'certificatesigningrequests/approval', singularName: '', namespaced: false, kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] },
  ],
};
/** The CSR `kubectl certificate approve c1` reads and then PUTs back with an Approved condition. */
const csr = {
  kind: 'CertificateSigningRequest', apiVersion: 'certificates.k8s.io/v1',
  metadata: { name: 'c1', uid: 'uid-1', resourceVersion: '5', creationTimestamp: '2024-01-02T03:04:05Z' },
  spec: { request: 'Q1NS', signerName: 'example.com/signer', usages: ['client auth'], username: 'alice', groups: ['g1'], extra: { scopes: ['a', 'b'] } },
  status: {},
};
const coreResources = {
  kind: 'APIResourceList', groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  ],
};

/** What the reviews answer, so kubectl prints a result instead of an error. */
function reply(obj: Record<string, unknown>): Record<string, unknown> {
  switch (obj.kind) {
    case 'SelfSubjectAccessReview':
      return { ...obj, status: { allowed: true } };
    case 'SelfSubjectReview':
      return { ...obj, status: { userInfo: { username: 'capture' } } };
    case 'TokenRequest':
      return { ...obj, status: { token: 'captured-token', expirationTimestamp: '2030-01-01T00:00:00Z' } };
    default:
      return obj;
  }
}

function startServer(captured: Captured[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = Buffer.concat(chunks);
      const send = (code: number, obj: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(obj)}\n`);
      };
      if (req.method === 'GET' && path === '/version') return send(200, version);
      if (req.method === 'GET' && path === '/api') return send(200, apiVersions);
      if (req.method === 'GET' && path === '/apis') return send(200, apiGroups);
      if (req.method === 'GET' && path === '/api/v1') return send(200, coreResources);
      if (req.method === 'GET' && path === '/apis/certificates.k8s.io/v1') return send(200, certificatesResources);
      if (req.method === 'GET' && path === '/apis/certificates.k8s.io/v1/certificatesigningrequests/c1') return send(200, csr);
      if (req.method === 'POST' || req.method === 'PUT') {
        captured.push({ method: req.method, path, contentType: req.headers['content-type'] ?? '', body });
        try {
          return send(201, reply(decodeKubernetesProtobuf(body).object));
        } catch (err) {
          const message = err instanceof ProtobufDecodeError ? err.message : String(err);
          return send(400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });
        }
      }
      send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Case {
  /** Fixture base name under testdata/. */
  name: string;
  args: string[];
  /** The object kubectl should send; by default what `--dry-run=client -o json` prints. */
  expected?: Record<string, unknown>;
  /** Something kubectl prints on success, proving it accepted our JSON reply. */
  prints: RegExp;
}

const cases: Case[] = [
  { name: 'create_configmap', args: ['create', 'configmap', 'x', '--from-literal=a=b'], prints: /configmap\/x created/ },
  { name: 'create_deployment', args: ['create', 'deployment', 'web', '--image=nginx', '--replicas=2'], prints: /deployment.apps\/web created/ },
  { name: 'create_namespace', args: ['create', 'namespace', 'ns1'], prints: /namespace\/ns1 created/ },
  { name: 'create_secret_generic', args: ['create', 'secret', 'generic', 's', '--from-literal=k=v'], prints: /secret\/s created/ },
  { name: 'create_serviceaccount', args: ['create', 'serviceaccount', 'sa'], prints: /serviceaccount\/sa created/ },
  { name: 'create_job', args: ['create', 'job', 'j', '--image=busybox'], prints: /job.batch\/j created/ },
  { name: 'create_service', args: ['create', 'service', 'clusterip', 'my', '--tcp=80:8080'], prints: /service\/my created/ },
  { name: 'create_pdb', args: ['create', 'poddisruptionbudget', 'p', '--selector=app=x', '--min-available=50%'], prints: /poddisruptionbudget.policy\/p created/ },
  { name: 'create_quota', args: ['create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=10'], prints: /resourcequota\/q created/ },
  { name: 'create_cronjob', args: ['create', 'cronjob', 'c', '--image=busybox', '--schedule=*/5 * * * *', '--', 'echo', 'hi'], prints: /cronjob.batch\/c created/ },
  { name: 'create_priorityclass', args: ['create', 'priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never'], prints: /priorityclass.scheduling.k8s.io\/high created/ },
  { name: 'create_ingress', args: ['create', 'ingress', 'simple', '--rule=foo.com/bar*=svc1:8080,tls=my-cert'], prints: /ingress.networking.k8s.io\/simple created/ },
  { name: 'create_clusterrole', args: ['create', 'clusterrole', 'reader', '--verb=get,list', '--resource=pods'], prints: /clusterrole.rbac.authorization.k8s.io\/reader created/ },
  { name: 'create_rolebinding', args: ['create', 'rolebinding', 'rb', '--clusterrole=reader', '--user=alice', '--serviceaccount=default:sa'], prints: /rolebinding.rbac.authorization.k8s.io\/rb created/ },
  {
    name: 'auth_can_i',
    args: ['auth', 'can-i', 'get', 'pods'],
    expected: {
      kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
      status: { allowed: false },
    },
    prints: /^yes$/m,
  },
  {
    name: 'auth_whoami',
    args: ['auth', 'whoami'],
    expected: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: {} } },
    prints: /capture/,
  },
  {
    name: 'create_token',
    args: ['create', 'token', 'sa', '--duration=1h', '--audience=api'],
    expected: {
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { audiences: ['api'], expirationSeconds: 3600, boundObjectRef: null },
      status: { token: '', expirationTimestamp: null },
    },
    prints: /captured-token/,
  },
];

describe('kubectl protobuf bodies (live kubectl)', () => {
  const captured: Captured[] = [];
  let server: Server;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    server = await startServer(captured);
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    dir = mkdtempSync(join(tmpdir(), 'tkube-pb-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${address.port}"}}]`,
      'users: [{name: u, user: {}}]',
      'contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]',
      'current-context: c', '',
    ].join('\n'));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const full = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
    return new Promise((resolve) => {
      execFile(kubectl, full, { env, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  for (const c of cases) {
    test(`kubectl ${c.args.join(' ')} sends a protobuf body that decodes to its JSON object`, async () => {
      let expected = c.expected;
      if (expected === undefined) {
        // `--` separates the command from its arguments (cronjob), so dry-run flags go before it.
        const sep = c.args.indexOf('--');
        const flags = ['--dry-run=client', '-o', 'json'];
        const dry = await run(sep < 0 ? [...c.args, ...flags] : [...c.args.slice(0, sep), ...flags, ...c.args.slice(sep)]);
        assert.equal(dry.code, 0, dry.stderr);
        expected = JSON.parse(dry.stdout) as Record<string, unknown>;
      }
      captured.length = 0;
      const result = await run(c.args);
      assert.equal(result.code, 0, `kubectl failed: ${result.stderr}`);
      assert.match(result.stdout, c.prints);
      const posts = captured.filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1, `expected one POST, got ${captured.map((r) => `${r.method} ${r.path}`).join(', ')}`);
      assert.equal(posts[0].contentType, 'application/vnd.kubernetes.protobuf');
      const decoded = decodeKubernetesProtobuf(posts[0].body);
      assert.deepEqual(decoded.object, expected);
      // Same keys in the same order as Go's encoder printed them.
      assert.equal(JSON.stringify(decoded.object), JSON.stringify(expected));
      if (updateFixtures) writeFixture(c.name, posts[0].body, expected);
    });
  }

  test('kubectl certificate approve PUTs the CSR back as protobuf with an Approved condition', async () => {
    captured.length = 0;
    const started = Math.floor(Date.now() / 1000) - 1;
    const result = await run(['certificate', 'approve', 'c1']);
    assert.equal(result.code, 0, `kubectl failed: ${result.stderr}`);
    assert.match(result.stdout, /certificatesigningrequest.certificates.k8s.io\/c1 approved/);
    const puts = captured.filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 1);
    assert.equal(puts[0].path, '/apis/certificates.k8s.io/v1/certificatesigningrequests/c1/approval');
    assert.equal(puts[0].contentType, 'application/vnd.kubernetes.protobuf');
    const { object } = decodeKubernetesProtobuf(puts[0].body);
    const condition = ((object.status as Record<string, unknown>).conditions as Array<Record<string, unknown>>)[0];
    const updated = condition.lastUpdateTime;
    assert.ok(typeof updated === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(updated), String(updated));
    assert.ok(Date.parse(updated) / 1000 >= started && Date.parse(updated) <= Date.now());
    const expected = {
      ...csr,
      status: {
        conditions: [{
          type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.',
          lastUpdateTime: updated, lastTransitionTime: null,
        }],
      },
    };
    assert.equal(JSON.stringify(object), JSON.stringify(expected));
    if (updateFixtures) writeFixture('certificate_approve', puts[0].body, expected);
  });
});

function writeFixture(name: string, body: Buffer, expected: unknown): void {
  writeFileSync(join(testdata, `${name}.pb`), body);
  writeFileSync(join(testdata, `${name}.json`), `${JSON.stringify(expected)}\n`);
}
