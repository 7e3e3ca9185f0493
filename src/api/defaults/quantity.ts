// Just enough of resource.Quantity for defaulting: exact parsing to a rational, comparison and
// addition (QoS class), and the round-up to milli precision upstream applies to every ResourceList.

/** An exact quantity value: num / den, den a positive power of ten. */
export interface QuantityValue {
  readonly num: bigint;
  readonly den: bigint;
  /** The suffix family the text was written in; decides how a rounded value is printed. */
  readonly format: 'DecimalSI' | 'BinarySI' | 'DecimalExponent';
}

const quantityPattern = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;
const decimalSuffixes: Readonly<Record<string, number>> = {
  n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18,
};
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Parses a quantity string; undefined when it is not one (validation reports that). */
export function parseQuantity(text: unknown): QuantityValue | undefined {
  if (typeof text === 'number' && Number.isFinite(text)) text = String(text);
  if (typeof text !== 'string') return undefined;
  const m = quantityPattern.exec(text.trim());
  if (m === null) return undefined;
  const [, sign, whole, frac = '', suffix] = m as unknown as [string, string, string, string | undefined, string];
  if (whole === '' && frac === '') return undefined;
  let num = BigInt((whole || '0') + frac);
  let den = 10n ** BigInt(frac.length);
  let format: QuantityValue['format'];
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    const exp = decimalSuffixes[suffix] as number;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    num *= 2n ** BigInt(binarySuffixes[suffix] as number);
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    const exp = Number(suffix.slice(1));
    if (Math.abs(exp) > 1000) return undefined;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  } else {
    return undefined;
  }
  return { num: sign === '-' ? -num : num, den, format };
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantities(a: QuantityValue, b: QuantityValue): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** a + b, keeping a's format. */
export function addQuantities(a: QuantityValue, b: QuantityValue): QuantityValue {
  const den = a.den > b.den ? a.den : b.den;
  return { num: a.num * (den / a.den) + b.num * (den / b.den), den, format: a.format };
}

/** The value rounded up (away from zero) to milli precision, as SetDefaults_ResourceList does. */
export function roundUpToMilli(q: QuantityValue): QuantityValue {
  const scaled = q.num * 1000n;
  if (scaled % q.den === 0n) return q;
  const neg = scaled < 0n;
  const milli = (neg ? -scaled : scaled) / q.den + 1n;
  return { num: neg ? -milli : milli, den: 1000n, format: q.format };
}

/** How Go's Quantity.String() prints a value (its canonical form). */
export function formatQuantity(q: QuantityValue): string {
  if (q.num === 0n) return '0';
  const neg = q.num < 0n;
  const abs = neg ? -q.num : q.num;
  const sign = neg ? '-' : '';
  if (q.format === 'BinarySI' && abs >= 1024n * q.den && abs % q.den === 0n) {
    let mantissa = abs / q.den;
    let power = 0;
    while (mantissa % 1024n === 0n && power < 6) {
      mantissa /= 1024n;
      power++;
    }
    return `${sign}${mantissa}${['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][power]}`;
  }
  // Decimal: strip factors of ten from num/den into a base-10 exponent, then lower the exponent
  // to a multiple of three.
  let mantissa = abs;
  let exp = -(q.den.toString().length - 1);
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  const r = ((exp % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(r);
  exp -= r;
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  const suffix = Object.keys(decimalSuffixes).find((s) => decimalSuffixes[s] === exp);
  return `${sign}${mantissa}${suffix ?? `e${exp}`}`;
}

/**
 * SetDefaults_ResourceList: every value rounded up to milli precision. Values are also rewritten
 * in the canonical form upstream prints them in ("0.5" reads back as "500m"); text that is not a
 * quantity is left for validation to reject.
 */
export function roundResourceList(list: unknown): void {
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return;
  const map = list as Record<string, unknown>;
  for (const [name, value] of Object.entries(map)) {
    const q = parseQuantity(value);
    if (q !== undefined) map[name] = formatQuantity(roundUpToMilli(q));
  }
}
