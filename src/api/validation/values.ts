// Read-only accessors for validating plain (defaulted) JSON the way Go sees the decoded struct:
// a missing or mistyped field reads as its zero value, and "semantic" equality treats nil and
// empty slices/maps (and absent and zero scalars) alike, as apimachinery's equality does.

/** A decoded JSON object. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** v as an object, or undefined (a nil pointer). */
export function obj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

/** v as an object, or {} (a struct value's zero value). */
export function objOr(v: unknown): Obj {
  return isObj(v) ? v : {};
}

/** Follows object keys; undefined as soon as a step is not an object. */
export function objAt(v: unknown, ...keys: string[]): Obj | undefined {
  let cur: unknown = v;
  for (const k of keys) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return obj(cur);
}

/** v as a string, "" otherwise. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** v as a number, 0 otherwise. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** A pointer-valued number: undefined when nil. */
export function optNum(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A pointer-valued string: undefined when nil. */
export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** True for a set pointer / present field (not null, not undefined). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** v as an array, [] otherwise. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The elements of an array of structs; non-objects read as zero-valued structs. */
export function objList(v: unknown): Obj[] {
  return list(v).map(objOr);
}

/** The elements of a []string; non-strings read as "". */
export function strList(v: unknown): string[] {
  return list(v).map(str);
}

/** A map[string]string; non-string values read as "". */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(objOr(v))) out[k] = str(val);
  return out;
}

/** len(x) for a Go string, slice or map. */
export function len(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.length;
  if (isObj(v)) return Object.keys(v).length;
  return 0;
}

function isZeroValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.values(v).every(isZeroValue);
  return false;
}

/**
 * apiequality.Semantic.DeepEqual on decoded JSON: nil, empty and zero-valued fields compare equal
 * (Go keeps no difference between an omitted and a zero value field).
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isZeroValue(a) && isZeroValue(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    const la = list(a);
    const lb = list(b);
    return la.length === lb.length && la.every((x, i) => semanticEqual(x, lb[i]));
  }
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Exact equality of decoded JSON (member order aside; undefined members count as absent, as in JSON). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Obj, bo = b as Obj;
  let na = 0;
  for (const k in ao) {
    const v = ao[k];
    if (v === undefined) continue;
    na++;
    if (!jsonEqual(v, bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) if (bo[k] !== undefined) nb++;
  return na === nb;
}

/** A deep copy of plain JSON. */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
