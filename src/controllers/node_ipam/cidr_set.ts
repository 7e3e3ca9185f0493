// A set of equal-sized IPv4 subnets carved from the cluster CIDR (upstream pkg/controller/nodeipam/
// ipam/cidrset): allocation is round-robin from the last one handed out, so a released range is not
// reused at once; occupy() marks ranges nodes already have.

/** Thrown when every subnet is taken (cidrset.ErrCIDRRangeNoCIDRsRemaining). */
export class CidrRangeExhausted extends Error {
  constructor() {
    super('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
    this.name = 'CidrRangeExhausted';
  }
}

/** Parses "a.b.c.d/n" into a 32-bit base and prefix length, or throws with the value. */
export function parseIpv4Cidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Subnets of `subnetPrefix` bits inside one cluster CIDR. */
export class CidrSet {
  readonly clusterCidr: string;
  readonly subnetPrefix: number;
  #base: number;
  #prefix: number;
  #count: number;
  #used = new Set<number>();
  #next = 0;

  constructor(clusterCidr: string, subnetPrefix = 24) {
    const { base, prefix } = parseIpv4Cidr(clusterCidr);
    if (subnetPrefix < prefix || subnetPrefix > 32) {
      throw new Error(`subnet prefix /${subnetPrefix} does not fit in cluster CIDR ${clusterCidr}`);
    }
    // Upstream refuses more than 2^16 subnets per range.
    if (subnetPrefix - prefix > 16) throw new Error(`cluster CIDR ${clusterCidr} holds too many /${subnetPrefix} subnets (at most 65536)`);
    this.clusterCidr = clusterCidr;
    this.subnetPrefix = subnetPrefix;
    this.#base = base;
    this.#prefix = prefix;
    this.#count = 2 ** (subnetPrefix - prefix);
  }

  /** Number of subnets handed out. */
  get allocated(): number {
    return this.#used.size;
  }

  /** The next free subnet. */
  allocateNext(): string {
    for (let i = 0; i < this.#count; i++) {
      const idx = (this.#next + i) % this.#count;
      if (this.#used.has(idx)) continue;
      this.#used.add(idx);
      this.#next = (idx + 1) % this.#count;
      return this.#format(idx);
    }
    throw new CidrRangeExhausted();
  }

  /** Marks `cidr` as taken; false when it lies outside this set or has another size. */
  occupy(cidr: string): boolean {
    const idx = this.#indexOf(cidr);
    if (idx === undefined) return false;
    this.#used.add(idx);
    return true;
  }

  /** Returns `cidr` to the pool. */
  release(cidr: string): void {
    const idx = this.#indexOf(cidr);
    if (idx !== undefined) this.#used.delete(idx);
  }

  #indexOf(cidr: string): number | undefined {
    let parsed: { base: number; prefix: number };
    try {
      parsed = parseIpv4Cidr(cidr);
    } catch {
      return undefined;
    }
    if (parsed.prefix !== this.subnetPrefix) return undefined;
    const offset = parsed.base - this.#base;
    const size = 2 ** (32 - this.subnetPrefix);
    if (offset < 0 || offset % size !== 0) return undefined;
    const idx = offset / size;
    return idx < this.#count ? idx : undefined;
  }

  #format(idx: number): string {
    return `${formatIpv4((this.#base + idx * 2 ** (32 - this.subnetPrefix)) >>> 0)}/${this.subnetPrefix}`;
  }

  /** The cluster range's prefix length. */
  get clusterPrefix(): number {
    return this.#prefix;
  }
}
