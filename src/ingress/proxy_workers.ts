// The data plane on several cores: the proxy runs in N cluster worker processes sharing the
// listening ports (like nginx's worker_processes), each fed the controller's routing snapshots over
// IPC. One Node event loop saturates one core; a node has more, and the ingress should use them.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Disposable } from '../base/disposable.ts';
import type { IssuedCertificate } from '../base/pki.ts';
import { logger } from '../base/log.ts';
import type { Upstream } from './backends.ts';
import type { ProxySnapshot } from './proxy.ts';
import type { RouteTable } from './routing.ts';

const log = logger('ingress');

/** Settings a worker's IngressProxy is made with. */
export interface WorkerProxyOptions {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly bindAddress?: string;
  readonly fallbackCertificate: IssuedCertificate;
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  readonly maxTries?: number;
}

/** A snapshot as it crosses process boundaries: certificates as PEMs instead of contexts. */
export interface WireSnapshot {
  readonly routes: RouteTable<Upstream>;
  readonly tls: ReadonlyMap<string, { readonly certPem: string; readonly keyPem: string }>;
}

/** Messages to a worker. */
export type ToWorker =
  | { readonly type: 'init'; readonly options: WorkerProxyOptions; readonly snapshot: WireSnapshot }
  | { readonly type: 'snapshot'; readonly snapshot: WireSnapshot }
  | { readonly type: 'stop' };

/** Messages from a worker. */
export type FromWorker =
  | { readonly type: 'hello' }
  | { readonly type: 'ready'; readonly httpPort: number; readonly httpsPort: number }
  | { readonly type: 'failed'; readonly error: string };

/** The wire form of a snapshot. */
export function toWire(s: ProxySnapshot): WireSnapshot {
  const tls = new Map<string, { certPem: string; keyPem: string }>();
  for (const [host, c] of s.certs) tls.set(host, { certPem: c.certPem, keyPem: c.keyPem });
  return { routes: s.routes, tls };
}

const STOP_TIMEOUT_MS = 5000;
const WORKER_SCRIPT = fileURLToPath(new URL('./proxy_worker.ts', import.meta.url));

/** N proxy processes behind shared ports. */
export class ProxyWorkers implements Disposable {
  #workers = new Set<Worker>();
  #options: WorkerProxyOptions;
  #snapshot: ProxySnapshot;
  #stopping = false;
  httpPort = 0;
  httpsPort = 0;

  private constructor(options: WorkerProxyOptions, snapshot: ProxySnapshot) {
    this.#options = options;
    this.#snapshot = snapshot;
  }

  /** Forks `count` workers and resolves once every one listens. */
  static async start(count: number, options: WorkerProxyOptions, snapshot: ProxySnapshot): Promise<ProxyWorkers> {
    if (!Number.isInteger(count) || count < 1) throw new Error(`ingress: workers must be a positive integer, got ${count}`);
    if (!cluster.isPrimary) throw new Error('ingress: proxy workers can only be started from a primary process');
    // Workers run this package's TypeScript: they need the loader the primary was started with.
    cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], execArgv: loaderArgs(process.execArgv), serialization: 'advanced' });
    const pw = new ProxyWorkers(options, snapshot);
    try {
      // Every worker asks for the same address and port (0 included): the cluster primary binds it
      // once and shares it, so all of them serve one port.
      const ports = await Promise.all(Array.from({ length: count }, () => pw.#fork()));
      pw.httpPort = ports[0]!.httpPort;
      pw.httpsPort = ports[0]!.httpsPort;
    } catch (err) {
      await pw.dispose();
      throw err;
    }
    return pw;
  }

  /** The snapshot last sent. */
  get snapshot(): ProxySnapshot {
    return this.#snapshot;
  }

  /** Sends a new snapshot to every worker. */
  setSnapshot(snapshot: ProxySnapshot): void {
    this.#snapshot = snapshot;
    const msg: ToWorker = { type: 'snapshot', snapshot: toWire(snapshot) };
    for (const w of this.#workers) if (w.isConnected()) w.send(msg);
  }

  /** Stops every worker (connections close) and waits for them to exit. */
  async dispose(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#workers].map((w) => stopWorker(w)));
    this.#workers.clear();
  }

  #fork(): Promise<{ httpPort: number; httpsPort: number }> {
    const worker = cluster.fork();
    this.#workers.add(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'hello') {
          // Sent once the worker listens for messages: anything sent earlier would be lost.
          worker.send({ type: 'init', options: this.#options, snapshot: toWire(this.#snapshot) } satisfies ToWorker);
        } else if (m.type === 'ready' && !ready) {
          ready = true;
          resolve({ httpPort: m.httpPort, httpsPort: m.httpsPort });
        } else if (m.type === 'failed' && !ready) {
          ready = true;
          reject(new Error(`ingress worker failed to start: ${m.error}`));
        }
      });
      worker.once('exit', (code, signal) => {
        this.#workers.delete(worker);
        if (!ready) {
          ready = true;
          reject(new Error(`ingress worker exited during start (code ${code}, signal ${signal})`));
          return;
        }
        if (this.#stopping) return;
        // A crashed worker is replaced so the node keeps its capacity.
        log.error('ingress worker exited; starting another', { code, signal });
        this.#fork().catch((err: unknown) => log.error('could not replace ingress worker', { err: String(err) }));
      });
    });
  }
}

function stopWorker(w: Worker): Promise<void> {
  if (w.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => w.kill('SIGKILL'), STOP_TIMEOUT_MS);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (w.isConnected()) w.send({ type: 'stop' } satisfies ToWorker);
    else w.kill('SIGTERM');
  });
}

/** The module-loading flags of this process (e.g. `--import tsx`), without test-runner or inspector ones. */
export function loaderArgs(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  const withValue = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (withValue.has(flag)) {
      if (eq > 0) out.push(a);
      else if (i + 1 < execArgv.length) out.push(a, execArgv[++i]!);
    } else if (flag === '--enable-source-maps' || flag === '--no-warnings' || flag.startsWith('--experimental-strip-types') || flag === '--experimental-transform-types') {
      out.push(a);
    }
  }
  return out;
}
