// Unit tests of the CertificateSigningRequest strategy: what each of the main resource, /status and
// /approval may change, and the validation of requests and conditions.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { errorString } from '../../api/field_errors.ts';
import { preloadPki } from '../../base/pki.ts';
import { strategyFor, type KObject } from '../registry/strategy.ts';
import { resourceFor } from '../../api/resource_table.ts';
import { loadCsrSupport } from './request.ts';
import { validateCsr } from './strategy.ts';
import './strategy.ts';

const strategy = strategyFor('certificates.k8s.io', 'certificatesigningrequests');
const info = resourceFor('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;
let request = '';

before(async () => {
  await loadCsrSupport();
  await preloadPki();
  const x = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: ['jane'] }], keys: keys as never, signingAlgorithm: alg });
  request = Buffer.from(csr.toString('pem')).toString('base64');
});

function csr(status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KObject {
  return {
    metadata: { name: 'jane' },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'jane', groups: ['devs'], ...spec },
    status,
  };
}

const ctx = (subresource: string) => ({ info, subresource, now: new Date('2025-01-01T00:00:00Z') });
const approved = { type: 'Approved', status: 'True', reason: 'R', message: 'm' };
const cert = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');

function errors(obj: KObject, old?: KObject, sub = ''): string[] {
  return (old ? strategy.validateUpdate!(obj, old, ctx(sub)) : validateCsr(obj)).map(errorString);
}

describe('CSR strategy', () => {
  test('the main resource changes neither spec nor status', () => {
    const old = csr({ conditions: [approved] });
    const next = csr({}, { username: 'root', groups: ['system:masters'] });
    strategy.prepareForUpdate!(next, old, ctx(''));
    assert.deepEqual(next['spec'], old['spec']);
    assert.deepEqual(next['status'], old['status']);
  });

  test('/approval changes only the conditions, stamping their times', () => {
    const old = csr({ certificate: cert });
    const next = csr({ conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove' }], certificate: 'changed' }, { username: 'root' });
    strategy.prepareForUpdate!(next, old, ctx('approval'));
    assert.equal((next['spec'] as Record<string, unknown>)['username'], 'jane');
    const status = next['status'] as { certificate: string; conditions: Array<Record<string, string>> };
    assert.equal(status.certificate, cert);
    assert.equal(status.conditions[0]!['lastUpdateTime'], '2025-01-01T00:00:00Z');
    assert.equal(status.conditions[0]!['lastTransitionTime'], '2025-01-01T00:00:00Z');
  });

  test('/status keeps the approval conditions the approver set', () => {
    const old = csr({ conditions: [approved] });
    const next = csr({ conditions: [{ type: 'Denied', status: 'True' }], certificate: cert });
    strategy.prepareForUpdate!(next, old, ctx('status'));
    const conditions = (next['status'] as { conditions: Array<{ type: string }> }).conditions;
    assert.deepEqual(conditions.map((c) => c.type), ['Approved']);
  });

  test('validation of the request, usages, signer name and expiry', () => {
    assert.deepEqual(errors(csr()), []);
    assert.deepEqual(errors(csr({}, { request: Buffer.from('nope').toString('base64'), usages: [], signerName: 'bad' })), [
      'spec.request: Invalid value: PEM block type must be CERTIFICATE REQUEST',
      'spec.usages: Required value',
      "spec.signerName: Invalid value: \"bad\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
    ]);
    assert.deepEqual(errors(csr({}, { usages: ['client auth', 'client auth', 'flying'], expirationSeconds: 60 })), [
      'spec.usages[1]: Duplicate value: "client auth"',
      'spec.usages[2]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"',
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)',
    ]);
  });

  test('conditions: Approved and Denied exclude each other and cannot be withdrawn; certificates need approval and never change', () => {
    assert.deepEqual(errors(csr({ conditions: [approved, { type: 'Denied', status: 'True' }] })), ['status.conditions: Invalid value: Approved and Denied conditions are mutually exclusive']);
    assert.deepEqual(errors(csr({ conditions: [{ type: 'Approved', status: 'False' }] })), ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']);
    assert.deepEqual(errors(csr({ conditions: [] }), csr({ conditions: [approved] }), 'approval'), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
    assert.deepEqual(errors(csr({ certificate: cert }), csr(), 'status'), ['status.certificate: Invalid value: "<certificate data>": certificate may only be set if the Approved condition is present']);
    assert.deepEqual(errors(csr({ conditions: [approved], certificate: cert }), csr({ conditions: [approved] }), 'status'), []);
    const other = Buffer.from('-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n').toString('base64');
    assert.deepEqual(errors(csr({ conditions: [approved], certificate: other }), csr({ conditions: [approved], certificate: cert }), 'status'),
      ['status.certificate: Invalid value: "<certificate data>": updates may not modify existing certificate content']);
  });
});

describe('CSR create', () => {
  test('a client cannot claim a requester or a status', () => {
    const obj = csr({ conditions: [approved] }, { username: 'system:node:n1', groups: ['system:nodes'], uid: 'x', extra: { a: ['b'] } });
    strategy.prepareForCreate!(obj, ctx(''));
    assert.deepEqual(Object.keys(obj['spec'] as object), ['request', 'signerName', 'usages']);
    assert.equal(obj['status'], undefined);
  });
});
