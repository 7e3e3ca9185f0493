// Unit tests of service-account JWTs: bound tokens (audience, expiry, the ServiceAccount and the
// bound Pod/Secret/Node still existing with the same uid), legacy Secret tokens, the signing key
// and what the user looks like.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { generateServiceAccountKeyPem, loadServiceAccountKey, type ServiceAccountKey } from './service_account_key.ts';
import {
  DEFAULT_ISSUER, LEGACY_ISSUER, ServiceAccountTokenAuthenticator, TokenSigner, boundTokenClaims, boundTokenValidator,
  legacyTokenClaims, legacyTokenValidator,
} from './service_account.ts';
import { mapObjectGetter } from './object_getter.ts';
import type { TokenResult } from './authenticator.ts';

type Obj = Record<string, unknown>;

const sa: Obj = { metadata: { name: 'app', namespace: 'ns', uid: 'sa-uid' } };
const pod: Obj = { metadata: { name: 'web', namespace: 'ns', uid: 'pod-uid' }, spec: { serviceAccountName: 'app', nodeName: 'n1' } };
const node: Obj = { metadata: { name: 'n1', uid: 'node-uid' } };
const secret: Obj = { metadata: { name: 'app-token', namespace: 'ns', uid: 'secret-uid' } };

let keyPromise: Promise<ServiceAccountKey> | undefined;
function key(): Promise<ServiceAccountKey> {
  return (keyPromise ??= loadServiceAccountKey(generateServiceAccountKeyPem()));
}

async function boundAuth(objects: Record<string, Obj>, now = new Date()): Promise<ServiceAccountTokenAuthenticator> {
  return new ServiceAccountTokenAuthenticator({
    issuers: [DEFAULT_ISSUER], keys: [await key()], implicitAudiences: [DEFAULT_ISSUER], validator: boundTokenValidator(mapObjectGetter(objects)), now: () => now,
  });
}

async function token(claims: Obj): Promise<string> {
  return new TokenSigner(await key()).sign(claims, DEFAULT_ISSUER);
}

const all = { 'serviceaccounts/ns/app': sa, 'pods/ns/web': pod, 'nodes//n1': node, 'secrets/ns/app-token': secret };

function user(r: TokenResult): { name: string; uid?: string; groups: readonly string[]; extra?: Readonly<Record<string, readonly string[]>> } {
  assert.equal(r.kind, 'authenticated', JSON.stringify(r));
  return (r as Extract<TokenResult, { kind: 'authenticated' }>).user;
}

describe('signing keys', () => {
  test('ECDSA and RSA keys get their algorithm and a kid from the public key', async () => {
    const ec = await key();
    assert.equal(ec.alg, 'ES256');
    assert.match(ec.kid, /^[\w-]{43}$/);
    assert.deepEqual(Object.keys(ec.jwk).slice(0, 4), ['use', 'kty', 'kid', 'alg']);
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const rsa = await loadServiceAccountKey(rsaPem);
    assert.equal(rsa.alg, 'RS256');
    assert.equal(rsa.jwk.kty, 'RSA');
    await assert.rejects(loadServiceAccountKey('nope'), /service account key is not a PEM private key/);
  });
});

describe('bound tokens', () => {
  test('a pod-bound token authenticates as the service account with pod, node and credential extras', async () => {
    const claims = boundTokenClaims({ serviceAccount: sa, pod, node, expirationSeconds: 3600, audiences: [DEFAULT_ISSUER], now: new Date() });
    assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iat', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    const u = user(await (await boundAuth(all)).authenticateToken(await token(claims), [DEFAULT_ISSUER]));
    assert.equal(u.name, 'system:serviceaccount:ns:app');
    assert.equal(u.uid, 'sa-uid');
    assert.deepEqual(u.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns']);
    assert.deepEqual(Object.keys(u.extra ?? {}), [
      'authentication.kubernetes.io/credential-id', 'authentication.kubernetes.io/node-name', 'authentication.kubernetes.io/node-uid',
      'authentication.kubernetes.io/pod-name', 'authentication.kubernetes.io/pod-uid',
    ]);
    assert.deepEqual(u.extra?.['authentication.kubernetes.io/credential-id'], [`JTI=${String(claims['jti'])}`]);
  });

  test('audience, expiry, not-before and leeway', async () => {
    const now = new Date('2025-01-01T12:00:00Z');
    const a = await boundAuth(all, now);
    const at = (offsetSec: number, audiences = [DEFAULT_ISSUER]) => token(boundTokenClaims({ serviceAccount: sa, expirationSeconds: 600, audiences, now: new Date(now.getTime() + offsetSec * 1000) }));
    assert.deepEqual(await a.authenticateToken(await at(0, ['vault']), [DEFAULT_ISSUER]), {
      kind: 'rejected', error: `token audiences ["vault"] is invalid for the target audiences ["${DEFAULT_ISSUER}"]`,
    });
    assert.equal((await a.authenticateToken(await at(0, ['vault']), ['vault'])).kind, 'authenticated');
    assert.deepEqual(await a.authenticateToken(await at(-700), [DEFAULT_ISSUER]), { kind: 'rejected', error: 'service account token has expired' });
    assert.equal((await a.authenticateToken(await at(-630), [DEFAULT_ISSUER])).kind, 'authenticated', 'within a minute of leeway');
    assert.deepEqual(await a.authenticateToken(await at(120), [DEFAULT_ISSUER]), { kind: 'rejected', error: 'service account token is not valid yet' });
  });

  test('a deleted or recreated ServiceAccount, Pod, Secret or Node invalidates the token', async () => {
    const forPod = await token(boundTokenClaims({ serviceAccount: sa, pod, node, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date() }));
    const forSecret = await token(boundTokenClaims({ serviceAccount: sa, secret, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date() }));
    const forNode = await token(boundTokenClaims({ serviceAccount: sa, node, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date() }));
    const without = (k: string) => Object.fromEntries(Object.entries(all).filter(([x]) => x !== k));
    const check = async (objects: Record<string, Obj>, t: string, error: string) => {
      assert.deepEqual(await (await boundAuth(objects)).authenticateToken(t, [DEFAULT_ISSUER]), { kind: 'rejected', error });
    };
    await check(without('serviceaccounts/ns/app'), forPod, 'serviceaccounts "app" not found');
    await check({ ...all, 'serviceaccounts/ns/app': { metadata: { ...sa['metadata'] as Obj, uid: 'new' } } }, forPod, 'service account UID (new) does not match claim (sa-uid)');
    await check({ ...all, 'serviceaccounts/ns/app': { metadata: { ...sa['metadata'] as Obj, deletionTimestamp: '2020-01-01T00:00:00Z' } } }, forPod, 'service account ns/app has been deleted');
    await check(without('pods/ns/web'), forPod, 'service account token has been invalidated');
    await check({ ...all, 'pods/ns/web': { metadata: { name: 'web', uid: 'other' } } }, forPod, 'pod UID (other) does not match service account pod ref claim (pod-uid)');
    await check(without('secrets/ns/app-token'), forSecret, 'service account token has been invalidated');
    await check(without('nodes//n1'), forNode, 'service account token has been invalidated');
    // With a pod binding the node is informational only.
    assert.equal((await (await boundAuth(without('nodes//n1'))).authenticateToken(forPod, [DEFAULT_ISSUER])).kind, 'authenticated');
  });

  test('a token signed by another key, or tampered with, is rejected; other issuers are not ours', async () => {
    const claims = boundTokenClaims({ serviceAccount: sa, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date() });
    const a = await boundAuth(all);
    const foreign = await new TokenSigner(await loadServiceAccountKey(generateServiceAccountKeyPem())).sign(claims, DEFAULT_ISSUER);
    assert.deepEqual(await a.authenticateToken(foreign, [DEFAULT_ISSUER]), { kind: 'rejected', error: 'invalid signature, no keys found' });
    const good = await token(claims);
    const [h, p, sig] = good.split('.') as [string, string, string];
    const body = JSON.parse(Buffer.from(p, 'base64url').toString()) as Obj;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...body, exp: (body['exp'] as number) + 1 })).toString('base64url')}.${sig}`;
    assert.deepEqual(await a.authenticateToken(tampered, [DEFAULT_ISSUER]), { kind: 'rejected', error: 'go-jose/go-jose: error in cryptographic primitive' });
    const otherIssuer = await new TokenSigner(await key()).sign(claims, 'https://elsewhere');
    assert.equal((await a.authenticateToken(otherIssuer, [DEFAULT_ISSUER])).kind, 'unrecognized');
    assert.equal((await a.authenticateToken('not.a.jwt', [DEFAULT_ISSUER])).kind, 'unrecognized');
  });
});

describe('legacy tokens', () => {
  async function legacy(objects: Record<string, Obj>): Promise<ServiceAccountTokenAuthenticator> {
    return new ServiceAccountTokenAuthenticator({
      issuers: [LEGACY_ISSUER], keys: [await key()], implicitAudiences: [DEFAULT_ISSUER], validator: legacyTokenValidator(mapObjectGetter(objects)),
    });
  }

  test('valid while the Secret holds exactly this token and the ServiceAccount is unchanged', async () => {
    const t = await new TokenSigner(await key()).sign(legacyTokenClaims(sa, secret));
    const stored = { ...secret, data: { token: Buffer.from(t).toString('base64') } };
    const objects = { 'serviceaccounts/ns/app': sa, 'secrets/ns/app-token': stored };
    const u = user(await (await legacy(objects)).authenticateToken(t, [DEFAULT_ISSUER]));
    assert.equal(u.name, 'system:serviceaccount:ns:app');
    assert.equal(u.extra, undefined);
    assert.deepEqual(await (await legacy({ 'serviceaccounts/ns/app': sa })).authenticateToken(t, [DEFAULT_ISSUER]), { kind: 'rejected', error: 'token has been invalidated' });
    assert.deepEqual(await (await legacy({ ...objects, 'secrets/ns/app-token': { ...secret, data: { token: 'eA==' } } })).authenticateToken(t, [DEFAULT_ISSUER]), { kind: 'rejected', error: 'token does not match secret' });
    const marked = { ...stored, metadata: { ...secret['metadata'] as Obj, labels: { 'kubernetes.io/legacy-token-invalid-since': '2024-01-01' } } };
    const r = await (await legacy({ ...objects, 'secrets/ns/app-token': marked })).authenticateToken(t, [DEFAULT_ISSUER]);
    assert.match(r.kind === 'rejected' ? r.error : '', /has been marked invalid/);
    assert.deepEqual(await (await legacy(objects)).authenticateToken(t, ['vault']), {
      kind: 'rejected', error: `token audiences ["${DEFAULT_ISSUER}"] is invalid for the target audiences ["vault"]`,
    });
  });
});
