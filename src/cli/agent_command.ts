// `tkube agent`: runs a node agent (containerd, kubelet, kubelet API) against an API server until
// SIGINT/SIGTERM. For now it authenticates with a kubeconfig given on the command line; token
// bootstrap comes later (issue 10). Containers keep running when the agent stops.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../base/log.ts';
import type { CertificateAuthority } from '../base/pki.ts';
import { parseNodeLabels, parseNodeTaints, startAgent, type AgentOptions } from '../agent/agent.ts';

const log = logger('agent');

/** The flags of `tkube agent`. */
export interface AgentFlags {
  /** API server URL (overrides the kubeconfig's). */
  server?: string;
  dataDir: string;
  nodeName: string;
  nodeIp?: string;
  /** "k=v" entries (repeatable, comma-separated lists allowed). */
  nodeLabels?: string[];
  /** "key=value:Effect" entries (repeatable, comma-separated lists allowed). */
  nodeTaints?: string[];
  kubeconfig?: string;
  /** Kubelet API port (default 10250). */
  kubeletPort?: number;
  clusterCidr?: string;
  clusterDns?: string;
  clusterDomain?: string;
}

/** A cluster CA the agent may use to sign its serving certificate: DATA/tls of a server on the same machine. */
function localClusterCa(dataDir: string): CertificateAuthority | undefined {
  const cert = join(dataDir, 'tls', 'ca.crt');
  const key = join(dataDir, 'tls', 'ca.key');
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  try {
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  } catch {
    return undefined;
  }
}

/** The AgentOptions the flags select (validated; throws with a message naming the flag). */
export function agentOptionsFromFlags(flags: AgentFlags): AgentOptions {
  if (!flags.kubeconfig) throw new Error('--kubeconfig is required (token bootstrap is not available yet)');
  if (!existsSync(flags.kubeconfig)) throw new Error(`--kubeconfig: ${flags.kubeconfig} does not exist`);
  if (flags.server !== undefined && !/^https:\/\//.test(flags.server)) throw new Error(`--server: want an https:// URL, got ${JSON.stringify(flags.server)}`);
  const ca = localClusterCa(flags.dataDir);
  return {
    dataDir: flags.dataDir,
    nodeName: flags.nodeName,
    kubeconfig: flags.kubeconfig,
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.nodeIp ? { nodeIP: flags.nodeIp } : {}),
    ...(flags.nodeLabels?.length ? { nodeLabels: parseNodeLabels(flags.nodeLabels) } : {}),
    ...(flags.nodeTaints?.length ? { nodeTaints: parseNodeTaints(flags.nodeTaints) } : {}),
    ...(flags.kubeletPort !== undefined ? { kubeletPort: flags.kubeletPort } : {}),
    ...(flags.clusterCidr ? { clusterCIDR: flags.clusterCidr } : {}),
    ...(flags.clusterDns ? { clusterDNS: [flags.clusterDns] } : {}),
    ...(flags.clusterDomain ? { clusterDomain: flags.clusterDomain } : {}),
    ...(ca ? { clusterCa: ca } : {}),
  };
}

/** Runs the agent until SIGINT/SIGTERM; resolves to the exit code. */
export async function runAgent(flags: AgentFlags): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('tkube agent: must run as root (containerd and pod networking need it)');
    return 1;
  }
  let opts: AgentOptions;
  try {
    opts = agentOptionsFromFlags(flags);
  } catch (err) {
    console.error(`tkube agent: ${(err as Error).message}`);
    return 1;
  }
  let agent;
  try {
    agent = await startAgent(opts);
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  log.info('agent ready', { node: agent.nodeName, nodeIP: agent.nodeIP, kubeletPort: agent.kubeletPort, podCIDR: agent.podCIDR() });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  log.info('stopping; containers keep running');
  await agent.dispose();
  return 0;
}
