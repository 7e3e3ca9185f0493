// The pure heart of NetworkPolicy enforcement: from pods, namespaces and policies, the filter-table
// chains that isolate this node's selected pods, in the layout of kube-router's iptables mode (a
// chain per policy, a firewall chain per pod and direction). Deterministic, for golden files.
//
// Packet path: FORWARD jumps first to TKUBE-NETPOL-FORWARD, which sends NEW packets to the ingress
// chain of an isolated destination pod and the egress chain of an isolated source pod. A pod chain
// clears our mark bit, calls each policy chain selecting the pod (a policy sets the bit when a rule
// matches) and RETURNs when the bit is set, else denies.
//
// Choices where upstream leaves room:
// - Allowed traffic, and packets of established connections, RETURN rather than being ACCEPTed
//   (kube-router ACCEPTs), so the rest of FORWARD (the Service proxy's firewall, host rules) still
//   applies; policies only ever take traffic away.
// - The node and its pods always reach each other, as the docs require: node-originated traffic
//   leaves through OUTPUT and pod-to-node traffic arrives through INPUT, neither of which we hook,
//   and pod ingress chains also RETURN for node-local sources should such traffic be forwarded.
// - Service traffic is DNATed in nat PREROUTING before filter FORWARD, so rules see the endpoint
//   pod's address and port. Egress ipBlocks also match the original destination (conntrack
//   --ctorigdst on DNATed packets), so allowing the DNS Service IP works as well as allowing the
//   DNS pods. Ingress sees the client's address: masquerading happens later, in POSTROUTING.

import { createHash } from 'node:crypto';
import type { NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort } from '../api/types/networking_v1.ts';
import { LabelSelectorError, labelSelectorAsSelector, matches, nothing, type LabelSelectorLike, type Selector } from '../api/labels.ts';
import { cidrContains, formatCidr4, parseCidr4, parseIPv4, type Cidr4 } from './cidr.ts';
import { NAMESPACE_NAME_LABEL } from './inputs.ts';
import type { NetpolConfig, NetpolState, NetworkPolicy, PodInfo, Protocol } from './types.ts';

/** The chain FORWARD jumps to first. */
export const NETPOL_FORWARD = 'TKUBE-NETPOL-FORWARD';
export const POLICY_CHAIN_PREFIX = 'TKUBE-NWPLCY-';
export const POD_CHAIN_PREFIX = 'TKUBE-POD-FW-';
export const IPBLOCK_CHAIN_PREFIX = 'TKUBE-IPBLK-';
/** Comment of the FORWARD jump, which identifies it in iptables-save output. */
export const FORWARD_JUMP_COMMENT = 'tkube network policies';
/** The FORWARD jump's arguments after "-A FORWARD", as iptables-save prints them back. */
export const FORWARD_JUMP_ARGS = `-m comment --comment "${FORWARD_JUMP_COMMENT}" -j ${NETPOL_FORWARD}`;

/** Whether a filter-table chain is one of ours (cleanup removes exactly these). */
export function isNetpolChain(name: string): boolean {
  return name === NETPOL_FORWARD || [POLICY_CHAIN_PREFIX, POD_CHAIN_PREFIX, IPBLOCK_CHAIN_PREFIX].some((p) => name.startsWith(p));
}

/** Defaults (kube-router's mark bit, REJECT so clients fail at once) for a node. */
export function defaultNetpolConfig(nodeName: string): NetpolConfig {
  return { nodeName, markBit: '0x10000', denyAction: 'REJECT', sctp: true };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 15 base32 characters of sha256(text): with a 13-character prefix a name stays within iptables' 28. */
export function chainHash(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let value = 0;
  let bits = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 15) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 15) break;
  }
  return out;
}

export type Direction = 'Ingress' | 'Egress';

/** Chain of one policy's rules for one direction. */
export function policyChainName(namespace: string, name: string, direction: Direction): string {
  return POLICY_CHAIN_PREFIX + chainHash(`${namespace}/${name}/${direction}`);
}

/** Firewall chain of one local pod for one direction. */
export function podChainName(namespace: string, name: string, direction: Direction): string {
  return POD_CHAIN_PREFIX + chainHash(`${namespace}/${name}/${direction}`);
}

/** The renderer's output: our chains and their rules, in order. */
export interface RenderedNetpol {
  /** Every chain of ours, NETPOL_FORWARD first, then sorted. */
  chains: string[];
  /** "-A CHAIN ..." lines. */
  rules: string[];
  stats: { policies: number; isolatedPods: { ingress: number; egress: number } };
}

/** The policy types a policy covers, with upstream's defaulting for objects that lack them. */
export function policyTypesOf(policy: NetworkPolicy): Set<Direction> {
  const spec = policy.spec;
  const listed = (spec?.policyTypes ?? []).filter((t): t is Direction => t === 'Ingress' || t === 'Egress');
  if ((spec?.policyTypes ?? []).length > 0) return new Set(listed);
  return new Set<Direction>((spec?.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** A selector that cannot be parsed selects nothing (validation keeps such policies out anyway). */
function selector(ls: LabelSelectorLike | null | undefined): Selector {
  try {
    return labelSelectorAsSelector(ls ?? {});
  } catch (err) {
    if (err instanceof LabelSelectorError) return nothing();
    throw err;
  }
}

function podKey(p: PodInfo): string {
  return `${p.namespace}/${p.name}`;
}

function byIP(a: string, b: string): number {
  return (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);
}

/** Pods (of any node) and namespace labels, indexed once per render. */
class Cluster {
  readonly pods: PodInfo[];
  readonly #nsLabels: Map<string, Readonly<Record<string, string>>>;

  constructor(state: NetpolState) {
    this.pods = [...state.pods].sort((a, b) => (podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0));
    this.#nsLabels = new Map([...state.namespaces].map((n) => [n.name, n.labels]));
  }

  namespaceLabels(ns: string): Readonly<Record<string, string>> {
    // A namespace not yet in the informer still has its name label.
    return this.#nsLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
  }

  /** Pods a podSelector/namespaceSelector peer selects (both given: AND). */
  peerPods(peer: NetworkPolicyPeer, policyNamespace: string): PodInfo[] {
    if (!peer.podSelector && !peer.namespaceSelector) return [];
    const podSel = selector(peer.podSelector);
    if (!peer.namespaceSelector) return this.pods.filter((p) => p.namespace === policyNamespace && matches(podSel, p.labels));
    const nsSel = selector(peer.namespaceSelector);
    const nsMatch = new Map<string, boolean>();
    return this.pods.filter((p) => {
      let m = nsMatch.get(p.namespace);
      if (m === undefined) nsMatch.set(p.namespace, (m = matches(nsSel, this.namespaceLabels(p.namespace))));
      return m && matches(podSel, p.labels);
    });
  }
}

interface IPBlock4 {
  cidr: Cidr4;
  except: Cidr4[];
}

function ipBlock4(peer: NetworkPolicyPeer): IPBlock4 | undefined {
  const cidr = parseCidr4(peer.ipBlock?.cidr ?? '');
  if (!cidr) return undefined; // IPv6 blocks match nothing in IPv4 tables.
  const except = (peer.ipBlock?.except ?? []).map(parseCidr4).filter((c): c is Cidr4 => c !== null);
  return { cidr, except };
}

function inBlock(b: IPBlock4, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== null && cidrContains(b.cidr, n) && !b.except.some((e) => cidrContains(e, n));
}

function protocolOf(p: NetworkPolicyPort): Protocol | undefined {
  const v = p.protocol ?? 'TCP';
  return v === 'TCP' || v === 'UDP' || v === 'SCTP' ? v : undefined;
}

/** A policy port split into what iptables can match directly and what a pod's ports resolve. */
interface PortSpecs {
  /** Match arguments of numeric (or protocol-only) ports; null: every port and protocol. */
  numeric: string[] | null;
  named: { name: string; protocol: Protocol }[];
}

function protoArgs(protocol: Protocol, dport?: string): string {
  const p = protocol.toLowerCase();
  return dport === undefined ? `-p ${p}` : `-p ${p} -m ${p} --dport ${dport}`;
}

function portSpecs(ports: readonly NetworkPolicyPort[] | undefined, config: NetpolConfig): PortSpecs {
  if (!ports || ports.length === 0) return { numeric: null, named: [] };
  const out: PortSpecs = { numeric: [], named: [] };
  for (const p of ports) {
    const protocol = protocolOf(p);
    // Without the sctp match an SCTP port allows nothing, and the pod stays isolated (upstream e2e).
    if (!protocol || (protocol === 'SCTP' && !config.sctp)) continue;
    if (typeof p.port === 'string') {
      out.named.push({ name: p.port, protocol });
    } else if (typeof p.port === 'number') {
      const range = typeof p.endPort === 'number' && p.endPort > p.port ? `${p.port}:${p.endPort}` : String(p.port);
      out.numeric!.push(protoArgs(protocol, range));
    } else {
      out.numeric!.push(protoArgs(protocol));
    }
  }
  return out;
}

/** The port a pod gives a name for a protocol, if any. */
function namedPort(pod: PodInfo, name: string, protocol: Protocol): number | undefined {
  return pod.namedPorts.find((np) => np.name === name && np.protocol === protocol)?.port;
}

/** One way to match the peer side of a rule: plain match arguments, or a jump to an ipBlock chain. */
interface PeerMatch {
  args: string;
  jump?: string;
}

/** A comment match; iptables keeps at most 255 characters. */
function comment(text: string): string {
  return `-m comment --comment "${text.slice(0, 255)}"`;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

/** Renders the chains for `state` on the node `config.nodeName`. */
export function renderNetpolRules(state: NetpolState, config: NetpolConfig): RenderedNetpol {
  const cluster = new Cluster(state);
  const mark = `${config.markBit}/${config.markBit}`;
  const allowTarget = `MARK --set-xmark ${mark}`;
  const local = cluster.pods.filter((p) => p.nodeName === config.nodeName);
  const policies = [...state.policies]
    .filter((p) => p.metadata?.name && p.metadata.namespace && p.spec)
    .sort((a, b) => {
      const ka = `${a.metadata!.namespace}/${a.metadata!.name}`;
      const kb = `${b.metadata!.namespace}/${b.metadata!.name}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });

  const policyRules: string[] = [];
  const ipBlockRules: string[] = [];
  const chains = new Set<string>();
  /** Policy chains per pod key and direction, in policy order. */
  const podPolicies: Record<Direction, Map<string, { chain: string; policy: string }[]>> = { Ingress: new Map(), Egress: new Map() };
  let policyCount = 0;

  for (const policy of policies) {
    const ns = policy.metadata!.namespace!;
    const name = policy.metadata!.name!;
    const spec = policy.spec!;
    const podSel = selector(spec.podSelector);
    const targets = local.filter((p) => p.namespace === ns && matches(podSel, p.labels));
    if (targets.length === 0) continue;
    let used = false;
    for (const direction of ['Ingress', 'Egress'] as const) {
      if (!policyTypesOf(policy).has(direction)) continue;
      used = true;
      const chain = policyChainName(ns, name, direction);
      const lines = direction === 'Ingress'
        ? ingressRules(chain, ns, name, spec.ingress ?? [], targets)
        : egressRules(chain, ns, name, spec.egress ?? []);
      for (const t of targets) {
        const list = podPolicies[direction].get(podKey(t)) ?? [];
        // A policy without rules only isolates: nothing to jump to.
        if (lines.length > 0) list.push({ chain, policy: `${ns}/${name}` });
        podPolicies[direction].set(podKey(t), list);
      }
      if (lines.length > 0) {
        chains.add(chain);
        policyRules.push(...lines);
      }
    }
    if (used) policyCount++;
  }

  function ruleBlocks(chain: string, blocks: string[][]): string[] {
    const out: string[] = [];
    blocks.forEach((b, i) => {
      out.push(...b);
      // Later rules of this policy cannot change the verdict.
      if (b.length > 0 && blocks.slice(i + 1).some((x) => x.length > 0)) out.push(`-A ${chain} -m mark --mark ${mark} -j RETURN`);
    });
    return out;
  }

  function ipBlockChain(key: string, field: string, b: IPBlock4): string {
    const chain = IPBLOCK_CHAIN_PREFIX + chainHash(key);
    if (chains.has(chain)) return chain;
    chains.add(chain);
    // An excepted address skips only this peer; another peer or policy may still allow it.
    for (const e of b.except) ipBlockRules.push(`-A ${chain} ${field} ${formatCidr4(e)} -j RETURN`);
    ipBlockRules.push(`-A ${chain} ${field} ${formatCidr4(b.cidr)} -j ${allowTarget}`);
    return chain;
  }

  function ingressRules(chain: string, ns: string, name: string, rules: readonly NetworkPolicyIngressRule[], targets: readonly PodInfo[]): string[] {
    const policyKey = `${ns}/${name}`;
    return ruleBlocks(chain, rules.map((rule, ri) => {
      let sources: PeerMatch[] | null = null;
      if (rule.from && rule.from.length > 0) {
        sources = [];
        const seen = new Set<string>();
        rule.from.forEach((peer, pi) => {
          if (peer.ipBlock) {
            const b = ipBlock4(peer);
            if (!b) return;
            if (b.except.length === 0) sources!.push({ args: `-s ${formatCidr4(b.cidr)}` });
            else sources!.push({ args: '', jump: ipBlockChain(`${policyKey}/Ingress/${ri}/${pi}`, '-s', b) });
            return;
          }
          for (const ip of cluster.peerPods(peer, ns).flatMap((p) => p.ips).sort(byIP)) {
            if (seen.has(ip)) continue;
            seen.add(ip);
            sources!.push({ args: `-s ${ip}/32` });
          }
        });
      }
      const ports = portSpecs(rule.ports, config);
      const lines: string[] = [];
      for (const src of sources ?? [{ args: '' }]) {
        const target = src.jump ?? allowTarget;
        for (const pm of ports.numeric ?? ['']) lines.push(`-A ${chain} ${join(src.args, pm, '-j', target)}`);
        // A named port means each selected pod's own number for it.
        for (const np of ports.named) {
          for (const t of targets) {
            const port = namedPort(t, np.name, np.protocol);
            if (port === undefined) continue;
            for (const ip of [...t.ips].sort(byIP)) lines.push(`-A ${chain} ${join(src.args, `-d ${ip}/32`, protoArgs(np.protocol, String(port)), '-j', target)}`);
          }
        }
      }
      return lines;
    }));
  }

  function egressRules(chain: string, ns: string, name: string, rules: readonly NetworkPolicyEgressRule[]): string[] {
    const policyKey = `${ns}/${name}`;
    return ruleBlocks(chain, rules.map((rule, ri) => {
      let dests: PeerMatch[] | null = null;
      /** Destination pod IPs a named port is resolved against: the peers' pods, or every pod. */
      const candidates: { pod: PodInfo; ip: string }[] = [];
      if (rule.to && rule.to.length > 0) {
        dests = [];
        const seen = new Set<string>();
        rule.to.forEach((peer, pi) => {
          if (peer.ipBlock) {
            const b = ipBlock4(peer);
            if (!b) return;
            // Traffic to a Service IP is DNATed in nat PREROUTING before filter FORWARD, so the
            // block is matched against the original destination too: then allowing the DNS
            // Service IP works, as does allowing the pods behind it.
            const base = `${policyKey}/Egress/${ri}/${pi}`;
            if (b.except.length === 0) {
              dests!.push({ args: `-d ${formatCidr4(b.cidr)}` });
              if (b.cidr.prefix > 0) dests!.push({ args: `-m conntrack --ctstate DNAT --ctorigdst ${formatCidr4(b.cidr)}` });
            } else {
              dests!.push({ args: '', jump: ipBlockChain(`${base}/dst`, '-d', b) });
              dests!.push({ args: '-m conntrack --ctstate DNAT', jump: ipBlockChain(`${base}/origdst`, '-m conntrack --ctorigdst', b) });
            }
            for (const pod of cluster.pods) for (const ip of pod.ips) if (inBlock(b, ip)) candidates.push({ pod, ip });
            return;
          }
          const pods = cluster.peerPods(peer, ns).flatMap((pod) => pod.ips.map((ip) => ({ pod, ip })));
          for (const { pod, ip } of pods.sort((a, b) => byIP(a.ip, b.ip))) {
            candidates.push({ pod, ip });
            if (seen.has(ip)) continue;
            seen.add(ip);
            dests!.push({ args: `-d ${ip}/32` });
          }
        });
      } else {
        for (const pod of cluster.pods) for (const ip of pod.ips) candidates.push({ pod, ip });
      }
      const ports = portSpecs(rule.ports, config);
      const lines: string[] = [];
      for (const dst of dests ?? [{ args: '' }]) {
        const target = dst.jump ?? allowTarget;
        for (const pm of ports.numeric ?? ['']) lines.push(`-A ${chain} ${join(dst.args, pm, '-j', target)}`);
      }
      if (ports.named.length > 0) {
        const unique = new Map<string, PodInfo>();
        for (const c of candidates) if (!unique.has(c.ip)) unique.set(c.ip, c.pod);
        const ips = [...unique.keys()].sort(byIP);
        // A named port means the destination pod's own number for it.
        for (const np of ports.named) {
          for (const ip of ips) {
            const port = namedPort(unique.get(ip)!, np.name, np.protocol);
            if (port !== undefined) lines.push(`-A ${chain} -d ${ip}/32 ${protoArgs(np.protocol, String(port))} -j ${allowTarget}`);
          }
        }
      }
      return lines;
    }));
  }

  // Pod chains and the dispatch from NETPOL_FORWARD.
  const dispatch: string[] = [];
  const podRules: string[] = [];
  const isolated = { ingress: 0, egress: 0 };
  const deny = config.denyAction === 'REJECT' ? '-j REJECT' : '-j DROP';
  for (const pod of local) {
    const key = podKey(pod);
    const ips = [...pod.ips].sort(byIP);
    for (const direction of ['Ingress', 'Egress'] as const) {
      const list = podPolicies[direction].get(key);
      if (!list) continue;
      const chain = podChainName(pod.namespace, pod.name, direction);
      const dir = direction.toLowerCase();
      chains.add(chain);
      if (direction === 'Ingress') isolated.ingress++;
      else isolated.egress++;
      for (const ip of ips) dispatch.push(`-A ${NETPOL_FORWARD} ${direction === 'Ingress' ? '-d' : '-s'} ${ip}/32 ${comment(`${key} ${dir}`)} -j ${chain}`);
      // A pod can always reach itself (also through a Service), and the node its pods.
      for (const ip of ips) podRules.push(`-A ${chain} ${direction === 'Ingress' ? '-s' : '-d'} ${ip}/32 -j RETURN`);
      if (direction === 'Ingress') podRules.push(`-A ${chain} -m addrtype --src-type LOCAL -j RETURN`);
      podRules.push(`-A ${chain} -j MARK --set-xmark 0x0/${config.markBit}`);
      for (const { chain: pc, policy } of list) {
        podRules.push(`-A ${chain} ${comment(`policy ${policy}`)} -j ${pc}`);
        podRules.push(`-A ${chain} -m mark --mark ${mark} -j RETURN`);
      }
      podRules.push(`-A ${chain} ${comment(`${key} ${dir} not allowed`)} ${deny}`);
    }
  }
  const forward: string[] = [];
  if (dispatch.length > 0) {
    // Replies and later packets of a connection that was allowed when it started.
    forward.push(`-A ${NETPOL_FORWARD} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
    forward.push(...dispatch);
    forward.push(`-A ${NETPOL_FORWARD} -j MARK --set-xmark 0x0/${config.markBit}`);
  }
  return {
    chains: [NETPOL_FORWARD, ...[...chains].sort()],
    rules: [...forward, ...podRules, ...policyRules, ...ipBlockRules],
    stats: { policies: policyCount, isolatedPods: isolated },
  };
}

/** The rendered rules as one table's restore lines (without jump or stale-chain handling). */
export function renderedText(r: RenderedNetpol): string {
  return [...r.chains.map((c) => `:${c} - [0:0]`), ...r.rules].join('\n') + '\n';
}
