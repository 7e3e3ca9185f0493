// Kubelet certificate rotation while running: a node's client certificate is renewed through a
// self-approved CSR at its rotation deadline (driven by a fake clock), new requests go out with the
// new certificate while a connection opened before keeps working, the kubeconfig on disk follows,
// and a serving certificate swap reaches new TLS handshakes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { clientRequest, requestCertificate } from '../../../src/agent/bootstrap.ts';
import { rotateServingCertificate, rotatingNodeClient } from '../../../src/agent/certificate_rotation.ts';
import { RotatingRestClient } from '../../../src/agent/rotating_client.ts';
import { readKubeconfig, writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { issueCertificate } from '../../../src/base/pki.ts';
import { FakeClock } from '../../../src/client/clock.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { ok, startSecurityServer, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;
let admin: RestClient;
let dir: string;
/** An HTTPS server that answers with the serial of the client certificate of its connection. */
let echo: Server;
let echoUrl: string;
const openStreams = new Set<import('node:http').ServerResponse>();

before(async () => {
  s = await startSecurityServer();
  dir = await mkdtemp(join(tmpdir(), 'tkube-rotation-'));
  const a = await s.certificate('rotation-admin', ['system:masters']);
  admin = new RestClient({ server: s.url, caPem: s.ca.certPem, certPem: a.certPem, keyPem: a.keyPem });
  // What `tkube token create` sets up: nodes may renew their own client certificates.
  await ok(s, ['create', 'clusterrolebinding', 'node-autoapprove-rotation', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', '--group=system:nodes']);
  await ok(s, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }) });
  const tls = await issueCertificate({ ca: s.ca, commonName: 'echo', ips: ['127.0.0.1'], usages: 'server', days: 1 });
  echo = createServer({ cert: tls.certPem, key: tls.keyPem, ca: s.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const serial = (req.socket as TLSSocket).getPeerCertificate().serialNumber;
    if (req.url === '/stream') {
      // a long-lived response, as a watch: one line now, one more when the test asks
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`${serial}\n`);
      openStreams.add(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ serial }));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoUrl = `https://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});

after(async () => {
  for (const r of openStreams) r.end();
  echo?.closeAllConnections();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  await admin?.dispose();
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves with the next value `subscribe` reports, or rejects after `ms`. */
function next<T>(subscribe: (fn: (v: T) => void) => { dispose(): void }, what: string, ms = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const sub = subscribe((v) => { clearTimeout(timer); sub.dispose(); resolve(v); });
  });
}

describe('kubelet client certificate rotation', () => {
  test('at its deadline the certificate is renewed, and new requests use the new serial', async () => {
    // A 10-minute certificate to start with, as a short --cluster-signing-duration would give.
    const initial = await requestCertificate(admin, clientRequest('n1'), { expirationSeconds: 600, pollMs: 50 });
    const path = join(dir, 'kubelet.kubeconfig');
    await writeKubeconfig(path, { server: s.url, caPem: s.ca.certPem, clientCertPem: initial.certPem, clientKeyPem: initial.keyPem });
    const clock = new FakeClock(Date.now());
    const client = rotatingNodeClient(path, await readKubeconfig(path), 'n1', { rotation: { clock, jitter: () => 0, requestedLifetimeSeconds: 600, pollMs: 50 } });
    const manager = client.certificateManager;
    const echoClient = new RotatingRestClient({ server: echoUrl, caPem: s.ca.certPem, protocol: 'http1' }, manager, clock);
    try {
      const first = manager.current();
      assert.equal(first.serial, new X509Certificate(initial.certPem).serialNumber);
      const lifetime = first.notAfter - first.notBefore;
      assert.equal(manager.deadline(), first.notBefore + 0.7 * lifetime, 'jitter 0 puts the deadline at 70% of the lifetime');
      const nodes = client.resource(resourceDescriptor('v1', 'nodes'));
      assert.equal((await nodes.get('n1')).metadata?.name, 'n1');
      assert.deepEqual(await echoClient.request({ method: 'GET', path: '/' }), { serial: first.serial });
      const stream = await echoClient.stream({ path: '/stream' });
      const lines = stream.body[Symbol.asyncIterator]();
      assert.equal(String((await lines.next()).value).trim(), first.serial);

      // Nothing happens before the deadline...
      clock.setTime(manager.deadline() - 1000);
      assert.equal(manager.current().serial, first.serial);
      // ...and at it a new certificate is requested, signed and swapped in.
      const rotated = next<{ serial: string }>((fn) => manager.onRotate(fn), 'the first rotation');
      clock.setTime(manager.deadline());
      const second = await rotated;
      assert.notEqual(second.serial, first.serial);
      assert.equal(client.certificateSerial, second.serial);
      assert.deepEqual(await echoClient.request({ method: 'GET', path: '/' }), { serial: second.serial }, 'new requests carry the new certificate');
      assert.equal((await nodes.get('n1')).metadata?.name, 'n1', 'the API server accepts the new certificate');
      // the stream opened before the rotation still flows on its old connection
      for (const r of openStreams) r.write('still here\n');
      assert.equal(String((await lines.next()).value).trim(), 'still here');
      stream.cancel();
      // the CSR was made by the node itself and auto-approved as a renewal
      const csrs = await admin.resource<{ metadata?: { name?: string }; spec: { username: string }; status?: { conditions?: Array<{ reason?: string }> } }>(resourceDescriptor('certificates.k8s.io/v1', 'certificatesigningrequests')).list();
      const renewal = csrs.items.find((c) => c.metadata?.name?.startsWith('csr-') && c.spec.username === 'system:node:n1');
      assert.ok(renewal, 'a csr-* request by system:node:n1');
      assert.match(JSON.stringify(renewal.status?.conditions), /AutoApproved/);
      // the kubeconfig on disk now holds the new certificate, for the next start
      const saved = await readKubeconfig(path);
      assert.equal(new X509Certificate(saved.clientCertPem!).serialNumber, second.serial);
      assert.match(await readFile(path, 'utf8'), /client-certificate-data/);

      // the next deadline comes from the new certificate, and rotation goes on
      const third = next<{ serial: string }>((fn) => manager.onRotate(fn), 'the second rotation');
      clock.setTime(manager.deadline());
      assert.notEqual((await third).serial, second.serial);
      assert.equal((await nodes.get('n1')).metadata?.name, 'n1');
    } finally {
      await echoClient.dispose();
      await client.dispose();
    }
  });

  test('the serving certificate swap reaches new TLS handshakes', async () => {
    const n1 = await s.certificate('system:node:n1', ['system:nodes']);
    const nodeClient = new RestClient({ server: s.url, caPem: s.ca.certPem, certPem: n1.certPem, keyPem: n1.keyPem });
    const names = { nodeName: 'n1', dnsNames: ['n1'], ips: [] };
    const initial = await issueCertificate({ ca: s.ca, commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: ['n1'], usages: 'server', days: 1 });
    const server = createServer({ cert: initial.certPem, key: initial.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const peerSerial = (): Promise<string> => new Promise((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, servername: 'n1', ca: s.ca.certPem }, () => {
        resolve(sock.getPeerCertificate().serialNumber);
        sock.end();
      });
      sock.on('error', reject);
    });
    const clock = new FakeClock(Date.now());
    const manager = rotateServingCertificate({
      client: () => nodeClient, dataDir: dir, names, initial,
      setCertificate: (cert, key) => server.setSecureContext({ cert, key }),
      rotation: { clock, jitter: () => 1, requestedLifetimeSeconds: 600, pollMs: 50 },
    });
    try {
      assert.equal(await peerSerial(), new X509Certificate(initial.certPem).serialNumber);
      const rotated = next<{ serial: string }>((fn) => manager.onRotate(fn), 'the serving rotation');
      clock.setTime(manager.deadline());
      const fresh = await rotated;
      assert.equal(await peerSerial(), fresh.serial);
      assert.equal(new X509Certificate(await readFile(join(dir, 'agent', 'pki', 'kubelet-serving.crt'), 'utf8')).serialNumber, fresh.serial);
    } finally {
      manager.dispose();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await nodeClient.dispose();
    }
  });
});
