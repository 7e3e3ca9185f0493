// The CA pin of joining nodes against a local TLS server: the CA the server presents is accepted
// only when its key matches the pin and it issued the server's certificate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../base/pki.ts';
import { caCertHash, discoverPinnedCa, validateCaCertHash } from './bootstrap_ca.ts';

let ca: CertificateAuthority, other: CertificateAuthority;
const servers: Server[] = [];

async function serve(certPem: string, keyPem: string): Promise<string> {
  const srv = createServer({ cert: certPem, key: keyPem }, (s) => s.end());
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

before(async () => {
  ca = await createCertificateAuthority({ commonName: 'pin-ca', days: 1 });
  other = await createCertificateAuthority({ commonName: 'other-ca', days: 1 });
});

after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

describe('CA pinning (--ca-cert-hash)', () => {
  test('the pinned CA from the handshake is returned when it issued the server certificate', async () => {
    const leaf = await issueCertificate({ ca, commonName: 'kube-apiserver', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    const url = await serve(leaf.certPem + ca.certPem, leaf.keyPem);
    assert.equal(await discoverPinnedCa(url, caCertHash(ca.certPem)), ca.certPem.trim() + '\n');
    await assert.rejects(discoverPinnedCa(url, caCertHash(other.certPem)), /none of the 2 certificate\(s\) 127\.0\.0\.1:\d+ presented matches --ca-cert-hash/);
  });

  test('a CA sent beside a certificate it did not issue is refused, and so is a server that sends no CA', async () => {
    const foreign = await issueCertificate({ ca: other, commonName: 'impostor', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    const url = await serve(foreign.certPem + ca.certPem, foreign.keyPem);
    // The handshake links only certificates that issued the one before; an unrelated CA never counts.
    await assert.rejects(discoverPinnedCa(url, caCertHash(ca.certPem)), /none of the 1 certificate\(s\) 127\.0\.0\.1:\d+ presented matches/);
    const bare = await issueCertificate({ ca, commonName: 'kube-apiserver', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    await assert.rejects(discoverPinnedCa(await serve(bare.certPem, bare.keyPem), caCertHash(ca.certPem)), /none of the 1 certificate/);
  });

  test('pins are sha256: and 64 hex digits', () => {
    assert.match(caCertHash(ca.certPem), /^sha256:[0-9a-f]{64}$/);
    assert.equal(validateCaCertHash(caCertHash(ca.certPem)), undefined);
    assert.match(validateCaCertHash('sha1:abc')!, /want sha256:<64 hex digits>/);
  });
});
