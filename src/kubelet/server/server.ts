// The kubelet's HTTPS API (:10250), which the API server proxies pods/log, exec, attach,
// portforward and nodes/proxy to: client-certificate authentication, a small authorizer, and the
// endpoints /healthz, /containerLogs, /exec, /attach, /portForward, /run, /stats/summary and
// /metrics/resource (stats/). Streaming endpoints ask CRI for a streaming URL and hand the upgraded
// connection to containerd's streaming server.
import { createServer, type Server } from 'node:https';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { parseCertificateIdentity } from '../../base/pki.ts';
import { CriError, GrpcCode, type RuntimeService } from '../cri/types.ts';
import { newLogReadOptions, parseLogQuery, readLogs } from './logs.ts';
import { isTunnelingRequest, isWebSocketRequest, offeredProtocols, tunnelPortForward } from './portforward_tunnel.ts';
import { proxyUpgrade } from './stream_proxy.ts';
import { KubeletError, type KubeletUser, type PodLocator } from './types.ts';
import { StatsProvider } from '../stats/provider.ts';
import { metricsEndpoint, statsEndpoint, type EndpointAnswer } from '../stats/endpoints.ts';

const log = logger('kubelet-server');

/** Default port of the kubelet API. */
export const KUBELET_PORT = 10250;
/** The API server's client identity towards kubelets (upstream's kubeadm name). */
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';

/** Options of KubeletServer. */
export interface KubeletServerOptions {
  readonly runtime: RuntimeService;
  readonly locator: PodLocator;
  /** Serving certificate and key, and the CA that client certificates must chain to. */
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly clientCaPem: string };
  /** Default KUBELET_PORT; 0 picks a free port. */
  readonly port?: number;
  /** Default "0.0.0.0". */
  readonly bindAddress?: string;
  /** Client certificate common names allowed to call (default: the API server's). */
  readonly authorizedUsers?: readonly string[];
  /** Client certificate organizations allowed to call (default: system:masters). */
  readonly authorizedGroups?: readonly string[];
  /** Source of /stats/summary and /metrics/resource (default: CRI and procfs, node named by the serving certificate). */
  readonly stats?: StatsProvider;
}

/** WebSocket subprotocols containerd's streaming server accepts for exec and attach (remotecommand). */
const RUNTIME_EXEC_WS_PROTOCOLS = new Set(['', 'channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io']);

type Handler = (ctx: RequestContext) => Promise<void>;

interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Path segments after the endpoint name. */
  readonly params: readonly string[];
  /** Set for upgrade requests: the raw connection and bytes read past the head. */
  readonly upgrade?: { readonly socket: Duplex; readonly head: Buffer };
}

/** The authorizer's subresource of nodes for a path (upstream's kubelet auth filter). */
function subresourceFor(path: string): string {
  const first = path.split('/')[1] ?? '';
  if (first === 'stats') return 'stats';
  if (first === 'metrics') return 'metrics';
  if (first === 'logs') return 'log';
  return 'proxy';
}

function verbFor(method: string): string {
  switch (method) {
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return 'get';
  }
}

/** Writes a plain-text error (go-restful's WriteError: the message, no newline). */
function writeText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = Buffer.from(text);
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
  res.end(body);
}

/** The kubelet API server of one node. */
export class KubeletServer implements Disposable {
  readonly #opts: KubeletServerOptions;
  #server: Server | undefined;
  #port = 0;
  readonly #sockets = new Set<Duplex>();
  readonly #aborts = new Set<AbortController>();
  readonly #routes: ReadonlyMap<string, Handler>;

  constructor(opts: KubeletServerOptions) {
    if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536)) {
      throw new Error(`KubeletServerOptions.port: want 0..65535, got ${String(opts.port)}`);
    }
    this.#opts = opts;
    this.#routes = new Map<string, Handler>([
      ['healthz', (c) => this.#healthz(c)],
      ['containerLogs', (c) => this.#containerLogs(c)],
      ['exec', (c) => this.#execOrAttach(c, 'exec')],
      ['attach', (c) => this.#execOrAttach(c, 'attach')],
      ['portForward', (c) => this.#portForward(c)],
      ['run', (c) => this.#run(c)],
      ['stats', async (c) => this.#answer(c, await statsEndpoint(this.#statsProvider(), c.params, c.url.searchParams))],
      ['metrics', async (c) => this.#answer(c, await metricsEndpoint(this.#statsProvider(), c.params))],
    ]);
  }

  #stats: StatsProvider | undefined;

  #statsProvider(): StatsProvider {
    if (!this.#stats) {
      const cn = parseCertificateIdentity(this.#opts.tls.certPem).commonName;
      this.#stats = this.#opts.stats ?? new StatsProvider({ runtime: this.#opts.runtime, nodeName: cn.replace(/^system:node:/, '') });
    }
    return this.#stats;
  }

  #answer(c: RequestContext, a: EndpointAnswer): void {
    const body = Buffer.from(a.body);
    c.res.writeHead(200, { 'Content-Type': a.contentType, 'Content-Length': String(body.length) });
    c.res.end(body);
  }

  /** The port actually bound. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const server = createServer({
      cert: this.#opts.tls.certPem, key: this.#opts.tls.keyPem, ca: this.#opts.tls.clientCaPem,
      requestCert: true, rejectUnauthorized: false,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#dispatch(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Answer refusals through a ServerResponse like any request; a proxied stream detaches it.
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      res.on('finish', () => socket.end());
      void this.#dispatch(req, res, { socket, head });
    });
    server.on('secureConnection', (s: TLSSocket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('tlsClientError', () => { /* a client that failed the handshake; nothing to answer */ });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? KUBELET_PORT, this.#opts.bindAddress ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Serves a new certificate to new connections (a joined node swaps its temporary one for a signed one). */
  setCertificate(certPem: string, keyPem: string): void {
    this.#server?.setSecureContext({ cert: certPem, key: keyPem, ca: this.#opts.tls.clientCaPem });
  }

  /** Stops listening and ends every connection and log follower. */
  async dispose(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const a of this.#aborts) a.abort();
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  #authenticate(req: IncomingMessage): KubeletUser | undefined {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const cert = socket.getPeerCertificate?.();
    if (!cert?.raw) return undefined;
    const id = parseCertificateIdentity(cert.raw);
    return { name: id.commonName, groups: id.organizations };
  }

  #authorized(user: KubeletUser): boolean {
    const users = this.#opts.authorizedUsers ?? [APISERVER_KUBELET_CLIENT];
    const groups = this.#opts.authorizedGroups ?? ['system:masters'];
    return users.includes(user.name) || user.groups.some((g) => groups.includes(g));
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: RequestContext['upgrade']): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      const user = this.#authenticate(req);
      if (!user) throw new KubeletError(401, 'Unauthorized');
      if (!this.#authorized(user)) {
        throw new KubeletError(403, `Forbidden (user=${user.name}, verb=${verbFor(method)}, resource=nodes, subresource=${subresourceFor(url.pathname)})`);
      }
      const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
      const handler = this.#routes.get(segments[0] ?? '');
      if (!handler) throw new KubeletError(404, '404 page not found');
      await handler({ req, res, url, params: segments.slice(1), upgrade });
    } catch (err) {
      if (err instanceof KubeletError) {
        writeText(res, err.code, err.message);
      } else if (err instanceof CriError) {
        // upstream's streaming.WriteError: gRPC NotFound is 404, everything else 500
        writeText(res, err.code === GrpcCode.NotFound ? 404 : 500, `rpc error: code = ${err.code} desc = ${err.details}`);
      } else {
        log.error('request failed', { path: url.pathname, err: err instanceof Error ? err.message : String(err) });
        writeText(res, 500, err instanceof Error ? err.message : String(err));
      }
    }
  }

  async #healthz(c: RequestContext): Promise<void> {
    writeText(c.res, 200, 'ok');
  }

  /** GET /containerLogs/{namespace}/{pod}/{container} */
  async #containerLogs(c: RequestContext): Promise<void> {
    if (c.params.length !== 3) throw new KubeletError(404, '404 page not found');
    const [namespace, pod, container] = c.params as [string, string, string];
    const opts = parseLogQuery(c.url.searchParams);
    const id = await this.#opts.locator.logContainer(namespace, pod, container, opts.previous);
    const status = (await this.#opts.runtime.containerStatus(id)).status;
    if (!status?.logPath) throw new KubeletError(400, `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} has no log file`);
    const abort = new AbortController();
    this.#aborts.add(abort);
    c.res.on('close', () => abort.abort());
    let started = false;
    const res = c.res;
    try {
      await readLogs(status.logPath, id, newLogReadOptions(opts, Date.now()), this.#opts.runtime, async (data) => {
        if (!started) {
          started = true;
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        }
        if (!res.write(data)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
      }, abort.signal);
      if (!started) res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end();
    } catch (err) {
      if (started) {
        res.destroy();
        return;
      }
      throw new KubeletError(400, err instanceof Error ? err.message : String(err));
    } finally {
      this.#aborts.delete(abort);
    }
  }

  /** GET|POST /exec|attach/{namespace}/{pod}[/{uid}]/{container} */
  async #execOrAttach(c: RequestContext, kind: 'exec' | 'attach'): Promise<void> {
    if (c.params.length !== 3 && c.params.length !== 4) throw new KubeletError(404, '404 page not found');
    const [namespace, pod] = c.params as [string, string];
    const uid = c.params.length === 4 ? c.params[2] : undefined;
    const container = c.params[c.params.length - 1]!;
    const q = c.url.searchParams;
    // the API server's names (core/v1 ExecStdinParam…): input, output, error, tty, each "1" when set
    const tty = q.get('tty') === '1';
    const stdin = q.get('input') === '1';
    const stdout = q.get('output') === '1';
    // a terminal merges stderr into stdout
    const stderr = !tty && q.get('error') === '1';
    if (!stdin && !stdout && !stderr) throw new KubeletError(400, 'you must specify at least 1 of stdin, stdout, stderr');
    const up = this.#requireUpgrade(c);
    if (isWebSocketRequest(c.req)) {
      // containerd's streaming server predates the v5 protocol: refuse it here, so clients fall
      // back (kubectl to SPDY) without a wasted runtime call
      const offered = offeredProtocols(c.req);
      if (offered.length > 0 && !offered.some((p) => RUNTIME_EXEC_WS_PROTOCOLS.has(p))) {
        throw new KubeletError(400, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${[...RUNTIME_EXEC_WS_PROTOCOLS].filter((p) => p).join(' ')}]`);
      }
    }
    const id = await this.#opts.locator.runningContainer(namespace, pod, container, uid);
    const url = kind === 'exec'
      ? await this.#opts.runtime.exec({ containerId: id, cmd: q.getAll('command'), tty, stdin, stdout, stderr })
      : await this.#opts.runtime.attach({ containerId: id, tty, stdin, stdout, stderr });
    await this.#handOver(c, up, () => proxyUpgrade(c.req, up.socket, up.head, new URL(url)));
  }

  /** GET|POST /portForward/{namespace}/{pod}[/{uid}] */
  async #portForward(c: RequestContext): Promise<void> {
    if (c.params.length !== 2 && c.params.length !== 3) throw new KubeletError(404, '404 page not found');
    const [namespace, pod, uid] = c.params as [string, string, string | undefined];
    const up = this.#requireUpgrade(c);
    const tunnel = isTunnelingRequest(c.req);
    // plain WebSocket clients name their ports in the query; SPDY streams carry a port header each
    const ports = !tunnel && isWebSocketRequest(c.req) ? parsePorts(c.url.searchParams) : [];
    const sb = await this.#opts.locator.sandbox(namespace, pod, uid);
    const url = new URL(await this.#opts.runtime.portForward(sb.sandboxId, ports));
    await this.#handOver(c, up, () => tunnel
      ? tunnelPortForward(c.req, up.socket as Socket, up.head, url)
      : proxyUpgrade(c.req, up.socket, up.head, url));
  }

  /** POST /run/{namespace}/{pod}[/{uid}]/{container}?cmd=… : runs a command and returns its output. */
  async #run(c: RequestContext): Promise<void> {
    if (c.params.length !== 3 && c.params.length !== 4) throw new KubeletError(404, '404 page not found');
    const [namespace, pod] = c.params as [string, string];
    const uid = c.params.length === 4 ? c.params[2] : undefined;
    const container = c.params[c.params.length - 1]!;
    const cmd = (c.url.searchParams.get('cmd') ?? '').split(' ');
    const id = await this.#opts.locator.runningContainer(namespace, pod, container, uid);
    const r = await this.#opts.runtime.execSync(id, cmd, 0);
    const body = Buffer.concat([r.stdout, r.stderr]);
    c.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
    c.res.end(body);
  }

  #requireUpgrade(c: RequestContext): NonNullable<RequestContext['upgrade']> {
    if (!c.upgrade) throw new KubeletError(400, 'Upgrade request required');
    return c.upgrade;
  }

  /** Takes the connection away from the ServerResponse and lets `proxy` own it. */
  async #handOver(c: RequestContext, up: NonNullable<RequestContext['upgrade']>, proxy: () => Promise<void>): Promise<void> {
    c.res.removeAllListeners('finish');
    c.res.detachSocket(up.socket as Socket);
    try {
      await proxy();
    } catch (err) {
      const text = `error reaching the container runtime's streaming server: ${err instanceof Error ? err.message : String(err)}`;
      up.socket.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    }
  }
}

/** The `ports` query parameter of a WebSocket port-forward (comma-separated, repeatable). */
export function parsePorts(q: URLSearchParams): number[] {
  const values = q.getAll('ports');
  if (values.length === 0) throw new KubeletError(400, 'query parameter "ports" is required');
  const ports: number[] = [];
  for (const v of values) {
    if (v === '') throw new KubeletError(400, 'query parameter "ports" cannot be empty');
    for (const p of v.split(',')) {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!(n <= 65535)) throw new KubeletError(400, `unable to parse ${JSON.stringify(v)} as a port: strconv.ParseUint: parsing ${JSON.stringify(p)}: invalid syntax`);
      if (n < 1) throw new KubeletError(400, `port ${JSON.stringify(v)} must be > 0`);
      ports.push(n);
    }
  }
  return ports;
}
