// Header rules of the ingress proxy: what passes to endpoints and back (hop-by-hop headers end
// here), the X-Forwarded-* set it adds, and the request head it writes to an endpoint.
import type { IncomingMessage } from 'node:http';
import type { ExchangeRequest } from './upstream.ts';

// Hop-by-hop headers (RFC 9110 7.6.1) end at the proxy. Transfer-Encoding is kept on requests, whose
// bodies are re-chunked as they came; on responses Node frames the body for each client itself.
const HOP_BY_HOP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'expect']);
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'proxy-authenticate']);
// Set afresh from the connection: values sent by clients are not trusted (ingress-nginx's default).
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip']);

/** The value of a request header (first occurrence, any case), from the raw list. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** The upstream request head (request line, kept headers, X-Forwarded-*) and its body framing. */
export function requestHead(req: IncomingMessage, proto: 'http' | 'https', host: string | undefined, fallbackHost: string): { text: string; body: ExchangeRequest['body'] } {
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

/** The client's address, IPv4-mapped IPv6 written as plain IPv4. */
export function clientIp(req: IncomingMessage): string {
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
export function responseHeaders(raw: readonly string[], connection: string): string[] {
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
export function headerLines(raw: readonly string[], connection: string | undefined): string {
  const drop = connection === undefined ? undefined : connectionTokens(connection, undefined);
  let s = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (connection !== undefined && (HOP_BY_HOP_RESPONSE.has(lower) || drop?.has(lower))) continue;
    s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return s;
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
