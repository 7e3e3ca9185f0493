// IP address helpers for the cluster DNS: canonical text forms (so index keys and reverse-name lookups
// agree whatever spelling an object used) and the in-addr.arpa / ip6.arpa names of an address.

import { isIPv4, isIPv6 } from 'node:net';

/** The canonical text of an IP (IPv4 dotted quad; IPv6 in RFC 5952 form), or undefined if not an IP. */
export function canonicalIP(text: string): string | undefined {
  if (isIPv4(text)) return text;
  const groups = ipv6Groups(text);
  if (groups === undefined) return undefined;
  // An IPv4-mapped address is printed as IPv4, as Go's net.IP.String does.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  return formatIPv6(groups);
}

/** The address family of a canonical IP. */
export function ipFamily(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** The eight 16-bit groups of an IPv6 address, or undefined if `text` is not one. */
function ipv6Groups(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) return undefined;
  // A dotted IPv4 tail counts as two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = s.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length > 1 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const fill = 8 - head.length - rest.length;
  const all = halves.length > 1 ? [...head, ...new Array<string>(fill).fill('0'), ...rest] : head;
  if (all.length !== 8) return undefined;
  return all.map((g) => parseInt(g, 16));
}

function formatIPv6(groups: readonly number[]): string {
  // RFC 5952: the longest run (first if tied) of two or more zero groups becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The reverse-lookup name of a canonical IP, without trailing dot ("4.3.2.1.in-addr.arpa"). */
export function reverseName(ip: string): string {
  if (ipFamily(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = ipv6Groups(ip) ?? [];
  const nibbles = groups.map((g) => g.toString(16).padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/**
 * The canonical IP a full reverse name stands for (lower-case name without trailing dot), or
 * undefined when it is not a complete in-addr.arpa (4 octets) or ip6.arpa (32 nibbles) name.
 */
export function addressFromReverse(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    const ip = labels.reverse().join('.');
    return isIPv4(ip) ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
    const hex = labels.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    return canonicalIP(groups.join(':'));
  }
  return undefined;
}
