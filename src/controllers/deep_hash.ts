// The pod-template hash behind ReplicaSet names like "web-7c5ddbdf54" (controller.ComputeHash):
// FNV-32a over the text Go's spew prints for the v1.PodTemplateSpec ("%#v", methods disabled, keys
// sorted) plus the collision count, encoded with rand.SafeEncodeString.
import { normalizeQuantity } from '../api/quantity.ts';
import type { PodTemplateSpec } from '../api/types/core_v1.ts';
import { GO_NAMED, GO_STRUCTS } from './deep_hash_types.ts';

/** The hash of a pod template as upstream's ComputeHash computes it (digits mapped to safe letters). */
export function computeHash(template: PodTemplateSpec, collisionCount?: number): string {
  let h = fnv32a(0x811c9dc5, Buffer.from(spewPodTemplateSpec(template), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(h, b);
  }
  return safeEncodeString(String(h));
}

/** The text `spew.Sprintf("%#v", template)` yields for the Go object the JSON decodes to. */
export function spewPodTemplateSpec(template: PodTemplateSpec): string {
  return printValue('core.PodTemplateSpec', template, false);
}

function fnv32a(seed: number, bytes: Uint8Array): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: maps each byte onto letters and digits that cannot spell words. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += SAFE_ALPHANUMS[b % SAFE_ALPHANUMS.length];
  return out;
}

/** reflect's Type.String(): package name (v1, resource, intstr, types) plus type name. */
function display(t: string): string {
  if (t.startsWith('*')) return `*${display(t.slice(1))}`;
  if (t.startsWith('[]')) return `[]${display(t.slice(2))}`;
  const m = /^map\[([^\]]+)\](.+)$/.exec(t);
  if (m) return `map[${display(m[1]!)}]${display(m[2]!)}`;
  if (t === 'byte') return 'uint8';
  if (t.startsWith('core.') || t.startsWith('meta.')) return `v1.${t.slice(5)}`;
  return t;
}

function typed(t: string, ignoreType: boolean, body: string): string {
  return ignoreType ? body : `(${display(t)})${body}`;
}

function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

/**
 * Prints one value as spew's formatter does with the '#' flag: "(type)value", types left out of
 * slice elements and map entries, nil pointers as "(*T)<nil>", strings unquoted.
 */
function printValue(t: string, v: unknown, ignoreType: boolean): string {
  if (t.startsWith('*')) {
    const elem = t.slice(1);
    if (isNil(v)) return ignoreType ? '<nil>' : `(${display(t)})<nil>`;
    return (ignoreType ? '<*>' : `(${display(t)})`) + printValue(elem, v, true);
  }
  if (t.startsWith('[]')) {
    const elem = t.slice(2);
    // Empty lists come back nil from protobuf, which is what the controller manager reads.
    if (!Array.isArray(v) || v.length === 0) return typed(t, ignoreType, '<nil>');
    return typed(t, ignoreType, `[${v.map((x) => printValue(elem, x, true)).join(' ')}]`);
  }
  const named = GO_NAMED[t];
  if (named !== undefined && named.startsWith('map[')) return printMap(t, named, v, ignoreType);
  if (t.startsWith('map[')) return printMap(t, t, v, ignoreType);
  if (named !== undefined) return typed(t, ignoreType, printScalar(named, v));
  switch (t) {
    case 'meta.Time': return typed(t, ignoreType, `{Time:${printTime(v)}}`);
    case 'resource.Quantity': return typed(t, ignoreType, printQuantity(v));
    case 'intstr.IntOrString': return typed(t, ignoreType, printIntOrString(v));
    case 'types.UID': return typed(t, ignoreType, printScalar('string', v));
    case 'string': case 'bool': case 'int32': case 'int64': case 'byte':
      return typed(t, ignoreType, printScalar(t, v));
  }
  const fields = GO_STRUCTS[t];
  if (!fields) throw new Error(`deep hash: no Go layout for ${t}`);
  const obj = (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const parts = fields.map(([goName, json, ft]) => `${goName}:${printValue(ft, json === '' ? obj : obj[json], false)}`);
  return typed(t, ignoreType, `{${parts.join(' ')}}`);
}

function printScalar(t: string, v: unknown): string {
  switch (t) {
    case 'string': return typeof v === 'string' ? v : '';
    case 'bool': return v === true ? 'true' : 'false';
    default: return typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : '0';
  }
}

function printMap(t: string, underlying: string, v: unknown, ignoreType: boolean): string {
  const m = /^map\[([^\]]+)\](.+)$/.exec(underlying)!;
  const valueType = m[2]!;
  const entries = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : [];
  if (entries.length === 0) return typed(t, ignoreType, '<nil>');
  // Go compares string keys bytewise.
  entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  return typed(t, ignoreType, `map[${entries.map(([k, x]) => `${k}:${printValue(valueType, x, true)}`).join(' ')}]`);
}

/** Seconds from year 1 to 1970 (time.unixToInternal). */
const UNIX_TO_INTERNAL = 62135596800n;

function printTime(v: unknown): string {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) return '(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}';
  // metav1.Time decodes into local time; its Location's internals are host-specific, so we print
  // it as UTC (templates carry no timestamps in practice).
  const sec = BigInt(Math.floor(ms / 1000));
  return `(time.Time){wall:(uint64)0 ext:(int64)${sec + UNIX_TO_INTERNAL} loc:(*time.Location)<nil>}`;
}

function printIntOrString(v: unknown): string {
  if (typeof v === 'number') return `{Type:(intstr.Type)0 IntVal:(int32)${Math.trunc(v)} StrVal:(string)}`;
  const s = typeof v === 'string' ? v : '';
  return `{Type:(intstr.Type)${typeof v === 'string' ? 1 : 0} IntVal:(int32)0 StrVal:(string)${s}}`;
}

/** resource.Quantity's fields after ParseQuantity of the canonical string the API server sends. */
function printQuantity(v: unknown): string {
  let str = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  try {
    str = normalizeQuantity(str);
  } catch { /* keep the raw text: the API server would have rejected it */ }
  const q = parseQuantityInternals(str);
  const i = `(resource.int64Amount){value:(int64)${q.value} scale:(resource.Scale)${q.scale}}`;
  const d = '(resource.infDecAmount){Dec:(*inf.Dec)<nil>}';
  return `{i:${i} d:${d} s:(string)${q.s} Format:(resource.Format)${q.format}}`;
}

interface QuantityInternals {
  value: bigint;
  scale: number;
  s: string;
  format: string;
}

const DEC_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * The int64Amount fast path of resource.ParseQuantity, including when it caches the string.
 * Values that need the inf.Dec path (huge or over-precise) are printed as if they fit.
 */
function parseQuantityInternals(str: string): QuantityInternals {
  if (str === '0') return { value: 0n, scale: 0, s: '0', format: 'DecimalSI' };
  const m = /^([+-]?)0*(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[+-]?\d*)$/.exec(str);
  if (!m) return { value: 0n, scale: 0, s: '', format: 'DecimalSI' };
  const positive = m[1] !== '-';
  const num = m[2] === '' ? '0' : m[2]!;
  const denom = m[3] ?? '';
  const suffix = m[4] ?? '';
  let format: string, exponent: number, binary = false;
  if (suffix in BIN_SUFFIXES) {
    format = 'BinarySI';
    exponent = BIN_SUFFIXES[suffix]!;
    binary = true;
  } else if (suffix in DEC_SUFFIXES) {
    format = 'DecimalSI';
    exponent = DEC_SUFFIXES[suffix]!;
  } else {
    format = 'DecimalExponent';
    exponent = Number(suffix.slice(1));
  }
  let scale = binary ? 0 : exponent;
  let mantissa = 1n;
  if (binary && denom === '') mantissa = 1n << BigInt(exponent);
  scale -= denom.length;
  const shifted = num + denom;
  let value = BigInt(shifted) * mantissa;
  if (value > MAX_INT64) value = MAX_INT64;
  if (!positive) value = -value;
  let s = '';
  if (binary) {
    if (exponent % 10 === 0 && (BigInt(shifted) & 7n) !== 0n) s = str;
  } else if (scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0') {
    s = str;
  }
  return { value, scale, s, format };
}
