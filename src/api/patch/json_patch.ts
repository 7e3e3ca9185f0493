// RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch over plain JSON values. Pure: inputs are
// never modified; errors carry messages in the spirit of evanphx/json-patch, which upstream uses.

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A patch failure (bad operation, missing path, failed test). */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string') throw new PatchError('missing or invalid "path"');
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`invalid array index: ${token}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i >= arr.length)) throw new PatchError(`array index out of bounds: ${i}`);
  return i;
}

function parentOf(doc: unknown, tokens: string[], path: string): unknown {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isObject(cur) && t in cur) cur = cur[t];
    else throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function getAt(doc: unknown, tokens: string[], path: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isObject(cur) && t in cur) cur = cur[t];
    else throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function addAt(doc: unknown, tokens: string[], value: unknown, path: string): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new PatchError(`doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw new PatchError(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** Applies an RFC 6902 patch (an array of operations) to a copy of `doc`. */
export function jsonPatch(doc: unknown, ops: unknown[]): unknown {
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObject(raw)) throw new PatchError('patch operations must be objects');
    const op = raw['op'];
    const path = raw['path'] as string;
    const tokens = parsePointer(path);
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError('missing value');
        out = addAt(out, tokens, clone(raw['value']), path);
        break;
      case 'remove':
        out = removeAt(out, tokens, path);
        break;
      case 'replace':
        if (!('value' in raw)) throw new PatchError('missing value');
        getAt(out, tokens, path);
        if (tokens.length === 0) out = clone(raw['value']);
        else {
          const parent = parentOf(out, tokens, path);
          const last = tokens[tokens.length - 1]!;
          if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = clone(raw['value']);
          else (parent as Record<string, unknown>)[last] = clone(raw['value']);
        }
        break;
      case 'move': {
        const from = raw['from'] as string;
        const ft = parsePointer(from);
        const v = getAt(out, ft, from);
        out = removeAt(out, ft, from);
        out = addAt(out, tokens, v, path);
        break;
      }
      case 'copy': {
        const from = raw['from'] as string;
        out = addAt(out, tokens, clone(getAt(out, parsePointer(from), from)), path);
        break;
      }
      case 'test': {
        const v = getAt(out, tokens, path);
        if (!deepEqual(v, raw['value'])) throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(op)}`);
    }
  }
  return out;
}

/** Applies an RFC 7386 merge patch to a copy of `target`. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
