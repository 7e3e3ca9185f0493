// RFC 6902 JSON Patch (through fast-json-patch) and RFC 7386 JSON Merge Patch over plain JSON
// values. Pure: inputs are never modified; failures are PatchErrors with the library's message.
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { copyJson } from '../json_copy.ts';

const { applyPatch } = fastJsonPatch;

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A patch failure (bad operation, missing path, failed test). */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies an RFC 6902 patch (an array of operations) to a copy of `doc` (fast-json-patch). */
export function jsonPatch(doc: unknown, ops: unknown[]): unknown {
  for (const op of ops) {
    if (!isObject(op)) throw new PatchError('patch operations must be objects');
  }
  try {
    // validate=true checks every operation first; mutateDocument=false leaves `doc` untouched.
    return applyPatch(structuredClone(doc), ops as Operation[], true, false).newDocument;
  } catch (err) {
    const e = err as { name?: string; message?: string; operation?: { op?: string; path?: string } };
    if (e.name === 'TEST_OPERATION_FAILED') throw new PatchError(`testing value ${e.operation?.path ?? ''} failed: test failed`);
    const first = String(e.message ?? err).split('\n')[0]!;
    throw new PatchError(first);
  }
}

/**
 * Applies an RFC 7386 merge patch to a copy of `target`: members the patch does not touch are
 * shared with `target`, values taken from the patch are copies.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copyJson(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  const keys = Object.keys(patch);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = patch[k];
    if (v === null) delete out[k];
    else setMember(out, k, mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

/** out[k] = value, as an own member even for "__proto__" (JSON.parse makes it one; "=" would set the prototype). */
function setMember(out: Record<string, unknown>, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  else out[k] = value;
}

