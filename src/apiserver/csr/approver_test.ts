// Unit tests of the kubelet serving auto-approval: a node's own name and reported addresses only.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { preloadPki } from '../../base/pki.ts';
import { loadCsrSupport, parseCsr, type ParsedCsr } from './request.ts';
import { servingApproval, servingRefusal } from './approver.ts';
import type { KObject } from '../registry/strategy.ts';

async function request(cn: string, dns: string[], ips: string[]): Promise<ParsedCsr> {
  await preloadPki();
  const x = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const names = [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
  const csr = await x.Pkcs10CertificateRequestGenerator.create({
    name: [{ O: ['system:nodes'] }, { CN: [cn] }], keys: keys as never, signingAlgorithm: alg, extensions: [new x.SubjectAlternativeNameExtension(names)],
  });
  return parseCsr(Buffer.from(csr.toString('pem')).toString('base64'));
}

const csr = (username: string, groups = ['system:nodes', 'system:authenticated']): KObject => ({
  spec: { username, groups, signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] },
});

const nodes: Record<string, KObject> = {
  n1: { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'host-1' }] } },
};
const lookup = async (name: string): Promise<KObject | undefined> => nodes[name];

before(loadCsrSupport);

describe('kubelet serving auto-approval', () => {
  test('a node gets a certificate for its name, hostname and reported IP', async () => {
    const req = await request('system:node:n1', ['n1', 'host-1'], ['192.0.2.10']);
    assert.equal(await servingApproval(csr('system:node:n1'), req, lookup), 'Auto approving kubelet serving certificate of the requesting node.');
  });

  test('other names, other addresses, other requesters and unknown nodes wait for an admin', async () => {
    const ok = await request('system:node:n1', ['n1'], ['192.0.2.10']);
    assert.equal(await servingRefusal(csr('system:node:n1'), await request('system:node:n1', ['kubernetes.default.svc'], ['192.0.2.10']), lookup),
      'DNS name kubernetes.default.svc is not a name of node "n1"');
    assert.equal(await servingRefusal(csr('system:node:n1'), await request('system:node:n1', ['n1'], ['10.43.0.1']), lookup),
      'IP address 10.43.0.1 is not an address of node "n1"');
    assert.equal(await servingRefusal(csr('system:node:n2'), await request('system:node:n1', ['n1'], ['192.0.2.10']), lookup),
      'a node may only request a certificate for itself');
    assert.equal(await servingRefusal(csr('system:node:n1', ['system:authenticated']), ok, lookup), 'the requester is not a node');
    assert.equal(await servingRefusal(csr('jane'), ok, lookup), 'the requester is not a node');
    assert.equal(await servingRefusal(csr('system:node:n3'), await request('system:node:n3', ['n3'], []), lookup), 'node "n3" is not registered');
    const client = { spec: { ...(csr('system:node:n1')['spec'] as object), signerName: 'kubernetes.io/kube-apiserver-client-kubelet' } };
    assert.equal(await servingApproval(client, ok, lookup), undefined);
  });
});
