// Decorations of one HTTP exchange for auditing (upstream's audit response writer): keeps the request
// body as the handlers read it and the response as they write it, and reports when headers go out
// and when the response ends, without the handlers knowing.
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeKubernetesProtobuf } from '../../api/protobuf/decode.ts';

/** Bytes seen so far of a request or response body. */
export interface CapturedBody {
  chunks: Buffer[];
  size: number;
  /** The whole body went through (the handler read to the end / the response ended). */
  complete: boolean;
  /** Not kept (too big for its purpose, or a stream). */
  overflow: boolean;
  contentType: string;
}

/** The response methods tapResponse decorates (ServerResponse and Http2ServerResponse both fit). */
export interface AttachableResponse {
  readonly headersSent: boolean;
  readonly statusCode: number;
  setHeader(name: string, value: string): unknown;
  getHeader(name: string): unknown;
  writeHead(code: number, ...rest: never[]): unknown;
  write(chunk: never, ...rest: never[]): boolean;
  end(...args: never[]): unknown;
  once(event: 'close', fn: () => void): unknown;
}

/** What tapResponse reports and keeps. */
export interface ResponseTapOptions {
  /** Keep the whole body (level RequestResponse); otherwise only bodies up to maxPartial bytes. */
  readonly keepAll: boolean;
  readonly maxPartial: number;
  /** Keep nothing (long-running responses: watches, logs, streams). */
  readonly skipBody: boolean;
  /** Headers are going out with this code. Called once. */
  started(code: number): void;
  /** The response ended or its connection closed. May be called more than once. */
  finished(): void;
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/**
 * Tees the request body: every chunk a readable request hands out goes through emit('data'),
 * whether the handler listens for data events (readBody) or iterates (read() emits too), so this
 * one request's emit is wrapped to keep each chunk and note the end.
 */
export function tapRequestBody(req: object): CapturedBody | undefined {
  const r = req as { headers?: IncomingHttpHeaders; emit?: (event: string | symbol, ...args: unknown[]) => boolean };
  const original = r.emit;
  if (typeof original !== 'function') return undefined;
  const body: CapturedBody = { chunks: [], size: 0, complete: false, overflow: false, contentType: headerText(r.headers ?? {}, 'content-type') };
  Object.defineProperty(req, 'emit', {
    configurable: true, writable: true,
    value: function tappedEmit(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data') {
        const chunk = args[0];
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        body.chunks.push(b);
        body.size += b.length;
      } else if (event === 'end') {
        body.complete = true;
      }
      return original.call(this, event, ...args);
    },
  });
  return body;
}

function contentTypeOf(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === 'content-type') return String(v);
  }
  return undefined;
}

/** Wraps writeHead, write and end of one response, and listens for its close. */
export function tapResponse(res: AttachableResponse, opts: ResponseTapOptions): CapturedBody {
  const body: CapturedBody = { chunks: [], size: 0, complete: false, overflow: opts.skipBody, contentType: '' };
  let headersSeen = false;
  const capture = (chunk: unknown, encoding?: unknown): void => {
    if (body.overflow || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const b = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8') : Buffer.from(chunk as Uint8Array);
    body.size += b.length;
    if (!opts.keepAll && body.size > opts.maxPartial) {
      body.overflow = true;
      body.chunks = [];
      return;
    }
    body.chunks.push(b);
  };
  const started = (code: number, headers?: unknown): void => {
    if (headersSeen) return;
    headersSeen = true;
    body.contentType = contentTypeOf(headers) ?? String(res.getHeader('content-type') ?? '');
    opts.started(code);
  };
  const { writeHead, write, end } = res;
  // Http2ServerResponse.end() writes its chunk through this.write(): count it once.
  let inEnd = false;
  res.writeHead = function auditedWriteHead(this: unknown, code: number, ...rest: unknown[]) {
    started(code, rest.find((x) => typeof x === 'object' && x !== null));
    return (writeHead as (...a: unknown[]) => unknown).call(res, code, ...rest);
  } as typeof res.writeHead;
  res.write = function auditedWrite(this: unknown, chunk: unknown, ...rest: unknown[]) {
    started(res.statusCode);
    if (!inEnd) capture(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(res, chunk, ...rest);
  } as typeof res.write;
  res.end = function auditedEnd(this: unknown, ...args: unknown[]) {
    started(res.statusCode);
    capture(args[0], args[1]);
    body.complete = true;
    inEnd = true;
    try {
      return (end as (...a: unknown[]) => unknown).apply(res, args);
    } finally {
      inEnd = false;
      opts.finished();
    }
  } as typeof res.end;
  res.once('close', () => opts.finished());
  return body;
}

/** A body as the JSON object upstream records, whatever the wire format; undefined when unreadable. */
export function decodeBody(buf: Buffer, contentType: string): unknown {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  try {
    if (ct === 'application/vnd.kubernetes.protobuf') return decodeKubernetesProtobuf(buf).object;
    const text = buf.toString('utf8');
    if (ct === '' || ct === 'application/json' || ct.endsWith('+json')) return JSON.parse(text);
    // Upstream keeps a YAML patch as raw bytes; as JSON it can only be the decoded document.
    if (ct === 'application/yaml' || ct === 'text/yaml' || ct === 'application/x-yaml' || ct.endsWith('+yaml')) return parseYaml(text) as unknown;
  } catch {
    return undefined;
  }
  return undefined;
}
