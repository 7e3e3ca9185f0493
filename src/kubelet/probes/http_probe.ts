// HTTP GET for probes and lifecycle hooks (upstream pkg/probe/http): the request an HTTPGetAction
// describes (pod IP by default, named ports, headers, User-Agent kube-probe/1.32), sent without
// keep-alive or certificate checks, following redirects only on the same host and at most 10 times.
import http from 'node:http';
import https from 'node:https';
import type { IntOrString } from '../../api/types/apimachinery.ts';
import type { Container, HTTPGetAction } from '../../api/types/core_v1.ts';
import { KUBERNETES_VERSION } from '../../base/version.ts';
import { httpErrorText, joinHostPort } from './net_errors.ts';
import { ProbeOutcome, type ProbeRun } from './types.ts';

/** Bytes of a response body a probe reads (upstream's maxRespBodyLength, 10 KiB). */
export const MAX_RESPONSE_BODY = 10 * 1024;

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** The port an action names: a number, a container port's name, or a number written as a string. */
export function resolveContainerPort(port: IntOrString, container: Container): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** "kube-probe/1.32", from the version we implement. */
export function userAgent(purpose: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(KUBERNETES_VERSION);
  return m ? `kube-${purpose}/${m[1]}.${m[2]}` : `kube-${purpose}`;
}

/** Go's textproto.CanonicalMIMEHeaderKey ("x-custom-header" -> "X-Custom-Header"). */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** A GET to send: its URL and headers (canonical names, repeated names kept). */
export interface ProbeRequest {
  readonly url: URL;
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

/** upstream's NewRequestForHTTPGetAction; `purpose` is "probe" or "lifecycle". Throws when the port does not resolve. */
export function newRequestForHttpGet(action: HTTPGetAction, container: Container, podIP: string, purpose: string): ProbeRequest {
  const scheme = (action.scheme ?? '').toLowerCase() || 'http';
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  const headers = new Map<string, string[]>();
  for (const h of action.httpHeaders ?? []) {
    const k = canonicalHeaderKey(h.name);
    headers.set(k, [...(headers.get(k) ?? []), h.value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [userAgent(purpose)]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if ((headers.get('Accept')?.[0] ?? '') === '') headers.delete('Accept');
  return { url: formatUrl(scheme, host, port, action.path ?? ''), headers };
}

/** scheme://host:port + path (with its query), as upstream's formatURL. */
function formatUrl(scheme: string, host: string, port: number, path: string): URL {
  // only the path and query of `path` count: scheme and host always come from the action
  let rest = path.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '');
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?') && !rest.startsWith('#')) rest = '/' + rest;
  const base = `${scheme}://${joinHostPort(host, port)}`;
  try {
    return new URL(base + rest);
  } catch {
    return new URL(base + '/');
  }
}

/** What came back: the final status, the first 10 KiB of its body, and whether that body was cut. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly location?: string;
}

/** A failed exchange, with Go's wording (`Get "URL": ...`). */
export class HttpGetError extends Error {
  /** The server spoke plain HTTP to our TLS client (lifecycle hooks retry with http). */
  readonly plainHttpAnswer: boolean;
  /** The headers had come: reading the body failed. */
  readonly readingBody: boolean;
  constructor(message: string, opts: { plainHttpAnswer?: boolean; readingBody?: boolean } = {}) {
    super(message);
    this.name = 'HttpGetError';
    this.plainHttpAnswer = opts.plainHttpAnswer ?? false;
    this.readingBody = opts.readingBody ?? false;
  }
}

/** Options of httpGet. */
export interface HttpGetOptions {
  /** Whole-exchange deadline (Go's Client.Timeout); none when absent or 0. */
  readonly timeoutMs?: number;
  /** Cancels the exchange (the kubelet stopping). */
  readonly signal?: AbortSignal;
}

/** Sends the GET, following same-host redirects; throws HttpGetError when no answer came. */
export async function httpGet(req: ProbeRequest, opts: HttpGetOptions = {}): Promise<HttpAnswer> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; abort.abort(); }, opts.timeoutMs) : undefined;
  const onCancel = (): void => abort.abort();
  if (opts.signal?.aborted) abort.abort();
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    let url = req.url;
    let hostHeader = req.headers.get('Host')?.[0];
    for (let sent = 1; ; sent++) {
      const phase = { headers: false };
      let answer: HttpAnswer;
      try {
        answer = await once(url, req.headers, hostHeader, abort.signal, phase);
      } catch (err) {
        if (timedOut) {
          if (phase.headers) throw new HttpGetError('context deadline exceeded (Client.Timeout or context cancellation while reading body)', { readingBody: true });
          throw new HttpGetError(`Get ${JSON.stringify(url.href)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
        }
        const text = httpErrorText(url.host, err);
        if (phase.headers) throw new HttpGetError(text, { readingBody: true });
        throw new HttpGetError(`Get ${JSON.stringify(url.href)}: ${text}`, { plainHttpAnswer: text.startsWith('http: server gave HTTP response') });
      }
      if (!REDIRECT_CODES.has(answer.status) || !answer.location) return answer;
      let next: URL;
      try {
        next = new URL(answer.location, url);
      } catch {
        throw new HttpGetError(`Get ${JSON.stringify(url.href)}: failed to parse Location header ${JSON.stringify(answer.location)}`);
      }
      // another host: stop and hand back the redirect itself (a probe warning)
      if (next.hostname !== req.url.hostname) return answer;
      if (sent >= 10) throw new HttpGetError(`Get ${JSON.stringify(next.href)}: stopped after 10 redirects`);
      // a Host override holds only for relative redirects, as Go's client does
      if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(answer.location)) hostHeader = undefined;
      url = next;
    }
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCancel);
  }
}

function once(url: URL, headers: ReadonlyMap<string, readonly string[]>, host: string | undefined, signal: AbortSignal, phase: { headers: boolean }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of headers) {
      if (k === 'Host') continue;
      out[k] = v.length === 1 ? v[0]! : [...v];
    }
    if (host) out['Host'] = host;
    const options = { method: 'GET', headers: out, agent: false as const, signal };
    const onResponse = (res: http.IncomingMessage): void => {
      phase.headers = true;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        const location = res.headers.location;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BODY).toString('utf8'), ...(location ? { location } : {}) });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= MAX_RESPONSE_BODY) {
          // enough for a probe: stop reading, as upstream's ReadAtMost does
          res.removeAllListeners('data');
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', reject);
    };
    const r = url.protocol === 'https:'
      ? https.request(url, { ...options, rejectUnauthorized: false }, onResponse)
      : http.request(url, options, onResponse);
    r.on('error', reject);
    r.end();
  });
}

/** upstream's DoHTTPProbe: 2xx success, 3xx a warning (a redirect not followed), anything else failure. */
export async function doHttpProbe(req: ProbeRequest, timeoutMs: number, signal?: AbortSignal): Promise<ProbeRun> {
  let answer: HttpAnswer;
  try {
    answer = await httpGet(req, { timeoutMs, ...(signal ? { signal } : {}) });
  } catch (err) {
    // a body that breaks off is an error (the run is thrown away), as upstream's failed body read
    if (err instanceof HttpGetError && err.readingBody) return { outcome: ProbeOutcome.Failure, output: '', error: err };
    // transport errors and timeouts are failures, not errors: the result counts
    return { outcome: ProbeOutcome.Failure, output: err instanceof Error ? err.message : String(err) };
  }
  if (answer.status >= 200 && answer.status < 400) {
    if (answer.status >= 300) return { outcome: ProbeOutcome.Warning, output: `Probe terminated redirects, Response body: ${answer.body}` };
    return { outcome: ProbeOutcome.Success, output: answer.body };
  }
  return { outcome: ProbeOutcome.Failure, output: `HTTP probe failed with statuscode: ${answer.status}` };
}
