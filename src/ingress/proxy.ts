// The ingress data plane: HTTP and HTTPS listeners that route each request through the current
// routing snapshot and stream it to an endpoint over keep-alive connections, retrying another
// endpoint when a connection cannot be made; Upgrade (WebSocket) requests are spliced through.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Disposable } from '../base/disposable.ts';
import type { IssuedCertificate } from '../base/pki.ts';
import { logger } from '../base/log.ts';
import type { Upstream, UpstreamEndpoint } from './backends.ts';
import { contextFor, type CertTable } from './certificates.ts';
import { forwardedHeaders, headerValue, requestHead, responseHeaders } from './headers.ts';
import { matchRoute, normalizeHost, requestPath, type RouteTable } from './routing.ts';
import { openTunnel, rawError, sendError } from './tunnel.ts';
import { FailPhase, UpstreamPool, type Exchange, type ExchangeHandler, type ExchangeRequest, type ResponseHead, type UpstreamError } from './upstream.ts';

const log = logger('ingress');

/** What the proxy serves: routes and certificates, swapped together and never edited in place. */
export interface ProxySnapshot {
  readonly routes: RouteTable<Upstream>;
  readonly certs: CertTable;
}

/** Options of the proxy. */
export interface IngressProxyOptions {
  /** 0 picks a free port (tests). */
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Listen address; default every address. */
  readonly bindAddress?: string;
  /** Served to TLS clients whose SNI name no Ingress covers. */
  readonly fallbackCertificate: IssuedCertificate;
  /** Time allowed to connect to an endpoint before trying the next (ingress-nginx: 5 s). */
  readonly connectTimeoutMs?: number;
  /** Longest silence from an endpoint while a request is in flight (ingress-nginx: 60 s). */
  readonly readTimeoutMs?: number;
  /** Endpoints tried per request when connections fail (ingress-nginx: 3). */
  readonly maxTries?: number;
}

/** The listeners and the forwarding logic; setSnapshot() swaps routes atomically. */
export class IngressProxy implements Disposable {
  #snapshot: ProxySnapshot;
  #opts: Required<Omit<IngressProxyOptions, 'bindAddress'>> & { bindAddress: string | undefined };
  #pool: UpstreamPool;
  #rr = new Map<string, number>();
  #http: Server;
  #https: HttpsServer;
  #tunnels = new Set<Socket>();
  #httpPort = 0;
  #httpsPort = 0;

  constructor(snapshot: ProxySnapshot, opts: IngressProxyOptions) {
    for (const k of ['httpPort', 'httpsPort'] as const) {
      const p = opts[k];
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`ingress: ${k} must be an integer between 0 and 65535, got ${p}`);
    }
    for (const k of ['connectTimeoutMs', 'readTimeoutMs', 'maxTries'] as const) {
      const v = opts[k];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`ingress: ${k} must be a positive number, got ${v}`);
    }
    this.#snapshot = snapshot;
    this.#opts = {
      httpPort: opts.httpPort, httpsPort: opts.httpsPort, bindAddress: opts.bindAddress,
      fallbackCertificate: opts.fallbackCertificate,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      readTimeoutMs: opts.readTimeoutMs ?? 60_000,
      maxTries: opts.maxTries ?? 3,
    };
    this.#pool = new UpstreamPool({ connectTimeoutMs: this.#opts.connectTimeoutMs, readTimeoutMs: this.#opts.readTimeoutMs });
    // Streams may run for hours: Node's whole-request deadline would cut long uploads.
    this.#http = createServer({ requestTimeout: 0 }, (req, res) => this.#onRequest(req, res, 'http'));
    this.#https = createHttpsServer({
      requestTimeout: 0,
      cert: opts.fallbackCertificate.certPem,
      key: opts.fallbackCertificate.keyPem,
      SNICallback: (servername, cb) => cb(null, this.#contextFor(servername)),
    }, (req, res) => this.#onRequest(req, res, 'https'));
    for (const s of [this.#http, this.#https]) {
      s.keepAliveTimeout = 75_000;
      s.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head, s === this.#https ? 'https' : 'http'));
      s.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        else socket.destroy();
      });
    }
    this.#https.on('tlsClientError', (err: Error) => log.debug('TLS handshake failed', { err: err.message }));
  }

  /** The bound HTTP port (after listen). */
  get httpPort(): number {
    return this.#httpPort;
  }

  /** The bound HTTPS port (after listen). */
  get httpsPort(): number {
    return this.#httpsPort;
  }

  /** The snapshot requests are routed by. */
  get snapshot(): ProxySnapshot {
    return this.#snapshot;
  }

  /** Replaces routes and certificates; requests in flight finish on the snapshot they started with. */
  setSnapshot(snapshot: ProxySnapshot): void {
    this.#snapshot = snapshot;
    const live = new Set<string>();
    const collect = (u: Upstream | undefined): void => {
      if (u) live.add(u.key);
    };
    const { routes } = snapshot;
    collect(routes.defaultBackend);
    for (const hr of [routes.anyHost, ...routes.hosts.values(), ...routes.wildcards.values()]) {
      collect(hr.defaultBackend);
      for (const p of hr.paths) collect(p.backend);
    }
    for (const k of this.#rr.keys()) if (!live.has(k)) this.#rr.delete(k);
  }

  /** Starts both listeners. */
  async listen(): Promise<void> {
    this.#httpPort = await listen(this.#http, this.#opts.httpPort, this.#opts.bindAddress);
    try {
      this.#httpsPort = await listen(this.#https, this.#opts.httpsPort, this.#opts.bindAddress);
    } catch (err) {
      await closeServer(this.#http);
      throw err;
    }
  }

  /** Closes the listeners and every connection, tunnels included. */
  async dispose(): Promise<void> {
    const closing = [closeServer(this.#http), closeServer(this.#https)];
    for (const s of this.#tunnels) s.destroy();
    this.#tunnels.clear();
    await Promise.all(closing);
    this.#pool.close();
  }

  #contextFor(servername: string): SecureContext | undefined {
    // undefined makes Node use the server's own (fallback) certificate.
    return contextFor(this.#snapshot.certs, servername);
  }

  #route(req: IncomingMessage, host: string | undefined): Upstream | number {
    const m = matchRoute(this.#snapshot.routes, normalizeHost(host), requestPath(req.url));
    if (!m) return 404;
    return m.backend.endpoints.length === 0 ? 503 : m.backend;
  }

  #start(up: Upstream): number {
    const n = this.#rr.get(up.key) ?? 0;
    this.#rr.set(up.key, n + 1 >= Number.MAX_SAFE_INTEGER ? 0 : n + 1);
    return n;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https'): void {
    const host = headerValue(req.rawHeaders, 'host');
    const up = this.#route(req, host);
    if (typeof up === 'number') {
      sendError(res, up);
      // Nobody reads the body of a refused request; drain it so the connection stays usable.
      req.resume();
      return;
    }
    const f = new Forwarding(this.#pool, req, res, up, proto, host, this.#start(up), Math.min(up.endpoints.length, this.#opts.maxTries));
    res.on('close', () => {
      // A client that goes away takes the endpoint request with it.
      if (!res.writableFinished) f.exchange?.abort();
    });
    f.attempt();
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, proto: 'http' | 'https'): void {
    socket.on('error', () => socket.destroy());
    const up = this.#route(req, req.headers.host);
    if (typeof up === 'number') {
      rawError(socket, up);
      return;
    }
    this.#tunnels.add(socket);
    socket.once('close', () => this.#tunnels.delete(socket));
    const ctx = { connectTimeoutMs: this.#opts.connectTimeoutMs, tunnels: this.#tunnels };
    openTunnel(ctx, req, socket, head, up, forwardedHeaders(req, proto, true), this.#start(up), 0, Math.min(up.endpoints.length, this.#opts.maxTries));
  }
}

/** One proxied request across its attempts; it is the handler of each attempt's exchange. */
class Forwarding implements ExchangeHandler {
  readonly pool: UpstreamPool;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly up: Upstream;
  readonly text: string;
  readonly body: ExchangeRequest['body'];
  readonly start: number;
  readonly tries: number;
  tried = 0;
  exchange: Exchange | undefined;
  #current: UpstreamEndpoint | undefined;
  #staleRetried = false;

  constructor(pool: UpstreamPool, req: IncomingMessage, res: ServerResponse, up: Upstream, proto: 'http' | 'https', host: string | undefined, start: number, tries: number) {
    this.pool = pool;
    this.req = req;
    this.res = res;
    this.up = up;
    this.start = start;
    this.tries = tries;
    const built = requestHead(req, proto, host, up.endpoints[0]!.host);
    this.text = built.text;
    this.body = built.body;
  }

  /** Sends the request to the next endpoint in turn. */
  attempt(): void {
    const ep = this.up.endpoints[(this.start + this.tried) % this.up.endpoints.length]!;
    this.tried++;
    this.#send(ep, false);
  }

  #send(ep: UpstreamEndpoint, fresh: boolean): void {
    this.#current = ep;
    this.exchange = this.pool.exchange({ host: ep.host, port: ep.port, head: this.req.method === 'HEAD', text: this.text, body: this.body, fresh }, this);
    if (this.exchange.connected) this.onConnect();
  }

  onConnect(): void {
    const ex = this.exchange;
    if (this.body === 'none' || !ex) return;
    const req = this.req;
    ex.onDrain(() => req.resume());
    req.on('data', (c: Buffer) => {
      if (!ex.write(c)) req.pause();
    });
    req.on('end', () => ex.end());
  }

  onHead(h: ResponseHead): void {
    this.res.writeHead(h.status, h.reason, responseHeaders(h.rawHeaders, h.connection));
  }

  onBody(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    const ex = this.exchange;
    this.res.once('drain', () => ex?.resume());
    return false;
  }

  onEnd(): void {
    this.res.end();
  }

  onError(err: UpstreamError): void {
    const res = this.res;
    if (res.headersSent) {
      // An endpoint that dies mid-body must not look like a complete reply.
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const ep = this.#current!;
    const where = { upstream: this.up.key, endpoint: `${ep.host}:${ep.port}`, err: err.message };
    if (this.req.destroyed) return;
    // A pooled connection the endpoint had already closed: nothing was processed, so a bodiless
    // request goes again, once, on a new connection to the same endpoint.
    if (err.phase === FailPhase.request && err.reused && this.body === 'none' && !this.#staleRetried) {
      this.#staleRetried = true;
      this.#send(ep, true);
      return;
    }
    // Another endpoint only while nothing has left: the connection itself failed.
    if (err.phase === FailPhase.connect && this.tried < this.tries) {
      log.debug('endpoint failed, trying the next', where);
      this.attempt();
      return;
    }
    log.warn('upstream request failed', where);
    sendError(res, err.code === 'ETIMEDOUT' && err.phase !== FailPhase.connect ? 504 : 502);
  }
}

function listen(server: Server | HttpsServer, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, ...(host !== undefined ? { host } : {}) }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: Server | HttpsServer): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
