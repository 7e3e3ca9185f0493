// resource.Quantity: parsing ("100m", "1Gi", "1e3", "0.5"), the canonical string upstream
// serializes, comparison and arithmetic, and integer values for CPU/memory math. Values are exact
// (bigint mantissa × 10^scale); rounding, suffix choice and the kept original text follow
// apimachinery's api/resource, so objects round-trip byte for byte.

/** How a quantity is written: 12e6, 12Mi (×2^20) or 12M (×10^6). */
export const QuantityFormat = {
  DecimalExponent: 'DecimalExponent',
  BinarySI: 'BinarySI',
  DecimalSI: 'DecimalSI',
} as const;
export type QuantityFormat = (typeof QuantityFormat)[keyof typeof QuantityFormat];

/** Decimal scales by name (value = unscaled × 10^scale). */
export const Scale = {
  Nano: -9,
  Micro: -6,
  Milli: -3,
  Zero: 0,
  Kilo: 3,
  Mega: 6,
  Giga: 9,
  Tera: 12,
  Peta: 15,
  Exa: 18,
} as const;

/** An exact quantity: value = unscaled × 10^scale. Immutable. */
export interface Quantity {
  readonly unscaled: bigint;
  readonly scale: number;
  readonly format: QuantityFormat;
  /** The text as parsed, kept when upstream keeps it (it is then what String() returns). */
  readonly s?: string;
}

const splitREString = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** ErrFormatWrong's text. */
export const ErrFormatWrong = `quantities must match the regular expression '${splitREString}'`;
/** ErrNumeric's text. */
export const ErrNumeric = 'unable to parse numeric part of quantity';
/** ErrSuffix's text. */
export const ErrSuffix = "unable to parse quantity's suffix";

/** A string that is not a quantity; the message is upstream's. */
export class QuantityParseError extends Error {
  readonly code = 'InvalidQuantity';
  constructor(message: string) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

const maxInt64 = (1n << 63n) - 1n;
const minInt64 = -(1n << 63n);
const maxInt64Factors = 18;

const decimalSuffixes: ReadonlyArray<readonly [string, number]> = [
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
];
const binarySuffixes: ReadonlyArray<readonly [string, number]> = [
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
];
const decBySuffix = new Map(decimalSuffixes);
const binBySuffix = new Map(binarySuffixes);
const decByExponent = new Map(decimalSuffixes.map(([s, e]) => [e, s]));
const binByExponent = new Map(binarySuffixes.map(([s, e]) => [e, s]));

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

interface Interpreted {
  readonly base: 2 | 10;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

function interpretSuffix(suffix: string): Interpreted | null {
  const dec = decBySuffix.get(suffix);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binBySuffix.get(suffix);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'E' || suffix[0] === 'e')) {
    const digits = suffix.slice(1);
    // strconv.ParseInt(s, 10, 64), then truncated to int32 as upstream does.
    if (!/^[+-]?[0-9]+$/.test(digits)) return null;
    const n = BigInt(digits);
    if (n > maxInt64 || n < minInt64) return null;
    return { base: 10, exponent: Number(BigInt.asIntN(32, n)), format: 'DecimalExponent' };
  }
  return null;
}

interface Split {
  readonly positive: boolean;
  readonly value: string;
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

function parseQuantityString(str: string): Split {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  // Leading zeros; an all-zero string is zero.
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
    if (str[i] === '0') pos++;
    else break;
  }
  let num = '';
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: str.slice(0, end), num: str.slice(pos, end), denom: '', suffix: '' };
    if (!isDigit(str[i])) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num.length === 0) num = '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    for (let i = pos; ; i++) {
      if (i >= end) return { positive, value: str.slice(0, end), num, denom: str.slice(pos, end), suffix: '' };
      if (!isDigit(str[i])) {
        denom = str.slice(pos, i);
        pos = i;
        break;
      }
    }
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart, end) };
    if (!'eEinumkKMGTP'.includes(str[i] as string)) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart, end) };
    if (!isDigit(str[i])) break;
  }
  throw new QuantityParseError(ErrFormatWrong);
}

// inf.Dec.SetString for the digits-and-dot text parseQuantityString produced.
function decimalFromText(text: string): { unscaled: bigint; scale: number } {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(text);
  if (m === null || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw new QuantityParseError(ErrNumeric);
  const frac = m[3] ?? '';
  let unscaled = BigInt((m[2] || '0') + frac);
  if (m[1] === '-') unscaled = -unscaled;
  return { unscaled, scale: -frac.length };
}

/**
 * resource.ParseQuantity. Throws QuantityParseError with upstream's messages (ErrFormatWrong,
 * ErrNumeric, ErrSuffix). No surrounding whitespace is allowed.
 */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw new QuantityParseError(ErrFormatWrong);
  if (str === '0') return { unscaled: 0n, scale: 0, format: 'DecimalSI', s: str };

  const { positive, value, num, denom, suffix } = parseQuantityString(str);
  const interp = interpretSuffix(suffix);
  if (interp === null) throw new QuantityParseError(ErrSuffix);
  const { base, exponent } = interp;
  let format = interp.format;

  // The fast path: what upstream keeps as an int64Amount, with its original text when canonical.
  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc(Math.fround((Math.fround(exponent) * 3) / 10)) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = maxInt64Factors - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= Scale.Nano) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      let result = v * mantissa;
      if (result <= maxInt64) {
        if (!positive) result = -result;
        let keep: boolean;
        if (format === 'BinarySI') keep = exponent % 10 === 0 && (v & 7n) !== 0n;
        else keep = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        return keep ? { unscaled: result, scale, format, s: str } : { unscaled: result, scale, format };
      }
    }
  }

  // The exact path (upstream's inf.Dec): scale, round up to nanos, clamp binary values to int64.
  let { unscaled, scale: dscale } = decimalFromText(value);
  if (base === 10) dscale += exponent;
  else unscaled *= 1n << BigInt(exponent);
  const negative = unscaled < 0n;
  unscaled = abs(unscaled);
  if (unscaled !== 0n && dscale < Scale.Nano) {
    const f = pow10(Scale.Nano - dscale);
    unscaled = unscaled / f + (unscaled % f === 0n ? 0n : 1n);
    dscale = Scale.Nano;
  }
  if (format === 'BinarySI' && cmpParts(unscaled, dscale, maxInt64, 0) > 0) {
    unscaled = maxInt64;
    dscale = 0;
  }
  if (format === 'BinarySI' && unscaled !== 0n && cmpParts(unscaled, dscale, 1n, 0) < 0) format = 'DecimalSI';
  return { unscaled: negative ? -unscaled : unscaled, scale: dscale, format };
}

/** parseQuantity that answers null instead of throwing. */
export function tryParseQuantity(str: string): Quantity | null {
  try {
    return parseQuantity(str);
  } catch (e) {
    if (e instanceof QuantityParseError) return null;
    throw e;
  }
}

/**
 * Quantity.UnmarshalJSON for an already-decoded JSON value: a string (quotes stripped, spaces
 * trimmed) or a number (its shortest text).
 */
export function quantityFromJSON(v: string | number): Quantity {
  return parseQuantity(typeof v === 'number' ? String(v) : v.trim());
}

function cmpParts(a: bigint, as: number, b: bigint, bs: number): number {
  const s = Math.min(as, bs);
  const x = a * pow10(as - s);
  const y = b * pow10(bs - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when the value is zero. */
export function isZero(q: Quantity): boolean {
  return q.unscaled === 0n;
}

/** -1, 0 or 1. */
export function sign(q: Quantity): number {
  return q.unscaled < 0n ? -1 : q.unscaled > 0n ? 1 : 0;
}

/** Compares values: -1, 0 or 1. */
export function cmpQuantity(a: Quantity, b: Quantity): number {
  return cmpParts(a.unscaled, a.scale, b.unscaled, b.scale);
}

/** True when both denote the same value (formats may differ). */
export function equalQuantity(a: Quantity, b: Quantity): boolean {
  return cmpQuantity(a, b) === 0;
}

/** a + b; the result keeps a's format unless a is zero (then b's), as upstream. */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  const s = Math.min(a.scale, b.scale);
  const unscaled = a.unscaled * pow10(a.scale - s) + b.unscaled * pow10(b.scale - s);
  return { unscaled, scale: s, format: isZero(a) ? b.format : a.format };
}

/** a - b; the result keeps a's format unless a is zero (then b's). */
export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return addQuantity(a, { ...b, unscaled: -b.unscaled, format: b.format });
}

/** -q. */
export function negQuantity(q: Quantity): Quantity {
  return { unscaled: -q.unscaled, scale: q.scale, format: q.format };
}

/** q × n for an integer n. */
export function mulQuantity(q: Quantity, n: bigint | number): Quantity {
  return { unscaled: q.unscaled * BigInt(n), scale: q.scale, format: q.format };
}

// Rounds to the given scale away from zero, as int64Amount.AsScale and inf's RoundUp do.
function atScale(q: Quantity, scale: number): { unscaled: bigint; exact: boolean } {
  if (q.scale >= scale) return { unscaled: q.unscaled * pow10(q.scale - scale), exact: true };
  const f = pow10(scale - q.scale);
  const quo = q.unscaled / f;
  const rem = q.unscaled % f;
  if (rem === 0n) return { unscaled: quo, exact: true };
  return { unscaled: q.unscaled > 0n ? quo + 1n : quo - 1n, exact: false };
}

/** Quantity.RoundUp: rounds away from zero to the scale; `exact` tells whether nothing was lost. */
export function roundUpQuantity(q: Quantity, scale: number): { quantity: Quantity; exact: boolean } {
  if (q.scale >= scale) return { quantity: q, exact: true };
  const r = atScale(q, scale);
  return { quantity: { unscaled: r.unscaled, scale, format: q.format }, exact: r.exact };
}

/**
 * Quantity.ScaledValue: the value in units of 10^scale, rounded away from zero. Exact (upstream
 * overflows int64 silently for huge values; nothing real comes near that).
 */
export function scaledValue(q: Quantity, scale: number): bigint {
  return atScale(q, scale).unscaled;
}

/** Quantity.Value: whole units, rounded up (e.g. bytes, or cores). */
export function quantityValue(q: Quantity): bigint {
  return scaledValue(q, 0);
}

/** Quantity.MilliValue: thousandths, rounded up (e.g. millicores). */
export function quantityMilliValue(q: Quantity): bigint {
  return scaledValue(q, Scale.Milli);
}

/** Quantity.AsApproximateFloat64. */
export function quantityToNumber(q: Quantity): number {
  return Number(q.unscaled) * 10 ** q.scale;
}

/** NewQuantity: an integer in the given format. */
export function newQuantity(value: bigint | number, format: QuantityFormat): Quantity {
  return { unscaled: BigInt(value), scale: 0, format };
}

/** NewMilliQuantity: thousandths in the given format. */
export function newMilliQuantity(value: bigint | number, format: QuantityFormat): Quantity {
  return { unscaled: BigInt(value), scale: Scale.Milli, format };
}

/** NewScaledQuantity: value × 10^scale, DecimalSI. */
export function newScaledQuantity(value: bigint | number, scale: number): Quantity {
  return { unscaled: BigInt(value), scale, format: 'DecimalSI' };
}

function canonicalDecimal(unscaled: bigint, scale: number): { digits: string; exponent: number } {
  let m = unscaled;
  let exponent = scale;
  if (m !== 0n) {
    while (m % 10n === 0n) {
      m /= 10n;
      exponent++;
    }
  }
  while (exponent % 3 !== 0) {
    m *= 10n;
    exponent--;
  }
  return { digits: m.toString(), exponent };
}

/**
 * The canonical text (CanonicalizeBytes): binary values that are whole multiples of 1024 keep Ki..Ei,
 * others fall back to decimal SI (or exponent) form with the largest exact suffix.
 */
export function canonicalQuantityString(q: Quantity): string {
  if (isZero(q)) return '0';
  let format = q.format;
  let rounded = 0n;
  if (format === 'BinarySI') {
    if (cmpParts(q.unscaled, q.scale, -1024n, 0) > 0 && cmpParts(q.unscaled, q.scale, 1024n, 0) < 0) {
      format = 'DecimalSI';
    } else {
      const r = atScale(q, 0);
      if (!r.exact) format = 'DecimalSI';
      rounded = r.unscaled;
    }
  }
  if (format === 'BinarySI') {
    let m = rounded;
    let times = 0;
    while (m !== 0n && m % 1024n === 0n) {
      m /= 1024n;
      times++;
    }
    return m.toString() + (binByExponent.get(times * 10) ?? '');
  }
  const { digits, exponent } = canonicalDecimal(q.unscaled, q.scale);
  if (format === 'DecimalExponent') return exponent === 0 ? digits : `${digits}e${exponent}`;
  // Upstream has no suffix beyond E (10^18) and then prints the digits alone; kept as is.
  return digits + (decByExponent.get(exponent) ?? '');
}

/** Quantity.String(): the kept original text if any, else the canonical form. Also the JSON form. */
export function quantityString(q: Quantity): string {
  return q.s !== undefined && q.s !== '' ? q.s : canonicalQuantityString(q);
}

/** Parses and re-serializes, as a value round-trips through upstream's apiserver. */
export function normalizeQuantity(str: string): string {
  return quantityString(parseQuantity(str));
}
