// Tests of kubeconfig writing and reading, ending with the real kubectl talking TLS to a tiny
// server with the kubeconfig and certificates the PKI produced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readKubeconfig, writeKubeconfig } from './kubeconfig.ts';
import { createCertificateAuthority, ensureClusterPki, parseCertificateIdentity, type ClusterPki } from './pki.ts';
import { versionInfo } from './version.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-kubeconfig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n';

test('writeKubeconfig writes the layout kubectl writes, 0600, creating parent directories', async (t) => {
  const path = join(tempDir(t), 'a', 'b', 'kubeconfig.yaml');
  await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: CA, clientCertPem: CERT, clientKeyPem: KEY });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  assert.deepEqual(parse(readFileSync(path, 'utf8')), {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(CA), server: 'https://127.0.0.1:6443' }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    kind: 'Config',
    preferences: {},
    users: [{ name: 'default', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }],
  });
  assert.deepEqual(await readKubeconfig(path), {
    server: 'https://127.0.0.1:6443',
    caPem: CA,
    clientCertPem: CERT,
    clientKeyPem: KEY,
    clusterName: 'default',
    userName: 'default',
    contextName: 'default',
  });
});

test('writeKubeconfig replaces an existing file atomically and honours names, token, namespace and mode', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'config');
  await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: CA, clientCertPem: CERT, clientKeyPem: KEY });
  await writeKubeconfig(path, {
    server: 'https://10.0.0.5:6443',
    caPem: CA,
    token: 'abc.def',
    namespace: 'team-a',
    clusterName: 'tkube',
    userName: 'bot',
    contextName: 'bot@tkube',
    mode: 0o644,
  });
  assert.deepEqual(readdirSync(dir), ['config'], 'no temporary files left behind');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(await readKubeconfig(path), {
    server: 'https://10.0.0.5:6443',
    caPem: CA,
    token: 'abc.def',
    namespace: 'team-a',
    clusterName: 'tkube',
    userName: 'bot',
    contextName: 'bot@tkube',
  });
  await assert.rejects(readKubeconfig(path, 'missing'), /no context named "missing"/);
});

test('writeKubeconfig rejects bad options naming the field', async (t) => {
  const path = join(tempDir(t), 'config');
  await assert.rejects(writeKubeconfig(path, { server: 'http://127.0.0.1:6443', caPem: CA }), /server must be an https URL/);
  await assert.rejects(writeKubeconfig(path, { server: 'not a url', caPem: CA }), /server must be a URL/);
  await assert.rejects(writeKubeconfig(path, { server: 'https://h:1', caPem: 'x' }), /caPem must be a PEM certificate/);
  await assert.rejects(writeKubeconfig(path, { server: 'https://h:1', caPem: CA, clientCertPem: CERT }), /must be given together/);
  await assert.rejects(writeKubeconfig(path, { server: 'https://h:1', caPem: CA, userName: '' }), /userName must be a non-empty string/);
});

interface VersionServer {
  port: number;
  requests: { path: string; authorized: boolean; user?: string; groups?: string[] }[];
}

async function startVersionServer(pki: ClusterPki, t: { after: (fn: () => Promise<void>) => void }): Promise<VersionServer> {
  const requests: VersionServer['requests'] = [];
  const server = createServer(
    { cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const raw = socket.getPeerCertificate().raw;
      const entry: VersionServer['requests'][number] = { path: req.url ?? '', authorized: socket.authorized };
      if (raw !== undefined) {
        const id = parseCertificateIdentity(raw);
        entry.user = id.commonName;
        entry.groups = id.organizations;
      }
      requests.push(entry);
      if (req.url?.startsWith('/version')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(versionInfo()) + '\n');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}\n');
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, requests };
}

function kubectl(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const cache = join(home, 'cache');
  return new Promise((resolve) => {
    // Asynchronous on purpose: the server answering kubectl runs in this process.
    execFile(
      '/usr/bin/kubectl',
      [...args, '--cache-dir', cache],
      { env: { ...process.env, HOME: home, KUBECACHEDIR: cache, KUBECONFIG: '' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('kubectl version succeeds over TLS with the written kubeconfig and presents the admin certificate', async (t) => {
  const dir = tempDir(t);
  const pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'node-a' });
  const { port, requests } = await startVersionServer(pki, t);
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${port}`,
    caPem: pki.ca.certPem,
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });

  const run = await kubectl(['version', '-o', 'json', '--kubeconfig', kubeconfig], dir);
  assert.equal(run.code, 0, `kubectl failed: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as { serverVersion?: Record<string, string> };
  assert.deepEqual(out.serverVersion, versionInfo());
  // The dispatcher's probe and kubectl's own request, both authenticated as the admin.
  assert.ok(requests.length >= 2, `requests: ${JSON.stringify(requests)}`);
  for (const r of requests) {
    assert.match(r.path, /^\/version/);
    assert.deepEqual({ authorized: r.authorized, user: r.user, groups: r.groups }, {
      authorized: true,
      user: 'system:admin',
      groups: ['system:masters'],
    });
  }
});

test('kubectl refuses the server when the kubeconfig trusts another CA', async (t) => {
  const dir = tempDir(t);
  const pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'node-a' });
  const { port, requests } = await startVersionServer(pki, t);
  const other = await createCertificateAuthority({ commonName: 'other-ca', days: 1 });
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${port}`,
    caPem: other.certPem,
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });
  const run = await kubectl(['version', '-o', 'json', '--kubeconfig', kubeconfig, '--request-timeout', '5s'], dir);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /x509: certificate signed by unknown authority/);
  assert.deepEqual(requests, []);
});
