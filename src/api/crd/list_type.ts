// The x-kubernetes-list-type invariants of custom resources (apiextensions' schema/listtype): items
// of a set are unique, items of a map list are objects with unique key tuples.

import { childOf, duplicate, invalid, Path, type FieldError } from '../field_errors.ts';
import { sortGoStrings } from '../go_strings.ts';
import { asObject, type Structural } from './structural.ts';
import { goSharpV } from './values.ts';

/** A canonical text of a value for uniqueness (json.Marshal for compounds, Go equality for scalars). */
function identity(v: unknown): string {
  if (v === null || typeof v !== 'object') return `s:${typeof v}:${String(v)}`;
  return `c:${canonicalJson(v)}`;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const m = asObject(v);
  if (m) return `{${sortGoStrings(Object.keys(m)).map((k) => `${JSON.stringify(k)}:${canonicalJson(m[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Indices of the second occurrence of each repeated value (upstream reports each once). */
function nonUnique(values: readonly unknown[]): number[] {
  if (values.length <= 1) return [];
  const seen = new Map<string, number>();
  const out: number[] = [];
  values.forEach((x, i) => {
    const id = identity(x);
    const times = seen.get(id) ?? 0;
    if (times === 1) out.push(i);
    seen.set(id, times + 1);
  });
  return out;
}

function shown(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? goSharpV(v) : v;
}

function indexPath(p: Path | null, i: number): Path {
  return p === null ? new Path('', String(i), null) : p.index(i);
}

function validateListMap(p: Path | null, s: Structural, obj: readonly unknown[]): FieldError[] {
  for (let i = 0; i < obj.length; i++) {
    const x = obj[i];
    if (x !== null && !asObject(x)) return [invalid(indexPath(p, i), shown(x), 'must be an object for an array of list-type map')];
  }
  if (obj.length <= 1) return [];
  const unspecified = { unspecified: true };
  if (s.listMapKeys.length === 1) {
    const keyField = s.listMapKeys[0]!;
    const keys = obj.map((x) => {
      const m = asObject(x);
      return m && keyField in m ? m[keyField] : unspecified;
    });
    return nonUnique(keys.map((k) => (k === unspecified ? '\u0000unspecified' : k))).map((i) =>
      duplicate(indexPath(p, i), goSharpV(keys[i] === unspecified ? {} : { [keyField]: keys[i] })));
  }
  const keys = obj.map((x) => {
    const m = asObject(x) ?? {};
    const key: Record<string, unknown> = {};
    for (const k of s.listMapKeys) if (k in m) key[k] = m[k];
    return key;
  });
  return nonUnique(keys).map((i) => duplicate(indexPath(p, i), goSharpV(keys[i])));
}

function validateArray(p: Path | null, s: Structural, obj: readonly unknown[]): FieldError[] {
  const errs: FieldError[] = [];
  if (s.listType === 'set') {
    for (const i of nonUnique(obj)) errs.push(duplicate(indexPath(p, i), shown(obj[i])));
  } else if (s.listType === 'map') {
    errs.push(...validateListMap(p, s, obj));
  }
  if (s.items) obj.forEach((x, i) => errs.push(...validateValue(indexPath(p, i), s.items!, x)));
  return errs;
}

function validateValue(p: Path | null, s: Structural, obj: unknown): FieldError[] {
  if (Array.isArray(obj)) return validateArray(p, s, obj);
  const m = asObject(obj);
  return m ? validateListSetsAndMaps(p, s, m) : [];
}

/** ValidateListSetsAndMaps(nil, s, obj). */
export function validateListSetsAndMaps(p: Path | null, s: Structural | undefined, obj: Record<string, unknown>): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  const ap = s.additionalProperties;
  if (ap !== undefined && ap !== true) {
    for (const [k, v] of Object.entries(obj)) errs.push(...validateValue(p === null ? new Path('', k, null) : p.key(k), ap, v));
  }
  if (s.properties) {
    for (const [k, v] of Object.entries(obj)) {
      const sub = s.properties.get(k);
      if (sub) errs.push(...validateValue(childOf(p, k), sub, v));
    }
  }
  return errs;
}

/**
 * For each new item of a list-type map, the old item with the same key values, if any (the first
 * such): how ratcheting and transition rules find an item's previous state.
 */
export function correlateByMapKeys(keys: readonly string[], items: readonly unknown[], old: readonly unknown[]): Array<{ value: unknown } | undefined> {
  const keyOf = (v: unknown): string | undefined => {
    const m = asObject(v);
    return m ? JSON.stringify(keys.map((k) => m[k] ?? null)) : undefined;
  };
  const byKey = new Map<string, unknown>();
  for (const o of old) {
    const k = keyOf(o);
    if (k !== undefined && !byKey.has(k)) byKey.set(k, o);
  }
  return items.map((v) => {
    const k = keyOf(v);
    return k !== undefined && byKey.has(k) ? { value: byKey.get(k) } : undefined;
  });
}
