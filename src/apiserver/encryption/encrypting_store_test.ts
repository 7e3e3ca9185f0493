// The encrypting store: ciphertext at rest under configured prefixes, plain values through every
// Store method, key rotation with rewriteAll, typed errors for unreadable values, and the storage
// conformance suite run through it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runConformance } from '../../storage/conformance.ts';
import { MemoryStore } from '../../storage/drivers/memory.ts';
import { ConflictError, StorageErrorCode, type Store, type WatchEvent } from '../../storage/types.ts';
import { parseEncryptionConfig } from './config.ts';
import { EncryptingStore, TransformStorageError, encryptingStore, rewriteAll } from './encrypting_store.ts';

const KEY1 = Buffer.alloc(32, 1).toString('base64');
const KEY2 = Buffer.alloc(32, 2).toString('base64');
const HEAD = 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n';

function config(providers: string, resources = '[secrets]') {
  return parseEncryptionConfig(`${HEAD}resources:\n  - resources: ${resources}\n    providers:\n${providers}`);
}
const cbc1 = config(`      - aescbc: {keys: [{name: key1, secret: ${KEY1}}]}\n      - identity: {}\n`);
const cbc21 = config(`      - aescbc: {keys: [{name: key2, secret: ${KEY2}}, {name: key1, secret: ${KEY1}}]}\n      - identity: {}\n`);
const cbc2only = config(`      - aescbc: {keys: [{name: key2, secret: ${KEY2}}]}\n`);

const enc = (s: string) => Buffer.from(s);
const dec = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();
const SECRET = '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s1","namespace":"default"},"data":{"password":"aHVudGVyMg=="}}';

async function raw(store: Store, key: string): Promise<string> {
  return Buffer.from((await store.get(key)).kv!.value).toString('latin1');
}

runConformance('encrypting store (aesgcm over memory)', async () => ({
  store: encryptingStore(new MemoryStore({ compactionWindowMs: 0 }), config(`      - aesgcm: {keys: [{name: k, secret: ${KEY1}}]}\n`), {
    keyResource: () => ({ group: '', resource: 'secrets' }),
  }),
  cleanup: async () => undefined,
}));

describe('EncryptingStore', () => {
  test('encrypts configured resources at rest and hands plain values to callers', async () => {
    const inner = new MemoryStore({ compactionWindowMs: 0 });
    const s = encryptingStore(inner, cbc1);
    try {
      const r = await s.create('/registry/secrets/default/s1', enc(SECRET));
      await s.create('/registry/configmaps/default/c1', enc('{"kind":"ConfigMap"}'));
      const stored = await raw(inner, '/registry/secrets/default/s1');
      assert.ok(stored.startsWith('k8s:enc:aescbc:v1:key1:'), stored.slice(0, 30));
      assert.ok(!stored.includes('aHVudGVyMg') && !stored.includes('Secret'));
      assert.equal(await raw(inner, '/registry/configmaps/default/c1'), '{"kind":"ConfigMap"}');
      assert.equal(dec((await s.get('/registry/secrets/default/s1')).kv?.value), SECRET);
      assert.equal(dec((await s.get('/registry/secrets/default/s1', { revision: r.revision })).kv?.value), SECRET);
      assert.deepEqual((await s.list('/registry/secrets/')).kvs.map((kv) => dec(kv.value)), [SECRET]);
      assert.equal(await s.count('/registry/secrets/'), 1);
      assert.equal(s.driver, 'memory');
    } finally {
      await s.close();
    }
  });

  test('a conflict carries the current value decrypted, and delete returns the plain previous value', async () => {
    const s = encryptingStore(new MemoryStore({ compactionWindowMs: 0 }), cbc1);
    try {
      const k = '/registry/secrets/ns/x';
      const r1 = await s.create(k, enc('{"v":1}'));
      await s.update(k, enc('{"v":2}'), r1.revision);
      await assert.rejects(s.update(k, enc('{"v":3}'), r1.revision), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(dec(err.current.value), '{"v":2}');
        return true;
      });
      await assert.rejects(s.delete(k, r1.revision), (err: unknown) => err instanceof ConflictError && dec(err.current.value) === '{"v":2}');
      assert.equal(dec((await s.delete(k)).prevKv.value), '{"v":2}');
    } finally {
      await s.close();
    }
  });

  test('watch events arrive decrypted', async () => {
    const s = encryptingStore(new MemoryStore({ compactionWindowMs: 0 }), cbc1);
    const got: WatchEvent[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const w = s.watch('/registry/secrets/', { fromRevision: await s.currentRevision() }, {
      onEvents: (evs) => {
        got.push(...evs);
        if (got.length === 3) done();
      },
      onError: (err) => assert.fail(String(err)),
    });
    try {
      const k = '/registry/secrets/ns/w';
      const r = await s.create(k, enc('{"a":1}'));
      await s.update(k, enc('{"a":2}'), r.revision);
      await s.delete(k);
      await all;
      assert.deepEqual(got.map((e) => [e.type, dec(e.kv.value), e.prevKv ? dec(e.prevKv.value) : null]), [
        ['ADDED', '{"a":1}', null], ['MODIFIED', '{"a":2}', '{"a":1}'], ['DELETED', '{"a":2}', '{"a":2}'],
      ]);
    } finally {
      w.dispose();
      await s.close();
    }
  });

  test('rotation: a new first key reads old values, rewriteAll moves them, then the old key can go', async () => {
    const inner = new MemoryStore({ compactionWindowMs: 0 });
    const before = encryptingStore(inner, cbc1);
    for (let i = 0; i < 7; i++) await before.create(`/registry/secrets/ns/s${i}`, enc(`{"i":${i}}`));
    await inner.create('/registry/secrets/ns/plain', enc('{"plain":true}'));

    const during = encryptingStore(inner, cbc21);
    assert.equal(dec((await during.get('/registry/secrets/ns/s3')).kv?.value), '{"i":3}');
    assert.equal(during.isStale('/registry/secrets/ns/s3'), true, 'read with a key that is no longer first');
    await during.get('/registry/secrets/ns/plain');
    assert.equal(during.isStale('/registry/secrets/ns/plain'), true, 'read through identity, which is not first');
    assert.equal(before.isStale('/registry/secrets/ns/s3'), false);
    const result = await rewriteAll(during, '/registry/secrets/', { pageSize: 3 });
    assert.deepEqual(result, { rewritten: 8, skipped: 0 });
    for (const kv of (await inner.list('/registry/secrets/')).kvs) {
      assert.ok(Buffer.from(kv.value).toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:'), kv.key);
      assert.equal(during.isStale(kv.key), false, kv.key);
    }

    const after = encryptingStore(inner, cbc2only);
    assert.deepEqual((await after.list('/registry/secrets/')).kvs.map((kv) => dec(kv.value)).sort(),
      ['{"i":0}', '{"i":1}', '{"i":2}', '{"i":3}', '{"i":4}', '{"i":5}', '{"i":6}', '{"plain":true}']);
    await inner.close();
  });

  test('unreadable values fail with a Corrupt storage error naming the key', async () => {
    const inner = new MemoryStore({ compactionWindowMs: 0 });
    await encryptingStore(inner, cbc1).create('/registry/secrets/ns/a', enc('{}'));
    const wrong = encryptingStore(inner, cbc2only);
    const check = (err: unknown): boolean => {
      assert.ok(err instanceof TransformStorageError);
      assert.equal(err.code, StorageErrorCode.Corrupt);
      assert.equal(err.message, 'unable to transform key "/registry/secrets/ns/a": no matching key was found for the provided AES transformer');
      return true;
    };
    await assert.rejects(wrong.get('/registry/secrets/ns/a'), check);
    await assert.rejects(wrong.list('/registry/secrets/'), check);
    // Without any configuration for secrets, ciphertext is refused rather than served.
    const none = encryptingStore(inner, config('      - identity: {}\n', '[configmaps]'));
    await assert.rejects(none.get('/registry/secrets/ns/a'), { message: 'unable to transform key "/registry/secrets/ns/a": identity transformer tried to read encrypted data' });
    await inner.close();
  });

  test('an unreadable value ends a watch with the error', async () => {
    const inner = new MemoryStore({ compactionWindowMs: 0 });
    const wrong = encryptingStore(inner, cbc2only);
    const error = new Promise<unknown>((resolve) => {
      void wrong.currentRevision().then((rev) => {
        wrong.watch('/registry/secrets/', { fromRevision: rev }, { onEvents: () => assert.fail('no events expected'), onError: resolve });
        void encryptingStore(inner, cbc1).create('/registry/secrets/ns/b', enc('{}'));
      });
    });
    const err = await error;
    assert.ok(err instanceof TransformStorageError);
    await inner.close();
  });

  test('keys map to resources as the registry stores them', async () => {
    const inner = new MemoryStore({ compactionWindowMs: 0 });
    const cfg = parseEncryptionConfig(`${HEAD}resources:
  - resources: ["*.apps", crontabs.stable.example.com, "events"]
    providers: [{secretbox: {keys: [{name: sb, secret: ${KEY1}}]}}]
`);
    const s = new EncryptingStore(inner, cfg);
    const keys = {
      '/registry/deployments/ns/d': true, '/registry/statefulsets/ns/st': true, '/registry/stable.example.com/crontabs/ns/c': true,
      '/registry/events/ns/e': true, '/registry/pods/ns/p': false, '/registry/jobs/ns/j': false, '/registry/other.example.com/crontabs/ns/c': false,
      '/registry/namespaces/ns': false, '/compact_rev_key': false,
    };
    for (const k of Object.keys(keys)) await s.create(k, enc('{"x":1}'));
    for (const [k, encrypted] of Object.entries(keys)) {
      assert.equal((await raw(inner, k)).startsWith('k8s:enc:secretbox:v1:sb:'), encrypted, k);
      assert.equal(dec((await s.get(k)).kv?.value), '{"x":1}', k);
    }
    assert.equal(s.inner, inner);
    await s.close();
  });
});
