// HTTP plumbing shared by every handler: reading bounded bodies, content negotiation, and writing
// JSON the way Go's encoder does (compact, trailing newline, always a Content-Type).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { ApiError, newBadRequest, newNotAcceptable, newRequestEntityTooLarge } from './errors.ts';

/** Either protocol's request/response (HTTP/2 compat API or HTTP/1.1). */
export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

/** Largest request body accepted (upstream's 3 MiB limit). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole body, failing with 413 past the limit. */
export function readBody(req: Req, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(newRequestEntityTooLarge(limit));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Events rather than an async iterator, and unnamed callbacks (tsx names named closures one
  // defineProperty at a time): this runs on every write, and most bodies are one chunk.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        req.resume();
        reject(newRequestEntityTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err: Error) => {
      if (done) return;
      done = true;
      reject(err);
    });
    req.on('close', () => {
      if (done) return;
      done = true;
      reject(new Error('the request was closed before its body ended'));
    });
  });
}

/** Writes a JSON body (compact, "\n"-terminated). */
export function writeJSON(res: Res, code: number, body: unknown, headers: Record<string, string> = {}): void {
  writeRaw(res, code, JSON.stringify(body) + '\n', 'application/json', headers);
}

/** Writes a body that is already JSON text. */
export function writeRaw(res: Res, code: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  writeBytes(res, code, Buffer.from(text), contentType, headers);
}

/** Writes a body that is already encoded. */
export function writeBytes(res: Res, code: number, buf: Buffer, contentType: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  (res as ServerResponse).writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': String(buf.length),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(buf);
}

/** Writes an ApiError as its Status. */
export function writeError(res: Res, err: ApiError): void {
  writeJSON(res, err.status.code, err.status, err.headers);
}

/** What the client asked the answer to be. */
export interface Negotiated {
  /** "json" | "table" | "yaml" | "discovery-v2" | "discovery-v2beta1" | "partial-metadata". */
  readonly as: 'json' | 'table' | 'yaml' | 'discovery-v2' | 'discovery-v2beta1' | 'metadata';
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

/** Negotiates a response for a resource request, in the client's order of preference. */
export function negotiate(header: string | undefined, opts: { allowTable: boolean; allowDiscovery?: boolean }): Negotiated {
  for (const r of parseAccept(header)) {
    const as = r.params['as'];
    if (r.type === 'application/json' || r.type === 'application/*') {
      if (as === undefined) return { as: 'json' };
      if (as === 'Table' && opts.allowTable && r.params['g'] === 'meta.k8s.io' && (r.params['v'] === 'v1' || r.params['v'] === 'v1beta1')) return { as: 'table' };
      if (as === 'APIGroupDiscoveryList' && opts.allowDiscovery && r.params['g'] === 'apidiscovery.k8s.io') {
        if (r.params['v'] === 'v2') return { as: 'discovery-v2' };
        if (r.params['v'] === 'v2beta1') return { as: 'discovery-v2beta1' };
      }
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
        if (r.params['g'] === 'meta.k8s.io') return { as: 'metadata' };
      }
      continue;
    }
    if (r.type === '*/*') return { as: 'json' };
    if (r.type === 'application/yaml' && as === undefined) return { as: 'yaml' };
  }
  throw newNotAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

/** The media type of a request body without parameters, lower case ("" when absent). */
export function contentType(req: Req): string {
  const ct = req.headers['content-type'];
  return (typeof ct === 'string' ? ct : '').split(';')[0]!.trim().toLowerCase();
}

/** One query parameter as a non-negative integer, or undefined; 400 when malformed. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw newBadRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}
