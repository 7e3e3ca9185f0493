// The FieldsV1 encoding of field sets in metadata.managedFields: one JSON object per set node whose
// keys are serialized path elements ("f:name", "k:{...}", "v:...", "i:N") and "." when the node is
// itself a member. Key order and escaping follow upstream so stored objects read the same.
import { FieldSet, compareElements, fieldElement, indexElement, keyElement, valueElement, type PathElement } from './fieldpath.ts';

/** A FieldsV1 object as stored in metadata.managedFields[].fieldsV1. */
export type FieldsV1 = { [key: string]: FieldsV1 };

/** FieldsV1 that cannot be read (a malformed key); the message names the key. */
export class FieldsV1Error extends Error {
  readonly code = 'FieldsV1Invalid';
}

/** The FieldsV1 object of a set, keys in upstream's order. */
export function toFieldsV1(set: FieldSet): FieldsV1 {
  return emit(set, false);
}

function emit(set: FieldSet, includeSelf: boolean): FieldsV1 {
  const out: FieldsV1 = {};
  const members = set.sortedMembers();
  const children = set.sortedChildren();
  if (includeSelf && (members.length > 0 || children.length > 0)) out['.'] = {};
  let mi = 0;
  let ci = 0;
  while (mi < members.length || ci < children.length) {
    const m = members[mi];
    const c = children[ci];
    if (m && c && m.id === c.pe.id) {
      out[m.id] = emit(c.set, true);
      mi++;
      ci++;
    } else if (m && (!c || compareElements(m, c.pe) < 0)) {
      out[m.id] = {};
      mi++;
    } else {
      out[c!.pe.id] = emit(c!.set, false);
      ci++;
    }
  }
  return out;
}

const keyCache = new Map<string, PathElement | null>();

/** Parses one serialized path element; null for an unknown element type (skipped, as upstream). */
export function parsePathElement(key: string): PathElement | null {
  const hit = keyCache.get(key);
  if (hit !== undefined) return hit;
  const pe = parseUncached(key);
  if (keyCache.size > 50_000) keyCache.clear();
  keyCache.set(key, pe);
  return pe;
}

function parseUncached(key: string): PathElement | null {
  if (key.length < 2) throw new FieldsV1Error(`key must be 2 characters long: ${key}`);
  if (key[1] !== ':') throw new FieldsV1Error(`missing colon: ${key}`);
  const rest = key.slice(2);
  switch (key[0]) {
    case 'f':
      return fieldElement(rest);
    case 'v':
      return valueElement(parseJSON(rest, key));
    case 'k': {
      const obj = parseJSON(rest, key);
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FieldsV1Error(`invalid key element: ${key}`);
      return keyElement(Object.entries(obj as Record<string, unknown>));
    }
    case 'i': {
      if (!/^[+-]?\d+$/.test(rest)) throw new FieldsV1Error(`invalid index element: ${key}`);
      return indexElement(Number(rest));
    }
    default:
      return null;
  }
}

function parseJSON(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FieldsV1Error(`invalid path element: ${key}`);
  }
}

/** The set a FieldsV1 object encodes; throws FieldsV1Error when a key is malformed. */
export function fromFieldsV1(json: unknown): FieldSet {
  if (json === null || json === undefined) return new FieldSet();
  if (typeof json !== 'object' || Array.isArray(json)) throw new FieldsV1Error('fieldsV1 must be an object');
  const { children } = read(json as Record<string, unknown>);
  return children ?? new FieldSet();
}

function read(obj: Record<string, unknown>): { children: FieldSet | undefined; isMember: boolean } {
  let children: FieldSet | undefined;
  let isMember = false;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (key === '.') {
      isMember = true;
      continue;
    }
    const pe = parsePathElement(key);
    if (pe === null) continue;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FieldsV1Error(`value of ${key} must be an object`);
    const sub = read(v as Record<string, unknown>);
    if (sub.isMember) (children ??= new FieldSet()).addMember(pe);
    if (sub.children) {
      children ??= new FieldSet();
      const node = children.descend(pe);
      node.members = sub.children.members;
      node.children = sub.children.children;
    }
  }
  if (!children) isMember = true;
  return { children, isMember };
}
