// Small accessors and system-field helpers for ObjectMeta on plain JSON objects.
import { randomUUID, randomInt } from 'node:crypto';
import type { KObject } from './strategy.ts';

/** metadata of an object, created when absent. */
export function meta(obj: KObject): Record<string, unknown> {
  let m = obj['metadata'];
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    m = {};
    obj['metadata'] = m;
  }
  return m as Record<string, unknown>;
}

/** A string field of metadata, or "". */
export function metaString(obj: KObject, field: string): string {
  const m = obj['metadata'];
  if (typeof m !== 'object' || m === null) return '';
  const v = (m as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : '';
}

/** Go's time.Time RFC3339 at second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime serialization (6 fractional digits). */
export function rfc3339Micro(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** A new UID. */
export function newUID(): string {
  return randomUUID();
}

const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters, the base cut to 58 characters, as upstream. */
export function generateName(base: string): string {
  const cut = base.length > 58 ? base.slice(0, 58) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += GEN_ALPHABET[randomInt(GEN_ALPHABET.length)];
  return cut + s;
}

/** Deep equality of JSON values (members set to undefined count as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  return membersEqual(a as Record<string, unknown>, b as Record<string, unknown>, undefined);
}

// Walks the members without building key arrays: this runs on whole objects on every update.
function membersEqual(ao: Record<string, unknown>, bo: Record<string, unknown>, skip: ReadonlySet<string> | undefined): boolean {
  let na = 0;
  for (const k in ao) {
    if (skip?.has(k)) continue;
    const v = ao[k];
    if (v === undefined) continue;
    na++;
    if (!jsonEqual(v, bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) {
    if (skip?.has(k)) continue;
    if (bo[k] !== undefined) nb++;
  }
  return na === nb;
}

const NOT_SPEC = new Set(['metadata', 'status', 'apiVersion', 'kind']);

/** Whether everything but metadata and status (what a generation bump looks at) is equal. */
export function specEqual(a: KObject, b: KObject): boolean {
  return membersEqual(a, b, NOT_SPEC);
}
