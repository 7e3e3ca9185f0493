// Upgrade requests (WebSocket and the like) through the ingress proxy: a connection of its own to
// the endpoint, the 101 relayed, then bytes spliced both ways until either side closes. Also the
// small error replies the proxy writes itself.
import { STATUS_CODES, request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { logger } from '../base/log.ts';
import type { Upstream, UpstreamEndpoint } from './backends.ts';
import { headerLines } from './headers.ts';

const log = logger('ingress');

/** Body of the reply when no rule and no default backend match, as ingress-nginx's default backend. */
export const NOT_FOUND_BODY = 'default backend - 404';

/** What a tunnel needs from the proxy. */
export interface TunnelContext {
  readonly connectTimeoutMs: number;
  /** Open sockets, so that disposing the proxy closes tunnels too. */
  readonly tunnels: Set<Socket>;
}

class ProxyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Tunnels an upgrade request to the endpoints of `up`, trying the next one when a connect fails. */
export function openTunnel(ctx: TunnelContext, req: IncomingMessage, socket: Socket, head: Buffer, up: Upstream, headers: string[], start: number, attempt: number, tries: number): void {
  const ep = up.endpoints[(start + attempt) % up.endpoints.length]!;
  // A connection of its own: once upgraded it belongs to this tunnel, never to the pool.
  const upReq = httpRequest({ host: ep.host, port: ep.port, method: req.method, path: req.url, headers, agent: false });
  let connected = false;
  let answered = false;
  watchConnect(upReq, ep, ctx.connectTimeoutMs, () => {
    connected = true;
    upReq.end();
  });
  upReq.on('upgrade', (upRes: IncomingMessage, upSock: Socket, upHead: Buffer) => {
    answered = true;
    if (socket.destroyed) {
      upSock.destroy();
      return;
    }
    ctx.tunnels.add(upSock);
    socket.write(statusLine(upRes) + headerLines(upRes.rawHeaders, undefined) + '\r\n');
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSock.write(head);
    splice(socket, upSock, () => ctx.tunnels.delete(upSock));
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
      openTunnel(ctx, req, socket, head, up, headers, start, attempt + 1, tries);
      return;
    }
    log.warn('upstream upgrade failed', { upstream: up.key, endpoint: `${ep.host}:${ep.port}`, err: err.message });
    rawError(socket, 502);
  });
  socket.once('close', () => {
    if (!answered) upReq.destroy();
  });
}

/** Calls `onConnected` once the request has a connected socket; fails it after the connect timeout. */
function watchConnect(upReq: ClientRequest, ep: UpstreamEndpoint, timeoutMs: number, onConnected: () => void): void {
  upReq.once('socket', (sock: Socket) => {
    if (!sock.connecting) {
      onConnected();
      return;
    }
    sock.setNoDelay(true);
    const timer = setTimeout(() => {
      upReq.destroy(new ProxyError('ECONNTIMEOUT', `connect to ${ep.host}:${ep.port} timed out`));
    }, timeoutMs);
    const cleanup = (): void => clearTimeout(timer);
    sock.once('connect', () => {
      cleanup();
      onConnected();
    });
    sock.once('close', cleanup);
  });
}

function statusLine(res: IncomingMessage): string {
  const code = res.statusCode ?? 502;
  return `HTTP/1.1 ${code} ${res.statusMessage || STATUS_CODES[code] || ''}\r\n`;
}

function errorBody(status: number): string {
  if (status === 404) return `${NOT_FOUND_BODY}\n`;
  return `${status} ${status === 503 ? 'Service Unavailable' : STATUS_CODES[status] ?? 'Error'}\n`;
}

/** Answers with a short text error, unless a reply already started. */
export function sendError(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  const body = errorBody(status);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Writes a short text error straight to a socket (upgrade requests have no ServerResponse) and closes it. */
export function rawError(socket: Socket, status: number): void {
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
