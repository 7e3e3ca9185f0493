// Calls one webhook over HTTPS: resolves clientConfig (a URL, or a Service through its Endpoints
// as the aggregator's endpoint resolver does), trusts caBundle, bounds the call by timeoutSeconds,
// and words failures as Go's HTTP client would ("Post \"…\": context deadline exceeded").
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { getArr, getFresh, getObj, getStr, type Obj } from '../plugin_util.ts';
import type { AdmissionLister } from '../types.ts';

/** Where one call goes. */
export interface Target {
  /** The URL as upstream prints it in errors (with ?timeout=). */
  readonly displayURL: string;
  readonly host: string;
  readonly port: number;
  /** Path and query sent. */
  readonly path: string;
  /** TLS server name to verify (the service's DNS name), when not the host. */
  readonly servername?: string;
  readonly caPem?: string;
}

/** Largest answer accepted (upstream's webhook response limit is in this range). */
const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

function caFrom(cc: Obj): string | undefined {
  const b = getStr(cc, 'caBundle');
  return b === '' ? undefined : Buffer.from(b, 'base64').toString('utf8');
}

/** The request URL's host and the name TLS verifies. */
function hostPort(hostname: string, port: number): string {
  return isIP(hostname) === 6 ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Where clientConfig points; service references resolve to a ready endpoint. Throws with Go's words. */
export async function resolveTarget(cc: Obj, timeoutSeconds: number, lister: AdmissionLister): Promise<Target> {
  const timeoutQuery = `timeout=${timeoutSeconds}s`;
  const url = getStr(cc, 'url');
  if (url !== '') {
    const u = new URL(url);
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port === '' ? 443 : Number(u.port);
    const path = (u.pathname === '' ? '/' : u.pathname) + `?${timeoutQuery}`;
    return { displayURL: `${url}?${timeoutQuery}`, host: hostname, port, path, caPem: caFrom(cc) };
  }
  const svc = getObj(cc, 'service') ?? {};
  const name = getStr(svc, 'name'), namespace = getStr(svc, 'namespace');
  const port = typeof svc['port'] === 'number' ? svc['port'] : 443;
  const svcPath = getStr(svc, 'path');
  const serverName = `${name}.${namespace}.svc`;
  const displayURL = `https://${hostPort(serverName, port)}${svcPath}?${timeoutQuery}`;
  const endpoint = await resolveServiceEndpoint(lister, namespace, name, port).catch((e: unknown) => {
    throw new Error(`Post "${displayURL}": ${e instanceof Error ? e.message : String(e)}`);
  });
  return {
    displayURL, host: endpoint.ip, port: endpoint.port, path: `${svcPath === '' ? '/' : svcPath}?${timeoutQuery}`,
    servername: serverName, caPem: caFrom(cc),
  };
}

/** ResolveEndpoint: the Service's port by number, then a ready address of the Endpoints port of that name. */
async function resolveServiceEndpoint(lister: AdmissionLister, namespace: string, name: string, port: number): Promise<{ ip: string; port: number }> {
  const svc = await getFresh(lister, '', 'services', namespace, name);
  if (!svc) throw new Error(`service "${name}" not found`);
  const spec = getObj(svc, 'spec') ?? {};
  const svcPort = getArr(spec, 'ports').find((p) => p['port'] === port);
  if (!svcPort) throw new Error(`no service port ${port} found for service "${name}"`);
  const type = getStr(spec, 'type') || 'ClusterIP';
  if (!['ClusterIP', 'LoadBalancer', 'NodePort'].includes(type)) throw new Error(`unsupported service type "${type}"`);
  const eps = await getFresh(lister, '', 'endpoints', namespace, name);
  if (!eps) throw new Error(`endpoints "${name}" not found`);
  const portName = getStr(svcPort, 'name');
  for (const subset of getArr(eps, 'subsets')) {
    const addresses = getArr(subset, 'addresses');
    if (addresses.length === 0) continue;
    for (const p of getArr(subset, 'ports')) {
      if (getStr(p, 'name') !== portName) continue;
      const addr = addresses[Math.floor(Math.random() * addresses.length)]!;
      return { ip: getStr(addr, 'ip'), port: typeof p['port'] === 'number' ? p['port'] : port };
    }
  }
  throw new Error(`no endpoints available for service "${name}"`);
}

/** Go's words for a failed connection or TLS handshake. */
function dialError(err: NodeJS.ErrnoException & { cert?: { subjectaltname?: string } }, t: Target): string {
  const addr = hostPort(t.host, t.port);
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${addr}: connect: connection refused`;
    case 'ECONNRESET': return `read tcp ${addr}: read: connection reset by peer`;
    case 'EHOSTUNREACH': return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ENOTFOUND': return `dial tcp: lookup ${t.host}: no such host`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const sans = (err.cert?.subjectaltname ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')).filter((s) => s !== '');
      const want = t.servername ?? t.host;
      return `tls: failed to verify certificate: x509: certificate is valid for ${sans.join(', ')}, not ${want}`;
    }
    default: return err.message;
  }
}

/** client-go's text for a non-2xx answer that is not a Status (NewGenericServerResponse). */
function statusText(code: number, body: string): string {
  try {
    const s = JSON.parse(body) as Record<string, unknown>;
    if (s['kind'] === 'Status' && typeof s['message'] === 'string') return s['message'];
  } catch {
    // not a Status: fall through to the generic words
  }
  switch (code) {
    case 400: return 'the server rejected our request for an unknown reason';
    case 401: return 'the server has asked for the client to provide credentials';
    case 403: return 'the server does not allow access to the requested resource';
    case 404: return 'the server could not find the requested resource';
    case 405: return 'the server does not allow this method on the requested resource';
    case 429: return 'the server has received too many requests and has asked us to try again later';
    default: return code >= 500 ? `an error on the server (${JSON.stringify(body.trim())}) has prevented the request from succeeding` : `unknown (post)`;
  }
}

/** POSTs the review and returns the decoded answer; throws Error(reason) on any failure. */
export function postReview(t: Target, body: Buffer, timeoutSeconds: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    };
    const fail = (reason: string): void => finish(new Error(`Post "${t.displayURL}": ${reason}`));
    const req = httpsRequest({
      host: t.host, port: t.port, path: t.path, method: 'POST', agent: false,
      servername: t.servername ?? (isIP(t.host) === 0 ? t.host : undefined),
      ca: t.caPem, rejectUnauthorized: true,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', 'Content-Length': String(body.length) },
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy();
          fail('response body too large');
          return;
        }
        chunks.push(c);
      });
      res.on('error', (e) => fail(e.message));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) {
          finish(new Error(statusText(code, text)));
          return;
        }
        try {
          finish(undefined, JSON.parse(text));
        } catch (e) {
          finish(new Error(`couldn't get version/kind; json parse error: ${e instanceof Error ? e.message : String(e)}`));
        }
      });
    });
    const timer = setTimeout(() => {
      fail('context deadline exceeded');
      req.destroy();
    }, timeoutSeconds * 1000);
    req.on('error', (e: NodeJS.ErrnoException) => fail(dialError(e, t)));
    req.end(body);
  });
}
