// Turns decoded JSON into CEL values for @marcbachmann/cel-js: CEL integers are bigints there,
// so whole JSON numbers become bigints (Kubernetes' integer fields), other numbers stay doubles.
// Pure: inputs are never modified.

/** A JSON value as CEL sees it (integers as bigint). */
export type CelValue = null | boolean | bigint | number | string | CelValue[] | { [k: string]: CelValue };

/** A deep copy of `v` with whole numbers as bigints; undefined becomes null. */
export function toCel(v: unknown): CelValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map(toCel);
  if (typeof v === 'object') {
    const out: { [k: string]: CelValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) out[k] = toCel(x);
    }
    return out;
  }
  return null;
}

/** A CEL result as JSON-friendly data (bigints as numbers when safe, as strings otherwise). */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(fromCel);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), fromCel(x)]));
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromCel(x)]));
  }
  return v;
}
