// Unit tests of the CSR signers' rules, request parsing, signing with the CA, and auto-approval.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import { createCertificateAuthority, preloadPki, type CertificateAuthority } from '../../base/pki.ts';
import { loadCsrSupport, parseCsr, type ParsedCsr } from './request.ts';
import { checkForSigner, signRequest, signingDays, signingDurationSeconds, validateKubeletClientCsr, validateKubeletServingCsr } from './signer.ts';
import { autoApproval } from './approver.ts';
import type { Attributes } from '../authz/authorizer.ts';

async function csrPem(subject: Array<Record<string, string[]>>, sans: Array<{ type: 'dns' | 'ip' | 'email'; value: string }> = []): Promise<string> {
  await preloadPki();
  const x = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x.Pkcs10CertificateRequestGenerator.create({
    name: subject, keys: keys as never, signingAlgorithm: alg, extensions: sans.length > 0 ? [new x.SubjectAlternativeNameExtension(sans)] : [],
  });
  return csr.toString('pem');
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
let kubeletClient: ParsedCsr;
let ca: CertificateAuthority;

before(async () => {
  await loadCsrSupport();
  kubeletClient = parseCsr(b64(await csrPem([{ O: ['system:nodes'] }, { CN: ['system:node:n1'] }])));
  ca = await createCertificateAuthority({ commonName: 'test-ca', days: 10 });
});

describe('parseCsr', () => {
  test('reads subject and SANs, and checks the signature', async () => {
    const p = parseCsr(b64(await csrPem([{ CN: ['a'] }, { O: ['g1'] }, { O: ['g2'] }], [{ type: 'dns', value: 'x.example' }, { type: 'ip', value: '10.0.0.1' }])));
    assert.equal(p.commonName, 'a');
    assert.deepEqual(p.organizations, ['g1', 'g2']);
    assert.deepEqual(p.dnsNames, ['x.example']);
    assert.deepEqual(p.ipAddresses, ['10.0.0.1']);
    assert.equal(await p.verify(), true);
    assert.throws(() => parseCsr(b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), /PEM block type must be CERTIFICATE REQUEST/);
    assert.throws(() => parseCsr(b64('junk')), /PEM block type must be CERTIFICATE REQUEST/);
  });
});

describe('signer rules', () => {
  test('kubelet client: system:nodes, system:node: prefix, no SANs, exact usages', async () => {
    assert.equal(validateKubeletClientCsr(kubeletClient, ['digital signature', 'client auth']), undefined);
    assert.equal(validateKubeletClientCsr(kubeletClient, ['key encipherment', 'digital signature', 'client auth']), undefined);
    assert.equal(validateKubeletClientCsr(kubeletClient, ['client auth']), 'usages did not match [client auth digital signature key encipherment]');
    const wrongOrg = parseCsr(b64(await csrPem([{ CN: ['system:node:n1'] }])));
    assert.equal(validateKubeletClientCsr(wrongOrg, ['digital signature', 'client auth']), 'subject organization is not system:nodes');
    const withDns = parseCsr(b64(await csrPem([{ O: ['system:nodes'] }, { CN: ['system:node:n1'] }], [{ type: 'dns', value: 'n1' }])));
    assert.equal(validateKubeletClientCsr(withDns, ['digital signature', 'client auth']), 'DNS subjectAltNames are not allowed');
  });

  test('kubelet serving needs a DNS or IP SAN and server auth', async () => {
    assert.equal(validateKubeletServingCsr(kubeletClient, ['digital signature', 'server auth']), 'DNS or IP subjectAltName is required');
    const serving = parseCsr(b64(await csrPem([{ O: ['system:nodes'] }, { CN: ['system:node:n1'] }], [{ type: 'ip', value: '10.0.0.5' }])));
    assert.equal(validateKubeletServingCsr(serving, ['digital signature', 'server auth']), undefined);
    assert.equal(validateKubeletServingCsr(serving, ['digital signature', 'client auth']), 'usages did not match [digital signature key encipherment server auth]');
  });

  test('API server clients need client auth and nothing beyond signature and encipherment', () => {
    assert.deepEqual(checkForSigner('kubernetes.io/kube-apiserver-client', kubeletClient, ['client auth']), { recognized: true, error: undefined });
    assert.deepEqual(checkForSigner('kubernetes.io/kube-apiserver-client', kubeletClient, ['digital signature']), { recognized: true, error: 'missing required usage for client certificate: client auth' });
    assert.deepEqual(checkForSigner('example.com/other', kubeletClient, ['client auth']), { recognized: false });
  });

  test('durations are clamped between ten minutes and the signing duration', () => {
    assert.equal(signingDurationSeconds(undefined), 365 * 86400);
    assert.equal(signingDurationSeconds(60), 600);
    assert.equal(signingDurationSeconds(86400), 86400);
    assert.equal(signingDurationSeconds(10 * 365 * 86400), 365 * 86400);
    assert.equal(signingDurationSeconds(undefined, 3600), 3600, '--cluster-signing-duration caps the default');
    assert.equal(signingDurationSeconds(7200, 3600), 3600);
  });

  test('long-lived certificates give their 5 minute backdate back at the end, short ones (< 8h) do not', () => {
    assert.equal(signingDays(undefined), (365 * 86400 - 300) / 86400);
    assert.equal(signingDays(86400), (86400 - 300) / 86400);
    assert.equal(signingDays(60), 600 / 86400);
    assert.equal(signingDays(3600), 3600 / 86400);
  });
});

describe('signing', () => {
  test('the certificate names the requested subject, key and usage, signed by the CA', async () => {
    const serving = parseCsr(b64(await csrPem([{ O: ['system:nodes'] }, { CN: ['system:node:n1'] }], [{ type: 'dns', value: 'n1.example' }])));
    const cert = new X509Certificate(await signRequest(ca, serving, ['digital signature', 'server auth'], 3600));
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
    assert.match(cert.subject, /CN=system:node:n1/);
    assert.ok(cert.checkHost('n1.example'));
    assert.equal(Buffer.from(cert.publicKey.export({ type: 'spki', format: 'der' })).equals(Buffer.from(serving.publicKey)), true);
    const hours = (Date.parse(cert.validTo) - Date.now()) / 3600_000;
    assert.ok(hours > 0.9 && hours <= 1, `valid for ${hours} h`);
  });

  test('the signing duration bounds a certificate that asks for no lifetime', async () => {
    const client = parseCsr(b64(await csrPem([{ O: ['system:nodes'] }, { CN: ['system:node:n1'] }])));
    const cert = new X509Certificate(await signRequest(ca, client, ['digital signature', 'client auth'], undefined, 600));
    const minutes = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 60_000;
    assert.ok(minutes > 14 && minutes <= 15, `valid for ${minutes} min (10 min + 5 min backdate)`);
  });
});

describe('auto-approval', () => {
  const csr = (username: string, signerName = 'kubernetes.io/kube-apiserver-client-kubelet') => ({
    spec: { username, groups: ['system:bootstrappers'], signerName, usages: ['digital signature', 'client auth'] },
  });
  const asked: Attributes[] = [];
  const allow = (sub: string) => (a: Attributes) => {
    asked.push(a);
    return { decision: a.subresource === sub ? 'allow' as const : 'noopinion' as const, reason: '' };
  };

  test('new nodes need nodeclient, renewals selfnodeclient; other signers are never auto-approved', async () => {
    assert.equal(await autoApproval(csr('system:bootstrap:abc'), kubeletClient, allow('nodeclient')), 'Auto approving kubelet client certificate after SubjectAccessReview.');
    assert.equal(asked.at(-1)?.user.name, 'system:bootstrap:abc');
    assert.equal(await autoApproval(csr('system:node:n1'), kubeletClient, allow('selfnodeclient')), 'Auto approving self kubelet client certificate after SubjectAccessReview.');
    assert.equal(await autoApproval(csr('system:bootstrap:abc'), kubeletClient, allow('selfnodeclient')), undefined);
    assert.equal(await autoApproval(csr('system:bootstrap:abc', 'kubernetes.io/kube-apiserver-client'), kubeletClient, allow('nodeclient')), undefined);
  });
});
