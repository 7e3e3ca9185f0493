// The flags of `tkube server` and their defaults: a stable contract that scripts and later issues
// rely on. Kept apart from server.ts so that `--help` loads nothing heavy.
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseDuration, Second } from '../api/duration.ts';
import type { NetworkingFlags } from './networking_flags.ts';

/** The flags of `tkube server`: a stable contract for scripts. */
export interface ServerFlags extends NetworkingFlags {
  dataDir: string;
  httpsPort: number;
  bindAddress: string;
  nodeIp?: string;
  nodeName: string;
  disableAgent: boolean;
  simNodes: number;
  tokenAuthFile?: string;
  encryptionProviderConfig?: string;
  auditPolicyFile?: string;
  auditLogPath?: string;
  auditLogMaxage?: number;
  auditLogMaxbackup?: number;
  auditLogMaxsize?: number;
  /** KubeSchedulerConfiguration (v1) file. */
  schedulerConfig?: string;
  anonymousAuth: boolean;
  simCapacity?: string;
  simLabels?: string;
  simTaints?: string;
  simNamePrefix?: string;
  simZones?: string;
  datastoreEndpoint?: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  clusterDomain: string;
  writeKubeconfig?: string;
  /** Static pod manifests of the embedded agent (default DATA/agent/manifests). */
  podManifestPath?: string;
  /** registries.yaml of the embedded agent's containerd (default DATA/registries.yaml if present). */
  registries?: string;
  compactionWindow: number;
  /** Longest lifetime of certificates signed for CSRs, in seconds (--cluster-signing-duration; default 8760h). */
  clusterSigningDuration?: number;
  /** Upstream kubelet flags for the embedded agent, "key=value" each (--kubelet-arg, repeatable). */
  kubeletArg?: string[];
}

/** Defaults of the flags (data dir depends on whether we run as root). */
export function serverDefaults(): Pick<ServerFlags, 'dataDir' | 'httpsPort' | 'bindAddress' | 'nodeName' | 'clusterCidr' | 'serviceCidr' | 'clusterDns' | 'clusterDomain'> {
  return {
    dataDir: process.getuid?.() === 0 ? '/var/lib/tkube' : join(homedir(), '.tkube'),
    httpsPort: 6443,
    bindAddress: '0.0.0.0',
    nodeName: hostname().toLowerCase(),
    clusterCidr: '10.42.0.0/16',
    serviceCidr: '10.43.0.0/16',
    clusterDns: '10.43.0.10',
    clusterDomain: 'cluster.local',
  };
}

/** The datastore endpoint the flags select. */
export function datastoreEndpoint(flags: Pick<ServerFlags, 'dataDir' | 'datastoreEndpoint'>): string {
  return flags.datastoreEndpoint ?? `sqlite://${join(flags.dataDir, 'db', 'state.db')}`;
}

/** Parses --cluster-signing-duration (a Go duration such as 8760h or 10m) into whole seconds. */
export function parseSigningDuration(value: string): number {
  let nanos: bigint;
  try {
    nanos = parseDuration(value);
  } catch (err) {
    throw new Error(`--cluster-signing-duration: ${(err as Error).message}`);
  }
  const seconds = Number(nanos / Second);
  if (seconds < 600) throw new Error(`--cluster-signing-duration: want at least 10m, got ${JSON.stringify(value)}`);
  return seconds;
}
