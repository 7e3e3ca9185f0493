// The pure heart of the proxy: from the service ports and endpoints, the iptables-restore input for
// the filter and nat tables, in the layout of kube-proxy's iptables mode (pkg/proxy/iptables/
// proxier.go syncProxyRules). Deterministic (sorted by service port) so golden files stay stable.

import { createHash } from 'node:crypto';
import { categorizeEndpoints, externallyAccessible, usesClusterEndpoints, usesLocalEndpoints } from './topology.ts';
import { servicePortKey, type EndpointInfo, type EndpointsMap, type NodeInfo, type RulesConfig, type ServicePortInfo, type ServicePortMap } from './types.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** kubelet's anti-martian chain; created here because localhost NodePorts need it. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** Above this many endpoints, per-endpoint comments are dropped to keep the ruleset small (upstream's value). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'] as const;

/** Top-level chains per table that every sync declares (and so flushes and rewrites). */
export const FILTER_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_PROXY_FIREWALL] as const;
export const NAT_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

/** A rule in a built-in chain that jumps to one of ours. */
export interface JumpRule {
  table: 'filter' | 'nat';
  srcChain: string;
  dstChain: string;
  /** '' for no comment. */
  comment: string;
  extraArgs: readonly string[];
}

const CT_NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

/** The jump rules upstream ensures in built-in chains (its iptablesJumpChains, plus kubelet's KUBE-FIREWALL). */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', srcChain: 'INPUT', dstChain: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'FORWARD', dstChain: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'FORWARD', dstChain: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'OUTPUT', dstChain: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'FORWARD', dstChain: KUBE_FORWARD, comment: 'kubernetes forwarding rules', extraArgs: [] },
  { table: 'filter', srcChain: 'INPUT', dstChain: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'OUTPUT', dstChain: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'FORWARD', dstChain: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: CT_NEW },
  { table: 'filter', srcChain: 'INPUT', dstChain: KUBE_FIREWALL, comment: '', extraArgs: [] },
  { table: 'filter', srcChain: 'OUTPUT', dstChain: KUBE_FIREWALL, comment: '', extraArgs: [] },
  { table: 'nat', srcChain: 'OUTPUT', dstChain: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: [] },
  { table: 'nat', srcChain: 'PREROUTING', dstChain: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: [] },
  { table: 'nat', srcChain: 'POSTROUTING', dstChain: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', extraArgs: [] },
];

/** The rule's arguments after "-A/-I/-D CHAIN", in the order iptables-save prints them back. */
export function jumpRuleArgs(j: JumpRule): string {
  const parts = [...j.extraArgs];
  if (j.comment) parts.push('-m', 'comment', '--comment', `"${j.comment}"`);
  parts.push('-j', j.dstChain);
  return parts.join(' ');
}

/** Defaults matching upstream (mark bit 14, no masquerade-all) for a node. */
export function defaultRulesConfig(node: NodeInfo): RulesConfig {
  return {
    nodeName: node.name,
    nodeIPs: node.ips,
    clusterCIDR: node.clusterCIDR,
    serviceCIDR: node.serviceCIDR ?? null,
    nodePortAddresses: [...node.ips, '127.0.0.1'],
    localhostNodePorts: true,
    masqueradeAll: false,
    masqueradeMark: '0x4000',
    randomFully: true,
    conntrackTCPLiberal: false,
    serviceLoadBalancer: true,
  };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

const hashCache = new Map<string, string>();
const HASH_CACHE_LIMIT = 200_000;

/** First 16 base32 characters of sha256(text): iptables chain names must stay under 29 characters. */
export function chainHash(text: string): string {
  let h = hashCache.get(text);
  if (h === undefined) {
    // Every sync names every chain; hashing dominates rendering without this memo.
    if (hashCache.size >= HASH_CACHE_LIMIT) hashCache.clear();
    h = base32(createHash('sha256').update(text).digest()).slice(0, 16);
    hashCache.set(text, h);
  }
  return h;
}

/** The KUBE-SVC/SVL/EXT/FW chain names of a service port. */
export function servicePortChains(sp: ServicePortInfo): { svc: string; svl: string; ext: string; fw: string } {
  const h = chainHash(sp.nameString + sp.protocol.toLowerCase());
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** The KUBE-SEP chain of one endpoint of a service port. */
export function endpointChain(sp: ServicePortInfo, ep: EndpointInfo): string {
  return `KUBE-SEP-${chainHash(sp.nameString + sp.protocol.toLowerCase() + ep.endpoint)}`;
}

/** True for per-service chains (the ones stale-chain cleanup may delete). */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

const probabilities: string[] = [];

/** 1/n printed as upstream does (Go's %0.10f). */
export function probability(n: number): string {
  return (probabilities[n] ??= (1 / n).toFixed(10));
}

/** What to render. */
export interface RenderInput {
  config: RulesConfig;
  servicePorts: ServicePortMap;
  endpoints: EndpointsMap;
  /** null for a full sync; else only these Services' ("namespace/name") chains are rewritten. */
  changedServices: ReadonlySet<string> | null;
  /** nat chains that exist now; per-service chains among them that are no longer used are deleted. */
  existingNatChains: Iterable<string>;
}

/** The rendered tables, kept apart so the apply step can add its jump rules. */
export interface RenderedRules {
  filterChains: string[];
  filterRules: string[];
  natChains: string[];
  natRules: string[];
  /** Every per-service nat chain the rules use (including ones skipped by a partial sync). */
  activeNatChains: Set<string>;
  /** Per-service nat chains deleted by this input. */
  deletedNatChains: string[];
  /** Counts for metrics and logs. */
  stats: { servicePorts: number; endpoints: number; noLocalEndpointsInternal: number; noLocalEndpointsExternal: number };
}

function chainLine(chain: string): string {
  return `:${chain} - [0:0]`;
}

function sortedServicePorts(map: ServicePortMap): ServicePortInfo[] {
  return [...map.values()].sort((a, b) =>
    a.nameString < b.nameString ? -1 : a.nameString > b.nameString ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0,
  );
}

/** Renders both tables from the tracked state. */
export function renderRules(input: RenderInput): RenderedRules {
  const { config } = input;
  const masqMark = config.masqueradeMark;
  const out: RenderedRules = {
    filterChains: FILTER_CHAINS.map(chainLine),
    filterRules: [],
    natChains: NAT_CHAINS.map(chainLine),
    natRules: [],
    activeNatChains: new Set(),
    deletedNatChains: [],
    stats: { servicePorts: 0, endpoints: 0, noLocalEndpointsInternal: 0, noLocalEndpointsExternal: 0 },
  };
  const { filterRules } = out;

  out.natRules.push(
    `-A ${KUBE_POSTROUTING} -m mark ! --mark ${masqMark}/${masqMark} -j RETURN`,
    // Clearing the mark keeps a packet that re-enters the stack from being masqueraded twice.
    `-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${masqMark}`,
    `-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${config.randomFully ? ' --random-fully' : ''}`,
    `-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${masqMark}`,
  );

  if (config.localhostNodePorts) {
    // route_localnet=1 would let outside packets addressed to 127/8 in; this drops them.
    out.filterChains.push(chainLine(KUBE_FIREWALL));
    filterRules.push(
      `-A ${KUBE_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    );
  }

  const servicePorts = sortedServicePorts(input.servicePorts);
  let totalEndpoints = 0;
  for (const sp of servicePorts) totalEndpoints += (input.endpoints.get(spKeyOf(sp)) ?? []).length;
  const largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  out.stats.servicePorts = servicePorts.length;
  out.stats.endpoints = totalEndpoints;
  const skippedChains: string[] = [];
  const skippedRules: string[] = [];

  for (const sp of servicePorts) {
    const protocol = sp.protocol.toLowerCase();
    const name = sp.nameString;
    const chains = servicePortChains(sp);
    const cat = categorizeEndpoints(input.endpoints.get(spKeyOf(sp)) ?? [], sp);
    const usesClusterPolicyChain = cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
    const usesLocalPolicyChain = cat.localEndpoints.length > 0 && usesLocalEndpoints(sp);

    let internalTrafficChain = chains.svc;
    let hasInternalEndpoints = cat.hasAnyEndpoints;
    if (sp.internalPolicyLocal) {
      internalTrafficChain = chains.svl;
      if (cat.localEndpoints.length === 0) hasInternalEndpoints = false;
    }
    let externalPolicyChain = chains.svc;
    let hasExternalEndpoints = cat.hasAnyEndpoints;
    if (sp.externalPolicyLocal) {
      externalPolicyChain = chains.svl;
      if (cat.localEndpoints.length === 0) hasExternalEndpoints = false;
    }
    const externalTrafficChain = chains.ext;
    // The EXT chain is needed even without external endpoints, for the local short-circuit rules.
    const usesExternalTrafficChain = cat.hasAnyEndpoints && externallyAccessible(sp);
    const usesFWChain = cat.hasAnyEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    const loadBalancerTrafficChain = usesFWChain ? chains.fw : externalTrafficChain;

    let internalFilterTarget = '';
    let internalFilterComment = '';
    let externalFilterTarget = '';
    let externalFilterComment = '';
    if (!cat.hasAnyEndpoints) {
      internalFilterTarget = externalFilterTarget = 'REJECT';
      internalFilterComment = externalFilterComment = `"${name} has no endpoints"`;
    } else {
      if (!hasInternalEndpoints) {
        internalFilterTarget = 'DROP';
        internalFilterComment = `"${name} has no local endpoints"`;
        out.stats.noLocalEndpointsInternal++;
      }
      if (!hasExternalEndpoints) {
        externalFilterTarget = 'DROP';
        externalFilterComment = `"${name} has no local endpoints"`;
        out.stats.noLocalEndpointsExternal++;
      }
    }

    const match = `-m ${protocol} -p ${protocol}`;
    const dst = (ip: string, port: number): string => `${match} -d ${ip} --dport ${port}`;

    // Capture the ClusterIP.
    if (hasInternalEndpoints) {
      out.natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${name} cluster IP" ${dst(sp.clusterIP, sp.port)} -j ${internalTrafficChain}`);
    } else {
      filterRules.push(`-A ${KUBE_SERVICES} -m comment --comment ${internalFilterComment} ${dst(sp.clusterIP, sp.port)} -j ${internalFilterTarget}`);
    }

    // Capture external IPs.
    for (const ip of sp.externalIPs) {
      if (cat.hasAnyEndpoints) {
        out.natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${name} external IP" ${dst(ip, sp.port)} -j ${externalTrafficChain}`);
      }
      if (!hasExternalEndpoints) {
        filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalFilterComment} ${dst(ip, sp.port)} -j ${externalFilterTarget}`);
      }
    }

    // Capture load balancer addresses (status ingress IPs and the built-in load balancer's node addresses).
    for (const ip of sp.loadBalancerVIPs) {
      if (cat.hasAnyEndpoints) {
        out.natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${name} loadbalancer IP" ${dst(ip, sp.port)} -j ${loadBalancerTrafficChain}`);
      }
      if (usesFWChain) {
        filterRules.push(
          `-A ${KUBE_PROXY_FIREWALL} -m comment --comment "${name} traffic not accepted by ${chains.fw}" ${dst(ip, sp.port)} -j DROP`,
        );
      }
    }
    if (!hasExternalEndpoints) {
      for (const ip of sp.loadBalancerVIPs) {
        filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalFilterComment} ${dst(ip, sp.port)} -j ${externalFilterTarget}`);
      }
    }

    // Capture NodePorts.
    if (sp.nodePort !== 0) {
      if (cat.hasAnyEndpoints) {
        out.natRules.push(`-A ${KUBE_NODEPORTS} -m comment --comment ${name} ${match} --dport ${sp.nodePort} -j ${externalTrafficChain}`);
      }
      if (!hasExternalEndpoints) {
        filterRules.push(
          `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL ${match} --dport ${sp.nodePort} -j ${externalFilterTarget}`,
        );
      }
    }

    // A partial sync leaves the per-service chains of unchanged Services as they are in the kernel.
    const skip = input.changedServices !== null && !input.changedServices.has(sp.serviceKey);
    const natChains = skip ? skippedChains : out.natChains;
    const natRules = skip ? skippedRules : out.natRules;
    const declare = (chain: string): void => {
      natChains.push(chainLine(chain));
      out.activeNatChains.add(chain);
    };

    if (hasInternalEndpoints) {
      const args = `-m comment --comment "${name} cluster IP" ${dst(sp.clusterIP, sp.port)}`;
      if (config.masqueradeAll) {
        natRules.push(`-A ${internalTrafficChain} ${args} -j ${KUBE_MARK_MASQ}`);
      } else {
        // Off-cluster clients reaching a ClusterIP may be answered from another node: masquerade them.
        natRules.push(`-A ${internalTrafficChain} ${args} ! -s ${config.clusterCIDR} -j ${KUBE_MARK_MASQ}`);
      }
    }

    if (usesExternalTrafficChain) {
      declare(externalTrafficChain);
      if (!sp.externalPolicyLocal) {
        natRules.push(`-A ${externalTrafficChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j ${KUBE_MARK_MASQ}`);
      } else {
        // Pod traffic to an external address behaves as if it went out and came back in.
        natRules.push(`-A ${externalTrafficChain} -m comment --comment "pod traffic for ${name} external destinations" -s ${config.clusterCIDR} -j ${chains.svc}`);
        natRules.push(
          `-A ${externalTrafficChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`,
        );
        natRules.push(
          `-A ${externalTrafficChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${chains.svc}`,
        );
      }
      if (hasExternalEndpoints) natRules.push(`-A ${externalTrafficChain} -j ${externalPolicyChain}`);
    }

    if (usesFWChain) {
      declare(chains.fw);
      const args = `-A ${chains.fw} -m comment --comment "${name} loadbalancer IP"`;
      let allowFromNode = false;
      for (const cidr of sp.loadBalancerSourceRanges) {
        natRules.push(`${args} -s ${cidr} -j ${externalTrafficChain}`);
        if (config.nodeIPs.some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
      }
      // A node reaching its own VIP loops back with the VIP as source.
      if (allowFromNode) for (const ip of sp.loadBalancerVIPs) natRules.push(`${args} -s ${ip} -j ${externalTrafficChain}`);
      natRules.push(`-A ${chains.fw} -m comment --comment "other traffic to ${name} will be dropped by ${KUBE_PROXY_FIREWALL}"`);
    }

    if (usesClusterPolicyChain) {
      declare(chains.svc);
      writeServiceToEndpointRules(natRules, sp, chains.svc, cat.clusterEndpoints, largeCluster);
    }
    if (usesLocalPolicyChain) {
      declare(chains.svl);
      writeServiceToEndpointRules(natRules, sp, chains.svl, cat.localEndpoints, largeCluster);
    }

    for (const ep of cat.allReachable) {
      const chain = endpointChain(sp, ep);
      declare(chain);
      const head = largeCluster ? `-A ${chain}` : `-A ${chain} -m comment --comment ${name}`;
      // Hairpin: an endpoint reaching itself through the Service must see the node as the source.
      natRules.push(`${head} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
      const affinity = sp.sessionAffinityClientIP ? ` -m recent --name ${chain} --set` : '';
      natRules.push(`${head}${affinity} ${match} -j DNAT --to-destination ${ep.endpoint}`);
    }
  }

  if (config.serviceCIDR !== null) {
    // Differs from upstream's iptables mode (as its nftables mode does): a blackhole route for the
    // service range would break host-originated ClusterIP traffic, so unclaimed addresses are rejected here.
    // Addresses the node itself holds (the node-local cluster DNS address) are served by local sockets.
    filterRules.push(`-A ${KUBE_SERVICES} -m comment --comment "reject traffic to unallocated ClusterIPs" -m addrtype ! --dst-type LOCAL -d ${config.serviceCIDR} -j REJECT`);
  }

  // Per-service chains that exist but are no longer used: flush (by declaring) and delete.
  const stale = [...new Set(input.existingNatChains)].filter((c) => isServiceChainName(c) && !out.activeNatChains.has(c)).sort();
  for (const chain of stale) {
    out.natChains.push(chainLine(chain));
    out.natRules.push(`-X ${chain}`);
  }
  out.deletedNatChains = stale;

  // Must come last: NodePorts match on destination address only.
  const nodePortsComment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (config.nodePortAddresses === 'all') {
    const local = config.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    out.natRules.push(`-A ${KUBE_SERVICES} ${nodePortsComment} -m addrtype --dst-type LOCAL${local} -j ${KUBE_NODEPORTS}`);
  } else {
    for (const ip of config.nodePortAddresses) {
      if (ip.startsWith('127.') && !config.localhostNodePorts) continue;
      out.natRules.push(`-A ${KUBE_SERVICES} ${nodePortsComment} -d ${ip} -j ${KUBE_NODEPORTS}`);
    }
  }

  if (!config.conntrackTCPLiberal) {
    // Out-of-window packets marked INVALID would otherwise reach pods un-DNATed and reset connections.
    filterRules.push(`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP`);
  }
  filterRules.push(
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${masqMark}/${masqMark} -j ACCEPT`,
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  return out;
}

function spKeyOf(sp: ServicePortInfo): string {
  return servicePortKey(sp.serviceKey, sp.portName, sp.protocol);
}

function writeServiceToEndpointRules(
  natRules: string[],
  sp: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
  largeCluster: boolean,
): void {
  const comment = (ep: EndpointInfo): string => (largeCluster ? '' : ` -m comment --comment "${sp.nameString} -> ${ep.endpoint}"`);
  if (sp.sessionAffinityClientIP) {
    for (const ep of endpoints) {
      const sep = endpointChain(sp, ep);
      natRules.push(`-A ${chain}${comment(ep)} -m recent --name ${sep} --rcheck --seconds ${sp.stickyMaxAgeSeconds} --reap -j ${sep}`);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    // Each rule takes 1/(remaining) of what is left, so every endpoint gets 1/n overall.
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    natRules.push(`-A ${chain}${comment(ep)}${stat} -j ${endpointChain(sp, ep)}`);
  });
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

/** True if IPv4 `ip` lies in `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  if (!base || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((ipToInt(base) & mask) >>> 0) === ((ipToInt(ip) & mask) >>> 0);
}

/** The iptables-restore input of `r`, with optional extra lines (jump rules) appended per table. */
export function restoreInput(r: RenderedRules, extra: { filter?: readonly string[]; nat?: readonly string[] } = {}): string {
  const lines = ['*filter', ...r.filterChains, ...r.filterRules, ...(extra.filter ?? []), 'COMMIT', '*nat', ...r.natChains, ...r.natRules, ...(extra.nat ?? []), 'COMMIT'];
  return lines.join('\n') + '\n';
}
