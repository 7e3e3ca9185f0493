// Bootstrap token Secrets and the cluster-info JWS, checked against upstream's published vectors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detachedSignature, generateToken, isExpired, msUntilExpiry, parseToken, secretValue, tokenOf, tokenSecret } from './token_secret.ts';

describe('bootstrap token secrets', () => {
  test('the detached JWS matches upstream for content, empty content and an empty secret', () => {
    const content = 'Hello from the other side. I must have called a thousand times.';
    assert.equal(detachedSignature(content, 'joshua', 'my voice is my passcode'), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8');
    assert.equal(detachedSignature('', 'joshua', 'my voice is my passcode'), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk');
    assert.equal(detachedSignature(content, 'joshua', ''), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8');
  });

  test('a token Secret carries kubeadm\'s keys, and reads back', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const s = tokenSecret('abcdef.0123456789abcdef', { ttlMs: 3_600_000, description: 'd', groups: ['system:bootstrappers:tkube:default-node-token'], nowMs: now });
    assert.equal(s.metadata?.name, 'bootstrap-token-abcdef');
    assert.equal(s.metadata?.namespace, 'kube-system');
    assert.equal(s.type, 'bootstrap.kubernetes.io/token');
    assert.deepEqual(Object.keys(s.data!).sort(), ['auth-extra-groups', 'description', 'expiration', 'token-id', 'token-secret', 'usage-bootstrap-authentication', 'usage-bootstrap-signing']);
    assert.equal(secretValue(s, 'expiration'), '2025-01-01T01:00:00Z');
    assert.deepEqual(tokenOf(s), { id: 'abcdef', secret: '0123456789abcdef' });
    assert.equal(msUntilExpiry(s, now), 3_600_000);
    assert.equal(isExpired(s, now + 3_600_000), true);
    assert.equal(isExpired(tokenSecret('abcdef.0123456789abcdef'), now), false, 'no ttl: never');
  });

  test('bad tokens, usages and groups are refused with the reason', () => {
    assert.throws(() => tokenSecret('ABCDEF.0123456789abcdef'), /does not match the format/);
    assert.throws(() => tokenSecret('abcdef.0123456789abcdef', { usages: ['root'] }), /invalid bootstrap token usage "root"/);
    assert.throws(() => tokenSecret('abcdef.0123456789abcdef', { groups: ['system:masters'] }), /bootstrap group "system:masters" is invalid/);
    assert.equal(isExpired({ data: { expiration: Buffer.from('tomorrow').toString('base64') } }, 0), true, 'unparsable counts as expired');
    assert.equal(parseToken('abc.def'), undefined);
    assert.ok(parseToken(generateToken()));
  });
});
