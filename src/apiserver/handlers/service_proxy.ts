// pods/proxy and services/proxy: any HTTP request (and upgrades) relayed to a pod's IP, or to a
// ready endpoint of a Service, as upstream's ProxyREST with its UpgradeAwareHandler does: Location
// headers of the backend are rewritten under the proxy path, bodies pass through untouched.
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { EndpointAddress, Endpoints, Pod, Service } from '../../api/types/core_v1.ts';
import { ApiError, newBadRequest, Reason } from '../errors.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { HandlerContext } from './context.ts';
import { DROPPED_HEADERS, kubeletRequest, pipeBody, relayUpgrade, splitSchemeNamePort, type KubeletLocation, type UpgradeConnection } from './pod_proxy.ts';

/** True for the subresources this file serves. */
export function isConnectProxy(resource: string, subresource: string): boolean {
  return subresource === 'proxy' && (resource === 'pods' || resource === 'services');
}

/** Where a proxied request goes: scheme, IP and the port text of the location (possibly a name, or empty). */
export interface ProxyTarget {
  readonly scheme: string;
  readonly ip: string;
  readonly port: string;
}

// net.LookupPort's built-in table, which is what a port name in a pod location resolves through
const GO_TCP_SERVICES: Readonly<Record<string, number>> = {
  ftp: 21, ftps: 990, gopher: 70, http: 80, https: 443, imap2: 143, imap3: 220, imaps: 993, pop3: 110, pop3s: 995, smtp: 25, submissions: 465, ssh: 22, telnet: 23,
};

/** The TCP port a location's port text dials, or Go's dial error text. */
export function dialPort(scheme: string, port: string): { port: number } | { error: string } {
  if (port === '') return { port: scheme === 'https' ? 443 : 80 };
  if (/^\d+$/.test(port)) return Number(port) <= 65535 ? { port: Number(port) } : { error: `dial tcp: address ${port}: invalid port` };
  const named = GO_TCP_SERVICES[port.toLowerCase()];
  return named !== undefined ? { port: named } : { error: `dial tcp: lookup tcp/${port}: unknown port` };
}

/** net.IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or the IPv4 broadcast address. */
export function isGlobalUnicast(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const o = ip.split('.').map(Number);
    if (o.every((x) => x === 0) || o.every((x) => x === 255)) return false;
    return o[0] !== 127 && !(o[0]! >= 224 && o[0]! <= 239) && !(o[0] === 169 && o[1] === 254);
  }
  if (v === 6) {
    const lower = ip.toLowerCase();
    if (/^[0:]+$/.test(lower) || /^[0:]+1$/.test(lower)) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return isGlobalUnicast(mapped[1]!);
    return !lower.startsWith('ff') && !/^fe[89ab]/.test(lower);
  }
  return false;
}

/** pod ResourceLocation: the pod's first IP and the named port, or the first declared container port. */
export function podProxyTarget(pod: Pod, scheme: string, port: string): ProxyTarget {
  let p = port;
  if (p === '') {
    const c = (pod.spec?.containers ?? []).find((x) => (x.ports ?? []).length > 0);
    if (c) p = String(c.ports![0]!.containerPort);
  }
  const ip = pod.status?.podIPs?.[0]?.ip ?? '';
  if (!isGlobalUnicast(ip)) throw newBadRequest('address not allowed');
  return { scheme, ip, port: p };
}

/**
 * Picks a ready address serving the port named `portName` from the service's Endpoints, starting
 * at a random subset and a random address as upstream does; `valid` says whether an address is
 * still a pod of the namespace with that IP.
 */
export async function pickEndpoint(
  eps: Endpoints, portName: string, valid: (a: EndpointAddress) => Promise<boolean>, rand: (n: number) => number = (n) => Math.floor(Math.random() * n),
): Promise<{ ip: string; port: number } | undefined> {
  const subsets = eps.subsets ?? [];
  const ssSeed = subsets.length > 0 ? rand(subsets.length) : 0;
  for (let i = 0; i < subsets.length; i++) {
    const ss = subsets[(ssSeed + i) % subsets.length]!;
    const addrs = ss.addresses ?? [];
    if (addrs.length === 0) continue;
    for (const p of ss.ports ?? []) {
      if ((p.name ?? '') !== portName) continue;
      const addrSeed = rand(addrs.length);
      for (let t = 0; t < addrs.length; t++) {
        const a = addrs[(addrSeed + t) % addrs.length]!;
        if (await valid(a)) return { ip: a.ip, port: p.port };
      }
    }
  }
  return undefined;
}

function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, Reason.ServiceUnavailable, message);
}

/** service ResourceLocation: a port number names a service port; the port name then selects endpoints. */
export async function serviceProxyTarget(
  id: string, namespace: string, getService: (name: string) => Promise<Service>, getEndpoints: (name: string) => Promise<Endpoints>,
  getPod: (name: string) => Promise<Pod>, rand?: (n: number) => number,
): Promise<ProxyTarget> {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw newBadRequest(`invalid service request ${JSON.stringify(id)}`);
  const { scheme, name } = parsed;
  let portName = parsed.port;
  if (/^[+-]?\d+$/.test(portName)) {
    const num = Number(portName);
    const svc = await getService(name);
    const sp = (svc.spec?.ports ?? []).find((p) => p.port === num);
    if (!sp) throw serviceUnavailable(`no service port ${num} found for service ${JSON.stringify(name)}`);
    portName = sp.name ?? '';
  }
  const eps = await getEndpoints(name);
  if ((eps.subsets ?? []).length === 0) throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(name)}`);
  const valid = async (a: EndpointAddress): Promise<boolean> => {
    if (!a.targetRef || (a.targetRef.namespace ?? '') !== namespace) return false;
    const pod = await getPod(a.targetRef.name ?? '').catch(() => undefined);
    return (pod?.status?.podIPs ?? []).some((p) => p.ip === a.ip);
  };
  const picked = await pickEndpoint(eps, portName, valid, rand);
  if (!picked) throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(id)}`);
  return { scheme, ip: picked.ip, port: String(picked.port) };
}

/**
 * The backend path of a proxy request: what follows ".../{name}/proxy", cleaned, with the request's
 * trailing slash kept ('' for the proxy root without a slash).
 */
export function proxySubpath(rest: readonly string[], requestPath: string): string {
  let p = rest.join('/');
  if (p !== '') p = '/' + p;
  if (requestPath.endsWith('/') && !p.endsWith('/')) p += '/';
  return p === '' ? '' : posix.normalize(p);
}

/** Escapes a path for the request line as Go's URL.EscapedPath does. */
export function escapePath(p: string): string {
  return Array.from(new TextEncoder().encode(p), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * The backend's Location as the client must see it (proxy Transport.rewriteURL): same-host absolute
 * paths move under the proxy path; other hosts and relative references pass unchanged.
 */
export function rewriteLocation(location: string, backendHost: string, requestHost: string, pathPrepend: string): string {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/.exec(location);
  if (!m) return location;
  let scheme = m[1] ?? '';
  let host = m[2] ?? '';
  let path = m[3] ?? '';
  const tail = (m[4] ?? '') + (m[5] ?? '');
  const differentHost = host !== '' && host !== backendHost && host !== requestHost;
  if (differentHost || !path.startsWith('/')) return location;
  // the proxy's own scheme and host are unknown (empty), so only a link to the request's host keeps them
  if (host !== requestHost) {
    scheme = '';
    host = '';
  }
  if (!path.startsWith(pathPrepend)) {
    const joined = posix.join(pathPrepend, path);
    path = path.endsWith('/') && !joined.endsWith('/') ? joined + '/' : joined;
  }
  return `${scheme ? `${scheme}:` : ''}${host || scheme ? `//${host}` : ''}${path}${tail}`;
}

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const CORS_HEADERS = new Set(['access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin']);

function connectionTokens(v: string | string[] | undefined): Set<string> {
  const text = Array.isArray(v) ? v.join(',') : (v ?? '');
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== ''));
}

/** Any verb on pods/{name}/proxy/{path} or services/{name}/proxy/{path}. */
export async function handleConnectProxy(ctx: HandlerContext, storeOf: (resource: 'pods' | 'endpoints') => GenericStore, up: UpgradeConnection | undefined): Promise<void> {
  const ns = ctx.ri.namespace;
  const id = ctx.ri.name;
  let target: ProxyTarget;
  if (ctx.ri.resource === 'pods') {
    const parsed = splitSchemeNamePort(id);
    if (!parsed) throw newBadRequest(`invalid pod request ${JSON.stringify(id)}`);
    const pod = await ctx.store.get(ns, parsed.name) as unknown as Pod;
    target = podProxyTarget(pod, parsed.scheme, parsed.port);
  } else {
    target = await serviceProxyTarget(id, ns,
      async (n) => await ctx.store.get(ns, n) as unknown as Service,
      async (n) => await storeOf('endpoints').get(ns, n) as unknown as Endpoints,
      async (n) => await storeOf('pods').get(ns, n) as unknown as Pod);
  }
  const scheme = target.scheme || 'http';
  const dial = dialPort(scheme, target.port);
  if ('error' in dial) throw serviceUnavailable(`error trying to reach service: ${dial.error}`);
  const hostText = target.ip.includes(':') ? `[${target.ip}]` : target.ip;
  const loc: KubeletLocation = { url: new URL(`${scheme}://${hostText}:${dial.port}`) };
  // as Go's URL.Host of the location: the port as written, none when absent
  const backendHost = target.port === '' ? hostText : `${hostText}:${target.port}`;

  // ri.parts of a namespaced core request: api v1 namespaces {ns} {resource} {name} proxy ...
  const locPath = proxySubpath(ctx.ri.parts.slice(7), ctx.ri.path);
  const rawUrl = ctx.req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
  const outPath = escapePath(locPath || '/') + (rawQuery ? `?${rawQuery}` : '');
  if (up) {
    await relayUpgrade(ctx, up, loc, outPath);
    return;
  }
  const method = (ctx.req.method ?? 'GET').toUpperCase();
  if (locPath === '' && (method === 'GET' || method === 'HEAD')) {
    ctx.res.writeHead(301, { Location: `${ctx.ri.path}/${rawQuery ? `?${rawQuery}` : ''}` });
    ctx.res.end();
    return;
  }

  const req = ctx.req as IncomingMessage;
  const named = connectionTokens(req.headers['connection']);
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k.startsWith(':') || k.startsWith('impersonate-') || HOP_BY_HOP.has(k) || named.has(k)) continue;
    if (DROPPED_HEADERS.has(k) && k !== 'host' && k !== 'content-length') continue;
    headers[k] = v;
  }
  const requestHost = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
  headers['host'] = requestHost;
  const clientIP = (req.socket?.remoteAddress ?? '').replace(/^::ffff:/, '');
  if (clientIP) headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${String(headers['x-forwarded-for'])}, ${clientIP}` : clientIP;
  // the part of the request path before the backend path (UpgradeAwareHandler.defaultProxyTransport)
  let suffix = locPath;
  if (ctx.ri.path.endsWith('/') && !suffix.endsWith('/')) suffix += '/';
  const pathPrepend = ctx.ri.path.endsWith(suffix) ? ctx.ri.path.slice(0, ctx.ri.path.length - suffix.length) : ctx.ri.path;
  const escapedOut = escapePath(locPath || '/');
  const forwarded = posix.join(pathPrepend, escapedOut).replace(/(.)\/$/, '$1');
  headers['x-forwarded-uri'] = escapedOut.endsWith('/') && forwarded !== '/' ? forwarded + '/' : forwarded;

  const abort = new AbortController();
  ctx.res.on('close', () => abort.abort());
  const out = await kubeletRequest(loc, method, outPath, headers, abort.signal, req as NodeJS.ReadableStream);
  const resNamed = connectionTokens(out.headers['connection']);
  const resHeaders: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(out.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || resNamed.has(k) || CORS_HEADERS.has(k)) continue;
    resHeaders[k] = v;
  }
  const location = out.headers['location'];
  if (typeof location === 'string' && location !== '') resHeaders['location'] = rewriteLocation(location, backendHost, requestHost, pathPrepend);
  ctx.res.writeHead(out.statusCode ?? 502, resHeaders);
  await pipeBody(out, ctx);
}
