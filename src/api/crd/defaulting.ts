// Structural defaulting of custom resources (apiextensions' schema/defaulting): nulls of
// non-nullable fields without a default are dropped, then `default:` values fill missing fields,
// null non-nullable fields, and the items and values of lists and maps.

import { copyJson } from '../json_copy.ts';
import { asObject, fieldSchema, type Structural } from './structural.ts';

function isNonNullableNull(x: unknown, s: Structural | undefined): boolean {
  return x === null && s !== undefined && !s.nullable;
}

/** PruneNonNullableNullsWithoutDefaults. */
export function pruneNonNullableNullsWithoutDefaults(x: unknown, s: Structural | undefined): void {
  if (Array.isArray(x)) {
    for (const v of x) pruneNonNullableNullsWithoutDefaults(v, s?.items);
    return;
  }
  const m = asObject(x);
  if (!m) return;
  for (const k of Object.keys(m)) {
    const sub = fieldSchema(s, k);
    if (isNonNullableNull(m[k], sub) && sub!.default === undefined) delete m[k];
    else pruneNonNullableNullsWithoutDefaults(m[k], sub);
  }
}

/** Default: applies the schema's defaults to x in place. */
export function applyDefaults(x: unknown, s: Structural | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = s.items;
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], items) && items!.default !== undefined) x[i] = copyJson(items!.default);
      applyDefaults(x[i], items);
    }
    return;
  }
  const m = asObject(x);
  if (!m) return;
  if (s.properties) {
    for (const [k, prop] of s.properties) {
      if (prop.default === undefined || prop.default === null) continue;
      if (!(k in m) || isNonNullableNull(m[k], prop)) m[k] = copyJson(prop.default);
    }
  }
  for (const k of Object.keys(m)) {
    const prop = s.properties?.get(k);
    if (prop) {
      applyDefaults(m[k], prop);
    } else if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      const ap = s.additionalProperties;
      if (isNonNullableNull(m[k], ap) && ap.default !== undefined) m[k] = copyJson(ap.default);
      applyDefaults(m[k], ap);
    }
  }
}
