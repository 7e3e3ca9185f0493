// The ingress data plane: HTTP and HTTPS listeners that route each request through the current
// routing snapshot and stream it to an endpoint over keep-alive connections, retrying another
// endpoint when a connection cannot be made; Upgrade (WebSocket) requests are spliced through.
import { STATUS_CODES, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Disposable } from '../base/disposable.ts';
import type { IssuedCertificate } from '../base/pki.ts';
import { logger } from '../base/log.ts';
import type { Upstream, UpstreamEndpoint } from './backends.ts';
import { contextFor, type CertTable } from './certificates.ts';
import { matchRoute, normalizeHost, requestPath, type RouteTable } from './routing.ts';
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

/** Body of the reply when no rule and no default backend match, as ingress-nginx's default backend. */
export const NOT_FOUND_BODY = 'default backend - 404';

// Hop-by-hop headers (RFC 9110 7.6.1) end at the proxy. Transfer-Encoding is kept on requests, whose
// bodies are re-chunked as they came; on responses Node frames the body for each client itself.
const HOP_BY_HOP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'expect']);
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'proxy-authenticate']);
// Set afresh from the connection: values sent by clients are not trusted (ingress-nginx's default).
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip']);

class ProxyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
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

  /** Calls `onConnected` once the request has a connected socket; fails it after the connect timeout. */
  #watchConnect(upReq: ClientRequest, ep: UpstreamEndpoint, onConnected: () => void): void {
    upReq.once('socket', (sock: Socket) => {
      if (!sock.connecting) {
        onConnected();
        return;
      }
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        upReq.destroy(new ProxyError('ECONNTIMEOUT', `connect to ${ep.host}:${ep.port} timed out`));
      }, this.#opts.connectTimeoutMs);
      const cleanup = (): void => clearTimeout(timer);
      sock.once('connect', () => {
        cleanup();
        onConnected();
      });
      sock.once('close', cleanup);
    });
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
    const headers = forwardedHeaders(req, proto, true);
    const tries = Math.min(up.endpoints.length, this.#opts.maxTries);
    this.#upgrade(req, socket, head, up, headers, this.#start(up), 0, tries);
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer, up: Upstream, headers: string[], start: number, attempt: number, tries: number): void {
    const ep = up.endpoints[(start + attempt) % up.endpoints.length]!;
    // A connection of its own: once upgraded it belongs to this tunnel, never to the pool.
    const upReq = httpRequest({ host: ep.host, port: ep.port, method: req.method, path: req.url, headers, agent: false });
    let connected = false;
    let answered = false;
    this.#watchConnect(upReq, ep, () => {
      connected = true;
      upReq.end();
    });
    upReq.on('upgrade', (upRes: IncomingMessage, upSock: Socket, upHead: Buffer) => {
      answered = true;
      if (socket.destroyed) {
        upSock.destroy();
        return;
      }
      this.#tunnels.add(upSock);
      socket.write(statusLine(upRes) + headerLines(upRes.rawHeaders, undefined) + '\r\n');
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSock.write(head);
      splice(socket, upSock, () => this.#tunnels.delete(upSock));
    });
    upReq.on('response', (upRes: IncomingMessage) => {
      // The endpoint declined the upgrade: relay its answer and close, as the tunnel never opened.
      answered = true;
      socket.write(statusLine(upRes) + headerLines(upRes.rawHeaders, upRes.headers.connection ?? '') + 'Connection: close\r\n\r\n');
      upRes.pipe(socket);
      upRes.on('error', () => socket.destroy());
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      if (answered || socket.destroyed) {
        socket.destroy();
        return;
      }
      if (!connected && attempt + 1 < tries) {
        this.#upgrade(req, socket, head, up, headers, start, attempt + 1, tries);
        return;
      }
      log.warn('upstream upgrade failed', { upstream: up.key, endpoint: `${ep.host}:${ep.port}`, err: err.message });
      rawError(socket, 502);
    });
    socket.once('close', () => {
      if (!answered) upReq.destroy();
    });
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
    const ep = this.#endpoint();
    this.tried++;
    this.exchange = this.pool.exchange({ host: ep.host, port: ep.port, head: this.req.method === 'HEAD', text: this.text, body: this.body }, this);
    if (this.exchange.connected) this.onConnect();
  }

  #endpoint(): UpstreamEndpoint {
    return this.up.endpoints[(this.start + this.tried) % this.up.endpoints.length]!;
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
    const failed = this.up.endpoints[(this.start + this.tried - 1) % this.up.endpoints.length]!;
    const where = { upstream: this.up.key, endpoint: `${failed.host}:${failed.port}`, err: err.message };
    // Retry only while nothing of the body has left: before the connection was made, or on a
    // stale keep-alive connection for a request that has no body.
    const retriable = err.phase === FailPhase.connect || (err.phase === FailPhase.request && err.reused && this.body === 'none');
    if (retriable && this.tried < this.tries && !this.req.destroyed) {
      log.debug('endpoint failed, trying the next', where);
      this.attempt();
      return;
    }
    log.warn('upstream request failed', where);
    sendError(res, err.code === 'ETIMEDOUT' && err.phase !== FailPhase.connect ? 504 : 502);
  }
}

/** The value of a request header (first occurrence, any case), from the raw list. */
function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** The upstream request head (request line, kept headers, X-Forwarded-*) and its body framing. */
function requestHead(req: IncomingMessage, proto: 'http' | 'https', host: string | undefined, fallbackHost: string): { text: string; body: ExchangeRequest['body'] } {
  const raw = req.rawHeaders;
  let named: Set<string> | undefined;
  let te = false;
  let length = false;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'connection') named = connectionTokens(raw[i + 1]!, named);
    else if (lower === 'transfer-encoding') te = true;
    else if (lower === 'content-length' && raw[i + 1] !== '0') length = true;
  }
  let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP_REQUEST.has(lower) || FORWARDED.has(lower) || (named !== undefined && named.has(lower))) continue;
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (host === undefined) text += `Host: ${fallbackHost}\r\n`;
  const ip = clientIp(req);
  text += `X-Real-IP: ${ip}\r\nX-Forwarded-For: ${ip}\r\nX-Forwarded-Host: ${host ?? ''}\r\nX-Forwarded-Port: ${req.socket.localPort ?? ''}\r\nX-Forwarded-Proto: ${proto}\r\n\r\n`;
  return { text, body: te ? 'chunked' : length ? 'length' : 'none' };
}

function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Headers for the upstream request: the client's minus hop-by-hop ones, plus X-Forwarded-*. */
export function forwardedHeaders(req: IncomingMessage, proto: 'http' | 'https', upgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const named = req.headers.connection === undefined ? undefined : connectionTokens(req.headers.connection, undefined);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP_REQUEST.has(lower) || FORWARDED.has(lower) || (named !== undefined && named.has(lower))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (upgrade) out.push('Connection', 'Upgrade', 'Upgrade', req.headers.upgrade ?? '');
  const ip = clientIp(req);
  const host = req.headers.host ?? '';
  out.push(
    'X-Real-IP', ip,
    'X-Forwarded-For', ip,
    'X-Forwarded-Host', host,
    'X-Forwarded-Port', String(req.socket.localPort ?? ''),
    'X-Forwarded-Proto', proto,
  );
  return out;
}

/** The endpoint's response headers minus hop-by-hop ones, as a raw [name, value, ...] list. */
function responseHeaders(raw: readonly string[], connection: string): string[] {
  const named = connection === '' ? undefined : connectionTokens(connection, undefined);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP_RESPONSE.has(lower) || (named !== undefined && named.has(lower))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Header lines for a hand-written reply; with `connection` set, hop-by-hop headers are left out. */
function headerLines(raw: readonly string[], connection: string | undefined): string {
  const drop = connection === undefined ? undefined : connectionTokens(connection, undefined);
  let s = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (connection !== undefined && (HOP_BY_HOP_RESPONSE.has(lower) || drop?.has(lower))) continue;
    s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return s;
}

function statusLine(res: IncomingMessage): string {
  const code = res.statusCode ?? 502;
  return `HTTP/1.1 ${code} ${res.statusMessage || STATUS_CODES[code] || ''}\r\n`;
}

/** Adds the header names a Connection header lists (besides keep-alive/close/upgrade) to `out`. */
function connectionTokens(value: string, out: Set<string> | undefined): Set<string> | undefined {
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue;
    (out ??= new Set()).add(name);
  }
  return out;
}

function errorBody(status: number): string {
  if (status === 404) return `${NOT_FOUND_BODY}\n`;
  return `${status} ${status === 503 ? 'Service Unavailable' : STATUS_CODES[status] ?? 'Error'}\n`;
}

function sendError(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  const body = errorBody(status);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function rawError(socket: Socket, status: number): void {
  const body = errorBody(status);
  const text = STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Pipes two sockets into each other; either closing or failing tears down both. */
function splice(a: Socket, b: Socket, onClose: () => void): void {
  let done = false;
  const close = (): void => {
    if (done) return;
    done = true;
    a.destroy();
    b.destroy();
    onClose();
  };
  for (const s of [a, b]) {
    s.on('error', close);
    s.on('close', close);
  }
  a.pipe(b);
  b.pipe(a);
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
