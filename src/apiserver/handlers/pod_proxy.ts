// pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy: the API server checks the
// request against the stored pod (container names, node, container state), finds the node's
// kubelet through a KubeletDialer, and relays to it over mutually authenticated TLS. Upgrade
// requests (WebSocket, SPDY) are relayed byte for byte, so the kubelet's answer, 101 or a refusal
// a client falls back on, reaches the client unchanged (upstream's UpgradeAwareHandler).
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Container, ContainerStatus, EphemeralContainer, Node, Pod } from '../../api/types/core_v1.ts';
import { invalid, forbidden, newPath, type FieldError } from '../../api/field_errors.ts';
import { ApiError, newBadRequest, newInternal, newInvalid, Reason } from '../errors.ts';
import { intParam } from '../http_util.ts';
import { parseBool } from '../request_info.ts';
import type { KObject } from '../registry/strategy.ts';
import type { HandlerContext } from './context.ts';

/** Client TLS the API server presents to kubelets, and the CA their serving certificates chain to. */
export interface KubeletClientTLS {
  readonly certPem: string;
  readonly keyPem: string;
  /** When absent the kubelet's certificate is not verified (upstream without --kubelet-certificate-authority). */
  readonly caPem?: string;
}

/** Where a node's kubelet listens and how to talk to it. */
export interface KubeletLocation {
  /** "https://10.0.0.5:10250" (no path). */
  readonly url: URL;
  /** Absent for plain-HTTP targets (nodes/proxy to a port other than the kubelet's). */
  readonly tls?: KubeletClientTLS;
}

/** Resolves a node name to its kubelet (the lead wires the real one; tests may fake it). */
export interface KubeletDialer {
  locate(nodeName: string): Promise<KubeletLocation>;
}

/** The address types tried in order; upstream's default starts with Hostname, k3s' (ours) with InternalIP. */
export const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'] as const;
const DEFAULT_KUBELET_PORT = 10250;

/** A dialer reading the Node object: status.addresses and status.daemonEndpoints.kubeletEndpoint.Port. */
export function nodeKubeletDialer(getNode: (name: string) => Promise<KObject>, tls: KubeletClientTLS | undefined): KubeletDialer {
  return {
    async locate(nodeName) {
      const node = await getNode(nodeName) as unknown as Node;
      const addresses = node.status?.addresses ?? [];
      let host: string | undefined;
      for (const type of PREFERRED_ADDRESS_TYPES) {
        host = addresses.find((a) => a.type === type && a.address)?.address;
        if (host) break;
      }
      if (!host) {
        throw newInternal(new Error(`no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`));
      }
      if (!tls) throw new ApiError(503, Reason.ServiceUnavailable, 'the API server has no client credentials for kubelets');
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
      return { url: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`), tls };
    },
  };
}

/** The connection of an HTTP/1.1 upgrade request, taken over from the HTTP server. */
export interface UpgradeConnection {
  readonly socket: Duplex;
  /** Bytes the server read past the request head. */
  readonly head: Buffer;
}

// ---- pod checks (pure) ----

function visitContainerNames(pod: Pod): string[] {
  const spec = pod.spec;
  return [
    ...(spec?.initContainers ?? []).map((c: Container) => c.name),
    ...(spec?.containers ?? []).map((c: Container) => c.name),
    ...(spec?.ephemeralContainers ?? []).map((c: EphemeralContainer) => c.name),
  ];
}

/** The container a request means: the named one (which must exist) or the pod's only one. */
export function validateContainer(container: string, pod: Pod): string {
  const name = pod.metadata?.name ?? '';
  if (container === '') {
    const containers = pod.spec?.containers ?? [];
    if (containers.length === 1) return containers[0]!.name;
    if (containers.length === 0) throw newBadRequest(`a container name must be specified for pod ${name}`);
    throw newBadRequest(`a container name must be specified for pod ${name}, choose one of: [${visitContainerNames(pod).join(' ')}]`);
  }
  if (!visitContainerNames(pod).includes(container)) throw newBadRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/**
 * Whether the container has a log to show, judged from the pod's status as upstream's kubelet
 * does (validateContainerLogStatus); the message of the 400 otherwise.
 */
export function containerLogStatusError(pod: Pod, container: string, previous: boolean): string | undefined {
  const podName = pod.metadata?.name ?? '';
  const q = (s: string): string => JSON.stringify(s);
  const statuses: ContainerStatus[] = [
    ...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  const cs = statuses.find((s) => s.name === container);
  if (!cs) return `container ${q(container)} in pod ${q(podName)} is not available`;
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  if (previous) {
    if (!last || !last.containerID) return `previous terminated container ${q(container)} in pod ${q(podName)} not found`;
    return undefined;
  }
  if (running) return undefined;
  if (terminated) {
    if (terminated.containerID || last?.containerID) return undefined;
    return `container ${q(container)} in pod ${q(podName)} is terminated`;
  }
  if (last) return last.containerID ? undefined : `container ${q(container)} in pod ${q(podName)} is terminated`;
  if (waiting) {
    switch (waiting.reason) {
      case 'ErrImagePull': return `container ${q(container)} in pod ${q(podName)} is waiting to start: image can't be pulled`;
      case 'ImagePullBackOff': return `container ${q(container)} in pod ${q(podName)} is waiting to start: trying and failing to pull image`;
      default: return `container ${q(container)} in pod ${q(podName)} is waiting to start: ${waiting.reason ?? ''}`;
    }
  }
  return `container ${q(container)} in pod ${q(podName)} is waiting to start - no logs yet`;
}

/** Reads and validates PodLogOptions from the query; the kubelet query to send. */
export function podLogQuery(q: URLSearchParams, podName: string): { container: string; params: URLSearchParams; follow: boolean; previous: boolean } {
  const bool = (key: string): boolean => {
    const v = parseBool(q.get(key));
    if (v === undefined) throw newBadRequest(`invalid value for ${key}: ${JSON.stringify(q.get(key))}: must be a boolean`);
    return v;
  };
  const follow = bool('follow');
  const previous = bool('previous');
  const timestamps = bool('timestamps');
  const tailLines = intParam(q, 'tailLines');
  const limitBytes = intParam(q, 'limitBytes');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTimeText = q.get('sinceTime') || undefined;
  let sinceTime: string | undefined;
  if (sinceTimeText !== undefined) {
    const ms = Date.parse(sinceTimeText);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(sinceTimeText) || Number.isNaN(ms)) {
      throw newBadRequest(`invalid value for sinceTime: ${JSON.stringify(sinceTimeText)}: parsing time as RFC 3339 failed`);
    }
    // metav1.Time has second precision; the kubelet gets RFC 3339 in UTC
    sinceTime = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
  const errs: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0) errs.push(invalid(newPath('tailLines'), tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(invalid(newPath('limitBytes'), limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    errs.push(forbidden(newPath(''), 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    errs.push(invalid(newPath('sinceSeconds'), sinceSeconds, 'must be greater than 0'));
  }
  if (errs.length > 0) throw newInvalid('', 'PodLogOptions', podName, errs);
  const params = new URLSearchParams();
  if (follow) params.set('follow', 'true');
  if (previous) params.set('previous', 'true');
  if (timestamps) params.set('timestamps', 'true');
  if (sinceSeconds !== undefined) params.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime !== undefined) params.set('sinceTime', sinceTime);
  if (tailLines !== undefined) params.set('tailLines', String(tailLines));
  if (limitBytes !== undefined) params.set('limitBytes', String(limitBytes));
  return { container: q.get('container') ?? '', params, follow, previous };
}

/** The kubelet query of an exec or attach (the kubelet's "1"-valued names). */
export function streamQuery(q: URLSearchParams, kind: 'exec' | 'attach'): URLSearchParams {
  const params = new URLSearchParams();
  for (const [apiName, kubeletName] of [['stdin', 'input'], ['stdout', 'output'], ['stderr', 'error'], ['tty', 'tty']] as const) {
    const v = parseBool(q.get(apiName));
    if (v === undefined) throw newBadRequest(`invalid value for ${apiName}: ${JSON.stringify(q.get(apiName))}: must be a boolean`);
    if (v) params.append(kubeletName, '1');
  }
  if (kind === 'exec') for (const c of q.getAll('command')) params.append('command', c);
  return params;
}

/** The kubelet query of a port-forward: `ports`, comma-joined, each 1..65535. */
export function portForwardQuery(q: URLSearchParams): URLSearchParams {
  const ports: string[] = [];
  for (const v of q.getAll('ports')) {
    for (const p of v.split(',')) {
      const n = /^\d+$/.test(p.trim()) ? Number(p.trim()) : NaN;
      if (!(n >= 1 && n <= 65535)) throw newBadRequest(`invalid port ${JSON.stringify(p)}: must be between 1 and 65535`);
      ports.push(String(n));
    }
  }
  const params = new URLSearchParams();
  if (ports.length > 0) params.set('ports', ports.join(','));
  return params;
}

// ---- relaying ----

function tlsOptions(loc: KubeletLocation): ConnectionOptions {
  const t = loc.tls;
  // https to a pod or service endpoint: upstream's proxy transport does not verify the backend
  if (!t) return { rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] };
  return { cert: t.certPem, key: t.keyPem, ca: t.caPem, rejectUnauthorized: t.caPem !== undefined, ALPNProtocols: ['http/1.1'] };
}

/** Request headers not passed to the kubelet: our own credentials and the hop's framing. */
export const DROPPED_HEADERS: ReadonlySet<string> = new Set(['host', 'authorization', 'proxy-authorization', 'content-length', 'transfer-encoding', 'keep-alive', 'te', 'trailer', 'http2-settings']);

function forwardedHeaderLines(req: IncomingMessage): string[] {
  const lines: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (DROPPED_HEADERS.has(name) || name.startsWith('impersonate-') || name.startsWith(':')) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return lines;
}

function dialKubelet(loc: KubeletLocation): Promise<Socket> {
  const port = Number(loc.url.port || (loc.url.protocol === 'https:' ? 443 : 80));
  const host = loc.url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const s: Socket = loc.url.protocol === 'https:' ? tlsConnect({ host, port, ...tlsOptions(loc) }) : netConnect({ host, port });
    s.once(loc.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** A failed connection as Go's dialer words it ("dial tcp 10.42.0.5:80: connect: connection refused"). */
export function dialErrorText(err: Error, host: string, port: number): string {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ECONNREFUSED': return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT': return `dial tcp ${addr}: i/o timeout`;
    default: return err.message;
  }
}

/** Relays an upgrade request to `target` on the kubelet and splices the connections. */
export async function relayUpgrade(ctx: HandlerContext, up: UpgradeConnection, loc: KubeletLocation, pathAndQuery: string): Promise<void> {
  let backend: Socket;
  try {
    backend = await dialKubelet(loc);
  } catch (err) {
    const port = Number(loc.url.port || (loc.url.protocol === 'https:' ? 443 : 80));
    throw new ApiError(503, Reason.ServiceUnavailable, `error trying to reach service: ${dialErrorText(err as Error, loc.url.hostname.replace(/^\[|\]$/g, ''), port)}`);
  }
  const req = ctx.req as IncomingMessage;
  const head = [`${req.method ?? 'GET'} ${pathAndQuery} HTTP/1.1`, `Host: ${loc.url.host}`, ...forwardedHeaderLines(req)].join('\r\n') + '\r\n\r\n';
  backend.setNoDelay(true);
  backend.write(head);
  if (up.head.length > 0) backend.write(up.head);
  // From here the connection is the kubelet's: the server's response object must not write to it.
  (ctx.res as { detachSocket?: (s: Socket) => void }).detachSocket?.(up.socket as Socket);
  ctx.res.removeAllListeners('finish');
  const client = up.socket;
  const destroyBoth = (): void => {
    client.destroy();
    backend.destroy();
  };
  client.on('error', destroyBoth);
  backend.on('error', destroyBoth);
  client.on('close', () => backend.destroy());
  backend.on('close', () => client.destroy());
  client.pipe(backend);
  backend.pipe(client);
}

/** The upstream status of a failed kubelet reply (GenericHttpResponseChecker). */
function kubeletFailure(code: number, body: string, resource: string, name: string): ApiError {
  if (code === 500) return new ApiError(500, Reason.InternalError, `Internal error occurred: ${body}`, { causes: [{ message: body }] });
  if (code === 400) return newBadRequest(body);
  const reasons: Record<number, [string, string]> = {
    404: [Reason.NotFound, 'the server could not find the requested resource'],
    401: [Reason.Unauthorized, 'the server has asked for the client to provide credentials'],
    403: [Reason.Forbidden, body],
    405: [Reason.MethodNotAllowed, 'the server does not allow this method on the requested resource'],
    422: [Reason.Invalid, 'the server rejected our request due to an error in our request'],
    503: [Reason.ServiceUnavailable, 'the server is currently unable to handle the request'],
  };
  let [reason, message] = reasons[code] ?? ['', `the server responded with the status code ${code} but did not return more information`];
  if (code > 500 && !reasons[code]) {
    reason = Reason.InternalError;
    message = `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`;
  }
  return new ApiError(code, reason || undefined, `${message} ( ${resource} ${name})`, { name, kind: resource });
}

/** Sends a request to the kubelet (with `body` piped in, or none); resolves with its response. */
export function kubeletRequest(loc: KubeletLocation, method: string, pathAndQuery: string, headers: OutgoingHttpHeaders, signal: AbortSignal, body?: NodeJS.ReadableStream): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const common = { host: loc.url.hostname.replace(/^\[|\]$/g, ''), port: Number(loc.url.port || (loc.url.protocol === 'https:' ? 443 : 80)), method, path: pathAndQuery, headers, agent: false as const, signal };
    const out = loc.url.protocol === 'https:' ? httpsRequest({ ...common, ...tlsOptions(loc) }) : httpRequest(common);
    out.on('response', resolve);
    out.on('error', (err) => reject(new ApiError(503, Reason.ServiceUnavailable, `error trying to reach service: ${dialErrorText(err, common.host, common.port)}`)));
    if (body) body.pipe(out);
    else out.end();
  });
}

async function readLimited(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(c.subarray(0, limit - size));
    size += c.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function getPod(ctx: HandlerContext): Promise<Pod> {
  return await ctx.store.get(ctx.ri.namespace, ctx.ri.name) as unknown as Pod;
}

function nodeOf(pod: Pod, name: string): string {
  const node = pod.spec?.nodeName ?? '';
  if (node === '') throw newBadRequest(`pod ${name} does not have a host assigned`);
  return node;
}

/** GET pods/{name}/log */
async function handlePodLog(ctx: HandlerContext, dialer: KubeletDialer): Promise<void> {
  const name = ctx.ri.name;
  const opts = podLogQuery(ctx.query, name);
  const pod = await getPod(ctx);
  const container = validateContainer(opts.container, pod);
  // the HTTP/2 response has the same methods; one type keeps write() callable
  const res = ctx.res as ServerResponse;
  if ((pod.spec?.nodeName ?? '') === '') {
    // not scheduled: an empty log, as upstream
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end();
    return;
  }
  const why = containerLogStatusError(pod, container, opts.previous);
  if (why !== undefined) throw newBadRequest(why);
  const loc = await dialer.locate(pod.spec!.nodeName!);
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const q = opts.params.toString();
  const path = `/containerLogs/${encodeURIComponent(ctx.ri.namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${q ? `?${q}` : ''}`;
  const kres = await kubeletRequest(loc, 'GET', path, {}, abort.signal);
  const code = kres.statusCode ?? 500;
  if (code < 200 || code > 206) throw kubeletFailure(code, await readLimited(kres, 50_000), 'pods/log', name);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  // Node writes each chunk as it comes, which is the per-line flush `follow` needs.
  kres.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      kres.pause();
      res.once('drain', () => kres.resume());
    }
  });
  await new Promise<void>((resolve) => {
    kres.on('end', resolve);
    kres.on('error', resolve);
    kres.on('close', resolve);
  });
  res.end();
}

/** pods/exec, pods/attach, pods/portforward: relayed upgrades. */
async function handlePodStream(ctx: HandlerContext, dialer: KubeletDialer, up: UpgradeConnection | undefined): Promise<void> {
  const name = ctx.ri.name;
  const sub = ctx.ri.subresource;
  const pod = await getPod(ctx);
  let path: string;
  let params: URLSearchParams;
  const ns = encodeURIComponent(ctx.ri.namespace);
  if (sub === 'portforward') {
    params = portForwardQuery(ctx.query);
    nodeOf(pod, name);
    path = `/portForward/${ns}/${encodeURIComponent(name)}`;
  } else {
    const kind = sub as 'exec' | 'attach';
    params = streamQuery(ctx.query, kind);
    const container = validateContainer(ctx.query.get('container') ?? '', pod);
    nodeOf(pod, name);
    path = `/${kind}/${ns}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
  }
  if (!up) throw newBadRequest('Upgrade request required');
  const loc = await dialer.locate(pod.spec!.nodeName!);
  const q = params.toString();
  await relayUpgrade(ctx, up, loc, `${path}${q ? `?${q}` : ''}`);
}

/** Splits a proxy target "[scheme:]name[:port]" (utilnet.SplitSchemeNamePort); undefined when invalid. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return undefined;
  if (name === '' || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme, name, port };
}

/** Any verb on nodes/{name}/proxy/{path}: to the kubelet (or, with a port, to that port of the node). */
async function handleNodeProxy(ctx: HandlerContext, dialer: KubeletDialer, up: UpgradeConnection | undefined): Promise<void> {
  const id = splitSchemeNamePort(ctx.ri.name);
  if (!id) throw newBadRequest(`invalid node request ${JSON.stringify(ctx.ri.name)}`);
  let loc = await dialer.locate(id.name);
  if (id.port !== '' && id.port !== loc.url.port) {
    const scheme = id.scheme || 'http';
    loc = { url: new URL(`${scheme}://${loc.url.hostname}:${id.port}`), tls: scheme === 'https' ? loc.tls : undefined };
  }
  // the path after ".../nodes/{name}/proxy", as sent (still escaped)
  const rawPath = new URL(ctx.req.url ?? '/', 'https://x').pathname;
  const marker = `/${ctx.ri.parts[ctx.ri.parts.indexOf('proxy', ctx.ri.parts.indexOf('nodes') + 2) - 1]}/proxy`;
  const at = rawPath.indexOf(marker);
  let rest = at >= 0 ? rawPath.slice(at + marker.length) : '';
  if (!rest.startsWith('/')) rest = '/' + rest;
  const query = new URL(ctx.req.url ?? '/', 'https://x').search;
  const target = rest + query;
  if (up) {
    await relayUpgrade(ctx, up, loc, target);
    return;
  }
  const req = ctx.req;
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || DROPPED_HEADERS.has(k) || k.startsWith(':') || k.startsWith('impersonate-') || k === 'connection') continue;
    headers[k] = v;
  }
  const abort = new AbortController();
  ctx.res.on('close', () => abort.abort());
  const out = await kubeletRequest(loc, req.method ?? 'GET', target, headers, abort.signal, req as NodeJS.ReadableStream);
  const resHeaders: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(out.headers)) {
    if (v === undefined || ['connection', 'keep-alive', 'transfer-encoding', 'upgrade'].includes(k)) continue;
    resHeaders[k] = v;
  }
  ctx.res.writeHead(out.statusCode ?? 502, resHeaders);
  await pipeBody(out, ctx);
}

/** Streams a proxied response's body to the client until it ends, fails or closes. */
export function pipeBody(out: IncomingMessage, ctx: HandlerContext): Promise<void> {
  return new Promise<void>((resolve) => {
    out.on('end', resolve);
    out.on('error', resolve);
    out.on('close', resolve);
    (out as NodeJS.ReadableStream).pipe(ctx.res as unknown as NodeJS.WritableStream);
  });
}

/** The subresources this file serves, per resource. */
export const POD_PROXY_SUBRESOURCES: ReadonlySet<string> = new Set(['log', 'exec', 'attach', 'portforward']);

/** True when pod_proxy serves this resource/subresource. */
export function isProxySubresource(resource: string, subresource: string): boolean {
  return (resource === 'pods' && POD_PROXY_SUBRESOURCES.has(subresource)) || (resource === 'nodes' && subresource === 'proxy');
}

/** Serves pods/log|exec|attach|portforward and nodes/proxy; `up` is set for HTTP/1.1 upgrade requests. */
export async function handleProxySubresource(ctx: HandlerContext, dialer: KubeletDialer, up: UpgradeConnection | undefined): Promise<void> {
  if (ctx.info.resource === 'nodes') return handleNodeProxy(ctx, dialer, up);
  if (ctx.ri.subresource === 'log') return handlePodLog(ctx, dialer);
  return handlePodStream(ctx, dialer, up);
}
