// The JSON merge patch (RFC 7386) that turns one JSON value into another: changed fields, null for
// removed ones, lists replaced whole. Stages are written as strategic merge patches; the simulator
// applies them to its cached copy and sends this smaller, cheaper-to-apply diff instead.

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The merge patch from `from` to `to` (maps); undefined when they are equal. */
export function mergePatchDiff(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const k of Object.keys(from)) {
    if (!Object.hasOwn(to, k)) {
      out[k] = null;
      changed = true;
    }
  }
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (Object.hasOwn(from, k) && sameJson(old, v)) continue;
    if (isMap(old) && isMap(v)) {
      const sub = mergePatchDiff(old, v);
      if (sub === undefined) continue;
      out[k] = sub;
    } else {
      // A null value cannot be set through a merge patch (it means "remove"), which is what we want.
      out[k] = v;
    }
    changed = true;
  }
  return changed ? out : undefined;
}
