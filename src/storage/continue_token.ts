// The opaque continue token of paginated lists: the snapshot revision plus the last key returned,
// base64url-encoded JSON, like upstream's storage continue key. Every driver uses this codec.
import { StorageError, StorageErrorCode } from './types.ts';

/** Decoded continue token. */
export interface ContinueToken {
  /** Snapshot revision of the list. */
  readonly revision: number;
  /** Next page starts strictly after this key. */
  readonly afterKey: string;
  /** The prefix the list was made under (a token is only valid for that prefix). */
  readonly prefix: string;
}

/** Encodes a token. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: token.revision, k: token.afterKey, p: token.prefix })).toString('base64url');
}

/** Decodes a token made for `prefix`; throws InvalidContinue on anything else. */
export function decodeContinue(raw: string, prefix: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a token this server issued');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a token this server issued');
  const o = parsed as Record<string, unknown>;
  if (o['v'] !== 1 || typeof o['rv'] !== 'number' || !Number.isSafeInteger(o['rv']) || (o['rv'] as number) < 1
    || typeof o['k'] !== 'string' || typeof o['p'] !== 'string') {
    throw invalid('not a token this server issued');
  }
  if (o['p'] !== prefix || !(o['k'] as string).startsWith(prefix)) throw invalid('token was issued for another list');
  return { revision: o['rv'] as number, afterKey: o['k'] as string, prefix };
}

function invalid(why: string): StorageError {
  return new StorageError(StorageErrorCode.InvalidContinue, `invalid continue token: ${why}`);
}
