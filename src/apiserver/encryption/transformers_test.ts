// Transformers: known-answer vectors computed outside this code (Python's cryptography package and
// libsodium), round trips, upstream's error texts, and prefix selection across rotated keys.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AESCBC_PREFIX, AESGCM_PREFIX, SECRETBOX_PREFIX, TransformError, aesCBCTransformer, aesGCMTransformer, identityTransformer,
  prefixTransformers, secretboxTransformer, type Transformer,
} from './transformers.ts';

// Key 00 01 … 1f; the plaintext and the additional data (the storage key) the vectors were made with.
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const PLAIN = Buffer.from('{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s1","namespace":"default"},"data":{"password":"aHVudGVyMg=="}}');
const AD = Buffer.from('/registry/secrets/default/s1');
// IV a0…af, then AES-256-CBC with PKCS#7 padding.
const CBC = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeafda54e881eafae68f34aa2ddb00e56b52372721a55a897321873ece06f719cdc86edf6e6f0765b15f45e8e9b2c532d312936be442378adaaca513a5e69d39b986dc4b5fe3187aadd2f96da4e2543484288e0b397ae07e8358b705b88d4bfe9a2f1504d9761e8550f22114fbe59b5e782d0a2e4f7c6a76d54c030dde3029be9c33', 'hex');
// Nonce b0…bb, then AES-256-GCM ciphertext and tag over PLAIN with AD.
const GCM = Buffer.from('b0b1b2b3b4b5b6b7b8b9babbe27731c282a9996565abf2c1bf38fce0a81e28a27c78ea472da7ed9f7eb8d06034690f180ebbd2d9c13ad42b1e83f997430c7aa2390160837ca840126afa4d9ac1985fd76f9e5cf87db9c43feb6a96133bbcebd6c90c14ffcf805ae04a2a7cc80cd21a79f4f5575e083b7e9bc4a38de7308b95ea0e029f52b6995339c2ece6ed983e850416', 'hex');
// Nonce c0…d7, then libsodium crypto_secretbox_easy (tag, then XSalsa20 ciphertext).
const BOX = Buffer.from('c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7fe144dffcebd1b47b588d39dc133d1ede6d5e8e034d752d5197bb937e217b357b237823fefba353b058c86533f346a1f77e92737344bc110f0646bf622a6d7d3979c4522f541710d0bd0d0ed5cc5fab1589489b23c3e45c39c1155de630260a69b0e06751b3bb184e66cd7b33c9db8813e9db1d79312b1e257adb0a28b7b0a9dcec2e6488c', 'hex');

function text(t: Transformer, stored: Uint8Array, ad = AD): string {
  return Buffer.from(t.fromStorage(stored, ad).data).toString();
}

describe('known-answer vectors', () => {
  test('AES-CBC decrypts a value encrypted elsewhere', () => assert.equal(text(aesCBCTransformer(KEY), CBC), PLAIN.toString()));
  test('AES-GCM decrypts a value encrypted elsewhere with the storage key as additional data', () => assert.equal(text(aesGCMTransformer(KEY), GCM), PLAIN.toString()));
  test('secretbox decrypts a libsodium box', () => assert.equal(text(secretboxTransformer(KEY), BOX), PLAIN.toString()));

  test('a full upstream-format value reads through the provider and key prefixes', () => {
    const t = prefixTransformers('no matching prefix found', [
      { prefix: Buffer.from(AESCBC_PREFIX), transformer: prefixTransformers('no matching key was found for the provided AES transformer', [{ prefix: Buffer.from('key1:'), transformer: aesCBCTransformer(KEY) }]) },
    ]);
    assert.equal(text(t, Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), CBC])), PLAIN.toString());
  });
});

describe('round trips and layout', () => {
  for (const [name, make, overhead] of [
    ['aescbc', aesCBCTransformer, 16], ['aesgcm', aesGCMTransformer, 12 + 16], ['secretbox', secretboxTransformer, 24 + 16],
  ] as const) {
    test(`${name} round-trips and randomizes its nonce`, () => {
      const t = make(KEY);
      const a = t.toStorage(PLAIN, AD);
      const b = t.toStorage(PLAIN, AD);
      assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
      assert.equal(text(t, a), PLAIN.toString());
      const padded = name === 'aescbc' ? PLAIN.length + 16 - (PLAIN.length % 16) : PLAIN.length;
      assert.equal(a.length, padded + overhead);
      assert.equal(text(t, t.toStorage(new Uint8Array(0), AD)), '');
    });
  }

  test('AES accepts 16 and 24 byte keys too', () => {
    for (const n of [16, 24]) {
      const t = aesGCMTransformer(KEY.subarray(0, n));
      assert.equal(text(t, t.toStorage(PLAIN, AD)), PLAIN.toString());
    }
  });
});

describe('failures carry upstream messages', () => {
  const other = Buffer.alloc(32, 7);
  const cases: Array<[string, () => unknown, string]> = [
    ['GCM under another storage key', () => aesGCMTransformer(KEY).fromStorage(GCM, Buffer.from('/registry/secrets/default/s2')), 'cipher: message authentication failed'],
    ['GCM with another key', () => aesGCMTransformer(other).fromStorage(GCM, AD), 'cipher: message authentication failed'],
    ['GCM too short', () => aesGCMTransformer(KEY).fromStorage(GCM.subarray(0, 5), AD), 'the stored data was shorter than the required size'],
    ['CBC with another key', () => aesCBCTransformer(other).fromStorage(CBC, AD), /^invalid (PKCS7 data \(empty or not padded\)|padding on input)$/.source],
    ['CBC not block aligned', () => aesCBCTransformer(KEY).fromStorage(CBC.subarray(0, 40), AD), 'the stored data is not a multiple of the block size'],
    ['CBC too short', () => aesCBCTransformer(KEY).fromStorage(CBC.subarray(0, 8), AD), 'the stored data was shorter than the required size'],
    ['secretbox with another key', () => secretboxTransformer(other).fromStorage(BOX, AD), 'output array was not large enough for encryption'],
    ['secretbox too short', () => secretboxTransformer(KEY).fromStorage(BOX.subarray(0, 30), AD), 'the stored data was shorter than the required size'],
    ['identity reading ciphertext', () => identityTransformer.fromStorage(Buffer.from('k8s:enc:aescbc:v1:k:xyz'), AD), 'identity transformer tried to read encrypted data'],
  ];
  for (const [name, fn, msg] of cases) {
    test(name, () => {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof TransformError);
        if (msg.startsWith('^')) assert.match(err.message, new RegExp(msg));
        else assert.equal(err.message, msg);
        return true;
      });
    });
  }

  test('a secretbox key must be 32 bytes', () => assert.throws(() => secretboxTransformer(KEY.subarray(0, 16)), { message: 'expected key size 32 for secretbox provider, got 16' }));
});

describe('prefixTransformers', () => {
  const key1 = aesCBCTransformer(KEY);
  const key2 = aesCBCTransformer(Buffer.alloc(32, 9));
  const cbc = (...keys: Array<[string, Transformer]>) => ({
    prefix: Buffer.from(AESCBC_PREFIX),
    transformer: prefixTransformers('no matching key was found for the provided AES transformer', keys.map(([n, t]) => ({ prefix: Buffer.from(`${n}:`), transformer: t }))),
  });
  const identity = { prefix: new Uint8Array(0), transformer: identityTransformer };

  test('writes with the first, reads with any, and marks other providers stale', () => {
    const oldT = prefixTransformers('no matching prefix found', [cbc(['key1', key1]), identity]);
    const newT = prefixTransformers('no matching prefix found', [cbc(['key2', key2], ['key1', key1]), identity]);
    const old = oldT.toStorage(PLAIN, AD);
    assert.ok(Buffer.from(old).toString('latin1').startsWith('k8s:enc:aescbc:v1:key1:'));
    const read = newT.fromStorage(old, AD);
    assert.equal(Buffer.from(read.data).toString(), PLAIN.toString());
    assert.ok(Buffer.from(newT.toStorage(PLAIN, AD)).toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:'));
    // Plain data written before encryption was configured still reads through identity.
    assert.equal(Buffer.from(newT.fromStorage(PLAIN, AD).data).toString(), PLAIN.toString());
    assert.equal(newT.fromStorage(PLAIN, AD).stale, true);
  });

  test('identity first still reads encrypted values (decrypting away from encryption)', () => {
    const t = prefixTransformers('no matching prefix found', [identity, cbc(['key1', key1])]);
    const enc = prefixTransformers('x', [cbc(['key1', key1])]).toStorage(PLAIN, AD);
    assert.equal(Buffer.from(t.fromStorage(enc, AD).data).toString(), PLAIN.toString());
    assert.deepEqual(Buffer.from(t.toStorage(PLAIN, AD)), PLAIN);
  });

  test('unknown keys and providers are reported', () => {
    const t = prefixTransformers('no matching prefix found', [cbc(['key1', key1])]);
    const byKey2 = prefixTransformers('x', [cbc(['key2', key2])]).toStorage(PLAIN, AD);
    assert.throws(() => t.fromStorage(byKey2, AD), { message: 'no matching key was found for the provided AES transformer' });
    assert.throws(() => t.fromStorage(Buffer.concat([Buffer.from(SECRETBOX_PREFIX + 'k:'), BOX]), AD), { message: 'no matching prefix found' });
    assert.throws(() => t.fromStorage(Buffer.concat([Buffer.from(AESGCM_PREFIX + 'k:'), GCM]), AD), { message: 'no matching prefix found' });
  });

  test('the same key name in two providers: a failing first match does not stop the search', () => {
    const t = prefixTransformers('no matching prefix found', [cbc(['k', key2]), cbc(['k', key1])]);
    // The fixed vector keeps this deterministic: random CBC garbage has valid padding now and then.
    const enc = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:k:'), CBC]);
    assert.equal(Buffer.from(t.fromStorage(enc, AD).data).toString(), PLAIN.toString());
  });
});
