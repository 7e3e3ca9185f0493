// HTTP/2 transport: one TLS session per client multiplexing every request and watch, reopened
// after GOAWAY or close, with a PING health check (client-go's ReadIdleTimeout/PingTimeout) so a
// silently dead peer does not leave watches hanging forever.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { logger } from '../base/log.ts';
import { flattenHeaders, parseServer, type Transport, type TransportOptions, type TransportRequest, type TransportResponse } from './transport.ts';

const log = logger('client');

/** Ping interval of a session carrying streams (client-go's ReadIdleTimeout: 30 s). */
const READ_IDLE_MS = 30_000;
/**
 * Flow-control windows as Go's HTTP/2 client (client-go) opens them: 4 MiB per stream, 1 GiB per
 * connection. With HTTP/2's 64 KiB default a busy watch stream stalls until the reader acknowledges.
 */
const STREAM_WINDOW_BYTES = 4 << 20;
const CONNECTION_WINDOW_BYTES = 1 << 30;
/** How long a ping may take before the session is declared dead (client-go: 15 s). */
const PING_TIMEOUT_MS = 15_000;

/** Errors after which the request provably never reached the server, so sending it again is safe. */
const NOT_PROCESSED = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION']);
/** Errors where the server may or may not have seen the request: retried for GET only. */
const MAYBE_PROCESSED = new Set(['ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_SESSION_ERROR', 'ECONNRESET']);

/** HTTP/2 transport over one session. */
export class Http2Transport implements Transport {
  readonly protocol = 'http2' as const;
  #origin: string;
  #opts: TransportOptions;
  #session: ClientHttp2Session | undefined;
  #sessions = new Set<ClientHttp2Session>();
  #streamCounts = new WeakMap<ClientHttp2Session, number>();
  #disposed = false;

  constructor(opts: TransportOptions) {
    this.#origin = parseServer(opts.server).origin;
    this.#opts = opts;
  }

  async send(req: TransportRequest): Promise<TransportResponse> {
    try {
      return await this.#sendOnce(req);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const refused = code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(String((err as Error).message));
      const safe = refused || NOT_PROCESSED.has(code) || (req.method === 'GET' && MAYBE_PROCESSED.has(code));
      if (this.#disposed || req.signal?.aborted || !safe) throw err;
      return this.#sendOnce(req);
    }
  }

  #sendOnce(req: TransportRequest): Promise<TransportResponse> {
    if (this.#disposed) return Promise.reject(Object.assign(new Error('client is disposed'), { code: 'ECLIENTCLOSED' }));
    const session = this.#connect();
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(
        { ':method': req.method, ':path': req.path, ...req.headers },
        { endStream: req.body === undefined, ...(req.signal ? { signal: req.signal } : {}) },
      );
    } catch (err) {
      if (this.#session === session) this.#session = undefined;
      return Promise.reject(err);
    }
    if (req.body !== undefined) stream.end(req.body);
    this.#streamCounts.set(session, this.#openStreams(session) + 1);
    stream.once('close', () => this.#streamCounts.set(session, Math.max(0, this.#openStreams(session) - 1)));
    return new Promise<TransportResponse>((resolve, reject) => {
      const onError = (err: Error): void => { cleanup(); reject(err); };
      const onClose = (): void => {
        cleanup();
        const rst = stream.rstCode;
        reject(Object.assign(new Error(`stream closed before a response (code ${rst ?? 0})`),
          { code: rst === constants.NGHTTP2_REFUSED_STREAM ? 'ERR_HTTP2_STREAM_ERROR' : 'ERR_HTTP2_STREAM_CANCEL' }));
      };
      const onResponse = (headers: IncomingHttpHeaders): void => {
        cleanup();
        // Later stream errors surface through the body iterator; keep one listener so they never crash the process.
        stream.on('error', () => { /* reported by iteration */ });
        resolve({
          status: Number(headers[':status'] ?? 0),
          headers: flattenHeaders(headers),
          body: stream,
          cancel: () => {
            if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
          },
        });
      };
      const cleanup = (): void => {
        stream.off('error', onError);
        stream.off('close', onClose);
        stream.off('response', onResponse);
      };
      stream.on('error', onError);
      stream.on('close', onClose);
      stream.on('response', onResponse);
    });
  }

  #connect(): ClientHttp2Session {
    const cur = this.#session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const o = this.#opts;
    const session = connect(this.#origin, {
      ...(o.caPem !== undefined ? { ca: o.caPem } : {}),
      ...(o.certPem !== undefined ? { cert: o.certPem } : {}),
      ...(o.keyPem !== undefined ? { key: o.keyPem } : {}),
      rejectUnauthorized: o.insecureSkipTLSVerify !== true,
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES },
      // Large lists and many concurrent writes share one session; Node's 10 MB default refuses streams.
      maxSessionMemory: 256,
    });
    this.#session = session;
    this.#sessions.add(session);
    session.once('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    });
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    session.on('error', (err) => {
      forget();
      log.debug('http2 session error', { server: this.#origin, err });
    });
    session.on('goaway', forget);
    session.on('close', () => {
      forget();
      this.#sessions.delete(session);
    });
    this.#healthCheck(session);
    return session;
  }

  /**
   * Pings the session every READ_IDLE_MS while it carries streams (watches); no answer within
   * PING_TIMEOUT_MS destroys it, which fails its streams so their owners reconnect. (client-go pings
   * only after a read-idle period; reading the socket here would disturb the session, so we ping on a timer.)
   */
  #healthCheck(session: ClientHttp2Session): void {
    const timer = setInterval(() => {
      if (session.closed || session.destroyed) return;
      if (this.#openStreams(session) === 0) return;
      let answered = false;
      const deadline = setTimeout(() => {
        if (!answered && !session.destroyed) {
          log.warn('http2 health check failed: closing session', { server: this.#origin });
          session.destroy(Object.assign(new Error('http2: ping timed out'), { code: 'ERR_HTTP2_PING_TIMEOUT' }));
        }
      }, this.#opts.pingTimeoutMs ?? PING_TIMEOUT_MS);
      deadline.unref();
      try {
        session.ping((err) => {
          answered = true;
          clearTimeout(deadline);
          if (err && !session.destroyed) log.debug('http2 ping failed', { server: this.#origin, err });
        });
      } catch {
        clearTimeout(deadline);
      }
    }, this.#opts.healthCheckIntervalMs ?? READ_IDLE_MS);
    // The health check must never keep a process alive: open streams and sockets do that.
    timer.unref();
    session.on('close', () => clearInterval(timer));
  }

  #openStreams(session: ClientHttp2Session): number {
    return this.#streamCounts.get(session) ?? 0;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#session = undefined;
    const closing: Promise<void>[] = [];
    for (const s of this.#sessions) {
      if (s.destroyed) continue;
      closing.push(new Promise<void>((resolve) => s.once('close', () => resolve())));
      s.destroy();
    }
    this.#sessions.clear();
    await Promise.all(closing);
  }
}
