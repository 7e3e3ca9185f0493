// Small checks shared by the in-process drivers (memory, sqlite) so they agree on edge cases:
// which revision a read is served at, list options, byte order of keys, the "closed" fault.
import { CompactedError, FutureRevisionError, StorageError, StorageErrorCode } from './types.ts';
import type { ListOptions } from './types.ts';
import { decodeContinue } from './continue_token.ts';

/** The fault every call on a closed store reports. */
export function closedError(driver: string): StorageError {
  return new StorageError(StorageErrorCode.Closed, `${driver} store is closed`);
}

/** The revision a read is served at: `requested` (0/absent = current), checked against history. */
export function readRevision(requested: number | undefined, current: number, compacted: number): number {
  if (requested === undefined || requested === 0) return current;
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new RangeError(`revision must be a non-negative integer, got ${requested}`);
  }
  if (requested > current) throw new FutureRevisionError(requested, current);
  if (requested < compacted) throw new CompactedError(requested, compacted);
  return requested;
}

/** A list's snapshot revision, first key bound and page size, from its options. */
export interface ListPlan {
  readonly revision: number;
  /** Keys must be strictly greater than this (a continue token's last key), if set. */
  readonly afterKey: string | undefined;
  /** 0 = no limit. */
  readonly limit: number;
}

/** Resolves list options (continue token, revision, limit) against the store's current state. */
export function planList(prefix: string, opts: ListOptions | undefined, current: number, compacted: number): ListPlan {
  const limit = opts?.limit ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  if (opts?.continue !== undefined && opts.continue !== '') {
    const token = decodeContinue(opts.continue, prefix);
    return { revision: readRevision(token.revision, current, compacted), afterKey: token.afterKey, limit };
  }
  return { revision: readRevision(opts?.revision, current, compacted), afterKey: undefined, limit };
}

/** Compares keys in UTF-8 byte order (etcd's and SQLite's order), not UTF-16 code-unit order. */
export function compareKeys(a: string, b: string): number {
  // Below U+D800 code-unit order equals code-point (= UTF-8 byte) order; past it surrogate pairs
  // would sort before U+E000..U+FFFF, so those keys take the slow, exact path.
  if (!HIGH.test(a) && !HIGH.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const HIGH = /[\ud800-\uffff]/;

/** The smallest string greater than every key under `prefix` (which ends in "/"). */
export function prefixUpperBound(prefix: string): string {
  // "/" + 1 is "0"; unlike prefixEnd this stays valid UTF-8, so SQLite compares it bytewise.
  return prefix.slice(0, -1) + '0';
}
