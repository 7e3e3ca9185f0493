// Deep copies of JSON data, the value JSON.parse(JSON.stringify(v)) gives, without going through
// text: the API server copies objects on every write, and this is several times cheaper than
// either that round trip or structuredClone for the small objects it copies.

/**
 * A deep copy of a JSON value as a JSON round trip would give it: members whose value is
 * undefined are left out, undefined array items and non-finite numbers become null, and a
 * "__proto__" member stays a member. Plain data only (no Dates, no toJSON).
 */
export function copyJson<T>(v: T): T {
  return copy(v) as T;
}

function copy(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) {
    return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  }
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      out[i] = x === undefined ? null : copy(x);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    // An assignment to "__proto__" would set the prototype; JSON.parse makes it a member.
    if (k === '__proto__') Object.defineProperty(out, k, { value: copy(x), enumerable: true, writable: true, configurable: true });
    else out[k] = copy(x);
  }
  return out;
}
