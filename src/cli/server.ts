// `tkube server`: wires storage, the API server and (later) controllers, scheduler and the agent
// into one process, and shuts them down cleanly on SIGINT/SIGTERM.
import { mkdirSync } from 'node:fs';
import { DisposableStore } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { openStore } from '../storage/registry.ts';
import '../storage/drivers/all.ts';
import { datastoreEndpoint, type ServerFlags } from './server_flags.ts';

const log = logger('server');

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
