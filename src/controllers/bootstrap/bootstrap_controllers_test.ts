// Unit tests of the token cleaner and the bootstrap signer over caches filled by hand and a
// recording client, with a fake clock for expiry.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import type { ControllerContext } from '../registry.ts';
import { BootstrapSigner } from './bootstrap_signer.ts';
import { TokenCleaner } from './token_cleaner.ts';
import { detachedSignature, tokenSecret } from './token_secret.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

const NOW = Date.parse('2025-01-01T00:00:00Z');

function context(): { ctx: ControllerContext; api: RecordingClient; clock: FakeClock } {
  const api = new RecordingClient();
  api.reply = (opts) => opts.body ?? {};
  const clock = new FakeClock(NOW);
  const ctx = fakeControllerContext(api, { clock, rootCaPem: 'CA' });
  return { ctx, api, clock };
}

function stored(token: string, o: Parameters<typeof tokenSecret>[1] & { expiredMs?: number } = {}) {
  const s = tokenSecret(token, { nowMs: NOW, ...o });
  s.metadata = { ...s.metadata, uid: `uid-${token.slice(0, 6)}` };
  if (o.expiredMs !== undefined) s.data!['expiration'] = Buffer.from(new Date(NOW - o.expiredMs).toISOString()).toString('base64');
  return s;
}

describe('token cleaner', () => {
  test('deletes an expired token with a UID precondition and leaves live ones until they are due', async () => {
    const { ctx, api, clock } = context();
    const c = new TokenCleaner(ctx);
    c.secrets.indexer.add(stored('aaaaaa.0123456789abcdef', { expiredMs: 1000 }));
    c.secrets.indexer.add(stored('bbbbbb.0123456789abcdef', { ttlMs: 60_000 }));
    c.secrets.indexer.add(stored('cccccc.0123456789abcdef'));
    await c.sync('bootstrap-token-aaaaaa');
    await c.sync('bootstrap-token-bbbbbb');
    await c.sync('bootstrap-token-cccccc');
    assert.equal(api.calls.length, 1);
    assert.equal(api.calls[0]!.method, 'DELETE');
    assert.equal(api.calls[0]!.path, '/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa');
    assert.deepEqual(api.calls[0]!.body?.preconditions, { uid: 'uid-aaaaaa' });
    assert.equal(c.queue.len(), 0, 'the live token waits in the delaying queue');
    clock.step(60_000);
    assert.equal(c.queue.len(), 1, 'and comes back when it expires');
    await c.dispose();
  });
});

describe('bootstrap signer', () => {
  test('signs cluster-info with each signing token and drops signatures of tokens that are gone', async () => {
    const { ctx, api } = context();
    const s = new BootstrapSigner(ctx);
    const content = 'apiVersion: v1\nkind: Config\n';
    s.configMaps.indexer.add({ metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig: content, 'jws-kubeconfig-zzzzzz': 'stale' } });
    s.secrets.indexer.add(stored('aaaaaa.0123456789abcdef'));
    s.secrets.indexer.add(stored('bbbbbb.0123456789abcdef', { usages: ['authentication'] }));
    s.secrets.indexer.add(stored('cccccc.0123456789abcdef', { expiredMs: 1 }));
    await s.sync();
    assert.equal(api.calls.length, 1);
    assert.equal(api.calls[0]!.method, 'PUT');
    assert.deepEqual(api.calls[0]!.body.data, { kubeconfig: content, 'jws-kubeconfig-aaaaaa': detachedSignature(content, 'aaaaaa', '0123456789abcdef') });
    s.configMaps.indexer.add({ metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: api.calls[0]!.body.data });
    await s.sync();
    assert.equal(api.calls.length, 1, 'nothing to change');
    await s.dispose();
  });
});
