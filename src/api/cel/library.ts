// The Kubernetes CEL extension libraries the admission expressions use most, registered on a
// cel-js Environment: k8s lists (isSorted, sum, min, max, indexOf, lastIndexOf), regex (find,
// findAll), the extra string functions (charAt, replace, reverse), quantity and url.
import type { Environment } from '@marcbachmann/cel-js';
import {
  addQuantity, cmpQuantity, isZero, parseQuantity, quantityString, quantityToNumber, scaledValue, sign, subQuantity,
  newQuantity, QuantityFormat, type Quantity,
} from '../quantity.ts';
import { regexFind, regexFindAll } from './regex.ts';

/** A Kubernetes resource.Quantity as a CEL value (kubernetes.Quantity). */
export class CelQuantity {
  readonly q: Quantity;
  constructor(q: Quantity) {
    this.q = q;
  }
  toString(): string {
    return quantityString(this.q);
  }
}

/** A parsed URL as a CEL value (kubernetes.URL). */
export class CelURL {
  readonly scheme: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly escapedPath: string;
  readonly query: Record<string, string[]>;
  constructor(init: { scheme: string; host: string; hostname: string; port: string; escapedPath: string; query: Record<string, string[]> }) {
    this.scheme = init.scheme;
    this.host = init.host;
    this.hostname = init.hostname;
    this.port = init.port;
    this.escapedPath = init.escapedPath;
    this.query = init.query;
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    const x = Number(a), y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`no such overload: comparing ${typeof a} and ${typeof b}`);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function extreme(list: unknown[], which: 'min' | 'max'): unknown {
  if (list.length === 0) throw new Error(`${which} called on empty list`);
  let best = list[0];
  for (const x of list.slice(1)) {
    const c = compare(x, best);
    if ((which === 'min' && c < 0) || (which === 'max' && c > 0)) best = x;
  }
  return best;
}

function toQuantity(s: string): CelQuantity {
  try {
    return new CelQuantity(parseQuantity(s));
  } catch (e) {
    throw new Error(`quantities must match the regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function intQuantity(n: bigint): Quantity {
  return newQuantity(n, QuantityFormat.DecimalSI);
}

function parseURL(s: string): CelURL {
  // Go's url.Parse as kubernetes' url library uses it: an absolute URI or an absolute path.
  if (s.startsWith('/')) {
    const [path, q = ''] = s.split('?', 2) as [string, string?];
    return new CelURL({ scheme: '', host: '', hostname: '', port: '', escapedPath: path, query: queryMap(q) });
  }
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`URL parse error during conversion from string: parse "${s}": invalid URI for request`);
  }
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return new CelURL({
    scheme: u.protocol.replace(/:$/, ''), host: u.host, hostname, port: u.port,
    escapedPath: u.pathname, query: queryMap(u.search.replace(/^\?/, '')),
  });
}

function queryMap(q: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(q)) (out[k] ??= []).push(v);
  return out;
}

/** Registers the libraries on `env` (before it is cloned). */
export function registerKubernetesLibraries(env: Environment): Environment {
  return env
    .registerType('kubernetes.Quantity', CelQuantity)
    .registerType('kubernetes.URL', CelURL)
    // lists
    .registerFunction('list<T>.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0))
    .registerFunction('list<T>.sum(): T', (l: unknown[]) => {
      if (l.length === 0) return 0n;
      return l.reduce((a, b) => (typeof a === 'bigint' && typeof b === 'bigint' ? a + b : Number(a) + Number(b)));
    })
    .registerFunction('list<T>.min(): T', (l: unknown[]) => extreme(l, 'min'))
    .registerFunction('list<T>.max(): T', (l: unknown[]) => extreme(l, 'max'))
    .registerFunction('list<T>.indexOf(T): int', (l: unknown[], x: unknown) => BigInt(l.findIndex((y) => deepEqual(x, y))))
    .registerFunction('list<T>.lastIndexOf(T): int', (l: unknown[], x: unknown) => {
      for (let i = l.length - 1; i >= 0; i--) if (deepEqual(l[i], x)) return BigInt(i);
      return -1n;
    })
    // regex
    .registerFunction('string.find(string): string', (s: string, re: string) => regexFind(s, re))
    .registerFunction('string.findAll(string): list<string>', (s: string, re: string) => regexFindAll(s, re, -1n))
    .registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => regexFindAll(s, re, n))
    // strings (cel-go ext.Strings beyond what cel-js has)
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
      const chars = [...s];
      if (i < 0n || i > BigInt(chars.length)) throw new Error(`index out of range: ${i}`);
      return chars[Number(i)] ?? '';
    })
    .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b))
    .registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
      if (n < 0n) return s.split(a).join(b);
      let out = s;
      let from = 0;
      for (let k = 0n; k < n; k++) {
        const at = out.indexOf(a, from);
        if (at < 0) break;
        out = out.slice(0, at) + b + out.slice(at + a.length);
        from = at + b.length;
      }
      return out;
    })
    .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''))
    // quantity
    .registerFunction('quantity(string): kubernetes.Quantity', (s: string) => toQuantity(s))
    .registerFunction('isQuantity(string): bool', (s: string) => {
      try {
        parseQuantity(s);
        return true;
      } catch {
        return false;
      }
    })
    .registerFunction('kubernetes.Quantity.isInteger(): bool', (q: CelQuantity) => {
      const v = scaledValue(q.q, 0);
      return cmpQuantity(q.q, intQuantity(v)) === 0;
    })
    .registerFunction('kubernetes.Quantity.asInteger(): int', (q: CelQuantity) => {
      const v = scaledValue(q.q, 0);
      if (cmpQuantity(q.q, intQuantity(v)) !== 0) throw new Error('cannot convert value to integer');
      return v;
    })
    .registerFunction('kubernetes.Quantity.asApproximateFloat(): double', (q: CelQuantity) => quantityToNumber(q.q))
    .registerFunction('kubernetes.Quantity.sign(): int', (q: CelQuantity) => (isZero(q.q) ? 0n : BigInt(sign(q.q))))
    .registerFunction('kubernetes.Quantity.add(kubernetes.Quantity): kubernetes.Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(addQuantity(a.q, b.q)))
    .registerFunction('kubernetes.Quantity.add(int): kubernetes.Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(addQuantity(a.q, intQuantity(b))))
    .registerFunction('kubernetes.Quantity.sub(kubernetes.Quantity): kubernetes.Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(subQuantity(a.q, b.q)))
    .registerFunction('kubernetes.Quantity.sub(int): kubernetes.Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(subQuantity(a.q, intQuantity(b))))
    .registerFunction('kubernetes.Quantity.isGreaterThan(kubernetes.Quantity): bool', (a: CelQuantity, b: CelQuantity) => cmpQuantity(a.q, b.q) > 0)
    .registerFunction('kubernetes.Quantity.isLessThan(kubernetes.Quantity): bool', (a: CelQuantity, b: CelQuantity) => cmpQuantity(a.q, b.q) < 0)
    .registerFunction('kubernetes.Quantity.compareTo(kubernetes.Quantity): int', (a: CelQuantity, b: CelQuantity) => BigInt(cmpQuantity(a.q, b.q)))
    // url
    .registerFunction('url(string): kubernetes.URL', (s: string) => parseURL(s))
    .registerFunction('isURL(string): bool', (s: string) => {
      try {
        parseURL(s);
        return true;
      } catch {
        return false;
      }
    })
    .registerFunction('kubernetes.URL.getScheme(): string', (u: CelURL) => u.scheme)
    .registerFunction('kubernetes.URL.getHost(): string', (u: CelURL) => u.host)
    .registerFunction('kubernetes.URL.getHostname(): string', (u: CelURL) => u.hostname)
    .registerFunction('kubernetes.URL.getPort(): string', (u: CelURL) => u.port)
    .registerFunction('kubernetes.URL.getEscapedPath(): string', (u: CelURL) => u.escapedPath)
    .registerFunction('kubernetes.URL.getQuery(): map<string, list<string>>', (u: CelURL) => u.query);
}
