// A pod's DNS resolver configuration (nameservers, search list, options) from its dnsPolicy and
// dnsConfig, as the kubelet computes it (pkg/kubelet/network/dns): ClusterFirst, ClusterFirstWithHostNet,
// Default, None, the dnsConfig merge rules and the resolv.conf limits. Pure: the node's resolv.conf comes in as text.

import type { Pod } from '../api/types/core_v1.ts';

/** What the container runtime writes into the pod's /etc/resolv.conf (the CRI DNSConfig). */
export interface PodDnsConfig {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

/** A warning the kubelet records as an Event while forming the config. */
export interface DnsConfigEvent {
  /** Which object the event is about. */
  readonly on: 'pod' | 'node';
  readonly type: 'Warning';
  readonly reason: 'DNSConfigForming' | 'MissingClusterDNS';
  readonly message: string;
}

/** The node-level inputs of the kubelet's DNS configurer. */
export interface DnsConfigurerOptions {
  /** Cluster DNS server IPs (kubelet clusterDNS); empty: none configured. */
  readonly clusterDNS: readonly string[];
  /** Cluster domain (kubelet clusterDomain); "" for none. */
  readonly clusterDomain: string;
  /** Text of the node's resolv.conf (kubelet --resolv-conf); undefined when that flag is "". */
  readonly hostResolvConf: string | undefined;
  /** The node's IPs, used only when there is no resolv.conf (each family gets its loopback). */
  readonly nodeIPs?: readonly string[];
}

/** kubelet limits (ExpandedDNSConfig, GA in 1.28): 32 search domains, 2048 characters, 3 nameservers. */
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
export const MAX_DNS_NAMESERVERS = 3;
/** Longer search domains make some resolvers (glibc 2.28) abort, so the kubelet drops them. */
const MAX_SEARCH_DOMAIN_LENGTH = 253;
const DEFAULT_DNS_OPTIONS: readonly string[] = ['ndots:5'];

/** A parsed resolv.conf: nameservers accumulate; the last search and options lines win. */
export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
  /** Problems found (a nameserver line without an address). */
  readonly errors: readonly string[];
}

/** Parses resolv.conf text the way the kubelet does. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0) continue;
    if (fields[0] === 'nameserver') {
      if (fields.length >= 2) nameservers.push(fields[1]);
      else errors.push('nameserver list is empty ');
    }
    // A trailing dot is dropped so "a.com" and "a.com." count once against the limits.
    if (fields[0] === 'search') searches = fields.slice(1).map((s) => s.replace(/\.$/, ''));
    if (fields[0] === 'options') options = fields.slice(1);
  }
  return { nameservers, searches, options, errors };
}

/** The resolv.conf text a runtime writes for a config (containerd's layout). */
export function formatResolvConf(config: PodDnsConfig): string {
  let out = '';
  if (config.searches.length > 0) out += `search ${config.searches.join(' ')}\n`;
  for (const s of config.servers) out += `nameserver ${s}\n`;
  if (config.options.length > 0) out += `options ${config.options.join(' ')}\n`;
  return out;
}

function omitDuplicates(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** How the kubelet classifies a pod's policy. */
type PodDnsType = 'cluster' | 'host' | 'none';

function podDnsType(pod: Pod): PodDnsType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  switch (policy) {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'ClusterFirst':
      // A host-network pod asking ClusterFirst gets the node's DNS (ClusterFirstWithHostNet is the opt-in).
      return pod.spec?.hostNetwork === true ? 'host' : 'cluster';
    case 'Default':
      return 'host';
    default:
      // The apiserver rejects other values; the kubelet falls back to ClusterFirst.
      return 'cluster';
  }
}

/**
 * Merges options: "name" or "name:value" strings, then dnsConfig options overriding by name. Order is
 * first appearance; upstream iterates a Go map (random order), so any order is faithful.
 */
function mergeOptions(existing: readonly string[], extra: readonly { name?: string; value?: string }[]): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    if (i >= 0) merged.set(op.slice(0, i), op.slice(i + 1));
    else merged.set(op, '');
  }
  for (const op of extra) merged.set(op.name ?? '', op.value ?? '');
  return [...merged].map(([name, value]) => (value !== '' ? `${name}:${value}` : name));
}

function fitSearches(searches: readonly string[], events: DnsConfigEvent[]): string[] {
  let exceeded = false;
  let list = [...searches];
  if (list.length > MAX_DNS_SEARCH_PATHS) {
    list = list.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const kept = list.filter((s) => s.length <= MAX_SEARCH_DOMAIN_LENGTH);
  if (kept.length !== list.length) exceeded = true;
  list = kept;
  const lineLength = list.join(' ').length;
  if (lineLength > MAX_DNS_SEARCH_LIST_CHARS) {
    // Drop whole domains from the end until the line fits.
    let cut = 0;
    let cutLength = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      cutLength += list[i].length + 1;
      cut++;
      if (lineLength - cutLength <= MAX_DNS_SEARCH_LIST_CHARS) break;
    }
    list = list.slice(0, list.length - cut);
    exceeded = true;
  }
  if (exceeded) {
    events.push({
      on: 'pod',
      type: 'Warning',
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${list.join(' ')}`,
    });
  }
  return list;
}

function fitNameservers(servers: readonly string[], events: DnsConfigEvent[]): string[] {
  if (servers.length <= MAX_DNS_NAMESERVERS) return [...servers];
  const kept = servers.slice(0, MAX_DNS_NAMESERVERS);
  events.push({
    on: 'pod',
    type: 'Warning',
    reason: 'DNSConfigForming',
    message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${kept.join(' ')}`,
  });
  return kept;
}

/** The kubelet's format.Pod: name_namespace(uid). */
function podDescription(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/**
 * The DNS configuration of `pod` and the warnings to record, as the kubelet's GetPodDNS. Throws only
 * if the host resolv.conf is needed and has a malformed nameserver line (the kubelet fails the pod).
 */
export function podDnsConfig(pod: Pod, node: DnsConfigurerOptions): { config: PodDnsConfig; events: DnsConfigEvent[] } {
  const events: DnsConfigEvent[] = [];
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (node.hostResolvConf !== undefined) {
    const host = parseResolvConf(node.hostResolvConf);
    if (host.errors.length > 0) throw new Error(host.errors.join(', '));
    servers = [...host.nameservers];
    searches = [...host.searches];
    options = [...host.options];
  }

  let type = podDnsType(pod);
  if (type === 'none') {
    servers = [];
    searches = [];
    options = [];
  } else if (type === 'cluster') {
    if (node.clusterDNS.length > 0) {
      servers = [...node.clusterDNS];
      if (node.clusterDomain !== '') {
        const ns = pod.metadata?.namespace ?? '';
        const d = node.clusterDomain;
        searches = omitDuplicates([`${ns}.svc.${d}`, `svc.${d}`, d, ...searches]);
      }
      options = [...DEFAULT_DNS_OPTIONS];
    } else {
      const message = `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`;
      events.push({ on: 'node', type: 'Warning', reason: 'MissingClusterDNS', message });
      events.push({ on: 'pod', type: 'Warning', reason: 'MissingClusterDNS', message: `pod: "${podDescription(pod)}". ${message}` });
      type = 'host';
    }
  }
  if (type === 'host' && node.hostResolvConf === undefined) {
    // No resolv.conf: "the nameserver on the local machine", one loopback per node IP family.
    servers = (node.nodeIPs ?? []).map((ip) => (ip.includes(':') ? '::1' : '127.0.0.1'));
    if (servers.length === 0) servers = ['127.0.0.1'];
    searches = ['.'];
  }

  const extra = pod.spec?.dnsConfig;
  if (extra) {
    servers = omitDuplicates([...servers, ...(extra.nameservers ?? [])]);
    searches = omitDuplicates([...searches, ...(extra.searches ?? [])]);
    options = mergeOptions(options, extra.options ?? []);
  }
  return { config: { servers: fitNameservers(servers, events), searches: fitSearches(searches, events), options }, events };
}
