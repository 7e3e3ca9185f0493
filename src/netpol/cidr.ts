// IPv4 address and CIDR arithmetic the renderer needs: which pod IPs fall inside an ipBlock (for
// named ports of egress rules), and which addresses and blocks iptables' IPv4 tables can take.

/** An IPv4 block as numbers. */
export interface Cidr4 {
  /** Network address (host bits cleared) as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

/** The address as an unsigned 32-bit number, or null when `ip` is not dotted-quad IPv4. */
export function parseIPv4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n" (host bits allowed, as ipBlock validation allows them); null if not IPv4. */
export function parseCidr4(cidr: string): Cidr4 | null {
  const slash = cidr.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIPv4(cidr.slice(0, slash));
  const prefixText = cidr.slice(slash + 1);
  if (addr === null || !/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 32) return null;
  return { base: (addr & mask(prefix)) >>> 0, prefix };
}

/** The block in canonical form ("10.0.0.0/8"), as iptables prints it back. */
export function formatCidr4(c: Cidr4): string {
  const b = c.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

/** Whether `ip` (a number from parseIPv4) is inside block `c`. */
export function cidrContains(c: Cidr4, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}
