// Unit tests of bootstrap token authentication against their kube-system Secrets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BootstrapTokenAuthenticator, bootstrapTokenGroups, parseBootstrapToken } from './bootstrap_token.ts';
import { mapObjectGetter } from './object_getter.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function secret(id: string, data: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])), ...extra,
  };
}

const now = new Date('2025-06-01T00:00:00Z');
const valid = { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' };

function auth(objects: Record<string, Record<string, unknown>>): BootstrapTokenAuthenticator {
  return new BootstrapTokenAuthenticator(mapObjectGetter(objects), () => now);
}

describe('bootstrap tokens', () => {
  test('parse only <6>.<16> lower-case alphanumerics', () => {
    assert.deepEqual(parseBootstrapToken('abcdef.0123456789abcdef'), { id: 'abcdef', secret: '0123456789abcdef' });
    assert.equal(parseBootstrapToken('ABCDEF.0123456789abcdef'), undefined);
    assert.equal(parseBootstrapToken('abcdef.0123'), undefined);
  });

  test('a valid token is system:bootstrap:<id> in system:bootstrappers plus sorted extra groups', async () => {
    const a = auth({ 'secrets/kube-system/bootstrap-token-abcdef': secret('abcdef', { ...valid, 'auth-extra-groups': 'system:bootstrappers:z, system:bootstrappers:a', expiration: '2025-07-01T00:00:00Z' }) });
    const r = await a.authenticateToken('abcdef.0123456789abcdef');
    assert.equal(r.kind, 'authenticated');
    if (r.kind !== 'authenticated') return;
    assert.equal(r.user.name, 'system:bootstrap:abcdef');
    assert.deepEqual(r.user.groups, ['system:bootstrappers', 'system:bootstrappers:a', 'system:bootstrappers:z']);
  });

  test('wrong secret, expiry, missing usage, wrong type, deletion and bad groups are not recognized', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['wrong secret', secret('abcdef', { ...valid, 'token-secret': 'ffffffffffffffff' })],
      ['expired', secret('abcdef', { ...valid, expiration: '2025-05-01T00:00:00Z' })],
      ['unparsable expiry', secret('abcdef', { ...valid, expiration: 'tomorrow' })],
      ['no usage', secret('abcdef', { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef' })],
      ['wrong type', secret('abcdef', valid, { type: 'Opaque' })],
      ['being deleted', { ...secret('abcdef', valid), metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system', deletionTimestamp: '2025-01-01T00:00:00Z' } }],
      ['bad group', secret('abcdef', { ...valid, 'auth-extra-groups': 'system:masters' })],
    ];
    for (const [what, obj] of cases) {
      const r = await auth({ 'secrets/kube-system/bootstrap-token-abcdef': obj }).authenticateToken('abcdef.0123456789abcdef');
      assert.equal(r.kind, 'unrecognized', what);
    }
    assert.equal((await auth({}).authenticateToken('abcdef.0123456789abcdef')).kind, 'unrecognized', 'no secret');
  });

  test('extra groups must be system:bootstrappers:*', () => {
    assert.deepEqual(bootstrapTokenGroups(secret('x', { 'auth-extra-groups': 'system:masters' })), { error: 'bootstrap group "system:masters" is invalid (must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$)' });
  });
});
