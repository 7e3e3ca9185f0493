// Value transformers for encryption at rest (upstream's storage/value and value/encrypt/*): AES-CBC,
// AES-GCM, secretbox and identity, chosen by prefix. The bytes they write are exactly upstream's,
// so a store written by kube-apiserver with the same keys reads here and the other way round.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

/** Turns stored bytes into plain bytes and back; `authenticatedData` is the storage key. */
export interface Transformer {
  /** Decodes a stored value; `stale` when it was not written by the first (current) provider. */
  fromStorage(data: Uint8Array, authenticatedData: Uint8Array): { data: Uint8Array; stale: boolean };
  /** Encodes a value for storage. */
  toStorage(data: Uint8Array, authenticatedData: Uint8Array): Uint8Array;
}

/** A transformer responsible for values that start with `prefix` (which it strips and adds). */
export interface PrefixTransformer {
  readonly prefix: Uint8Array;
  readonly transformer: Transformer;
}

/** A value no configured provider can read (wrong key, tampered data, unknown prefix). */
export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

export const AESCBC_PREFIX = 'k8s:enc:aescbc:v1:';
export const AESGCM_PREFIX = 'k8s:enc:aesgcm:v1:';
export const SECRETBOX_PREFIX = 'k8s:enc:secretbox:v1:';
const ENCRYPTED_PREFIX = Buffer.from('k8s:enc:');

const BLOCK = 16;
const GCM_NONCE = 12;
const GCM_TAG = 16;
const SECRETBOX_NONCE = 24;

function aesName(key: Uint8Array, mode: 'cbc' | 'gcm'): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new TransformError(`crypto/aes: invalid key size ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** AES-CBC with a random IV in front and PKCS#7 padding (aes.NewCBCTransformer). */
export function aesCBCTransformer(key: Uint8Array): Transformer {
  const name = aesName(key, 'cbc');
  return {
    toStorage(data) {
      const iv = randomBytes(BLOCK);
      const c = createCipheriv(name, key, iv);
      return Buffer.concat([iv, c.update(data), c.final()]);
    },
    fromStorage(stored) {
      if (stored.length < BLOCK) throw new TransformError('the stored data was shorter than the required size');
      const iv = stored.subarray(0, BLOCK);
      const body = stored.subarray(BLOCK);
      if (body.length % BLOCK !== 0) throw new TransformError('the stored data is not a multiple of the block size');
      // Padding is checked by hand so the errors read as upstream's.
      const d = createDecipheriv(name, key, iv).setAutoPadding(false);
      const plain = Buffer.concat([d.update(body), d.final()]);
      const pad = plain.length > 0 ? plain[plain.length - 1]! : 0;
      if (pad === 0 || pad > plain.length) throw new TransformError('invalid PKCS7 data (empty or not padded)');
      for (let i = plain.length - pad; i < plain.length; i++) {
        if (plain[i] !== pad) throw new TransformError('invalid padding on input');
      }
      return { data: plain.subarray(0, plain.length - pad), stale: false };
    },
  };
}

/** AES-GCM with a random 12-byte nonce in front and the storage key as additional data (aes.NewGCMTransformer). */
export function aesGCMTransformer(key: Uint8Array): Transformer {
  const name = aesName(key, 'gcm') as 'aes-256-gcm';
  return {
    toStorage(data, ad) {
      const nonce = randomBytes(GCM_NONCE);
      const c = createCipheriv(name, key, nonce);
      c.setAAD(ad);
      const body = Buffer.concat([c.update(data), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]);
    },
    fromStorage(stored, ad) {
      if (stored.length < GCM_NONCE) throw new TransformError('the stored data was shorter than the required size');
      if (stored.length < GCM_NONCE + GCM_TAG) throw new TransformError('cipher: message authentication failed');
      const nonce = stored.subarray(0, GCM_NONCE);
      const body = stored.subarray(GCM_NONCE, stored.length - GCM_TAG);
      const d = createDecipheriv(name, key, nonce);
      d.setAAD(ad);
      d.setAuthTag(stored.subarray(stored.length - GCM_TAG));
      try {
        return { data: Buffer.concat([d.update(body), d.final()]), stale: false };
      } catch {
        throw new TransformError('cipher: message authentication failed');
      }
    },
  };
}

/** XSalsa20-Poly1305 (NaCl secretbox) with a random 24-byte nonce in front; no additional data, as upstream. */
export function secretboxTransformer(key: Uint8Array): Transformer {
  if (key.length !== nacl.secretbox.keyLength) throw new TransformError(`expected key size 32 for secretbox provider, got ${key.length}`);
  const k = new Uint8Array(key);
  return {
    toStorage(data) {
      const nonce = randomBytes(SECRETBOX_NONCE);
      const box = nacl.secretbox(new Uint8Array(data), new Uint8Array(nonce), k);
      return Buffer.concat([nonce, box]);
    },
    fromStorage(stored) {
      if (stored.length < nacl.secretbox.overheadLength + SECRETBOX_NONCE) throw new TransformError('the stored data was shorter than the required size');
      const nonce = new Uint8Array(stored.subarray(0, SECRETBOX_NONCE));
      const plain = nacl.secretbox.open(new Uint8Array(stored.subarray(SECRETBOX_NONCE)), nonce, k);
      // Upstream's wording for a failed open.
      if (!plain) throw new TransformError('output array was not large enough for encryption');
      return { data: Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength), stale: false };
    },
  };
}

/** Stores values as they are, but refuses to hand out encrypted bytes as plain (identity.NewEncryptCheckTransformer). */
export const identityTransformer: Transformer = {
  toStorage: (data) => data,
  fromStorage(data) {
    if (startsWith(data, ENCRYPTED_PREFIX)) throw new TransformError('identity transformer tried to read encrypted data');
    return { data, stale: false };
  },
};

/**
 * Tries transformers by prefix in order and writes with the first (value.NewPrefixTransformers):
 * a failing match does not end the search, since rotated-away keys share a provider's prefix.
 */
export function prefixTransformers(noMatch: string, list: readonly PrefixTransformer[]): Transformer {
  if (list.length === 0) throw new Error('prefixTransformers needs at least one transformer');
  return {
    toStorage(data, ad) {
      const first = list[0]!;
      return Buffer.concat([first.prefix, first.transformer.toStorage(data, ad)]);
    },
    fromStorage(data, ad) {
      const errs: string[] = [];
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        if (!startsWith(data, t.prefix)) continue;
        try {
          const r = t.transformer.fromStorage(data.subarray(t.prefix.length), ad);
          return { data: r.data, stale: r.stale || i !== 0 };
        } catch (err) {
          // An identity match that fails only means the data is encrypted: let the others try.
          if (t.prefix.length === 0) continue;
          const msg = err instanceof Error ? err.message : String(err);
          if (!errs.includes(msg)) errs.push(msg);
        }
      }
      if (errs.length === 1) throw new TransformError(errs[0]!);
      if (errs.length > 1) throw new TransformError(`[${errs.join(', ')}]`);
      throw new TransformError(noMatch);
    },
  };
}
