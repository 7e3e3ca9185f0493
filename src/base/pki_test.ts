// Tests of the cluster PKI: what first start creates, when later starts reuse or reissue, and that
// the certificates work in a real TLS handshake with a client certificate requested but not required.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  ensureClusterPki,
  issueCertificate,
  parseCertificateIdentity,
  preloadPki,
  signPublicKey,
  type ClusterPki,
} from './pki.ts';

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const baseOptions = { hostname: 'node-a', nodeIp: '192.0.2.10', extraSans: ['tkube.example', '198.51.100.7'] };

test('first start creates CA, serving and admin certificates quickly', async (t) => {
  const dir = join(tempDir(t), 'tls');
  // Cold: includes loading the certificate library once per process.
  let start = performance.now();
  const pki = await ensureClusterPki({ dir, ...baseOptions });
  const cold = performance.now() - start;
  // Warm: what a first start costs once the library is loaded (preloadPki).
  await preloadPki();
  start = performance.now();
  await ensureClusterPki({ dir: join(tempDir(t), 'tls'), ...baseOptions });
  const warm = performance.now() - start;
  t.diagnostic(`first-start PKI generation: ${warm.toFixed(1)} ms warm, ${cold.toFixed(1)} ms cold (with library load)`);
  assert.ok(warm < 1000, `PKI generation took ${warm} ms`);

  assert.deepEqual([...pki.written].sort(), ['admin.crt', 'admin.key', 'ca.crt', 'ca.key', 'server.crt', 'server.key']);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of ['ca.key', 'server.key', 'admin.key']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  for (const f of ['ca.crt', 'server.crt', 'admin.crt']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o644, f);
  assert.equal(readFileSync(pki.paths.serverCert, 'utf8'), pki.server.certPem);
  assert.match(pki.server.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);

  const ca = new X509Certificate(pki.ca.certPem);
  assert.equal(ca.ca, true);
  assert.equal(ca.subject, 'CN=tkube-ca');
  const caYears = (Date.parse(ca.validTo) - Date.now()) / (365 * 24 * 3600 * 1000);
  assert.ok(caYears > 9.9 && caYears < 10.1, `CA valid for ${caYears} years`);

  const server = new X509Certificate(pki.server.certPem);
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'serving certificate is signed by the CA');
  assert.deepEqual(server.keyUsage, [OID_SERVER_AUTH]);
  const peer = server.toLegacyObject();
  for (const name of [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'node-a',
    'tkube.example',
    '127.0.0.1',
    '::1',
    '192.0.2.10',
    '10.43.0.1',
    '198.51.100.7',
  ]) {
    assert.equal(checkServerIdentity(name, peer), undefined, `serving certificate covers ${name}`);
  }
  assert.ok(checkServerIdentity('10.43.0.2', peer) instanceof Error, 'and nothing else');

  const admin = new X509Certificate(pki.admin.certPem);
  assert.ok(admin.checkIssued(ca) && admin.verify(ca.publicKey), 'admin certificate is signed by the CA');
  assert.deepEqual(admin.keyUsage, [OID_CLIENT_AUTH]);
  assert.deepEqual(parseCertificateIdentity(pki.admin.certPem), { commonName: 'system:admin', organizations: ['system:masters'] });
});

test('a later start reuses every file', async (t) => {
  const dir = tempDir(t);
  const first = await ensureClusterPki({ dir, ...baseOptions });
  const second = await ensureClusterPki({ dir, ...baseOptions });
  assert.deepEqual(second.written, []);
  assert.equal(second.ca.certPem, first.ca.certPem);
  assert.equal(second.server.certPem, first.server.certPem);
  assert.equal(second.admin.keyPem, first.admin.keyPem);
  // The same SANs spelled differently are still covered.
  const third = await ensureClusterPki({ dir, ...baseOptions, hostname: 'NODE-A', extraSans: ['0:0:0:0:0:0:0:1', 'tkube.example'] });
  assert.deepEqual(third.written, []);
});

test('a new node IP reissues the serving certificate and keeps the CA and admin certificate', async (t) => {
  const dir = tempDir(t);
  const first = await ensureClusterPki({ dir, ...baseOptions });
  const second = await ensureClusterPki({ dir, ...baseOptions, nodeIp: '192.0.2.99' });
  assert.deepEqual([...second.written].sort(), ['server.crt', 'server.key']);
  assert.equal(second.ca.certPem, first.ca.certPem);
  assert.equal(second.admin.certPem, first.admin.certPem);
  assert.equal(checkServerIdentity('192.0.2.99', new X509Certificate(second.server.certPem).toLegacyObject()), undefined);
});

test('a serving certificate expiring within 30 days is reissued', async (t) => {
  const dir = tempDir(t);
  const first = await ensureClusterPki({ dir, ...baseOptions });
  const shortLived = await issueCertificate({
    ca: first.ca,
    commonName: 'kube-apiserver',
    dnsNames: ['localhost'],
    ips: ['127.0.0.1'],
    usages: 'server',
    days: 10,
  });
  writeFileSync(first.paths.serverCert, shortLived.certPem);
  writeFileSync(first.paths.serverKey, shortLived.keyPem);
  const second = await ensureClusterPki({ dir, ...baseOptions });
  assert.deepEqual([...second.written].sort(), ['server.crt', 'server.key']);
  const days = (Date.parse(new X509Certificate(second.server.certPem).validTo) - Date.now()) / 86400000;
  assert.ok(days > 360, `new serving certificate valid for ${days} days`);
});

test('leaf certificates not matching their key or the CA are reissued', async (t) => {
  const dir = tempDir(t);
  const first = await ensureClusterPki({ dir, ...baseOptions });
  const otherCa = await createCertificateAuthority({ commonName: 'other-ca', days: 30 });
  const foreign = await issueCertificate({ ca: otherCa, commonName: 'system:admin', organizations: ['system:masters'], usages: 'client', days: 365 });
  writeFileSync(first.paths.adminCert, foreign.certPem);
  writeFileSync(first.paths.adminKey, foreign.keyPem);
  writeFileSync(first.paths.serverKey, foreign.keyPem);
  const second = await ensureClusterPki({ dir, ...baseOptions });
  assert.deepEqual([...second.written].sort(), ['admin.crt', 'admin.key', 'server.crt', 'server.key']);
  const ca = new X509Certificate(second.ca.certPem);
  assert.ok(new X509Certificate(second.admin.certPem).verify(ca.publicKey));
  assert.ok(new X509Certificate(second.server.certPem).checkPrivateKey(
    (await import('node:crypto')).createPrivateKey(second.server.keyPem),
  ));
});

test('half a CA is an error, not a silent new CA', async (t) => {
  const dir = tempDir(t);
  await ensureClusterPki({ dir, ...baseOptions });
  unlinkSync(join(dir, 'ca.key'));
  await assert.rejects(ensureClusterPki({ dir, ...baseOptions }), /ca\.key is missing but its pair exists/);
});

test('bad options are rejected with the field and value', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(ensureClusterPki({ dir, hostname: 'h', nodeIp: 'not-an-ip' }), /nodeIp must be an IP address, got "not-an-ip"/);
  await assert.rejects(ensureClusterPki({ dir, hostname: 'h', serviceIp: '10.43.0.256' }), /serviceIp must be an IP address/);
  const ca = await createCertificateAuthority({ commonName: 'ca', days: 1 });
  await assert.rejects(issueCertificate({ ca, commonName: 'x', usages: 'client', days: 0 }), /days must be a positive number, got 0/);
  await assert.rejects(issueCertificate({ ca, commonName: '', usages: 'client', days: 1 }), /commonName|non-empty/);
  await assert.rejects(issueCertificate({ ca, commonName: 'x', usages: 'peer' as 'both', days: 1 }), /usages must be/);
  await assert.rejects(signPublicKey({ ca, commonName: 'x', usages: 'client', days: 1, publicKey: 'junk' }), /not a valid SPKI public key/);
});

test('issued certificates carry every group, are capped at the CA expiry, and parse from PEM or DER', async () => {
  const ca = await createCertificateAuthority({ commonName: 'ca', days: 20 });
  const cert = await issueCertificate({
    ca,
    commonName: 'alice',
    organizations: ['system:masters', 'devs', 'a,b\nO=system:nodes'],
    dnsNames: ['alice.example'],
    usages: 'both',
    days: 365,
  });
  const x = new X509Certificate(cert.certPem);
  assert.deepEqual(x.keyUsage, [OID_SERVER_AUTH, OID_CLIENT_AUTH]);
  assert.ok(Date.parse(x.validTo) <= Date.parse(new X509Certificate(ca.certPem).validTo));
  const expected = { commonName: 'alice', organizations: ['system:masters', 'devs', 'a,b\nO=system:nodes'] };
  assert.deepEqual(parseCertificateIdentity(cert.certPem), expected);
  assert.deepEqual(parseCertificateIdentity(new Uint8Array(x.raw)), expected);
});

test('signPublicKey certifies a key it never saw, RSA included', async () => {
  const ca = await createCertificateAuthority({ commonName: 'ca', days: 30 });
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = await signPublicKey({
    ca,
    commonName: 'system:node:node-a',
    organizations: ['system:nodes'],
    usages: 'client',
    days: 30,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  });
  const x = new X509Certificate(pem);
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  assert.ok(x.publicKey.equals(publicKey));
  assert.deepEqual(parseCertificateIdentity(pem), { commonName: 'system:node:node-a', organizations: ['system:nodes'] });
});

// ---- TLS handshake ----

interface SeenPeer {
  authorized: boolean;
  identity?: { commonName: string; organizations: string[] };
}

async function startTlsServer(pki: ClusterPki, t: { after: (fn: () => Promise<void>) => void }): Promise<{ port: number; seen: SeenPeer[] }> {
  const seen: SeenPeer[] = [];
  const server = createServer(
    // Request a client certificate but do not require one, so token and anonymous users still connect.
    { cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const entry: SeenPeer = { authorized: socket.authorized };
      if (peer.raw !== undefined) entry.identity = parseCertificateIdentity(peer.raw);
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, seen };
}

function get(port: number, options: { ca: string; cert?: string; key?: string; servername?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('TLS: the server presents its certificate and reads the admin identity from the client certificate', async (t) => {
  const pki = await ensureClusterPki({ dir: tempDir(t), ...baseOptions });
  const { port, seen } = await startTlsServer(pki, t);

  assert.equal(await get(port, { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem }), 200);
  assert.deepEqual(seen.at(-1), { authorized: true, identity: { commonName: 'system:admin', organizations: ['system:masters'] } });

  // By DNS name too (the in-cluster name pods use).
  assert.equal(await get(port, { ca: pki.ca.certPem, servername: 'kubernetes.default.svc' }), 200);
  // Without a client certificate the handshake still succeeds: anonymous or token users.
  assert.deepEqual(seen.at(-1), { authorized: false });

  // A certificate from another CA is seen but not authorized.
  const otherCa = await createCertificateAuthority({ commonName: 'other', days: 1 });
  const forged = await issueCertificate({ ca: otherCa, commonName: 'system:admin', organizations: ['system:masters'], usages: 'client', days: 1 });
  assert.equal(await get(port, { ca: pki.ca.certPem, cert: forged.certPem, key: forged.keyPem }), 200);
  assert.equal(seen.at(-1)?.authorized, false);

  // A client trusting another CA refuses the server.
  await assert.rejects(get(port, { ca: otherCa.certPem }), /self-signed|unable to verify|certificate/i);
  // And a name outside the SANs is refused.
  await assert.rejects(get(port, { ca: pki.ca.certPem, servername: 'evil.example' }), /altnames|Hostname/i);
});
