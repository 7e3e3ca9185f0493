// The wire under the REST client: one HTTPS request in, a status, headers and a streamed body out.
// Two implementations: HTTP/2 over one multiplexed session (http2_transport.ts, the default: it
// measured faster for many small requests) and HTTP/1.1 over a keep-alive agent (http1_transport.ts).

/** TLS and endpoint settings shared by both transports. */
export interface TransportOptions {
  /** https://host:port (any path is ignored). */
  readonly server: string;
  /** CA bundle that signed the server certificate (PEM); system roots when absent. */
  readonly caPem?: string;
  /** Client certificate and key (PEM). */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** Skips server certificate verification (kubeconfig insecure-skip-tls-verify). */
  readonly insecureSkipTLSVerify?: boolean;
  /** HTTP/2 only: ping interval of a session carrying streams (default 30 s) and how long a ping may take (15 s). */
  readonly healthCheckIntervalMs?: number;
  readonly pingTimeoutMs?: number;
}

/** One request. `path` already carries the query string. */
export interface TransportRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly signal?: AbortSignal;
}

/** A response whose body has not been read yet. */
export interface TransportResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body chunks; iteration throws if the stream fails or is cancelled. */
  readonly body: AsyncIterable<Buffer>;
  /** Stops reading and releases the stream (idempotent). */
  cancel(): void;
}

/** Sends requests; disposing closes every connection and fails requests in flight. */
export interface Transport {
  readonly protocol: 'http2' | 'http1';
  send(req: TransportRequest): Promise<TransportResponse>;
  dispose(): Promise<void>;
}

/** Reads a whole body into one Buffer (event-driven for Node streams: cheaper than async iteration). */
export function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const stream = body as Partial<NodeJS.ReadableStream> & AsyncIterable<Buffer>;
  if (typeof stream.on !== 'function') return readAllIterable(body);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on!('data', (c: Buffer) => chunks.push(c));
    stream.on!('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    stream.on!('error', reject);
    stream.on!('close', () => reject(Object.assign(new Error('stream closed before the body ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
  });
}

async function readAllIterable(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Normalizes Node's header object (arrays, undefined, pseudo-headers) to plain strings. */
export function flattenHeaders(h: Readonly<Record<string, string | string[] | number | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k.startsWith(':')) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** Parses and checks the server URL. */
export function parseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`client: server must be a URL, got ${JSON.stringify(server)}`);
  }
  if (url.protocol !== 'https:') throw new Error(`client: server must be an https URL, got ${JSON.stringify(server)}`);
  return url;
}
