// Addresses of simulated nodes and their pods: node i gets the (i+1)-th address of the node range
// and a /24 of the pod range for its pods. They only fill status fields; nothing ever sends to them.

function parseIPv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`not an IPv4 address: ${JSON.stringify(s)}`);
  return parts.reduce((a, p) => a * 256 + Number(p), 0);
}

function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** An IPv4 CIDR as [first address, size]. */
export function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(.+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  const base = Math.floor(parseIPv4(m[1]!) / size) * size;
  return { base, size };
}

/** The address of node `index` (0-based) in `cidr`, skipping the network address. */
export function nodeAddress(cidr: string, index: number): string {
  const { base, size } = parseCidr(cidr);
  if (!(index >= 0 && index + 2 < size)) throw new Error(`node index ${index} does not fit in ${cidr}`);
  return formatIPv4(base + index + 1);
}

/** Pod addresses of one node: a /24 block, lowest free address first, one per pod uid. */
export class PodAddressPool {
  readonly block: string;
  #base: number;
  #byUid = new Map<string, number>();
  #used = new Set<number>();

  /** Block `index` of `cidr`, cut into /24s. */
  constructor(cidr: string, index: number) {
    const { base, size } = parseCidr(cidr);
    if (!(index >= 0 && (index + 1) * 256 <= size)) throw new Error(`pod block ${index} does not fit in ${cidr}`);
    this.#base = base + index * 256;
    this.block = `${formatIPv4(this.#base)}/24`;
  }

  /** The pod's address, allocated on first call; undefined when the block is full. */
  allocate(uid: string): string | undefined {
    const have = this.#byUid.get(uid);
    if (have !== undefined) return formatIPv4(have);
    for (let host = 1; host < 255; host++) {
      const a = this.#base + host;
      if (!this.#used.has(a)) {
        this.#used.add(a);
        this.#byUid.set(uid, a);
        return formatIPv4(a);
      }
    }
    return undefined;
  }

  /** Records an address a pod already has (after a restart of the simulator); false if it is not ours or taken. */
  reserve(uid: string, ip: string): boolean {
    let a: number;
    try {
      a = parseIPv4(ip);
    } catch {
      return false;
    }
    if (a <= this.#base || a >= this.#base + 255) return false;
    const have = this.#byUid.get(uid);
    if (have === a) return true;
    if (have !== undefined || this.#used.has(a)) return false;
    this.#used.add(a);
    this.#byUid.set(uid, a);
    return true;
  }

  /** Frees the pod's address. */
  release(uid: string): void {
    const a = this.#byUid.get(uid);
    if (a === undefined) return;
    this.#byUid.delete(uid);
    this.#used.delete(a);
  }

  /** Addresses in use. */
  get size(): number {
    return this.#byUid.size;
  }
}
