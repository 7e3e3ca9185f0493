// Small value helpers of the custom resource schema code: JSON deep equality as Go's
// reflect.DeepEqual sees decoded JSON, and Go's %#v rendering of decoded JSON for error values.

import { goFormatNumber, goQuote, sortGoStrings } from '../go_strings.ts';
import { goValue, type GoValue } from '../field_errors.ts';

/** Deep equality of decoded JSON values. */
export function deepEqualJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqualJson(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  const bo = b as Record<string, unknown>;
  return ka.every((k) => k in bo && deepEqualJson((a as Record<string, unknown>)[k], bo[k]));
}

function sharpV(v: unknown, inInterface: boolean): string {
  if (v === null || v === undefined) return inInterface ? 'interface {}(nil)' : '<nil>';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number') return goFormatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map((x) => sharpV(x, true)).join(', ')}}`;
  const m = v as Record<string, unknown>;
  return `map[string]interface {}{${sortGoStrings(Object.keys(m)).map((k) => `${goQuote(k)}:${sharpV(m[k], true)}`).join(', ')}}`;
}

/** A decoded JSON object or list as Go's %#v prints it (`map[string]interface {}{"a":1}`). */
export function goSharpV(v: unknown): GoValue {
  return goValue(sharpV(v, false));
}
