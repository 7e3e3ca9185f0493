// String-format validators of apimachinery's util/validation (DNS names, qualified names, label
// values, ports, IPs, CIDRs, ...). Each returns upstream's message list (empty when valid) or a
// field ErrorList, with the exact texts, regexes and examples, because clients show them verbatim.

import { invalid, required, type ErrorList, type Path } from '../field_errors.ts';
import { utf8Length } from '../go_strings.ts';

const qnameCharFmt = '[A-Za-z0-9]';
const qnameExtCharFmt = '[-A-Za-z0-9_.]';
const qualifiedNameFmt = '(' + qnameCharFmt + qnameExtCharFmt + '*)?' + qnameCharFmt;
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRegexp = anchored(qualifiedNameFmt);

const labelValueFmt = '(' + qualifiedNameFmt + ')?';
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/** Maximum length of a label value. */
export const LabelValueMaxLength = 63;
const labelValueRegexp = anchored(labelValueFmt);

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/** Maximum length of a DNS-1123 label. */
export const DNS1123LabelMaxLength = 63;
const dns1123LabelRegexp = anchored(dns1123LabelFmt);
const dns1123LabelFmtWithUnderscore = '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?';

const dns1123SubdomainFmt = dns1123LabelFmt + '(\\.' + dns1123LabelFmt + ')*';
const dns1123SubdomainErrorMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1123SubdomainFmtWithUnderscore = dns1123LabelFmtWithUnderscore + '(\\.' + dns1123LabelFmtWithUnderscore + ')*';
const dns1123SubdomainErrorMsgFG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character";
/** Maximum length of a DNS-1123 subdomain. */
export const DNS1123SubdomainMaxLength = 253;
const dns1123SubdomainRegexp = anchored(dns1123SubdomainFmt);
const dns1123SubdomainRegexpWithUnderscore = anchored(dns1123SubdomainFmtWithUnderscore);

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/** Maximum length of a DNS-1035 label. */
export const DNS1035LabelMaxLength = 63;
const dns1035LabelRegexp = anchored(dns1035LabelFmt);

const wildcardDNS1123SubdomainFmt = '\\*\\.' + dns1123SubdomainFmt;
const wildcardDNS1123SubdomainErrMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardDNS1123SubdomainRegexp = anchored(wildcardDNS1123SubdomainFmt);

const cIdentifierFmt = '[A-Za-z_][A-Za-z0-9_]*';
const identifierErrMsg =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const cIdentifierRegexp = anchored(cIdentifierFmt);

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRegexp = anchored(httpPathFmt);

const percentFmt = '[0-9]+%';
const percentErrMsg = "a valid percent string must be a numeric string followed by an ending '%'";
const percentRegexp = anchored(percentFmt);

const httpHeaderNameFmt = '[-A-Za-z0-9]+';
const httpHeaderNameErrMsg = "a valid HTTP header must consist of alphanumeric characters or '-'";
const httpHeaderNameRegexp = anchored(httpHeaderNameFmt);

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const envVarNameFmtErrMsg =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const relaxedEnvVarNameFmtErrMsg = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const envVarNameRegexp = anchored(envVarNameFmt);

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
const configMapKeyErrMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRegexp = anchored(configMapKeyFmt);

const portNameCharsetRegex = /^[-a-z0-9]+$/;
const portNameOneLetterRegexp = /[a-z]/;

function anchored(fmt: string): RegExp {
  return new RegExp('^' + fmt + '$');
}

/** "must be no more than N characters". */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** Upstream's regex failure text: `<msg> (e.g. 'a' or 'b', regex used for validation is '<fmt>')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = msg + ' (e.g. ';
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return out + `regex used for validation is '${fmt}')`;
}

/** "must be non-empty". */
export function emptyError(): string {
  return 'must be non-empty';
}

/** "must be between lo and hi, inclusive". */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** A qualified name: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] as string;
  } else if (parts.length === 2) {
    const prefix = parts[0] as string;
    name = parts[1] as string;
    if (prefix.length === 0) {
      errs.push('prefix part ' + emptyError());
    } else {
      for (const msg of isDNS1123Subdomain(prefix)) errs.push('prefix part ' + msg);
    }
  } else {
    errs.push(
      'a qualified name ' +
        regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    return errs;
  }
  if (name.length === 0) {
    errs.push('name part ' + emptyError());
  } else if (utf8Length(name) > qualifiedNameMaxLength) {
    errs.push('name part ' + maxLenError(qualifiedNameMaxLength));
  }
  if (!qualifiedNameRegexp.test(name)) {
    errs.push('name part ' + regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc'));
  }
  return errs;
}

/** A label value: empty, or a qualified-name-like string of at most 63 characters. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > LabelValueMaxLength) errs.push(maxLenError(LabelValueMaxLength));
  if (!labelValueRegexp.test(value)) {
    errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** A DNS (RFC 1123) label, e.g. a namespace name. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1123LabelMaxLength) errs.push(maxLenError(DNS1123LabelMaxLength));
  if (!dns1123LabelRegexp.test(value)) {
    if (dns1123SubdomainRegexp.test(value)) {
      errs.push('must not contain dots');
    } else {
      errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
    }
  }
  return errs;
}

/** A DNS (RFC 1123) subdomain, the name format of most objects. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRegexp.test(value)) {
    errs.push(regexError(dns1123SubdomainErrorMsg, dns1123SubdomainFmt, 'example.com'));
  }
  return errs;
}

/** A DNS-1123 subdomain that may also contain underscores (the message quotes the plain regex, as upstream). */
export function isDNS1123SubdomainWithUnderscore(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRegexpWithUnderscore.test(value)) {
    errs.push(regexError(dns1123SubdomainErrorMsgFG, dns1123SubdomainFmt, 'example.com'));
  }
  return errs;
}

/** A DNS (RFC 1035) label, e.g. a Service name. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1035LabelMaxLength) errs.push(maxLenError(DNS1035LabelMaxLength));
  if (!dns1035LabelRegexp.test(value)) {
    errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  }
  return errs;
}

/** `*.` followed by a DNS-1123 subdomain. */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!wildcardDNS1123SubdomainRegexp.test(value)) {
    errs.push(regexError(wildcardDNS1123SubdomainErrMsg, wildcardDNS1123SubdomainFmt, '*.example.com'));
  }
  return errs;
}

/** A C identifier (format only, no length limit). */
export function isCIdentifier(value: string): string[] {
  if (!cIdentifierRegexp.test(value)) {
    return [regexError(identifierErrMsg, cIdentifierFmt, 'my_name', 'MY_NAME', 'MyName')];
  }
  return [];
}

/** A non-zero port number, 1..65535. */
export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** An integer within [min, max]. */
export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

const maxInt32 = 2147483647;

/** A Unix group ID, 0..2^31-1. */
export function isValidGroupID(gid: number): string[] {
  return gid >= 0 && gid <= maxInt32 ? [] : [inclusiveRangeError(0, maxInt32)];
}

/** A Unix user ID, 0..2^31-1. */
export function isValidUserID(uid: number): string[] {
  return uid >= 0 && uid <= maxInt32 ? [] : [inclusiveRangeError(0, maxInt32)];
}

/** An IANA service (port) name: at most 15 of [-a-z0-9], one letter, no leading/trailing/double hyphen. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (utf8Length(port) > 15) errs.push(maxLenError(15));
  if (!portNameCharsetRegex.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!portNameOneLetterRegexp.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** "1%", "93%". */
export function isValidPercent(percent: string): string[] {
  return percentRegexp.test(percent) ? [] : [regexError(percentErrMsg, percentFmt, '1%', '93%')];
}

/** An HTTP header field name as Go's HTTP library accepts it. */
export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderNameRegexp.test(value) ? [] : [regexError(httpHeaderNameErrMsg, httpHeaderNameFmt, 'X-Header-Name')];
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** A (strict) environment variable name. */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRegexp.test(value)) {
    errs.push(regexError(envVarNameFmtErrMsg, envVarNameFmt, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** An environment variable name under RelaxedEnvironmentVariableValidation: printable ASCII except '='. */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push('environment variable name ' + emptyError());
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp > 0x7f || cp < 0x20 || cp === 0x7f || ch === '=') {
      errs.push(relaxedEnvVarNameFmtErrMsg);
      break;
    }
  }
  return errs;
}

/** A ConfigMap or Secret data key. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (utf8Length(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!configMapKeyRegexp.test(value)) {
    errs.push(regexError(configMapKeyErrMsg, configMapKeyFmt, 'key.name', 'KEY_NAME', 'key-name'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** A domain name with at least three dot-separated segments and no trailing dot (deprecated upstream). */
export function isFullyQualifiedName(fldPath: Path, name: string): ErrorList {
  if (name.length === 0) return [required(fldPath, '')];
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [invalid(fldPath, name, errs.join(','))];
  if (name.split('.').length < 3) {
    return [invalid(fldPath, name, 'should be a domain with at least three segments separated by dots')];
  }
  return [];
}

/** A domain name with at least two segments; a trailing dot is allowed. */
export function isFullyQualifiedDomainName(fldPath: Path, name: string): ErrorList {
  if (name.length === 0) return [required(fldPath, '')];
  if (name.endsWith('.')) name = name.slice(0, -1);
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [invalid(fldPath, name, errs.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) {
    return [invalid(fldPath, name, 'should be a domain with at least two segments separated by dots')];
  }
  for (const label of labels) {
    const le = isDNS1123Label(label);
    if (le.length > 0) return [invalid(fldPath, label, le.join(','))];
  }
  return [];
}

/** `acme.io/foo`: a DNS subdomain, a '/', then HTTP path characters. */
export function isDomainPrefixedPath(fldPath: Path, dpPath: string): ErrorList {
  if (dpPath.length === 0) return [required(fldPath, '')];
  const slash = dpPath.indexOf('/');
  const host = slash < 0 ? dpPath : dpPath.slice(0, slash);
  const rest = slash < 0 ? '' : dpPath.slice(slash + 1);
  if (slash < 0 || host.length === 0 || rest.length === 0) {
    return [invalid(fldPath, dpPath, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs: ErrorList = isDNS1123Subdomain(host).map((msg) => invalid(fldPath, host, msg));
  if (!httpPathRegexp.test(rest)) {
    errs.push(invalid(fldPath, rest, regexError('Invalid path', httpPathFmt)));
    return errs;
  }
  return errs;
}

// ---- IP addresses, parsed like k8s.io/utils/net ParseIPSloppy (Go 1.16 net.ParseIP: leading zeros
// in IPv4 octets are accepted and read as decimal).

/** A parsed IP address: 4 bytes for dotted IPv4, 16 for anything written with colons. */
export interface ParsedIP {
  readonly bytes: Uint8Array;
  /** True when written in IPv4 dotted form. */
  readonly dotted: boolean;
}

const bigDtoi = 0xffffff;

function dtoi(s: string, start: number): [number, number] | null {
  let n = 0;
  let i = start;
  for (; i < s.length && s[i]! >= '0' && s[i]! <= '9'; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= bigDtoi) return null;
  }
  if (i === start) return null;
  return [n, i];
}

function xtoi(s: string, start: number): [number, number] | null {
  let n = 0;
  let i = start;
  for (; i < s.length; i++) {
    const c = s[i]!;
    let d: number;
    if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
    else if (c >= 'a' && c <= 'f') d = c.charCodeAt(0) - 87;
    else if (c >= 'A' && c <= 'F') d = c.charCodeAt(0) - 55;
    else break;
    n = n * 16 + d;
    if (n >= bigDtoi) return null;
  }
  if (i === start) return null;
  return [n, i];
}

function parseIPv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let pos = 0;
  for (let i = 0; i < 4; i++) {
    if (i > 0) {
      if (s[pos] !== '.') return null;
      pos++;
    }
    const r = dtoi(s, pos);
    if (r === null || r[0] > 0xff) return null;
    out[i] = r[0];
    pos = r[1];
  }
  return pos === s.length ? out : null;
}

function parseIPv6(s: string): Uint8Array | null {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let pos = 0;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    pos = 2;
    if (pos === s.length) return ip;
  }
  let i = 0;
  while (i < 16) {
    const r = xtoi(s, pos);
    if (r === null || r[0] > 0xffff) return null;
    const [n, end] = r;
    if (end < s.length && s[end] === '.') {
      if (ellipsis < 0 && i !== 12) return null;
      if (i + 4 > 16) return null;
      const v4 = parseIPv4(s.slice(pos));
      if (v4 === null) return null;
      ip.set(v4, i);
      i += 4;
      pos = s.length;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    pos = end;
    if (pos === s.length) break;
    if (s[pos] !== ':' || pos + 1 === s.length) return null;
    pos++;
    if (s[pos] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      pos++;
      if (pos === s.length) break;
    }
  }
  if (pos !== s.length) return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return null;
  }
  return ip;
}

/** Parses an IP like ParseIPSloppy; null when invalid. */
export function parseIPSloppy(s: string): ParsedIP | null {
  for (const c of s) {
    if (c === '.') {
      const b = parseIPv4(s);
      return b === null ? null : { bytes: b, dotted: true };
    }
    if (c === ':') {
      const b = parseIPv6(s);
      return b === null ? null : { bytes: b, dotted: false };
    }
  }
  return null;
}

/** True when the address is IPv4 or IPv4-mapped IPv6 (Go's ip.To4() != nil). */
export function isIPv4(ip: ParsedIP): boolean {
  if (ip.bytes.length === 4) return true;
  for (let i = 0; i < 10; i++) if (ip.bytes[i] !== 0) return false;
  return ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
}

/** A parsed CIDR: the address as written and the prefix length. */
export interface ParsedCIDR {
  readonly ip: ParsedIP;
  readonly prefixLength: number;
}

/** Parses `addr/prefix` like ParseCIDRSloppy; null when invalid. */
export function parseCIDRSloppy(s: string): ParsedCIDR | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = s.slice(0, slash);
  const mask = s.slice(slash + 1);
  const ip = parseIPSloppy(addr);
  if (ip === null) return null;
  const bits = ip.dotted ? 32 : 128;
  const r = dtoi(mask, 0);
  if (r === null || r[1] !== mask.length || r[0] > bits) return null;
  return { ip, prefixLength: r[0] };
}

/** Any IP address. */
export function isValidIP(fldPath: Path, value: string): ErrorList {
  return parseIPSloppy(value) === null ? [invalid(fldPath, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] : [];
}

/** An IPv4 address (IPv4-mapped IPv6 counts, as upstream). */
export function isValidIPv4Address(fldPath: Path, value: string): ErrorList {
  const ip = parseIPSloppy(value);
  return ip === null || !isIPv4(ip) ? [invalid(fldPath, value, 'must be a valid IPv4 address')] : [];
}

/** An IPv6 address that is not IPv4-mapped. */
export function isValidIPv6Address(fldPath: Path, value: string): ErrorList {
  const ip = parseIPSloppy(value);
  return ip === null || isIPv4(ip) ? [invalid(fldPath, value, 'must be a valid IPv6 address')] : [];
}

/** A CIDR such as 10.9.8.0/24 or 2001:db8::/64. */
export function isValidCIDR(fldPath: Path, value: string): ErrorList {
  return parseCIDRSloppy(value) === null
    ? [invalid(fldPath, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')]
    : [];
}

// ---- Name validators per resource (apimachinery api/validation ValidateNameFunc), used by
// ValidateObjectMeta. `prefix` is true for generateName, whose trailing dash is tolerated.

/** Validates an object name; prefix=true when validating generateName. */
export type ValidateNameFunc = (name: string, prefix: boolean) => string[];

// Upstream drops two characters, not one, before appending 'a'; kept for identical results.
function maskTrailingDash(name: string): string {
  if (name.length > 1 && name.endsWith('-')) return name.slice(0, name.length - 2) + 'a';
  return name;
}

/** Names that must be DNS-1123 subdomains (most kinds). */
export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  return isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
}

/** Names that must be DNS-1123 labels (namespaces, ...). */
export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return isDNS1123Label(prefix ? maskTrailingDash(name) : name);
}

/** Names that must be DNS-1035 labels (services, ...). */
export function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  return isDNS1035Label(prefix ? maskTrailingDash(name) : name);
}

/** Namespace names. */
export const validateNamespaceName: ValidateNameFunc = nameIsDNSLabel;

/** ServiceAccount names. */
export const validateServiceAccountName: ValidateNameFunc = nameIsDNSSubdomain;

/** Names that only need to be safe as a URL path segment (RBAC roles, ...). */
export function validatePathSegmentName(name: string, prefix: boolean): string[] {
  const errs: string[] = [];
  if (!prefix) {
    for (const illegal of ['.', '..']) {
      if (name === illegal) return [`may not be '${illegal}'`];
    }
  }
  for (const illegal of ['/', '%']) {
    if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  }
  return errs;
}
