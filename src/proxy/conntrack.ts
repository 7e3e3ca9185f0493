// Stale UDP conntrack cleanup with the `conntrack` tool (Debian package `conntrack`), as kube-proxy
// did before it moved to netlink: UDP has no connection end, so flows pinned to a removed endpoint,
// or cached while a Service had none, would otherwise keep blackholing packets.

import type { EndpointsUpdateResult, ServiceUpdateResult } from './change_tracker.ts';
import type { CommandRunner, ServicePortMap } from './types.ts';

/** conntrack's message (with exit status 1) when a filter matched nothing: not an error. */
const NO_CONNECTION_TO_DELETE = '0 flow entries have been deleted';

/** The `conntrack -D` argument lists that clear the stale UDP flows after a sync. */
export function staleConntrackDeletions(
  servicePorts: ServicePortMap,
  services: ServiceUpdateResult,
  endpoints: EndpointsUpdateResult,
): string[][] {
  const serviceIPs = new Set(services.deletedUDPClusterIPs);
  const nodePorts = new Set<number>();
  for (const spKey of endpoints.newlyActiveUDPServices) {
    const sp = servicePorts.get(spKey);
    if (!sp) continue;
    // Flows created while the Service rejected traffic carry no DNAT and would stick there.
    serviceIPs.add(sp.clusterIP);
    for (const ip of sp.externalIPs) serviceIPs.add(ip);
    for (const ip of sp.loadBalancerVIPs) serviceIPs.add(ip);
    if (sp.nodePort !== 0) nodePorts.add(sp.nodePort);
  }
  const out: string[][] = [];
  for (const ip of [...serviceIPs].sort()) out.push(['-D', '--orig-dst', ip, '-p', 'udp']);
  for (const port of [...nodePorts].sort((a, b) => a - b)) out.push(['-D', '-p', 'udp', '--dport', String(port)]);
  for (const { servicePortKey, endpoint } of endpoints.deletedUDPEndpoints) {
    const sp = servicePorts.get(servicePortKey);
    if (!sp) continue;
    if (sp.nodePort !== 0) out.push(['-D', '-p', 'udp', '--dport', String(sp.nodePort), '--dst-nat', endpoint.ip]);
    for (const ip of [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerVIPs]) {
      out.push(['-D', '--orig-dst', ip, '--dst-nat', endpoint.ip, '-p', 'udp']);
    }
  }
  return out;
}

/** Runs each deletion; returns the failures (a missing binary or a real error), not "nothing matched". */
export async function runConntrackDeletions(runner: CommandRunner, deletions: readonly string[][]): Promise<string[]> {
  const errors: string[] = [];
  for (const args of deletions) {
    const r = await runner.run('conntrack', args);
    if (r.code === 0 || r.stderr.includes(NO_CONNECTION_TO_DELETE)) continue;
    errors.push(`conntrack ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  }
  return errors;
}
