// CertificateSigningRequests end to end: kubectl creates, approves and denies them; the API
// server signs approved requests of the kubernetes.io signers with the cluster CA; kubelet client
// requests from bootstrap tokens are approved automatically, and the certificate then works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import { preloadPki, type IssuedCertificate } from '../../../src/base/pki.ts';
import { eventually, ok, startSecurityServer, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;

before(async () => {
  s = await startSecurityServer();
});

after(async () => {
  await s?.stop();
});

/** A key pair and a PEM certificate request for it. */
async function makeCsr(subject: Array<Record<string, string[]>>, dnsNames: string[] = []): Promise<{ csrPem: string; keyPem: string }> {
  await preloadPki();
  const x = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x.Pkcs10CertificateRequestGenerator.create({
    name: subject, keys: keys as never, signingAlgorithm: alg,
    extensions: dnsNames.length > 0 ? [new x.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))] : [],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { csrPem: csr.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
}

function csrManifest(name: string, csrPem: string, signerName: string, usages: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName, usages, ...extra },
  });
}

interface Csr {
  spec: { username: string; groups: string[] };
  status?: { certificate?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

async function getCsr(name: string): Promise<Csr> {
  return JSON.parse(await ok(s, ['get', 'csr', name, '-o', 'json'])) as Csr;
}

async function issued(name: string): Promise<X509Certificate> {
  const pem = await eventually(`${name} to be signed`, async () => {
    const c = (await getCsr(name)).status?.certificate;
    return c ? Buffer.from(c, 'base64').toString('utf8') : undefined;
  });
  return new X509Certificate(pem);
}

describe('CertificateSigningRequests', () => {
  test('create, approve with kubectl, and the issued certificate is valid against the cluster CA', async () => {
    const { csrPem, keyPem } = await makeCsr([{ CN: ['jane'] }, { O: ['devs'] }]);
    await ok(s, ['create', '-f', '-'], { input: csrManifest('jane', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth', 'digital signature'], { expirationSeconds: 86400 }) });
    const pending = await getCsr('jane');
    assert.equal(pending.spec.username, 'system:admin');
    assert.deepEqual(pending.spec.groups, ['system:masters', 'system:authenticated']);
    assert.match(await ok(s, ['get', 'csr', 'jane']), /jane\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+system:admin\s+24h\s+Pending/);
    assert.match(await ok(s, ['certificate', 'approve', 'jane']), /certificatesigningrequest\.certificates\.k8s\.io\/jane approved/);
    const cert = await issued('jane');
    assert.ok(cert.verify(new X509Certificate(s.ca.certPem).publicKey), 'signed by the cluster CA');
    assert.match(cert.subject, /CN=jane/);
    assert.match(cert.subject, /O=devs/);
    const hours = (Date.parse(cert.validTo) - Date.now()) / 3600_000;
    assert.ok(hours > 23 && hours <= 24, `valid for ${hours} h`);
    assert.match(await ok(s, ['get', 'csr', 'jane']), /Approved,Issued/);
    const approved = (await getCsr('jane')).status?.conditions?.[0];
    assert.equal(approved?.type, 'Approved');
    assert.equal(approved?.reason, 'KubectlApprove');
    // The certificate is a working credential.
    const jane: { cert: IssuedCertificate } = { cert: { certPem: cert.toString(), keyPem } };
    const me = JSON.parse(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: jane })) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(me.status.userInfo.username, 'jane');
    assert.deepEqual(me.status.userInfo.groups, ['devs', 'system:authenticated']);
  });

  test('a denied request is never signed', async () => {
    const { csrPem } = await makeCsr([{ CN: ['mallory'] }]);
    await ok(s, ['create', '-f', '-'], { input: csrManifest('mallory', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    assert.match(await ok(s, ['certificate', 'deny', 'mallory']), /denied/);
    const again = await s.kubectl(['certificate', 'approve', 'mallory']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /Approved and Denied conditions are mutually exclusive|is already Denied/);
    assert.match(await ok(s, ['get', 'csr', 'mallory']), /Denied\s*$/m);
    assert.equal((await getCsr('mallory')).status?.certificate, undefined);
  });

  test('system:masters certificates are never requested through the client signer; bad requests are invalid', async () => {
    const { csrPem } = await makeCsr([{ CN: ['root'] }, { O: ['system:masters'] }]);
    const r = await s.kubectl(['create', '-f', '-'], { input: csrManifest('root', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    assert.match(r.stderr, /certificatesigningrequests\.certificates\.k8s\.io "root" is forbidden: use of kubernetes\.io\/kube-apiserver-client signer with system:masters group is not allowed/);
    const garbage = await s.kubectl(['create', '-f', '-'], { input: csrManifest('garbage', 'not a csr', 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    assert.match(garbage.stderr, /spec\.request: Invalid value: .*PEM block type must be CERTIFICATE REQUEST/);
    const noUsages = await s.kubectl(['create', '-f', '-'], { input: csrManifest('nousage', csrPem, 'example.com/signer', []) });
    assert.match(noUsages.stderr, /spec\.usages: Required value/);
  });

  test('a request that breaks its signer\'s rules is marked Failed', async () => {
    const { csrPem } = await makeCsr([{ CN: ['svc'] }]);
    await ok(s, ['create', '-f', '-'], { input: csrManifest('svc', csrPem, 'kubernetes.io/kube-apiserver-client', ['server auth']) });
    await ok(s, ['certificate', 'approve', 'svc']);
    const failed = await eventually('svc to fail', async () => (await getCsr('svc')).status?.conditions?.find((c) => c.type === 'Failed'));
    assert.equal(failed.reason, 'SignerValidationFailure');
    assert.equal(failed.message, 'invalid usage for client certificate: server auth');
    assert.match(await ok(s, ['get', 'csr', 'svc']), /Approved,Failed/);
  });

  test('approving needs the approve verb on the signer', async () => {
    const { csrPem } = await makeCsr([{ CN: ['tom'] }]);
    await ok(s, ['create', '-f', '-'], { input: csrManifest('tom', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    await ok(s, ['create', 'clusterrole', 'csr-approver', '--verb=get,list,update', '--resource=certificatesigningrequests,certificatesigningrequests/approval']);
    await ok(s, ['create', 'clusterrolebinding', 'pat-approver', '--clusterrole=csr-approver', '--user=pat']);
    const denied = await s.kubectl(['certificate', 'approve', 'tom', '--as=pat']);
    assert.match(denied.stderr, /certificatesigningrequests\.certificates\.k8s\.io "tom" is forbidden: user not permitted to approve requests with signerName "kubernetes\.io\/kube-apiserver-client"/);
    // signers is not a served resource, so kubectl create clusterrole refuses it: apply the role instead.
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'signer-approver' },
        rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/*'], verbs: ['approve'] }],
      }),
    });
    await ok(s, ['create', 'clusterrolebinding', 'pat-signer', '--clusterrole=signer-approver', '--user=pat']);
    await eventually('pat to approve', async () => ((await s.kubectl(['certificate', 'approve', 'tom', '--as=pat'])).code === 0 ? true : undefined));
    await issued('tom');
  });

  test('a kubelet serving certificate carries its SANs and the server usage', async () => {
    const { csrPem } = await makeCsr([{ CN: ['system:node:n9'] }, { O: ['system:nodes'] }], ['n9.example.com']);
    await ok(s, ['create', '-f', '-'], { input: csrManifest('serving-n9', csrPem, 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']) });
    await ok(s, ['certificate', 'approve', 'serving-n9']);
    const cert = await issued('serving-n9');
    assert.match(cert.subjectAltName ?? '', /DNS:n9\.example\.com/);
    assert.ok(cert.checkHost('n9.example.com'));
  });
});

describe('joining a node with a bootstrap token', () => {
  test('a kubelet client CSR from a bootstrap token is approved automatically and the certificate authenticates the node', async () => {
    // What kubeadm and k3s install for joining nodes.
    await ok(s, ['create', 'clusterrolebinding', 'kubelet-bootstrap', '--clusterrole=system:node-bootstrapper', '--group=system:bootstrappers']);
    await ok(s, ['create', 'clusterrolebinding', 'node-autoapprove-bootstrap', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient', '--group=system:bootstrappers']);
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: 'bootstrap-token-join01', namespace: 'kube-system' },
        stringData: { 'token-id': 'join01', 'token-secret': 'abcdefabcdefabcd', 'usage-bootstrap-authentication': 'true' },
      }),
    });
    const bootstrap = { token: 'join01.abcdefabcdefabcd' };
    const { csrPem, keyPem } = await makeCsr([{ O: ['system:nodes'] }, { CN: ['system:node:n7'] }]);
    await ok(s, ['create', '-f', '-'], { as: bootstrap, input: csrManifest('node-csr-n7', csrPem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']) });
    const cert = await issued('node-csr-n7');
    const approved = (await getCsr('node-csr-n7')).status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.reason, 'AutoApproved');
    assert.equal(approved?.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
    assert.equal((await getCsr('node-csr-n7')).spec.username, 'system:bootstrap:join01');
    const node = { cert: { certPem: cert.toString(), keyPem } };
    const me = JSON.parse(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: node })) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(me.status.userInfo.username, 'system:node:n7');
    assert.deepEqual(me.status.userInfo.groups, ['system:nodes', 'system:authenticated']);
    // A bootstrap token may not have a CSR for another signer approved on its behalf.
    const { csrPem: other } = await makeCsr([{ CN: ['sneaky'] }]);
    await ok(s, ['create', '-f', '-'], { as: bootstrap, input: csrManifest('sneaky', other, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    assert.match(await ok(s, ['get', 'csr', 'sneaky']), /Pending/);
  });
});
