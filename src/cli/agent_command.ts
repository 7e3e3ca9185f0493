// `tkube agent`: runs a node agent (containerd, kubelet, kubelet API) against an API server until
// SIGINT/SIGTERM. It authenticates with a kubeconfig given on the command line, or joins with a
// bootstrap token (agent/bootstrap.ts) and then reuses the credentials it got. Containers keep
// running when the agent stops.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../base/log.ts';
import type { CertificateAuthority } from '../base/pki.ts';
import { parseNodeLabels, parseNodeTaints, startAgent, type AgentOptions } from '../agent/agent.ts';
import { bootstrapNodeKubeconfig, nodeKubeconfigPath } from '../agent/bootstrap.ts';
import { discoverPinnedCa, validateCaCertHash } from '../agent/bootstrap_ca.ts';
import { readKubeconfig } from '../base/kubeconfig.ts';
import { networkingOptionsFromFlags, type NetworkingFlags } from './networking_flags.ts';
import { parseKubeletArgs } from './kubelet_args.ts';

const log = logger('agent');

/** The flags of `tkube agent`. */
export interface AgentFlags extends NetworkingFlags {
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
  /** Bootstrap token `<id>.<secret>` to join with (`tkube token create`). */
  token?: string;
  /** The cluster CA to trust when joining... */
  caFile?: string;
  /** ...or kubeadm's pin of it: sha256:<hex of the SHA-256 of its public key>. */
  caCertHash?: string;
  /** Kubelet API port (default 10250). */
  kubeletPort?: number;
  clusterCidr?: string;
  clusterDns?: string;
  clusterDomain?: string;
  /** Service ClusterIP range (default 10.43.0.0/16). */
  serviceCidr?: string;
  /** Static pod manifests (default DATA/agent/manifests). */
  podManifestPath?: string;
  /** registries.yaml for containerd (default DATA/registries.yaml if present). */
  registries?: string;
  /** Upstream kubelet flags, "key=value" each (--kubelet-arg, repeatable). */
  kubeletArg?: string[];
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
  const kubelet = parseKubeletArgs(flags.kubeletArg ?? []);
  if (flags.server !== undefined && !/^https:\/\//.test(flags.server)) throw new Error(`--server: want an https:// URL, got ${JSON.stringify(flags.server)}`);
  const joining = isJoin(flags);
  if (joining) {
    if (!flags.server) throw new Error('--server is required to join a cluster');
    if (flags.caFile !== undefined && flags.caCertHash !== undefined) throw new Error('give one of --ca-file and --ca-cert-hash, not both');
    if (flags.caFile !== undefined && !existsSync(flags.caFile)) throw new Error(`--ca-file: ${flags.caFile} does not exist`);
    const badPin = flags.caCertHash !== undefined ? validateCaCertHash(flags.caCertHash) : undefined;
    if (badPin) throw new Error(`--ca-cert-hash: ${badPin}`);
    if (flags.token !== undefined && flags.caFile === undefined && flags.caCertHash === undefined) {
      throw new Error('--token needs a way to trust the server: --ca-cert-hash sha256:... (printed by `tkube token create --print-join-command`) or --ca-file');
    }
  } else {
    if (!flags.kubeconfig) throw new Error('give --kubeconfig, or join with --server, --token and --ca-cert-hash (or --ca-file)');
    if (!existsSync(flags.kubeconfig)) throw new Error(`--kubeconfig: ${flags.kubeconfig} does not exist`);
  }
  const ca = joining ? undefined : localClusterCa(flags.dataDir);
  return {
    dataDir: flags.dataDir,
    nodeName: flags.nodeName,
    kubeconfig: joining ? nodeKubeconfigPath(flags.dataDir) : flags.kubeconfig!,
    ...(joining ? { servingCertificateFromCsr: true, rotateCertificates: true } : {}),
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.nodeIp ? { nodeIP: flags.nodeIp } : {}),
    ...(flags.nodeLabels?.length ? { nodeLabels: parseNodeLabels(flags.nodeLabels) } : {}),
    ...(flags.nodeTaints?.length ? { nodeTaints: parseNodeTaints(flags.nodeTaints) } : {}),
    ...(flags.kubeletPort !== undefined ? { kubeletPort: flags.kubeletPort } : {}),
    ...(flags.clusterCidr ? { clusterCIDR: flags.clusterCidr } : {}),
    ...(flags.clusterDns ? { clusterDNS: [flags.clusterDns] } : {}),
    ...(flags.clusterDomain ? { clusterDomain: flags.clusterDomain } : {}),
    ...(ca ? { clusterCa: ca } : {}),
    ...(flags.podManifestPath !== undefined ? { podManifestPath: flags.podManifestPath } : {}),
    ...(flags.registries !== undefined ? { registries: flags.registries } : {}),
    ...(Object.keys(kubelet).length > 0 ? { kubelet } : {}),
    networking: networkingOptionsFromFlags(flags, flags.serviceCidr ? { serviceCIDR: flags.serviceCidr } : {}),
  };
}

/** Whether the node joins with a token, or runs on the credentials of an earlier join. */
function isJoin(flags: AgentFlags): boolean {
  return flags.kubeconfig === undefined && (flags.token !== undefined || existsSync(nodeKubeconfigPath(flags.dataDir)));
}

/** The CA a joining node trusts: --ca-file, the CA pinned by --ca-cert-hash, or the earlier join's. */
async function joinCa(flags: AgentFlags): Promise<string> {
  if (flags.caFile !== undefined) return readFileSync(flags.caFile, 'utf8');
  if (flags.caCertHash !== undefined) return discoverPinnedCa(flags.server!, flags.caCertHash);
  const kc = await readKubeconfig(nodeKubeconfigPath(flags.dataDir));
  if (!kc.caPem) throw new Error(`${nodeKubeconfigPath(flags.dataDir)} has no cluster CA; join again with --token and --ca-cert-hash`);
  return kc.caPem;
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
    if (opts.servingCertificateFromCsr) {
      await bootstrapNodeKubeconfig({
        dataDir: flags.dataDir, nodeName: flags.nodeName, server: flags.server!, caPem: await joinCa(flags),
        ...(flags.token !== undefined ? { token: flags.token } : {}),
      });
    }
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
