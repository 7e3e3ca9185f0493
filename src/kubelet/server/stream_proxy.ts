// Hands an upgrade request (WebSocket or SPDY/3.1) over to another HTTP server unchanged except for
// its path and Host, then splices the two connections byte for byte: the kubelet's way to reach
// containerd's CRI streaming server, whose one-time URL CRI Exec/Attach/PortForward returned.
// Whatever the runtime answers (101, or a refusal such as 403 for an unknown subprotocol) reaches
// the client as is, which is what lets kubectl fall back from WebSocket to SPDY.
import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Request headers that describe the hop, not the request; everything else is passed on. */
const HOP_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'authorization', 'proxy-authorization']);

/** Serializes a request head for `target`: the given raw headers (Node's flat list) plus `extra`. */
export function requestHead(method: string, rawHeaders: readonly string[], target: URL, extra: Record<string, string> = {}): string {
  const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  const skip = new Set([...HOP_HEADERS, ...Object.keys(extra).map((k) => k.toLowerCase())]);
  const raw = rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!skip.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Opens a TCP connection to an http:// URL's host and port. */
export function dialHttp(target: URL): Promise<Socket> {
  if (target.protocol !== 'http:') return Promise.reject(new Error(`streaming URL ${target.href}: only http is supported`));
  return new Promise((resolve, reject) => {
    const s = connect({ host: target.hostname, port: Number(target.port || 80) });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Splices two connections; either side ending or failing ends the other. */
export function splice(a: Duplex, b: Duplex): void {
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

/**
 * Forwards the upgrade request `req` (whose connection is `client`, with `head` already read past
 * the request head) to `target`, then splices the connections. Rejects only when the runtime
 * cannot be reached; the caller then still owns `client`.
 */
export async function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: URL): Promise<void> {
  const backend = await dialHttp(target);
  backend.setNoDelay(true);
  backend.write(requestHead(req.method ?? 'GET', req.rawHeaders, target));
  if (head.length > 0) backend.write(head);
  splice(client, backend);
}
