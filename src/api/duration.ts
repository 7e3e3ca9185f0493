// Go time.Duration text ("1h2m3.5s", "300ms", "-1.5h"): parse and format exactly as Go's
// time.ParseDuration and Duration.String, for API fields and table cells written that way.
// Durations are int64 nanoseconds, held as bigint.

/** Nanoseconds per unit. */
export const Nanosecond = 1n;
export const Microsecond = 1000n;
export const Millisecond = 1000000n;
export const Second = 1000000000n;
export const Minute = 60n * Second;
export const Hour = 60n * Minute;

const unitMap: ReadonlyMap<string, bigint> = new Map([
  ['ns', Nanosecond],
  ['us', Microsecond],
  ['\u00b5s', Microsecond],
  ['\u03bcs', Microsecond],
  ['ms', Millisecond],
  ['s', Second],
  ['m', Minute],
  ['h', Hour],
]);

const twoTo63 = 1n << 63n;

/** A string Go's time.ParseDuration rejects; the message is Go's. */
export class DurationParseError extends Error {
  readonly code = 'InvalidDuration';
  constructor(message: string) {
    super(message);
    this.name = 'DurationParseError';
  }
}

const encoder = new TextEncoder();

// time.quote: ASCII printable kept (with \" and \\), everything else as \x bytes.
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of encoder.encode(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** time.ParseDuration: signed decimal numbers with units ns, us (µs), ms, s, m, h. Returns nanoseconds. */
export function parseDuration(text: string): bigint {
  const orig = text;
  const invalid = () => new DurationParseError('time: invalid duration ' + timeQuote(orig));
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    let i = 0;
    let v = 0n;
    for (; i < s.length && isDigit(s[i]); i++) {
      if (v > twoTo63 / 10n) throw invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > twoTo63) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s[j]); j++) {
        if (overflow) continue;
        // Digits beyond int64 precision are dropped, as leadingFraction does.
        if (f > (twoTo63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const next = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (next > twoTo63) {
          overflow = true;
          continue;
        }
        f = next;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let u = 0;
    for (; u < s.length; u++) {
      if (s[u] === '.' || isDigit(s[u])) break;
    }
    if (u === 0) throw new DurationParseError('time: missing unit in duration ' + timeQuote(orig));
    const unitText = s.slice(0, u);
    s = s.slice(u);
    const unit = unitMap.get(unitText);
    if (unit === undefined) {
      throw new DurationParseError('time: unknown unit ' + timeQuote(unitText) + ' in duration ' + timeQuote(orig));
    }
    if (v > twoTo63 / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // Go computes this part in float64: uint64(float64(f) * (float64(unit) / scale)).
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > twoTo63) throw invalid();
    }
    d += v;
    if (d > twoTo63) throw invalid();
  }
  if (neg) return -d;
  if (d > twoTo63 - 1n) throw invalid();
  return d;
}

function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let out = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) out = digit.toString() + out;
    v /= 10n;
  }
  if (print) out = '.' + out;
  return [out, v];
}

/** Duration.String: "1h2m3.5s", "1.5ms", "0s". Accepts nanoseconds as bigint or number. */
export function formatDuration(nanos: bigint | number): string {
  const d = BigInt.asIntN(64, BigInt(typeof nanos === 'number' ? Math.trunc(nanos) : nanos));
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < Second) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < Microsecond) {
      prec = 0;
      unit = 'ns';
    } else if (u < Millisecond) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [frac, rest] = fmtFrac(u, prec);
    out = rest.toString() + frac + unit;
  } else {
    const [frac, secs] = fmtFrac(u, 9);
    u = secs;
    out = (u % 60n).toString() + frac + 's';
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + 'm' + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}
