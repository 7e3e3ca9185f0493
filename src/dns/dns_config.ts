// Forwarding configuration of the cluster DNS: the kube-dns style ConfigMap (stubDomains,
// upstreamNameservers) parsed and validated as kube-dns does, the node's resolv.conf nameservers as
// the default upstreams, and the choice of upstreams for a name outside the cluster zone. Pure.

import { canonicalIP } from './ip.ts';

/** A DNS server to forward to. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** Forwarding configuration; names outside the cluster zone go to stub domains, else upstreams. */
export interface ForwardConfig {
  /** Zone (lower case, no trailing dot) -> servers answering it. */
  readonly stubDomains: ReadonlyMap<string, readonly Upstream[]>;
  /** Servers for every other name; empty means no forwarding (SERVFAIL, as CoreDNS without `forward`). */
  readonly upstreams: readonly Upstream[];
}

/** No forwarding at all: what tests use. */
export const NO_FORWARDING: ForwardConfig = { stubDomains: new Map(), upstreams: [] };

/** The outcome of parsing a ConfigMap: a config or the first validation error, worded as kube-dns. */
export type ParsedDnsConfig = { readonly ok: true; readonly config: ForwardConfig } | { readonly ok: false; readonly error: string };

/** kube-dns's cap on upstreamNameservers. */
const MAX_UPSTREAMS = 3;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** "1.2.3.4", "1.2.3.4:53", "[fd00::1]:53" or "fd00::1" -> an upstream; undefined if not an IP (and port). */
export function parseNameserver(text: string): Upstream | undefined {
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (hostPort) {
    host = hostPort[1];
    port = Number(hostPort[2]);
  }
  const ip = canonicalIP(host);
  if (ip === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: ip, port };
}

function parseJSON(text: string, key: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `${key}: ${(err as Error).message}` };
  }
}

/**
 * Parses the data of the DNS ConfigMap: `stubDomains` (JSON object: domain -> ["ip[:port]", ...])
 * and `upstreamNameservers` (JSON array, at most 3). When upstreamNameservers is absent or empty, the
 * node's nameservers (`nodeUpstreams`) are used, as kube-dns does.
 */
export function parseDnsConfigMap(
  data: Readonly<Record<string, string>> | undefined,
  options: { clusterDomain: string; nodeUpstreams: readonly Upstream[] },
): ParsedDnsConfig {
  const stubDomains = new Map<string, Upstream[]>();
  const clusterDomain = options.clusterDomain.toLowerCase().replace(/\.$/, '');
  const stubText = data?.['stubDomains'];
  if (stubText !== undefined && stubText.trim() !== '') {
    const parsed = parseJSON(stubText, 'stubDomains');
    if (!parsed.ok) return parsed;
    const v = parsed.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'stubDomains: must be a JSON object of domain to nameserver list' };
    for (const [domain, list] of Object.entries(v)) {
      const d = domain.toLowerCase().replace(/\.$/, '');
      if (d.length > 253 || !DNS1123_SUBDOMAIN.test(d)) return { ok: false, error: `invalid domain name: ${JSON.stringify(domain)}` };
      if (d === clusterDomain) return { ok: false, error: `invalid domain name: ${JSON.stringify(domain)}: stub domain cannot be the cluster domain` };
      if (!Array.isArray(list)) return { ok: false, error: `stubDomains[${JSON.stringify(domain)}]: must be a list of nameservers` };
      const servers: Upstream[] = [];
      for (const ns of list) {
        const u = typeof ns === 'string' ? parseNameserver(ns) : undefined;
        if (u === undefined) return { ok: false, error: `invalid nameserver: ${JSON.stringify(ns)}` };
        servers.push(u);
      }
      stubDomains.set(d, servers);
    }
  }
  let upstreams: readonly Upstream[] = options.nodeUpstreams;
  const upText = data?.['upstreamNameservers'];
  if (upText !== undefined && upText.trim() !== '') {
    const parsed = parseJSON(upText, 'upstreamNameservers');
    if (!parsed.ok) return parsed;
    const v = parsed.value;
    if (!Array.isArray(v)) return { ok: false, error: 'upstreamNameservers: must be a JSON array of nameservers' };
    if (v.length > MAX_UPSTREAMS) return { ok: false, error: 'upstreamNameserver cannot have more than three entries' };
    const list: Upstream[] = [];
    for (const ns of v) {
      const u = typeof ns === 'string' ? parseNameserver(ns) : undefined;
      if (u === undefined) return { ok: false, error: `invalid nameserver: ${JSON.stringify(ns)}` };
      list.push(u);
    }
    if (list.length > 0) upstreams = list;
  }
  return { ok: true, config: { stubDomains, upstreams } };
}

/**
 * The nameservers of a resolv.conf text as upstreams, leaving out the cluster DNS's own addresses
 * (`exclude`) so a node pointed at the cluster DNS cannot make it forward to itself.
 */
export function upstreamsFromResolvConf(text: string, exclude: readonly string[] = []): Upstream[] {
  const out: Upstream[] = [];
  const skip = new Set(exclude.map((e) => canonicalIP(e) ?? e));
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'nameserver' || fields.length < 2) continue;
    const ip = canonicalIP(fields[1].replace(/%.*$/, ''));
    if (ip === undefined || skip.has(ip)) continue;
    if (!out.some((u) => u.host === ip)) out.push({ host: ip, port: 53 });
  }
  return out;
}

/**
 * Where a name outside the cluster zone goes: the servers of the longest stub domain containing it,
 * else the upstreams (empty: nowhere). `lname` is lower case without trailing dot.
 */
export function upstreamsFor(config: ForwardConfig, lname: string): { zone: string; servers: readonly Upstream[] } | undefined {
  let best: string | undefined;
  for (const zone of config.stubDomains.keys()) {
    if ((lname === zone || lname.endsWith(`.${zone}`)) && (best === undefined || zone.length > best.length)) best = zone;
  }
  if (best !== undefined) return { zone: best, servers: config.stubDomains.get(best) ?? [] };
  return config.upstreams.length > 0 ? { zone: '.', servers: config.upstreams } : undefined;
}

/** The stub domain `lname` falls in, if any. */
export function stubDomainOf(config: ForwardConfig, lname: string): string | undefined {
  const r = upstreamsFor(config, lname);
  return r !== undefined && r.zone !== '.' ? r.zone : undefined;
}
