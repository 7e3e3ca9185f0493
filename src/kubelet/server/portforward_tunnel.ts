// kubectl 1.32's port-forward tunnel: a WebSocket with subprotocol "SPDY/3.1+portforward.k8s.io"
// whose binary messages carry a SPDY/3.1 byte stream. containerd's streaming server only speaks
// plain SPDY, so the kubelet opens a SPDY upgrade to it and carries bytes between the two; no SPDY
// frame is parsed here (upstream's kubelet TunnelingHandler does the same).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialHttp, requestHead } from './stream_proxy.ts';

/** WebSocket subprotocols that ask for a SPDY tunnel start with this. */
export const TUNNEL_PROTOCOL_PREFIX = 'SPDY/3.1+';

/** Pause reading the runtime while this much is queued towards the client. */
const HIGH_WATER = 1 << 20;

/** The subprotocols a WebSocket handshake offers, in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  const all = Array.isArray(h) ? h.join(',') : (h ?? '');
  return all.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

/** True for a WebSocket request: Connection includes upgrade and Upgrade is websocket. */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  const conn = String(req.headers['connection'] ?? '').toLowerCase();
  return conn.split(',').some((t) => t.trim() === 'upgrade') && String(req.headers['upgrade'] ?? '').toLowerCase() === 'websocket';
}

/** True when the client asks for a SPDY tunnel over WebSocket. */
export function isTunnelingRequest(req: IncomingMessage): boolean {
  return isWebSocketRequest(req) && offeredProtocols(req).some((p) => p.startsWith(TUNNEL_PROTOCOL_PREFIX));
}

/** A parsed HTTP/1.1 response head and the bytes that followed it. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly raw: Buffer;
  readonly rest: Buffer;
}

/** Reads an HTTP/1.1 response head (up to 64 KiB) from a socket. */
export function readResponseHead(s: Duplex): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      s.off('data', onData);
      s.off('error', onError);
      s.off('end', onEnd);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('connection closed before a response'));
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 65536) onError(new Error('response head too large'));
        return;
      }
      cleanup();
      s.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
      if (!Number.isFinite(status)) {
        reject(new Error(`malformed response: ${JSON.stringify(lines[0])}`));
        return;
      }
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      resolve({ status, headers, raw: buf.subarray(0, end + 4), rest: buf.subarray(end + 4) });
    };
    s.on('data', onData);
    s.once('error', onError);
    s.once('end', onEnd);
  });
}

/**
 * Serves a tunneling WebSocket request by opening a SPDY upgrade to `target` (containerd's
 * port-forward URL) with the SPDY protocols the client named, then accepting the WebSocket with
 * the matching subprotocol. A refusal from the runtime goes back to the client as plain HTTP.
 */
export async function tunnelPortForward(req: IncomingMessage, client: Socket, head: Buffer, target: URL): Promise<void> {
  // ws drops a malformed handshake without telling us; refuse it before touching the runtime
  const key = req.headers['sec-websocket-key'];
  if (req.method !== 'GET' || typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key) || req.headers['sec-websocket-version'] !== '13') {
    client.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nbad WebSocket handshake');
    return;
  }
  const offered = offeredProtocols(req).filter((p) => p.startsWith(TUNNEL_PROTOCOL_PREFIX));
  const spdyProtocols = offered.map((p) => p.slice(TUNNEL_PROTOCOL_PREFIX.length));
  const backend = await dialHttp(target);
  backend.setNoDelay(true);
  // a client gone while the runtime answers takes the runtime connection with it
  client.once('close', () => backend.destroy());
  backend.write(requestHead('POST', [], target, {
    Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': spdyProtocols.join(', '),
  }));
  let resp: ResponseHead;
  try {
    resp = await readResponseHead(backend);
  } catch (err) {
    backend.destroy();
    throw err;
  }
  if (resp.status !== 101) {
    // the runtime's refusal (with its body) is the answer
    client.write(resp.raw);
    client.write(resp.rest);
    backend.resume();
    backend.pipe(client);
    return;
  }
  const chosen = TUNNEL_PROTOCOL_PREFIX + (resp.headers.get('x-stream-protocol-version') ?? spdyProtocols[0] ?? '');
  const ws = await new Promise<WebSocket>((resolve) => {
    // ws rejects subprotocols that are not RFC 6455 tokens ("/" is not a token character), so
    // it must not see the offer; the chosen subprotocol is added to its 101 response instead.
    delete req.headers['sec-websocket-protocol'];
    const forReq = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
    forReq.once('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${chosen}`));
    forReq.handleUpgrade(req, client, head, (w) => {
      forReq.close();
      resolve(w);
    });
  });
  carry(ws, backend, resp.rest);
}

/** Carries WebSocket binary messages to the runtime connection and its bytes back as messages. */
function carry(ws: WebSocket, backend: Socket, first: Buffer): void {
  const send = (chunk: Buffer): void => {
    ws.send(chunk, { binary: true }, () => {
      if (backend.isPaused() && ws.bufferedAmount < HIGH_WATER) backend.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) backend.pause();
  };
  if (first.length > 0) send(first);
  backend.on('data', send);
  backend.resume();
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!backend.write(chunk)) {
      ws.pause();
      backend.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => backend.end());
  ws.on('error', () => backend.destroy());
  backend.on('end', () => ws.close(1000));
  backend.on('error', () => ws.terminate());
  backend.on('close', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
