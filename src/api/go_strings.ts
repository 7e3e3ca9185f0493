// Go string semantics the API machinery needs to reproduce upstream messages byte for byte:
// strconv.Quote (%q), byte lengths (len(s) counts UTF-8 bytes), byte-wise ordering (sort.Strings)
// and the %v rendering of floats.

const encoder = new TextEncoder();

/** len(s) in Go: the UTF-8 byte length. */
export function utf8Length(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? s.length : encoder.encode(s).length;
}

/** Go's string comparison (byte-wise on UTF-8), which is code point order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** sort.Strings on a copy. */
export function sortGoStrings(values: readonly string[]): string[] {
  return [...values].sort(compareGoStrings);
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** strconv.Quote: a double-quoted Go string literal, as fmt's %q prints it. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) {
      out += ch;
    } else if (cp < 0x20 || cp === 0x7f) {
      out += '\\x' + hex(cp, 2);
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot come from valid UTF-8; Go would have decoded it as U+FFFD.
      out += '\uFFFD';
    } else if (printable.test(ch)) {
      out += ch;
    } else if (cp <= 0xffff) {
      out += '\\u' + hex(cp, 4);
    } else {
      out += '\\U' + hex(cp, 8);
    }
  }
  return out + '"';
}

/** fmt's %v for a float64 (strconv 'g', shortest): exponent form when the exponent is < -4 or >= 6. */
export function goFormatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 6) return String(n);
  const digits = String(Math.abs(exp)).padStart(2, '0');
  return `${mant}e${exp < 0 ? '-' : '+'}${digits}`;
}

/** %v of a number: integers as Go prints ints, anything else as a float64. */
export function goFormatNumber(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : goFormatFloat(n);
}
