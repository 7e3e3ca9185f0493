// Small helpers the defaulters use to walk plain JSON objects the way Go's decoder sees them:
// null and absent are both a nil pointer, and a value field holds its zero value ("" / 0 / false).
import { copyJson } from '../json_copy.ts';

/** A decoded JSON object. */
export type JsonObject = Record<string, unknown>;

/** Mutates one decoded object in place; never throws on malformed input (validation reports that). */
export type Defaulter = (obj: JsonObject) => void;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A nil pointer (or a missing map/slice/struct) after decoding. */
export function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Go's zero value of a scalar field: nil, "", 0 or false. */
export function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false;
}

/** len(x) == 0 for a Go string, slice or map (nil included). */
export function isEmptyLen(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** obj[key] when it is an object, else undefined. */
export function child(obj: unknown, key: string): JsonObject | undefined {
  if (!isObject(obj)) return undefined;
  const v = obj[key];
  return isObject(v) ? v : undefined;
}

/** Follows a dotted path of object keys; undefined as soon as one step is not an object. */
export function at(obj: unknown, path: string): JsonObject | undefined {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    cur = child(cur, key);
    if (cur === undefined) return undefined;
  }
  return isObject(cur) ? cur : undefined;
}

/**
 * obj[key] as an object, creating {} when it is nil. Used for Go struct-valued fields, which
 * always exist; a value of the wrong type is left alone (undefined is returned).
 */
export function ensure(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  if (isNil(v)) {
    const created: JsonObject = {};
    obj[key] = created;
    return created;
  }
  return isObject(v) ? v : undefined;
}

/** Like ensure, along a dotted path. */
export function ensurePath(obj: JsonObject, path: string): JsonObject | undefined {
  let cur: JsonObject | undefined = obj;
  for (const key of path.split('.')) {
    if (cur === undefined) return undefined;
    cur = ensure(cur, key);
  }
  return cur;
}

/** Calls fn for every object element of obj[key] when it is an array. */
export function eachIn(obj: JsonObject | undefined, key: string, fn: (item: JsonObject) => void): void {
  const list = obj?.[key];
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (isObject(item)) fn(item);
  }
}

/** A deep copy, so that a default value is never shared between objects. */
export function clone<T>(v: T): T {
  return v === undefined ? v : copyJson(v);
}

/** Sets obj[key] = value when the field is a nil pointer. */
export function defaultNil(obj: JsonObject, key: string, value: unknown): void {
  if (isNil(obj[key])) obj[key] = clone(value);
}

/** Sets obj[key] = value when the field holds its Go zero value. */
export function defaultZero(obj: JsonObject, key: string, value: unknown): void {
  if (isZero(obj[key])) obj[key] = clone(value);
}

/** One declarative default: the dotted path of a field, its value, and when it applies. */
export interface FieldDefault {
  readonly path: string;
  readonly value: unknown;
  /** 'nil' for pointer fields (the default), 'zero' for value fields, 'empty' for len()==0. */
  readonly when?: 'nil' | 'zero' | 'empty';
}

/**
 * A defaulter from a list of field defaults. Parent objects on the path are created: upstream's
 * parents of such fields are Go structs (spec, updateStrategy), which always exist.
 */
export function fieldDefaults(defaults: readonly FieldDefault[]): Defaulter {
  return (obj) => {
    for (const d of defaults) {
      const keys = d.path.split('.');
      const last = keys.pop() as string;
      const parent = keys.length === 0 ? obj : ensurePath(obj, keys.join('.'));
      if (parent === undefined) continue;
      const v = parent[last];
      const applies = d.when === 'zero' ? isZero(v) : d.when === 'empty' ? isEmptyLen(v) : isNil(v);
      if (applies) parent[last] = clone(d.value);
    }
  };
}

/** Runs defaulters in order. */
export function chain(...steps: readonly Defaulter[]): Defaulter {
  return (obj) => {
    for (const step of steps) step(obj);
  };
}
