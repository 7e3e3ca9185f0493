// `tkube server`: wires storage, the API server and (later) controllers, scheduler and the agent
// into one process, and shuts them down cleanly on SIGINT/SIGTERM.
import { mkdirSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { DisposableStore } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { openStore } from '../storage/registry.ts';
import '../storage/drivers/all.ts';

const log = logger('server');

/** The flags of `tkube server`: a stable contract for scripts. */
export interface ServerFlags {
  dataDir: string;
  httpsPort: number;
  bindAddress: string;
  nodeIp?: string;
  nodeName: string;
  disableAgent: boolean;
  simNodes: number;
  datastoreEndpoint?: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  clusterDomain: string;
  writeKubeconfig?: string;
  compactionWindow: number;
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

/** Runs until SIGINT/SIGTERM; resolves to the exit code. */
export async function runServer(flags: ServerFlags): Promise<number> {
  const owner = new DisposableStore();
  const started = performance.now();
  try {
    mkdirSync(flags.dataDir, { recursive: true, mode: 0o700 });
    const endpoint = datastoreEndpoint(flags);
    const store = await openStore({ endpoint, compactionWindowMs: flags.compactionWindow * 1000 });
    owner.add({ dispose: () => store.close() });
    log.info('storage ready', { driver: store.driver, endpoint: redact(endpoint), revision: await store.currentRevision() });
    for (const [flag, value] of notYetAvailable(flags)) {
      log.warn(`${flag}=${value}: accepted, but not available yet in this build`);
    }
    log.info('tkube server ready', { ms: Math.round(performance.now() - started) });
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    await owner.dispose().catch(() => undefined);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  log.info('shutting down');
  await owner.dispose();
  log.info('stopped');
  return 0;
}

/** Flags whose feature has not landed yet, so the server can say so instead of silently ignoring them. */
function notYetAvailable(flags: ServerFlags): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  out.push(['--https-port', String(flags.httpsPort)], ['--bind-address', flags.bindAddress]);
  if (!flags.disableAgent) out.push(['agent (node)', 'enabled; pass --disable-agent to silence']);
  if (flags.simNodes > 0) out.push(['--sim-nodes', String(flags.simNodes)]);
  if (flags.nodeIp) out.push(['--node-ip', flags.nodeIp]);
  if (flags.writeKubeconfig) out.push(['--write-kubeconfig', flags.writeKubeconfig]);
  return out;
}

function redact(endpoint: string): string {
  return endpoint.replace(/\/\/[^@/]*@/, '//***@');
}
