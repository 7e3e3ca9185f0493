// Authentication beyond client certificates, driven by kubectl: static token users, bootstrap
// tokens, `kubectl create token` and the token used for real requests, Secret-based tokens, and
// the refusals (expired, forged, wrong audience, deleted ServiceAccount) with upstream's 401.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadServiceAccountKey, generateServiceAccountKeyPem } from '../../../src/apiserver/authn/service_account_key.ts';
import { TokenSigner, boundTokenClaims, DEFAULT_ISSUER } from '../../../src/apiserver/authn/service_account.ts';
import { createCertificateAuthority, issueCertificate } from '../../../src/base/pki.ts';
import { eventually, ok, startSecurityServer, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;

before(async () => {
  s = await startSecurityServer({ tokenFile: 'alice-token,alice,1001,"devs,ops"\nbob-token,bob,1002\n' });
  await ok(s, ['create', 'namespace', 'team-a']);
  await ok(s, ['create', 'namespace', 'team-b']);
  await ok(s, ['create', 'serviceaccount', 'reader', '-n', 'team-a']);
  await ok(s, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'team-a']);
  await ok(s, ['create', 'rolebinding', 'reader-binding', '--role=pod-reader', '--serviceaccount=team-a:reader', '-n', 'team-a']);
});

after(async () => {
  await s?.stop();
});

function whoami(stdout: string): { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> } {
  return (JSON.parse(stdout) as { status: { userInfo: never } }).status.userInfo;
}

describe('static tokens (--token-auth-file)', () => {
  test('a token user is who the file says, with its groups', async () => {
    const me = whoami(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: { token: 'alice-token' } }));
    assert.equal(me.username, 'alice');
    assert.equal(me.uid, '1001');
    assert.deepEqual(me.groups, ['devs', 'ops', 'system:authenticated']);
    const bob = whoami(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: { token: 'bob-token' } }));
    assert.deepEqual(bob.groups, ['system:authenticated']);
  });

  test('a token user gets only what RBAC grants', async () => {
    const denied = await s.kubectl(['get', 'pods', '-n', 'team-a'], { as: { token: 'alice-token' } });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /User "alice" cannot list resource "pods" in API group "" in the namespace "team-a"/);
    await ok(s, ['create', 'rolebinding', 'devs-view', '--clusterrole=view', '--group=devs', '-n', 'team-a']);
    await eventually('the binding to take effect', async () => ((await s.kubectl(['get', 'pods', '-n', 'team-a'], { as: { token: 'alice-token' } })).code === 0 ? true : undefined));
  });

  test('an unknown token is a 401, even where anonymous requests would be allowed', async () => {
    const r = await s.request('GET', '/api/v1/namespaces', { as: { token: 'nobody' } });
    assert.equal(r.status, 401);
    assert.equal(r.json()['reason'], 'Unauthorized');
    assert.equal(r.json()['message'], 'Unauthorized');
    const k = await s.kubectl(['get', 'pods'], { as: { token: 'nobody' } });
    assert.match(k.stderr, /You must be logged in to the server \(Unauthorized\)/);
  });
});

function bootstrapSecret(id: string, secret: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    stringData: { 'token-id': id, 'token-secret': secret, 'usage-bootstrap-authentication': 'true', ...extra },
  });
}

describe('bootstrap tokens', () => {
  test('a bootstrap token authenticates as system:bootstrap:<id> with its extra groups', async () => {
    await ok(s, ['apply', '-f', '-'], { input: bootstrapSecret('abcdef', '0123456789abcdef', { 'auth-extra-groups': 'system:bootstrappers:worker' }) });
    const me = whoami(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: { token: 'abcdef.0123456789abcdef' } }));
    assert.equal(me.username, 'system:bootstrap:abcdef');
    assert.deepEqual(me.groups, ['system:bootstrappers', 'system:bootstrappers:worker', 'system:authenticated']);
  });

  test('expired, unmarked or mismatched bootstrap tokens are refused', async () => {
    await ok(s, ['apply', '-f', '-'], { input: bootstrapSecret('expire', '0123456789abcdef', { expiration: '2020-01-01T00:00:00Z' }) });
    await ok(s, ['apply', '-f', '-'], { input: JSON.stringify({ ...JSON.parse(bootstrapSecret('noauth', '0123456789abcdef')), stringData: { 'token-id': 'noauth', 'token-secret': '0123456789abcdef' } }) });
    for (const token of ['expire.0123456789abcdef', 'noauth.0123456789abcdef', 'abcdef.ffffffffffffffff']) {
      assert.equal((await s.request('GET', '/api', { as: { token } })).status, 401, token);
    }
  });
});

describe('service-account tokens', () => {
  test('kubectl create token gives a token that lists pods in its namespace and nowhere else', async () => {
    const token = (await ok(s, ['create', 'token', 'reader', '-n', 'team-a'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const pods = await s.kubectl(['get', 'pods', '-n', 'team-a'], { as: { token } });
    assert.equal(pods.code, 0, pods.stderr);
    const other = await s.kubectl(['get', 'pods', '-n', 'team-b'], { as: { token } });
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /User "system:serviceaccount:team-a:reader" cannot list resource "pods" in API group "" in the namespace "team-b"/);
    const me = whoami(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: { token } }));
    assert.equal(me.username, 'system:serviceaccount:team-a:reader');
    assert.deepEqual(me.groups, ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated']);
    assert.match(me.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);
    const sa = JSON.parse(await ok(s, ['get', 'sa', 'reader', '-n', 'team-a', '-o', 'json'])) as { metadata: { uid: string } };
    assert.equal(me.uid, sa.metadata.uid);
  });

  test('TokenRequest validates the duration and answers the expiry', async () => {
    const short = await s.kubectl(['create', 'token', 'reader', '-n', 'team-a', '--duration=1m']);
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
    const missing = await s.kubectl(['create', 'token', 'ghost', '-n', 'team-a']);
    assert.match(missing.stderr, /serviceaccounts "ghost" not found/);
    const r = await s.request('POST', '/api/v1/namespaces/team-a/serviceaccounts/reader/token', { body: JSON.stringify({ spec: { expirationSeconds: 7200 } }) });
    assert.equal(r.status, 201, r.body);
    const tr = r.json<{ kind: string; spec: { audiences: string[]; expirationSeconds: number }; status: { token: string; expirationTimestamp: string } }>();
    assert.equal(tr.kind, 'TokenRequest');
    assert.deepEqual(tr.spec.audiences, [DEFAULT_ISSUER]);
    const left = Date.parse(tr.status.expirationTimestamp) - Date.now();
    assert.ok(left > 7190_000 && left <= 7200_000, `expiry in ${left} ms`);
  });

  test('a token for another audience, an expired token and a forged token are 401', async () => {
    const other = (await ok(s, ['create', 'token', 'reader', '-n', 'team-a', '--audience=vault'])).trim();
    assert.equal((await s.request('GET', '/api/v1/namespaces/team-a/pods', { as: { token: other } })).status, 401);
    const review = await s.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: other, audiences: ['vault'] } }),
    });
    const st = review.json<{ status: { authenticated: boolean; user: { username: string }; audiences: string[] } }>().status;
    assert.equal(st.authenticated, true);
    assert.equal(st.user.username, 'system:serviceaccount:team-a:reader');
    assert.deepEqual(st.audiences, ['vault']);

    const sa = JSON.parse(await ok(s, ['get', 'sa', 'reader', '-n', 'team-a', '-o', 'json'])) as Record<string, unknown>;
    const key = await loadServiceAccountKey(await readFile(s.serviceAccountKeyFile, 'utf8'));
    const claims = boundTokenClaims({ serviceAccount: sa, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date(Date.now() - 3600_000) });
    const expired = await new TokenSigner(key).sign(claims, DEFAULT_ISSUER);
    assert.equal((await s.request('GET', '/api/v1/namespaces/team-a/pods', { as: { token: expired } })).status, 401);
    const expiredReview = await s.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: JSON.stringify({ spec: { token: expired } }) });
    assert.equal(expiredReview.json<{ status: { error: string } }>().status.error, 'service account token has expired');

    const fresh = boundTokenClaims({ serviceAccount: sa, expirationSeconds: 600, audiences: [DEFAULT_ISSUER], now: new Date() });
    const stranger = await new TokenSigner(await loadServiceAccountKey(generateServiceAccountKeyPem())).sign(fresh, DEFAULT_ISSUER);
    assert.equal((await s.request('GET', '/api/v1/namespaces/team-a/pods', { as: { token: stranger } })).status, 401);
    const good = await new TokenSigner(key).sign(fresh, DEFAULT_ISSUER);
    const [h, , sig] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...fresh, iss: DEFAULT_ISSUER, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url')}.${sig}`;
    assert.equal((await s.request('GET', '/api/v1/namespaces/team-a/pods', { as: { token: tampered } })).status, 401);
    assert.equal((await s.request('GET', '/api/v1/namespaces/team-a/pods', { as: { token: good } })).status, 200);
  });

  test("a deleted ServiceAccount's tokens stop working, and a recreated one does not revive them", async () => {
    await ok(s, ['create', 'serviceaccount', 'temp', '-n', 'team-a']);
    const token = (await ok(s, ['create', 'token', 'temp', '-n', 'team-a'])).trim();
    assert.equal((await s.request('GET', '/api', { as: { token } })).status, 200);
    await ok(s, ['delete', 'serviceaccount', 'temp', '-n', 'team-a']);
    await eventually('the token to be refused', async () => ((await s.request('GET', '/api', { as: { token } })).status === 401 ? true : undefined));
    await ok(s, ['create', 'serviceaccount', 'temp', '-n', 'team-a']);
    assert.equal((await s.request('GET', '/api', { as: { token } })).status, 401);
  });

  test('a pod-bound token dies with its pod', async () => {
    await ok(s, ['run', 'web', '--image=busybox', '-n', 'team-a', '--overrides={"spec":{"serviceAccountName":"reader"}}']);
    const uid = (await ok(s, ['get', 'pod', 'web', '-n', 'team-a', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const token = (await ok(s, ['create', 'token', 'reader', '-n', 'team-a', '--bound-object-kind=Pod', '--bound-object-name=web', `--bound-object-uid=${uid}`])).trim();
    const me = whoami(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: { token } }));
    assert.deepEqual(me.extra?.['authentication.kubernetes.io/pod-name'], ['web']);
    assert.deepEqual(me.extra?.['authentication.kubernetes.io/pod-uid'], [uid]);
    const wrongUid = await s.kubectl(['create', 'token', 'reader', '-n', 'team-a', '--bound-object-kind=Pod', '--bound-object-name=web', '--bound-object-uid=nope']);
    assert.match(wrongUid.stderr, /the UID in the bound object reference \(nope\) does not match the UID in record/);
    await ok(s, ['create', 'serviceaccount', 'other', '-n', 'team-a']);
    const otherSa = await s.kubectl(['create', 'token', 'other', '-n', 'team-a', '--bound-object-kind=Pod', '--bound-object-name=web']);
    assert.match(otherSa.stderr, /cannot bind token for serviceaccount "other" to pod running with different serviceaccount name\./);
    await ok(s, ['delete', 'pod', 'web', '-n', 'team-a', '--grace-period=0', '--force']);
    await eventually('the token to be refused', async () => ((await s.request('GET', '/api', { as: { token } })).status === 401 ? true : undefined));
  });

  test('a Secret-based token is filled in and works until the Secret is deleted', async () => {
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
        metadata: { name: 'reader-token', namespace: 'team-a', annotations: { 'kubernetes.io/service-account.name': 'reader' } },
      }),
    });
    const b64 = await eventually('the token to be filled', async () => {
      const t = (await ok(s, ['get', 'secret', 'reader-token', '-n', 'team-a', '-o', 'jsonpath={.data.token}'])).trim();
      return t === '' ? undefined : t;
    });
    const token = Buffer.from(b64, 'base64').toString('utf8');
    const ca = (await ok(s, ['get', 'secret', 'reader-token', '-n', 'team-a', '-o', 'jsonpath={.data.ca\\.crt}'])).trim();
    assert.equal(Buffer.from(ca, 'base64').toString('utf8'), s.ca.certPem);
    const pods = await s.kubectl(['get', 'pods', '-n', 'team-a'], { as: { token } });
    assert.equal(pods.code, 0, pods.stderr);
    await ok(s, ['delete', 'secret', 'reader-token', '-n', 'team-a']);
    await eventually('the token to be refused', async () => ((await s.request('GET', '/api', { as: { token } })).status === 401 ? true : undefined));
  });
});

describe('service-account issuer discovery', () => {
  test('the OpenID configuration and JWKS are served to service accounts and verify issued tokens', async () => {
    const token = (await ok(s, ['create', 'token', 'reader', '-n', 'team-a'])).trim();
    // system:service-account-issuer-discovery is bound to system:serviceaccounts; anonymous needs a binding (discovery_test.ts)
    assert.equal((await s.request('GET', '/.well-known/openid-configuration', { as: { anonymous: true } })).status, 401);
    const conf = await s.request('GET', '/.well-known/openid-configuration', { as: { token } });
    assert.equal(conf.status, 200);
    const doc = conf.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(doc), ['issuer', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported']);
    assert.equal(doc['issuer'], DEFAULT_ISSUER);
    assert.match(String(doc['jwks_uri']), /^https:\/\/127\.0\.0\.1:\d+\/openid\/v1\/jwks$/);
    assert.deepEqual(doc['id_token_signing_alg_values_supported'], ['ES256']);
    const jwks = await s.request('GET', '/openid/v1/jwks', { as: { token } });
    assert.equal(jwks.status, 200);
    const set = jwks.json<{ keys: Array<Record<string, unknown>> }>();
    assert.equal(set.keys.length, 1);
    assert.equal(set.keys[0]!['use'], 'sig');
    assert.equal('d' in set.keys[0]!, false, 'no private parts');
    const { payload } = await jwtVerify(token, createLocalJWKSet(set as never), { issuer: DEFAULT_ISSUER, audience: DEFAULT_ISSUER });
    assert.equal(payload.sub, 'system:serviceaccount:team-a:reader');
  });
});

describe('anonymous requests', () => {
  test('without --anonymous-auth they are 401; with it RBAC decides for system:anonymous', async () => {
    assert.equal((await s.request('GET', '/api/v1/namespaces', { as: { anonymous: true } })).status, 401);
    const open = await startSecurityServer({ anonymousAuth: true });
    try {
      const r = await open.request('GET', '/api/v1/namespaces', { as: { anonymous: true } });
      assert.equal(r.status, 403);
      assert.match(r.json<{ message: string }>().message, /User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope/);
      const me = await open.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { as: { anonymous: true }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) });
      assert.equal(me.status, 403);
      assert.equal((await open.request('GET', '/api', { as: { token: 'bogus' } })).status, 401);
      // A certificate from another CA is a failed credential, not an anonymous request.
      const foreignCa = await createCertificateAuthority({ commonName: 'other-ca', days: 1 });
      const foreign = await issueCertificate({ ca: foreignCa, commonName: 'admin', organizations: ['system:masters'], usages: 'client', days: 1 });
      assert.equal((await open.request('GET', '/api', { as: { cert: foreign } })).status, 401);
      assert.equal((await s.request('GET', '/api', { as: { cert: foreign } })).status, 401);
    } finally {
      await open.stop();
    }
  });
});
