// Host networking the proxy depends on besides iptables: sysctls (route_localnet for 127.0.0.1
// NodePorts, as kube-proxy sets it) and blackhole routes that keep cluster ranges this node does
// not own from leaking out through the default route. All through a CommandRunner (netns-able).

import type { CommandRunner } from './types.ts';

/** sysctl kube-proxy sets so DNAT to 127.0.0.1 NodePorts can be routed. */
export const SYSCTL_ROUTE_LOCALNET = 'net.ipv4.conf.all.route_localnet';
/** Must be 1 for bridged pod traffic to see the rules (built in and 1 on our machines). */
export const SYSCTL_BRIDGE_NF_CALL_IPTABLES = 'net.bridge.bridge-nf-call-iptables';

/** Reads a sysctl; undefined when it does not exist. */
export async function readSysctl(runner: CommandRunner, name: string): Promise<string | undefined> {
  const r = await runner.run('sysctl', ['-n', name]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Sets a sysctl unless it already has `value`. */
export async function ensureSysctl(runner: CommandRunner, name: string, value: string): Promise<void> {
  if ((await readSysctl(runner, name)) === value) return;
  const r = await runner.run('sysctl', ['-w', `${name}=${value}`]);
  if (r.code !== 0) throw new Error(`sysctl -w ${name}=${value} failed: ${r.stderr.trim()}`);
}

/**
 * The ranges to blackhole on a node: the cluster pod CIDR (the node's own podCIDR, routed to its
 * bridge, is more specific and wins). Not the service CIDR: a blackhole there makes the host's own
 * connect() to a ClusterIP fail before the nat OUTPUT chain can DNAT it; the rules reject
 * unclaimed service addresses instead (RulesConfig.serviceCIDR).
 */
export function clusterBlackholeCIDRs(opts: { clusterCIDR: string }): string[] {
  return [opts.clusterCIDR];
}

/** Adds (or keeps) `blackhole CIDR` routes. */
export async function ensureBlackholeRoutes(runner: CommandRunner, cidrs: readonly string[]): Promise<void> {
  for (const cidr of cidrs) {
    const r = await runner.run('ip', ['route', 'replace', 'blackhole', cidr]);
    if (r.code !== 0) throw new Error(`ip route replace blackhole ${cidr} failed: ${r.stderr.trim()}`);
  }
}

/** Removes blackhole routes added by ensureBlackholeRoutes; absent ones are fine. */
export async function removeBlackholeRoutes(runner: CommandRunner, cidrs: readonly string[]): Promise<void> {
  for (const cidr of cidrs) {
    const r = await runner.run('ip', ['route', 'del', 'blackhole', cidr]);
    if (r.code !== 0 && !/No such process|not found/i.test(r.stderr)) {
      throw new Error(`ip route del blackhole ${cidr} failed: ${r.stderr.trim()}`);
    }
  }
}
