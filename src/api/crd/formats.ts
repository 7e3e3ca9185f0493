// The string formats custom resource schemas validate (apiextensions' supportedFormats over
// kube-openapi's strfmt registry); any other format is ignored, as upstream strips it.

import { utf8Length } from '../go_strings.ts';

/** Normalized format name → checker. Names lose their dashes ("date-time" is "datetime"). */
const CHECKERS: Readonly<Record<string, (s: string) => boolean>> = {
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  uri: isRequestURI,
  email: isEmail,
  hostname: isHostname,
  ipv4: (s) => s.includes('.') && parseIP(s),
  ipv6: (s) => s.includes(':') && parseIP(s),
  cidr: isCIDR,
  mac: isMAC,
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid3: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid4: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  uuid5: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  isbn: (s) => isISBN(s, 10) || isISBN(s, 13),
  isbn10: (s) => isISBN(s, 10),
  isbn13: (s) => isISBN(s, 13),
  creditcard: isCreditCard,
  ssn: (s) => (s.length === 9 || s.length === 11) && /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) => {
    const c = '\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*';
    return new RegExp(`^rgb\\(${c},${c},${c}\\)$`).test(s);
  },
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(s),
  password: () => true,
  date: isDate,
  duration: isDuration,
  datetime: isDateTime,
};

/** The normalized name of a format upstream validates, or undefined for formats it ignores. */
export function supportedFormat(format: string): string | undefined {
  const n = format.replaceAll('-', '');
  return format !== '' && n in CHECKERS ? n : undefined;
}

/** Whether `value` is valid for the (supported) format. */
export function checkFormat(format: string, value: string): boolean {
  const c = CHECKERS[format.replaceAll('-', '')];
  return c === undefined || c(value);
}

function isRequestURI(s: string): boolean {
  if (s === '' || /[\s\x00-\x1f\x7f]/.test(s)) return false;
  if (s.startsWith('/')) return true;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(s);
  if (!m) return false;
  const rest = m[2]!;
  if (rest.startsWith('//')) {
    const authority = rest.slice(2).split(/[/?#]/)[0]!;
    const host = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
    const port = /:(\d*)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host);
    if (port === null && /:[^\]]*$/.test(host) && !host.startsWith('[')) return false;
  }
  return true;
}

function isEmail(s: string): boolean {
  const addr = /^[^<>]*<([^<>]+)>\s*$/.exec(s)?.[1] ?? s.trim();
  return /^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+$/.test(addr) && !addr.startsWith('.') && !addr.includes('..');
}

const HOSTNAME = /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$/u;

function isHostname(s: string): boolean {
  if (!HOSTNAME.test(s)) return false;
  if (utf8Length(s) > 255) return false;
  return s.split('.').every((p) => utf8Length(p) <= 63);
}

function parseIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 (optionally ending in an IPv4). */
function parseIP(s: string): boolean {
  if (parseIPv4(s)) return true;
  if (!s.includes(':')) return false;
  let body = s;
  let groupsNeeded = 8;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    if (!parseIPv4(s.slice(lastColon + 1))) return false;
    body = s.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const group = /^[0-9a-fA-F]{1,4}$/;
  const parse = (h: string): string[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => group.test(x)) ? g : null;
  };
  const a = parse(halves[0]!);
  if (a === null) return false;
  if (halves.length === 1) return a.length === groupsNeeded;
  const b = parse(halves[1]!);
  if (b === null) return false;
  return a.length + b.length < groupsNeeded;
}

function isCIDR(s: string): boolean {
  const i = s.indexOf('/');
  if (i < 0) return false;
  const ip = s.slice(0, i);
  const bits = s.slice(i + 1);
  if (!parseIP(ip) || !/^(0|[1-9]\d*)$/.test(bits)) return false;
  return Number(bits) <= (parseIPv4(ip) ? 32 : 128);
}

function isMAC(s: string): boolean {
  for (const n of [6, 8, 20]) {
    for (const sep of [':', '-']) {
      if (new RegExp(`^[0-9a-fA-F]{2}(\\${sep}[0-9a-fA-F]{2}){${n - 1}}$`).test(s)) return true;
    }
    if (new RegExp(`^[0-9a-fA-F]{4}(\\.[0-9a-fA-F]{4}){${n / 2 - 1}}$`).test(s)) return true;
  }
  return false;
}

function isISBN(s: string, version: 10 | 13): boolean {
  const t = s.replace(/[\s-]/g, '');
  if (version === 10) {
    if (!/^\d{9}[\dX]$/.test(t)) return false;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += (i + 1) * Number(t[i]);
    sum += t[9] === 'X' ? 100 : 10 * Number(t[9]);
    return sum % 11 === 0;
  }
  if (!/^\d{13}$/.test(t)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(t[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === Number(t[12]);
}

function isCreditCard(s: string): boolean {
  const t = s.replace(/[^0-9]/g, '');
  if (!/^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$/.test(t)) return false;
  let sum = 0;
  let double = false;
  for (let i = t.length - 1; i >= 0; i--) {
    let d = Number(t[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function isDateTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return false;
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  return Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
}

const DURATION_UNITS = new Set([
  'ns', 'nano', 'nanos', 'nanosecond', 'nanoseconds', 'us', 'µs', 'micro', 'micros', 'microsecond', 'microseconds',
  'ms', 'milli', 'millis', 'millisecond', 'milliseconds', 's', 'sec', 'secs', 'second', 'seconds', 'm', 'min', 'mins',
  'minute', 'minutes', 'h', 'hr', 'hour', 'hours', 'd', 'day', 'days', 'w', 'wk', 'week', 'weeks',
]);

/** strfmt.ParseDuration: a Go duration ("1h30m") or a number and unit ("22 ns", "3 days"). */
function isDuration(s: string): boolean {
  if (/^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s) || s === '0') return true;
  const m = /^(\d+)\s*([a-zµ]+)$/i.exec(s.trim());
  return m !== null && DURATION_UNITS.has(m[2]!.toLowerCase());
}
