// Validation of keys and values shared by every driver, so that each rejects bad input the same
// way and before touching its backend.
import { StorageError, StorageErrorCode } from './types.ts';

/** Longest key accepted (etcd's default request limit is far larger; paths are short). */
export const MAX_KEY_BYTES = 4096;
/** Largest value accepted: etcd's default max request size is 1.5 MiB; the apiserver caps bodies at 3 MiB. */
export const MAX_VALUE_BYTES = 3 * 1024 * 1024 + 64 * 1024;

/** Throws InvalidKey unless `key` is an absolute, printable path without NUL or "//" and not ending in "/". */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey(key, 'must be a non-empty string');
  if (!key.startsWith('/')) throw invalidKey(key, 'must start with "/"');
  if (key.endsWith('/')) throw invalidKey(key, 'must not end with "/"');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalidKey(key, `must be at most ${MAX_KEY_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(key)) throw invalidKey(key, 'must not contain control characters');
  if (key.includes('//')) throw invalidKey(key, 'must not contain an empty segment');
}

/** Throws InvalidKey unless `prefix` is "/" or an absolute path ending in "/". */
export function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || !prefix.endsWith('/')) {
    throw new StorageError(StorageErrorCode.InvalidKey, `invalid prefix ${JSON.stringify(prefix)}: must start and end with "/"`);
  }
  if (prefix !== '/') validateKey(prefix.slice(0, -1));
}

/** Throws InvalidValue unless `value` is bytes within the size limit. */
export function validateValue(key: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) {
    throw new StorageError(StorageErrorCode.InvalidValue, `value of ${key} must be bytes`, key);
  }
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw new StorageError(StorageErrorCode.InvalidValue, `value of ${key} is ${value.byteLength} bytes, over the ${MAX_VALUE_BYTES} byte limit`, key);
  }
}

/** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = b.subarray(0, i + 1);
      out[i] = out[i]! + 1;
      return out.toString('latin1');
    }
  }
  return '\u0000';
}

function invalidKey(key: unknown, why: string): StorageError {
  return new StorageError(StorageErrorCode.InvalidKey, `invalid key ${JSON.stringify(key)}: ${why}`, typeof key === 'string' ? key : undefined);
}
