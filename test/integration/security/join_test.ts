// Adding nodes and users as the README says (root: the joining node runs containerd): `tkube token
// create`, a second `tkube agent` process joining with the token and the CA pin, getting only a
// node's rights and keeping its credentials across a restart; bad tokens refused with upstream's
// 401; a user's certificate requested with openssl and approved or denied with kubectl.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { pickTestNetwork, waitFor } from '../../../src/testing/e2e_cluster.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tkube = join(root, 'tkube');
const UNAUTHORIZED = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';

interface Proc { child: ChildProcess; log: () => string; exited: Promise<number | null> }

let serverDir: string, agentDir: string, port: number, kubeletPort: number, subnet: string;
let server: Proc | undefined;
let agent: Proc | undefined;
const nodeName = `join-${process.pid}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
}

function start(args: string[], readyLine: string): { proc: Proc; ready: Promise<void> } {
  const child = spawn(tkube, args, { env: { ...process.env, TKUBE_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`"${readyLine}" not seen in 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(readyLine)) { clearTimeout(t); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => { clearTimeout(t); reject(new Error(`tkube ${args[0]} exited with ${code}:\n${out}`)); });
  });
  ready.catch(() => undefined);
  return { proc: { child, log: () => out, exited }, ready };
}

async function stop(p: Proc | undefined): Promise<number | null> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return p?.child.exitCode ?? null;
  p.child.kill('SIGTERM');
  return p.exited;
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    c.stdin?.end(input);
  });
}

/** kubectl as the admin, or with another kubeconfig. */
function kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}) {
  const kc = opts.kubeconfig ?? join(serverDir, 'kubeconfig.yaml');
  return run('kubectl', ['--kubeconfig', kc, '--cache-dir', join(serverDir, 'kubectl-cache'), ...args], opts.input);
}

async function okKubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A raw request with a bearer token: status and body. */
function withToken(token: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path, method: text === undefined ? 'GET' : 'POST', ca: readFileSync(join(serverDir, 'tls', 'ca.crt')),
      headers: {
        Authorization: `Bearer ${token}`, Accept: 'application/json',
        ...(text !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) } : {}),
      },
      agent: false,
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

function agentArgs(extra: string[]): string[] {
  return [
    'agent', '--server', `https://127.0.0.1:${port}`, '--data-dir', agentDir, '--node-name', nodeName, '--node-ip', '127.0.0.1',
    '--kubelet-port', String(kubeletPort), '--cluster-cidr', subnet, '--node-taints', 'tkube.test/join=true:NoSchedule',
    // This node only joins; the node-level networking components are other tests' business.
    '--disable', 'kube-proxy,dns,ingress,servicelb,network-policy', ...extra,
  ];
}

interface Csr { metadata: { name: string }; spec: { signerName: string; username: string }; status?: { certificate?: string; conditions?: Array<{ type: string; reason?: string }> } }

async function csrs(): Promise<Csr[]> {
  return (JSON.parse(await okKubectl(['get', 'csr', '-o', 'json'])) as { items: Csr[] }).items;
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'a joining node runs containerd and needs root');
  serverDir = mkdtempSync(join(tmpdir(), 'tkube-join-server-'));
  agentDir = mkdtempSync('/tmp/tkube-join-agent-');
  port = await freePort();
  kubeletPort = await freePort();
  subnet = pickTestNetwork().subnet;
  const s = start(['server', '--data-dir', serverDir, '--https-port', String(port), '--bind-address', '127.0.0.1', '--disable-agent', '--cluster-cidr', subnet], 'tkube server ready');
  server = s.proc;
  await s.ready;
});

after(async () => {
  await stop(agent);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(agentDir) || readlinkSync(`/proc/${entry}/root`).startsWith(agentDir)) process.kill(Number(entry), 'SIGKILL');
    } catch { /* gone */ }
  }
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(agentDir + '/')).reverse()) {
    try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* gone */ }
  }
  await stop(server);
  rmSync(agentDir, { recursive: true, force: true });
  rmSync(serverDir, { recursive: true, force: true });
});

describe('tkube token', () => {
  test('create writes a bootstrap token Secret with the upstream fields; list shows it; delete removes it', async () => {
    const r = await run(tkube, ['token', 'create', '--data-dir', serverDir, '--ttl', '2h', '--description', 'for a test']);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const [id, secret] = token.split('.');
    const s = JSON.parse(await okKubectl(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`, '-o', 'json'])) as { type: string; data: Record<string, string> };
    assert.equal(s.type, 'bootstrap.kubernetes.io/token');
    const data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.equal(data['token-id'], id);
    assert.equal(data['token-secret'], secret);
    assert.equal(data['description'], 'for a test');
    assert.equal(data['usage-bootstrap-authentication'], 'true');
    assert.equal(data['usage-bootstrap-signing'], 'true');
    assert.equal(data['auth-extra-groups'], 'system:bootstrappers:tkube:default-node-token');
    const exp = Date.parse(data['expiration']!) - Date.now();
    assert.ok(exp > 7_100_000 && exp <= 7_200_000, data['expiration']);
    // The token authenticates as upstream's bootstrap user.
    const who = await withToken(token, '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(who.status, 201, who.body);
    assert.deepEqual((JSON.parse(who.body) as { status: { userInfo: unknown } }).status.userInfo, {
      username: `system:bootstrap:${id}`, groups: ['system:bootstrappers', 'system:bootstrappers:tkube:default-node-token', 'system:authenticated'],
    });
    const list = await run(tkube, ['token', 'list', '--data-dir', serverDir]);
    assert.match(list.stdout, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/m);
    assert.match(list.stdout, new RegExp(`^${token}\\s+1h59m\\d+s\\s+\\S+Z\\s+authentication,signing\\s+for a test\\s+system:bootstrappers:tkube:default-node-token$`, 'm'));
    // The bootstrap signer signs cluster-info for it, so a node holding the token can check what it read.
    await waitFor('cluster-info signed', async () => (await kubectl(['get', 'cm', '-n', 'kube-public', 'cluster-info', '-o', `jsonpath={.data.jws-kubeconfig-${id}}`])).stdout.startsWith('eyJ'));
    const del = await run(tkube, ['token', 'delete', '--data-dir', serverDir, token]);
    assert.equal(del.stdout.trim(), `bootstrap token "${id}" deleted`);
    assert.equal((await withToken(token, '/api/v1/namespaces')).status, 401);
  });

  test('expired, wrong and malformed bootstrap tokens get upstream\'s 401, and the agent says so', async () => {
    const joinCommand = (await run(tkube, ['token', 'create', '--data-dir', serverDir, '--print-join-command'])).stdout;
    const token = joinCommand.match(/--token (\S+)/)![1]!;
    const hash = joinCommand.match(/--ca-cert-hash (\S+)/)![1]!;
    const [id] = token.split('.');
    await okKubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: 'bootstrap-token-old123', namespace: 'kube-system' },
        stringData: { 'token-id': 'old123', 'token-secret': '0123456789abcdef', expiration: '2020-01-01T00:00:00Z', 'usage-bootstrap-authentication': 'true' },
      }),
    });
    for (const bad of [`${id}.0000000000000000`, 'old123.0123456789abcdef', 'abc.def', `${id}.${token.split('.')[1]!.toUpperCase()}`, 'nothere.0123456789abcdef']) {
      const r = await withToken(bad, '/api/v1/namespaces/kube-system/configmaps');
      assert.equal(r.status, 401, bad);
      assert.equal(r.body.trim(), UNAUTHORIZED, bad);
    }
    // The token cleaner removes the expired token's Secret.
    await waitFor('expired token Secret deleted', async () => (await kubectl(['get', 'secret', '-n', 'kube-system', 'bootstrap-token-old123'])).stderr.includes('NotFound'));
    const refused = await run(tkube, [...agentArgs([]), '--data-dir', join(agentDir, 'refused'), '--token', `${id}.0000000000000000`, '--ca-cert-hash', hash]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /Unauthorized/);
    const pinned = await run(tkube, [...agentArgs([]), '--data-dir', join(agentDir, 'refused'), '--token', token, '--ca-cert-hash', `sha256:${'0'.repeat(64)}`]);
    assert.equal(pinned.code, 1);
    assert.match(pinned.stdout + pinned.stderr, /matches --ca-cert-hash/);
    rmSync(join(agentDir, 'refused'), { recursive: true, force: true });
  });
});

describe('joining a node', () => {
  test('an agent joins with a token as its own process, becomes Ready, and holds only a node\'s rights', async () => {
    const join1 = (await run(tkube, ['token', 'create', '--data-dir', serverDir, '--print-join-command'])).stdout.trim();
    const m = /^tkube agent --server https:\/\/127\.0\.0\.1:(\d+) --token (\S+) --ca-cert-hash (sha256:[0-9a-f]{64})$/.exec(join1);
    assert.ok(m, join1);
    const [, joinPort, token, hash] = m;
    assert.equal(Number(joinPort), port);
    const a = start([...agentArgs(['--token', token!, '--ca-cert-hash', hash!])], 'agent ready');
    agent = a.proc;
    await a.ready;
    await waitFor(`node ${nodeName} Ready`, async () => /\sReady\s/.test((await kubectl(['get', 'node', nodeName, '--no-headers'])).stdout), 60_000);

    const client = (await csrs()).filter((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.equal(client.length, 1);
    assert.equal(client[0]!.spec.username, `system:bootstrap:${token!.split('.')[0]}`);
    assert.equal(client[0]!.status?.conditions?.find((c) => c.type === 'Approved')?.reason, 'AutoApproved');

    // The kubelet serves a certificate from the cluster CA for its own name and address.
    const ca = readFileSync(join(serverDir, 'tls', 'ca.crt'), 'utf8');
    const served = await waitFor('kubelet serving certificate from the cluster CA', () => new Promise<X509Certificate | undefined>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: kubeletPort, ca }, () => {
        const cert = new X509Certificate(s.getPeerCertificate().raw);
        s.end();
        resolve(cert);
      });
      s.on('error', () => resolve(undefined));
    }), 30_000);
    assert.match(served.subject, new RegExp(`CN=system:node:${nodeName}`));
    assert.match(served.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);

    const node = { kubeconfig: join(agentDir, 'agent', 'kubelet.kubeconfig') };
    const me = JSON.parse(await okKubectl(['auth', 'whoami', '-o', 'json'], node)) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(me.status.userInfo.username, `system:node:${nodeName}`);
    assert.deepEqual(me.status.userInfo.groups, ['system:nodes', 'system:authenticated']);
    for (const [args, want] of [
      [['get', `nodes/${nodeName}`], 'yes'],
      [['patch', `nodes/${nodeName}`, '--subresource=status'], 'yes'],
      [['list', 'nodes'], 'no'],
      [['get', 'nodes/some-other-node'], 'no'],
      [['list', 'secrets', '-A'], 'no'],
      [['get', 'secrets', '-n', 'kube-system'], 'no'],
      [['create', 'deployments'], 'no'],
      [['delete', `nodes/${nodeName}`], 'no'],
      [['create', 'clusterrolebindings'], 'no'],
    ] as const) {
      const r = await kubectl(['auth', 'can-i', ...args], node);
      assert.equal(r.stdout.trim().split(' ')[0], want, `can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
    const pods = await kubectl(['get', 'pods', '-A'], node);
    assert.match(pods.stderr, new RegExp(`User "system:node:${nodeName}" cannot list resource "pods" in API group "" at the cluster scope`));
    assert.equal((await kubectl(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${nodeName}`], node)).code, 0);
    const secret = await kubectl(['get', 'secret', '-n', 'kube-system', 'bootstrap-token-' + token!.split('.')[0]], node);
    assert.match(secret.stderr, /Forbidden/);

    // A restart without the token reuses the credentials and serving certificate: no new requests.
    const before = (await csrs()).length;
    assert.equal(await stop(agent), 0, agent.log());
    const again = start(agentArgs([]), 'agent ready');
    agent = again.proc;
    await again.ready;
    assert.match(agent.log(), /using the node credentials from an earlier join/);
    assert.equal((await csrs()).length, before);
    assert.match(await okKubectl(['get', 'node', nodeName, '--no-headers']), /\sReady\s/);
  });
});

describe('adding a user', () => {
  test('a user certificate requested with openssl is approved with kubectl and works; a denied one is never signed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkube-user-'));
    try {
      const csrFor = (name: string): string => {
        execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', join(dir, `${name}.key`), '-subj', `/O=devs/CN=${name}`, '-out', join(dir, `${name}.csr`)], { stdio: 'ignore' });
        return JSON.stringify({
          apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
          spec: { request: readFileSync(join(dir, `${name}.csr`)).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 86400, usages: ['client auth'] },
        });
      };
      await okKubectl(['apply', '-f', '-'], { input: csrFor('jane') });
      assert.match(await okKubectl(['get', 'csr', 'jane']), /^jane\s+\d+s\s+kubernetes\.io\/kube-apiserver-client\s+system:admin\s+24h\s+Pending$/m);
      assert.equal((await okKubectl(['certificate', 'approve', 'jane'])).trim(), 'certificatesigningrequest.certificates.k8s.io/jane approved');
      const pem = await waitFor('jane signed', async () => (await kubectl(['get', 'csr', 'jane', '-o', 'jsonpath={.status.certificate}'])).stdout || undefined);
      writeFileSync(join(dir, 'jane.crt'), Buffer.from(pem, 'base64'));
      const kc = join(dir, 'jane.kubeconfig');
      await okKubectl(['config', 'view', '--raw', '--minify', '-o', 'json']).then((raw) => {
        const cfg = JSON.parse(raw) as { clusters: Array<{ cluster: Record<string, string> }> };
        writeFileSync(kc, JSON.stringify({
          apiVersion: 'v1', kind: 'Config', 'current-context': 'jane',
          clusters: [{ name: 'tkube', cluster: cfg.clusters[0]!.cluster }],
          users: [{ name: 'jane', user: { 'client-certificate': join(dir, 'jane.crt'), 'client-key': join(dir, 'jane.key') } }],
          contexts: [{ name: 'jane', context: { cluster: 'tkube', user: 'jane' } }],
        }));
      });
      assert.match(await okKubectl(['auth', 'whoami'], { kubeconfig: kc }), /Username\s+jane\s+Groups\s+\[devs system:authenticated\]/);
      assert.match((await kubectl(['get', 'pods'], { kubeconfig: kc })).stderr, /User "jane" cannot list resource "pods" in API group "" in the namespace "default"/);
      await okKubectl(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '--namespace=default']);
      await waitFor('jane may list pods', async () => (await kubectl(['get', 'pods'], { kubeconfig: kc })).code === 0);

      await okKubectl(['apply', '-f', '-'], { input: csrFor('mallory') });
      assert.equal((await okKubectl(['certificate', 'deny', 'mallory'])).trim(), 'certificatesigningrequest.certificates.k8s.io/mallory denied');
      const denied = JSON.parse(await okKubectl(['get', 'csr', 'mallory', '-o', 'json'])) as Csr;
      assert.equal(denied.status?.conditions?.[0]?.type, 'Denied');
      assert.equal(denied.status?.certificate, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
