// The cluster zone's answers: one question in, one Resolution out, read from the record index. Follows
// CoreDNS's kubernetes plugin (the Kubernetes DNS specification plus its NODATA/NXDOMAIN/SOA choices),
// configured as k3s does: `kubernetes <zone> in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa }`.

import { addressFromReverse, canonicalIP, ipFamily } from './ip.ts';
import type { DnsIndex, ServiceEntry } from './records.ts';
import { Rcode } from './types.ts';
import type { DnsAnswer, DnsQuestion, Resolution, ResourceRecord } from './types.ts';

/** The schema version answered at dns-version.<zone> (Kubernetes DNS specification 1.1.0). */
export const DNS_SCHEMA_VERSION = '1.1.0';
/** CoreDNS's TTL for the dns-version TXT record. */
const SCHEMA_TTL = 28800;
/** CoreDNS stops following CNAMEs inside the zone after this many. */
const MAX_CNAME_CHAIN = 10;
const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'] as const;

/** One candidate record: an address or (ExternalName) a host name, with its port and SRV target. */
interface Item {
  /** Canonical IP, or a host name when `ip` is false. */
  readonly host: string;
  readonly ip: boolean;
  /** -1 when there is no port (no SRV record). */
  readonly port: number;
  /** The name this item is known by: the SRV target and the owner of its additional address record. */
  readonly target: string;
}

/** A name lookup's result: items (possibly none: the name exists without data) or a name error. */
type Lookup = { readonly ok: true; readonly items: readonly Item[] } | { readonly ok: false };

const NAME_ERROR: Lookup = { ok: false };
const EMPTY: Lookup = { ok: true, items: [] };

/** Per-question context: the zone matched and the spellings of names built from it. */
interface Ctx {
  readonly index: DnsIndex;
  /** The zone matched, lower case. */
  readonly zone: string;
  /** The zone as the question spelled it (CoreDNS keeps the asker's case). */
  readonly zoneText: string;
  readonly reverse: boolean;
  readonly ttl: number;
}

/** Answers one question from the index, or says it is not the cluster zone's to answer. */
export function resolve(index: DnsIndex, question: DnsQuestion): Resolution {
  const qname = question.name.replace(/\.$/, '');
  const lname = qname.toLowerCase();
  const zone = matchZone(lname, index.options.zone);
  if (zone === undefined) return { kind: 'next' };
  const ctx: Ctx = {
    index,
    zone,
    zoneText: qname.slice(qname.length - zone.length),
    reverse: zone !== index.options.zone,
    ttl: index.options.ttl,
  };
  const type = question.type.toUpperCase();

  let answers: ResourceRecord[] = [];
  let additionals: ResourceRecord[] = [];
  let nameError = false;
  let chase: DnsQuestion | undefined;
  switch (type) {
    case 'AXFR':
    case 'IXFR':
      return answer(Rcode.REFUSED, false, [], []);
    case 'A':
    case 'AAAA': {
      const r = addresses(ctx, qname, lname, type, []);
      if (r === undefined) nameError = true;
      else ({ records: answers, chase } = r);
      break;
    }
    case 'TXT': {
      if (lname === `dns-version.${zone}` && !ctx.reverse) {
        answers = [{ name: qname, type: 'TXT', ttl: SCHEMA_TTL, data: [DNS_SCHEMA_VERSION] }];
        break;
      }
      // CoreDNS answers TXT NODATA only for names that hold records, NXDOMAIN otherwise.
      const l = lookup(ctx, lname);
      nameError = !l.ok || l.items.length === 0;
      break;
    }
    case 'CNAME': {
      const l = lookup(ctx, lname);
      if (!l.ok) nameError = true;
      else if (l.items.length > 0 && !l.items[0].ip) {
        answers = [{ name: qname, type: 'CNAME', ttl: ctx.ttl, data: l.items[0].host }];
      }
      break;
    }
    case 'PTR': {
      const ip = addressFromReverse(lname);
      if (ip !== undefined) {
        answers = pointers(ctx, qname, ip);
        nameError = answers.length === 0;
      } else {
        nameError = !lookup(ctx, lname).ok;
      }
      break;
    }
    case 'SRV': {
      const l = lookup(ctx, lname);
      if (!l.ok) nameError = true;
      else ({ answers, additionals } = services(ctx, qname, l.items));
      break;
    }
    case 'SOA':
      if (lname === zone) answers = [soa(ctx)];
      break;
    case 'NS':
      if (lname === zone) {
        ({ answers, additionals } = nameservers(ctx, qname));
        break;
      }
      nameError = !lookup(ctx, lname).ok;
      break;
    default:
      // As CoreDNS: other types exist (NODATA) exactly where an A lookup would not be a name error.
      nameError = !lookup(ctx, lname).ok;
  }

  if (nameError) {
    // `fallthrough in-addr.arpa ip6.arpa`: reverse names we do not know go on to forwarding.
    if (ctx.reverse) return { kind: 'next' };
    const rcode = index.synced ? Rcode.NXDOMAIN : Rcode.SERVFAIL;
    return answer(rcode, true, [], [soa(ctx)]);
  }
  if (answers.length === 0) return answer(Rcode.NOERROR, true, [], [soa(ctx)]);
  return answer(Rcode.NOERROR, true, answers, [], additionals, chase);
}

function answer(
  rcode: Rcode,
  authoritative: boolean,
  answers: readonly ResourceRecord[],
  authorities: readonly ResourceRecord[],
  additionals: readonly ResourceRecord[] = [],
  chase?: DnsQuestion,
): DnsAnswer {
  return chase === undefined
    ? { kind: 'answer', rcode, authoritative, answers, authorities, additionals }
    : { kind: 'answer', rcode, authoritative, answers, authorities, additionals, chase };
}

/** The zone of the index (cluster or reverse) a name falls in, lower case; undefined when none. */
export function zoneOf(index: DnsIndex, name: string): string | undefined {
  return matchZone(name.replace(/\.$/, '').toLowerCase(), index.options.zone);
}

/** The longest of the cluster zone and the reverse zones that `lname` is in or equal to. */
function matchZone(lname: string, clusterZone: string): string | undefined {
  let best: string | undefined;
  for (const z of [clusterZone, ...REVERSE_ZONES]) {
    if ((lname === z || lname.endsWith(`.${z}`)) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

function soa(ctx: Ctx): ResourceRecord {
  const z = ctx.zoneText;
  return {
    name: z,
    type: 'SOA',
    ttl: Math.min(ctx.ttl, 300),
    data: {
      mname: `ns.dns.${z}`,
      rname: `hostmaster.${z}`,
      serial: ctx.index.serial(),
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ctx.ttl,
    },
  };
}

/** Whether an address of `svc`'s endpoints is answered: ready, or published though not ready. */
function isReady(ready: boolean, svc: ServiceEntry | undefined): boolean {
  return ready || svc?.publishNotReadyAddresses === true;
}

function stripUnderscore(label: string): string {
  return label.startsWith('_') ? label.slice(1) : label;
}

/**
 * What a name in the zone stands for (CoreDNS's Records/findServices/findPods):
 *   [_port._proto. | endpoint.] service.namespace.svc.zone,  pod-ip-dashed.namespace.pod.zone
 */
function lookup(ctx: Ctx, lname: string): Lookup {
  const { index, zone } = ctx;
  if (!ctx.reverse && lname === `ns.dns.${zone}`) {
    return { ok: true, items: index.options.nameservers.map((ip) => ({ host: ip, ip: true, port: -1, target: lname })) };
  }
  const base = lname === zone ? '' : lname.slice(0, -(zone.length + 1));
  if (base === '' || base === 'svc' || base === 'pod') return EMPTY;
  const segs = base.split('.');
  const podOrSvc = segs[segs.length - 1];
  if (podOrSvc !== 'svc' && podOrSvc !== 'pod') return NAME_ERROR;
  if (segs.length > 5) return NAME_ERROR;
  if (ctx.reverse) return NAME_ERROR;
  const namespace = segs[segs.length - 2];
  if (!index.hasNamespace(namespace)) return NAME_ERROR;
  if (segs.length === 2) return EMPTY;
  const name = segs[segs.length - 3];
  const rest = segs.slice(0, segs.length - 3);
  if (podOrSvc === 'pod') return podLookup(ctx, namespace, name);
  let endpoint = '';
  let port = '';
  let protocol = '';
  if (rest.length === 1) endpoint = rest[0];
  else if (rest.length === 2) {
    port = stripUnderscore(rest[0]);
    protocol = stripUnderscore(rest[1]);
  }
  return serviceLookup(ctx, namespace, name, endpoint, port, protocol);
}

function podLookup(ctx: Ctx, namespace: string, podName: string): Lookup {
  const { index } = ctx;
  const mode = index.options.podMode;
  if (mode === 'disabled') return NAME_ERROR;
  const dashes = podName.split('-').length - 1;
  const text = dashes === 3 && !podName.includes('--') ? podName.replaceAll('-', '.') : podName.replaceAll('-', ':');
  const ip = canonicalIP(text);
  if (ip === undefined) return NAME_ERROR;
  if (mode === 'verified' && !index.hasPodWithIP(namespace, ip)) return NAME_ERROR;
  // CoreDNS gives pod records port 0, so an SRV question on a pod name gets a port-0 record.
  return { ok: true, items: [{ host: ip, ip: true, port: 0, target: `${podName}.${namespace}.pod.${ctx.zoneText}` }] };
}

function matchPort(want: string, have: string): boolean {
  return want === '' || want === have;
}

function serviceLookup(ctx: Ctx, namespace: string, name: string, endpoint: string, port: string, protocol: string): Lookup {
  const { index } = ctx;
  const svc = index.service(namespace, name);
  if (svc === undefined) return NAME_ERROR;
  const svcDomain = `${name}.${namespace}.svc.${ctx.zoneText}`;
  const items: Item[] = [];
  let found = false;

  if (svc.kind === 'externalName') {
    // ExternalName Services have no endpoints or ports to ask about; an IP there is no CNAME.
    if (endpoint !== '' || port !== '' || protocol !== '') return NAME_ERROR;
    if (svc.externalName === '' || canonicalIP(svc.externalName) !== undefined) return NAME_ERROR;
    return { ok: true, items: [{ host: svc.externalName, ip: false, port: -1, target: svcDomain }] };
  }

  if (svc.kind === 'headless' || endpoint !== '') {
    for (const slice of index.slicesOf(namespace, name)) {
      for (const a of slice.addresses) {
        if (!isReady(a.ready, svc)) continue;
        if (endpoint !== '' && endpoint !== a.hostname) continue;
        for (const p of slice.ports) {
          if (!matchPort(port, p.name) || !matchPort(protocol, p.protocol)) continue;
          found = true;
          items.push({ host: a.ip, ip: true, port: p.port, target: `${a.hostname}.${svcDomain}` });
        }
      }
    }
    return found ? { ok: true, items } : NAME_ERROR;
  }

  for (const p of svc.ports) {
    if (!matchPort(port, p.name) || !matchPort(protocol, p.protocol)) continue;
    found = true;
    for (const ip of svc.clusterIPs) items.push({ host: ip, ip: true, port: p.port, target: svcDomain });
  }
  return found ? { ok: true, items } : NAME_ERROR;
}

/** A/AAAA records of a name, following CNAMEs inside the zone; undefined on a name error. */
function addresses(
  ctx: Ctx,
  qname: string,
  lname: string,
  type: 'A' | 'AAAA',
  chain: readonly ResourceRecord[],
): { records: ResourceRecord[]; chase?: DnsQuestion } | undefined {
  const l = lookup(ctx, lname);
  if (!l.ok) return undefined;
  const family = type === 'A' ? 4 : 6;
  const records: ResourceRecord[] = [];
  const seen = new Set<string>();
  let chase: DnsQuestion | undefined;
  for (const item of l.items) {
    if (item.ip) {
      if (ipFamily(item.host) !== family || seen.has(item.host)) continue;
      seen.add(item.host);
      records.push({ name: qname, type, ttl: ctx.ttl, data: item.host });
      continue;
    }
    const target = item.host.toLowerCase();
    if (target === lname || chain.length > MAX_CNAME_CHAIN) continue;
    if (chain.some((r) => r.type === 'CNAME' && r.name.toLowerCase() === lname && r.data.toLowerCase() === target)) continue;
    const cname: ResourceRecord = { name: qname, type: 'CNAME', ttl: ctx.ttl, data: item.host };
    if (target === ctx.zone || target.endsWith(`.${ctx.zone}`)) {
      const next = addresses(ctx, item.host, target, type, [...chain, cname]);
      if (next !== undefined && next.records.length > 0) {
        records.push(cname, ...next.records);
        chase = next.chase ?? chase;
      }
      continue;
    }
    // Outside the zone: the server completes the chain through forwarding.
    records.push(cname);
    chase = { name: item.host, type };
  }
  return chase === undefined ? { records } : { records, chase };
}

/** SRV records for the items, with their targets' addresses as additional records. */
function services(ctx: Ctx, qname: string, all: readonly Item[]): { answers: ResourceRecord[]; additionals: ResourceRecord[] } {
  const items = all.filter((i) => i.ip);
  const answers: ResourceRecord[] = [];
  const additionals: ResourceRecord[] = [];
  if (items.length === 0) return { answers, additionals };
  // CoreDNS splits a weight of 100 evenly over the records of a priority (all are priority 0 here).
  const weight = Math.max(1, Math.floor((100 / (100 * items.length)) * 100));
  const seenSrv = new Set<string>();
  const seenAddr = new Set<string>();
  for (const item of items) {
    if (item.port === -1) continue;
    const srvKey = `${item.target}\u0000${item.port}`;
    if (!seenSrv.has(srvKey)) {
      seenSrv.add(srvKey);
      answers.push({ name: qname, type: 'SRV', ttl: ctx.ttl, data: { priority: 0, weight, port: item.port, target: item.target } });
    }
    const addrKey = `${item.target}\u0000${item.host}`;
    if (!seenAddr.has(addrKey)) {
      seenAddr.add(addrKey);
      additionals.push({ name: item.target, type: ipFamily(item.host) === 4 ? 'A' : 'AAAA', ttl: ctx.ttl, data: item.host });
    }
  }
  return { answers, additionals };
}

/** PTR records for a Service cluster IP, else for the ready endpoints holding that IP. */
function pointers(ctx: Ctx, qname: string, ip: string): ResourceRecord[] {
  const { index } = ctx;
  const zone = index.options.zone;
  for (const svc of index.servicesWithClusterIP(ip)) {
    return [{ name: qname, type: 'PTR', ttl: ctx.ttl, data: `${svc.name}.${svc.namespace}.svc.${zone}` }];
  }
  const records: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const slice of index.slicesWithAddress(ip)) {
    if (slice.service === '') continue;
    const svc = index.service(slice.namespace, slice.service);
    for (const a of slice.addresses) {
      if (a.ip !== ip || !isReady(a.ready, svc)) continue;
      const target = `${a.hostname}.${slice.service}.${slice.namespace}.svc.${zone}`;
      if (seen.has(target)) continue;
      seen.add(target);
      records.push({ name: qname, type: 'PTR', ttl: ctx.ttl, data: target });
    }
  }
  return records;
}

/**
 * NS records for the zone apex: the DNS Service's name when a Service holds a nameserver address as
 * its cluster IP (kube-dns in kube-system), else ns.dns.<zone>; their addresses as additional records.
 */
function nameservers(ctx: Ctx, qname: string): { answers: ResourceRecord[]; additionals: ResourceRecord[] } {
  const answers: ResourceRecord[] = [];
  const additionals: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const ip of ctx.index.options.nameservers) {
    let host = `ns.dns.${ctx.zoneText}`;
    for (const svc of ctx.index.servicesWithClusterIP(ip)) {
      host = `${svc.name}.${svc.namespace}.svc.${ctx.zoneText}`;
      break;
    }
    if (!seen.has(host)) {
      seen.add(host);
      answers.push({ name: qname, type: 'NS', ttl: ctx.ttl, data: host });
    }
    additionals.push({ name: host, type: ipFamily(ip) === 4 ? 'A' : 'AAAA', ttl: ctx.ttl, data: ip });
  }
  return { answers, additionals };
}
