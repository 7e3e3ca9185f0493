// Objects as upstream's typed Go structs present them to server-side apply: the empty object a
// create starts from (struct-valued fields present, non-omitempty fields null or zero), and results
// cleaned of the nulls a typed struct would not keep.
import { DEDUCED, UNTYPED_ATOMIC, type Atom } from './schema.ts';
import { ZERO_FIELDS } from './zero_fields.generated.ts';

type JsonObject = Record<string, unknown>;

const zeroCache = new Map<string, JsonObject>();

/**
 * What upstream's empty object of a kind serializes to (e.g. a Deployment's
 * `{metadata:{creationTimestamp:null}, spec:{selector:null, template:{...}, strategy:{}}, status:{}}`),
 * so that fields present on both sides of a create do not count as added. A fresh copy per call.
 */
export function zeroObject(definition: string): JsonObject {
  let z = zeroCache.get(definition);
  if (!z) {
    z = build(definition, 0) ?? {};
    zeroCache.set(definition, z);
  }
  return structuredClone(z);
}

/** zeroObject's value itself, deeply frozen: for callers that only read it (a create's "before"). */
export function sharedZeroObject(definition: string): JsonObject {
  let z = frozenCache.get(definition);
  if (!z) {
    z = deepFreeze(zeroObject(definition));
    frozenCache.set(definition, z);
  }
  return z;
}

const frozenCache = new Map<string, JsonObject>();

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function build(definition: string, depth: number): JsonObject | undefined {
  const fields = ZERO_FIELDS[definition];
  if (!fields || depth > 12) return undefined;
  const out: JsonObject = {};
  for (const [name, zero] of Object.entries(fields)) {
    if (typeof zero === 'string' && zero.startsWith('#')) out[name] = build(zero.slice(1), depth + 1) ?? {};
    else out[name] = zero;
  }
  return out;
}

function isFreeForm(a: Atom): boolean {
  return a === DEDUCED || a === UNTYPED_ATOMIC || a.name === DEDUCED.name || a.name === UNTYPED_ATOMIC.name;
}

/** A deep copy without null map values where the schema types the map (free-form data keeps them). */
export function withoutNulls(atom: Atom, v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (isFreeForm(atom)) return structuredClone(v);
  if (Array.isArray(v)) {
    const elem = atom.list?.elem();
    return v.map((item) => (elem ? withoutNulls(elem, item) : structuredClone(item)));
  }
  const m = atom.map;
  if (!m) return structuredClone(v);
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v as JsonObject)) {
    if (val === null) continue;
    const f = m.fields.get(k);
    const child = f ? f.atom() : m.elem?.() ?? DEDUCED;
    out[k] = withoutNulls(child, val);
  }
  return out;
}
