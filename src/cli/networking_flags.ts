// The service networking flags shared by `tkube server` and `tkube agent` (k3s's spellings where
// it has them: --disable list, --disable-kube-proxy, --disable-network-policy) and the
// NetworkingOptions they select. Loads nothing heavy, so `--help` stays fast.
import { InvalidArgumentError, type Command } from 'commander';
import type { NetworkingOptions } from '../agent/networking.ts';

/** The networking flags as commander parses them. */
export interface NetworkingFlags {
  /** Components to leave out, comma lists allowed (repeatable). */
  disable?: string[];
  disableKubeProxy?: boolean;
  disableNetworkPolicy?: boolean;
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
}

/** --disable names, with the k3s component each stands in for as an alias. */
const COMPONENTS: Readonly<Record<string, 'proxy' | 'dns' | 'ingress' | 'serviceLB' | 'networkPolicy'>> = {
  'kube-proxy': 'proxy',
  dns: 'dns',
  coredns: 'dns',
  ingress: 'ingress',
  traefik: 'ingress',
  servicelb: 'serviceLB',
  'network-policy': 'networkPolicy',
};

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function portOrZero(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError(`want a port number (0 picks a free one), got ${JSON.stringify(v)}`);
  return n;
}

/** Adds the networking flags to a command. */
export function addNetworkingOptions(cmd: Command): Command {
  return cmd
    .option('--disable <components>', `leave out built-in networking components: ${Object.keys(COMPONENTS).join(', ')} (comma lists allowed, repeatable)`, collect)
    .option('--disable-kube-proxy', 'run no Service proxy (iptables rules for Services)')
    .option('--disable-network-policy', 'do not enforce NetworkPolicies')
    .option('--ingress-http-port <port>', 'HTTP port of the built-in Ingress controller', portOrZero, 80)
    .option('--ingress-https-port <port>', 'HTTPS port of the built-in Ingress controller', portOrZero, 443);
}

/** The NetworkingOptions the flags select; throws naming the flag on a bad value. */
export function networkingOptionsFromFlags(flags: NetworkingFlags, extra: { serviceCIDR?: string } = {}): NetworkingOptions {
  const off = new Set<string>();
  for (const name of (flags.disable ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')) {
    const c = COMPONENTS[name];
    if (!c) throw new Error(`--disable: unknown component ${JSON.stringify(name)}; want ${Object.keys(COMPONENTS).join(', ')}`);
    off.add(c);
  }
  if (flags.disableKubeProxy) off.add('proxy');
  if (flags.disableNetworkPolicy) off.add('networkPolicy');
  return {
    proxy: !off.has('proxy'),
    dns: !off.has('dns'),
    ingress: !off.has('ingress'),
    serviceLB: !off.has('serviceLB'),
    networkPolicy: !off.has('networkPolicy'),
    ...(flags.ingressHttpPort !== undefined ? { ingressHttpPort: flags.ingressHttpPort } : {}),
    ...(flags.ingressHttpsPort !== undefined ? { ingressHttpsPort: flags.ingressHttpsPort } : {}),
    ...(extra.serviceCIDR ? { serviceCIDR: extra.serviceCIDR } : {}),
  };
}
