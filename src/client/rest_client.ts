// The REST client every component uses to talk to the API server: JSON over HTTPS (HTTP/2 by default)
// with the kubeconfig's client certificate or token, typed ApiStatusErrors, bounded Retry-After
// retries (client-go's rest.Request), and per-resource clients (resource_client.ts) on top.
import type { Disposable } from '../base/disposable.ts';
import { readKubeconfig, type Kubeconfig } from '../base/kubeconfig.ts';
import { KUBERNETES_VERSION, TKUBE_VERSION } from '../base/version.ts';
import { ApiStatusError, statusFromResponse } from './api_errors.ts';
import { realClock, sleep, type Clock } from './clock.ts';
import { Http1Transport } from './http1_transport.ts';
import { Http2Transport } from './http2_transport.ts';
import type { ResourceDescriptor } from './resource_descriptor.ts';
import { ResourceClient, type KubeObject } from './resource_client.ts';
import { readAll, type Transport, type TransportOptions, type TransportResponse } from './transport.ts';
import { WatchStream } from './watch_stream.ts';

/** How to reach and authenticate to the API server. */
export interface RestClientOptions extends TransportOptions {
  /** Bearer token, sent as `Authorization: Bearer …`. */
  readonly token?: string;
  /** A bearer token read at each request (rotated tokens, e.g. service-account tokens); overrides `token`. */
  readonly tokenSource?: () => string | undefined;
  /** User-Agent header, e.g. "tkube-scheduler/v1.32.4". */
  readonly userAgent?: string;
  /** "http2" (default: one multiplexed session) or "http1" (keep-alive agent). */
  readonly protocol?: 'http2' | 'http1';
  /** Retries after a 429 or 5xx reply carrying Retry-After (client-go: 10). */
  readonly maxRetries?: number;
  /** Longest single Retry-After wait honoured, in ms (default 10 s). */
  readonly maxRetryWaitMs?: number;
  /** Deadline of each non-streaming request in ms; 0 (default, as client-go) means none. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** Query parameters; undefined values are left out, arrays repeat the key. */
export type Query = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** One raw request. */
export interface RequestOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute path without query, e.g. /api/v1/namespaces/default/pods. */
  readonly path: string;
  readonly query?: Query;
  /** A Buffer or string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  /** Default application/json when there is a body. */
  readonly contentType?: string;
  readonly accept?: string;
  readonly signal?: AbortSignal;
}

/** A raw reply. */
export interface RawReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

const DEFAULT_MAX_RETRIES = 10;
const DEFAULT_MAX_RETRY_WAIT_MS = 10_000;

/** A client of one API server; dispose it to close its connections. */
export class RestClient implements Disposable {
  readonly server: string;
  readonly protocol: 'http2' | 'http1';
  /** Default namespace of the kubeconfig context ("default" when unset). */
  readonly defaultNamespace: string;
  #transport: Transport;
  #headers: Record<string, string>;
  #maxRetries: number;
  #maxRetryWaitMs: number;
  #timeoutMs: number;
  #clock: Clock;
  #tokenSource: (() => string | undefined) | undefined;

  constructor(opts: RestClientOptions & { readonly namespace?: string }) {
    if (opts.maxRetries !== undefined && !(Number.isInteger(opts.maxRetries) && opts.maxRetries >= 0)) {
      throw new Error(`RestClient: maxRetries must be a non-negative integer, got ${opts.maxRetries}`);
    }
    if (opts.timeoutMs !== undefined && !(opts.timeoutMs >= 0)) throw new Error(`RestClient: timeoutMs must be >= 0, got ${opts.timeoutMs}`);
    if ((opts.certPem === undefined) !== (opts.keyPem === undefined)) throw new Error('RestClient: certPem and keyPem must be given together');
    this.protocol = opts.protocol ?? 'http2';
    this.#transport = this.protocol === 'http2' ? new Http2Transport(opts) : new Http1Transport(opts);
    this.server = new URL(opts.server).origin;
    this.defaultNamespace = opts.namespace ?? 'default';
    this.#headers = {
      'user-agent': opts.userAgent ?? `tkube/${TKUBE_VERSION} (${process.platform}/${process.arch}) kubernetes/${KUBERNETES_VERSION}`,
    };
    if (opts.token !== undefined) this.#headers['authorization'] = `Bearer ${opts.token}`;
    this.#maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#maxRetryWaitMs = opts.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
    this.#timeoutMs = opts.timeoutMs ?? 0;
    this.#clock = opts.clock ?? realClock;
    this.#tokenSource = opts.tokenSource;
  }

  /** A client for the current context (or `context`) of a kubeconfig file. */
  static async fromKubeconfig(path: string, opts: Omit<RestClientOptions, 'server'> & { readonly context?: string } = {}): Promise<RestClient> {
    return RestClient.fromConfig(await readKubeconfig(path, opts.context), opts);
  }

  /** A client for a resolved kubeconfig context. */
  static fromConfig(kc: Kubeconfig, opts: Omit<RestClientOptions, 'server'> = {}): RestClient {
    return new RestClient({
      ...opts,
      server: kc.server,
      ...(kc.caPem !== undefined ? { caPem: kc.caPem } : {}),
      ...(kc.clientCertPem !== undefined ? { certPem: kc.clientCertPem } : {}),
      ...(kc.clientKeyPem !== undefined ? { keyPem: kc.clientKeyPem } : {}),
      ...(kc.token !== undefined ? { token: kc.token } : {}),
      ...(kc.namespace !== undefined ? { namespace: kc.namespace } : {}),
    });
  }

  /** A typed client of one resource, optionally bound to a namespace. */
  resource<T extends KubeObject = KubeObject>(desc: ResourceDescriptor, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, desc, namespace);
  }

  /** Sends a request and decodes the JSON reply; non-2xx replies throw ApiStatusError. */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    const reply = await this.requestRaw(opts);
    if (reply.body.length === 0) return undefined as T;
    return JSON.parse(reply.body.toString('utf8')) as T;
  }

  /** Sends a request and returns the raw 2xx reply; non-2xx replies throw ApiStatusError. */
  async requestRaw(opts: RequestOptions): Promise<RawReply> {
    const deadline = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    const signal = deadline && opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline ?? opts.signal;
    const resp = await this.#sendWithRetries(opts, signal);
    const body = await readAll(resp.body);
    if (resp.status >= 200 && resp.status < 300) return { status: resp.status, headers: resp.headers, body };
    throw new ApiStatusError(statusFromResponse(resp.status, body.toString('utf8'), verbOf(opts.method, opts.path), retryAfterSeconds(resp.headers)), resp.headers);
  }

  /** Opens a streaming GET (watch, logs): resolves once a 2xx reply's headers arrive. */
  async stream(opts: Omit<RequestOptions, 'method' | 'body' | 'contentType'>): Promise<TransportResponse> {
    const resp = await this.#sendWithRetries({ ...opts, method: 'GET' }, opts.signal);
    if (resp.status >= 200 && resp.status < 300) return resp;
    const body = await readAll(resp.body);
    throw new ApiStatusError(statusFromResponse(resp.status, body.toString('utf8'), 'get', retryAfterSeconds(resp.headers)), resp.headers);
  }

  /** Opens a watch on a collection path; `query.watch` is set for you. */
  async watch<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<WatchStream<T>> {
    const resp = await this.stream({ path, query: { ...query, watch: 'true' }, ...(signal ? { signal } : {}) });
    return new WatchStream<T>(resp);
  }

  async #sendWithRetries(opts: RequestOptions, signal: AbortSignal | undefined): Promise<TransportResponse> {
    const { body, contentType } = encodeBody(opts.body, opts.contentType);
    const headers: Record<string, string> = { ...this.#headers, accept: opts.accept ?? 'application/json, */*' };
    const token = this.#tokenSource?.();
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (contentType !== undefined) headers['content-type'] = contentType;
    const path = opts.path + queryString(opts.query);
    for (let attempt = 0; ; attempt++) {
      const resp = await this.#transport.send({ method: opts.method, path, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });
      const wait = retryAfterSeconds(resp.headers);
      const retriable = wait !== undefined && (resp.status === 429 || resp.status >= 500);
      if (!retriable || attempt >= this.#maxRetries) return resp;
      resp.cancel();
      await sleep(this.#clock, Math.min(wait * 1000, this.#maxRetryWaitMs), signal);
    }
  }

  /** Closes every connection; requests and watches in flight fail. */
  async dispose(): Promise<void> {
    await this.#transport.dispose();
  }
}

function encodeBody(body: unknown, contentType: string | undefined): { body?: Buffer; contentType?: string } {
  if (body === undefined) return {};
  if (Buffer.isBuffer(body)) return { body, contentType: contentType ?? 'application/json' };
  if (typeof body === 'string') return { body: Buffer.from(body, 'utf8'), contentType: contentType ?? 'application/json' };
  return { body: Buffer.from(JSON.stringify(body), 'utf8'), contentType: contentType ?? 'application/json' };
}

/** "?a=1&b=x" from a Query (empty string when nothing is set). */
export function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/** Seconds of a Retry-After header (integer seconds, as the API server sends), or undefined. */
function retryAfterSeconds(headers: Readonly<Record<string, string>>): number | undefined {
  const v = headers['retry-after'];
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  // client-go treats an unparsable or non-positive value as "retry after 1 second".
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function verbOf(method: string, path: string): string {
  const m = method.toLowerCase();
  return `${m} ${path}`;
}
