// The proxy's HTTP/1.1 client to endpoints: pooled keep-alive connections per endpoint, the request
// head written in one go, and a small incremental response parser (Content-Length, chunked, or
// read-to-close framing). Node's http client costs about twice as much per request, which the
// throughput target (half of a direct hit) cannot afford; listeners live per connection, not per
// request, for the same reason.
import { connect, type Socket } from 'node:net';

/** Where an exchange stands when it fails; only failures before any reply byte may be retried. */
export const FailPhase = { connect: 'connect', request: 'request', response: 'response' } as const;
export type FailPhase = (typeof FailPhase)[keyof typeof FailPhase];

/** An exchange failure. */
export class UpstreamError extends Error {
  readonly code: string;
  readonly phase: FailPhase;
  /** True when the connection came from the pool (a stale keep-alive connection fails like this). */
  readonly reused: boolean;
  constructor(code: string, message: string, phase: FailPhase, reused: boolean) {
    super(message);
    this.code = code;
    this.phase = phase;
    this.reused = reused;
  }
}

/** The reply's status line and headers. */
export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** [name, value, name, value, ...] as received. */
  readonly rawHeaders: string[];
  /** Lower-cased Connection header value ('' when absent). */
  readonly connection: string;
}

/** Receives one exchange's events; exactly one of onEnd/onError ends it. */
export interface ExchangeHandler {
  /** The connection to a new endpoint is up (not called for pooled ones: see Exchange.connected). */
  onConnect(): void;
  onHead(head: ResponseHead): void;
  /** A piece of the decoded body; return false to pause the endpoint until resume(). */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: UpstreamError): void;
}

/** What to send. */
export interface ExchangeRequest {
  readonly host: string;
  readonly port: number;
  /** HEAD replies carry no body whatever their headers say. */
  readonly head: boolean;
  /** The complete request head: request line, headers and the empty line (latin1). */
  readonly text: string;
  /** How the body is framed: none, as is (Content-Length), or re-chunked. */
  readonly body: 'none' | 'length' | 'chunked';
  /** Skip pooled connections (a retry after a stale one failed). */
  readonly fresh?: boolean;
}

/** Options of the pool. */
export interface UpstreamPoolOptions {
  readonly connectTimeoutMs: number;
  /** Longest silence of an endpoint during an exchange, and the idle limit of pooled connections. */
  readonly readTimeoutMs: number;
  /** Idle connections kept per endpoint. */
  readonly maxIdlePerEndpoint?: number;
}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/;
const CHUNKED_LAST = /(?:^|,)\s*chunked\s*$/i;
const CHUNK_SIZE = /^[0-9a-fA-F]{1,12}$/;

// Response parser states.
const S = { head: 0, fixed: 1, chunkSize: 2, chunkData: 3, chunkDataEnd: 4, trailers: 5, toClose: 6, done: 7 } as const;
type S = (typeof S)[keyof typeof S];

/** Keep-alive connections per endpoint and the exchanges over them. */
export class UpstreamPool {
  #idle = new Map<string, Connection[]>();
  #all = new Set<Connection>();
  readonly opts: Required<UpstreamPoolOptions>;
  #closed = false;

  constructor(opts: UpstreamPoolOptions) {
    this.opts = { maxIdlePerEndpoint: 256, ...opts };
  }

  /** Starts one exchange; events arrive on `handler`. */
  exchange(req: ExchangeRequest, handler: ExchangeHandler): Exchange {
    const key = `${req.host}|${req.port}`;
    let conn = req.fresh ? undefined : this.#take(key);
    if (!conn) {
      conn = new Connection(this, key, req.host, req.port);
      this.#all.add(conn);
    }
    const ex = new Exchange(conn, req, handler);
    conn.start(ex);
    return ex;
  }

  /** Destroys every connection; exchanges in flight fail. */
  close(): void {
    this.#closed = true;
    this.#idle.clear();
    for (const c of this.#all) c.socket.destroy();
    this.#all.clear();
  }

  /** @internal A connection finished an exchange and may serve another. */
  release(conn: Connection): void {
    let list = this.#idle.get(conn.key);
    if (this.#closed || (list && list.length >= this.opts.maxIdlePerEndpoint)) {
      conn.socket.destroy();
      return;
    }
    if (!list) this.#idle.set(conn.key, (list = []));
    list.push(conn);
  }

  /** @internal A connection closed. */
  gone(conn: Connection): void {
    this.#all.delete(conn);
    const list = this.#idle.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#idle.delete(conn.key);
  }

  #take(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    if (!list) return undefined;
    const now = Date.now();
    let conn: Connection | undefined;
    // Newest first: the least likely to have hit the endpoint's idle timeout.
    while ((conn = list.pop()) !== undefined) {
      if (now < conn.idleUntil && !conn.socket.destroyed) break;
      conn.socket.destroy();
    }
    if (list.length === 0) this.#idle.delete(key);
    return conn;
  }
}

/** One request to an endpoint. */
export class Exchange {
  readonly conn: Connection;
  readonly req: ExchangeRequest;
  readonly handler: ExchangeHandler;
  /** True when the connection served an earlier exchange. */
  readonly reused: boolean;
  finished = false;
  requestEnded = false;
  gotBytes = false;

  constructor(conn: Connection, req: ExchangeRequest, handler: ExchangeHandler) {
    this.conn = conn;
    this.req = req;
    this.handler = handler;
    this.reused = conn.served > 0;
  }

  /** True once the connection is up; send the body only then, so a failed connect can be retried. */
  get connected(): boolean {
    return !this.conn.socket.connecting;
  }

  /** Sends body bytes (framed as the request announced); false means wait for onDrain. */
  write(chunk: Buffer): boolean {
    if (this.finished || chunk.length === 0) return true;
    const s = this.conn.socket;
    if (this.req.body === 'chunked') {
      s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      s.write(chunk);
      return s.write(CRLF);
    }
    return s.write(chunk);
  }

  /** Ends the request body. */
  end(): void {
    if (this.finished || this.requestEnded) return;
    this.requestEnded = true;
    if (this.req.body === 'chunked') this.conn.socket.write(LAST_CHUNK);
  }

  /** Continues reading a paused reply. */
  resume(): void {
    if (!this.finished) this.conn.socket.resume();
  }

  /** `fn` runs whenever a full write buffer to the endpoint empties. */
  onDrain(fn: () => void): void {
    this.conn.drain = fn;
  }

  /** Drops the exchange and its connection. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.socket.destroy();
  }
}

/** One socket to an endpoint; its listeners are installed once and serve every exchange. */
class Connection {
  readonly pool: UpstreamPool;
  readonly key: string;
  readonly socket: Socket;
  readonly host: string;
  readonly port: number;
  /** Exchanges completed on this connection. */
  served = 0;
  /** While idle: when the endpoint may close it (its Keep-Alive hint less a second). */
  idleUntil = 0;
  drain: (() => void) | undefined;
  #ex: Exchange | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #state: S = S.done;
  #buf: Buffer | undefined;
  #remaining = 0;
  #reusable = true;
  #idleMs: number;
  #connected = false;

  constructor(pool: UpstreamPool, key: string, host: string, port: number) {
    this.pool = pool;
    this.key = key;
    this.host = host;
    this.port = port;
    this.#idleMs = pool.opts.readTimeoutMs;
    this.socket = connect({ host, port, noDelay: true });
    // One inactivity timer for the connection's life: the read timeout while busy, and a bound on
    // idleness in the pool (idle expiry by the endpoint's hint is checked lazily on take).
    this.socket.setTimeout(pool.opts.readTimeoutMs);
    this.socket.on('data', (c: Buffer) => this.#onData(c));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err.code ?? 'EPROTO', err.message));
    this.socket.on('close', () => this.#onClose());
    this.socket.on('timeout', () => this.#onTimeout());
    this.socket.on('drain', () => this.drain?.());
    this.socket.once('connect', () => this.#onConnect());
    this.#connectTimer = setTimeout(() => this.#fail('ECONNTIMEOUT', `connect to ${host}:${port} timed out`), pool.opts.connectTimeoutMs);
  }

  /** Begins `ex` on this (idle or connecting) connection. */
  start(ex: Exchange): void {
    this.#ex = ex;
    this.#state = S.head;
    this.#reusable = true;
    this.drain = undefined;
    if (!this.socket.connecting) this.#sendHead(ex);
  }

  #onConnect(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#connected = true;
    const ex = this.#ex;
    if (!ex || ex.finished) return;
    this.#sendHead(ex);
    ex.handler.onConnect();
  }

  #sendHead(ex: Exchange): void {
    this.socket.write(ex.req.text, 'latin1');
    if (ex.req.body === 'none') ex.requestEnded = true;
  }

  #onTimeout(): void {
    if (this.#ex) this.#fail('ETIMEDOUT', `endpoint ${this.host}:${this.port} timed out`);
    else this.socket.destroy();
  }

  #onClose(): void {
    clearTimeout(this.#connectTimer);
    this.pool.gone(this);
    const ex = this.#ex;
    if (!ex || ex.finished) return;
    if (this.#state === S.toClose) {
      this.#complete(ex, false);
      return;
    }
    this.#fail('ECONNRESET', `endpoint ${this.host}:${this.port} closed the connection`);
  }

  #fail(code: string, message: string): void {
    clearTimeout(this.#connectTimer);
    this.socket.destroy();
    const ex = this.#ex;
    this.#ex = undefined;
    if (!ex || ex.finished) return;
    ex.finished = true;
    const phase: FailPhase = !this.#connected ? FailPhase.connect : ex.gotBytes ? FailPhase.response : FailPhase.request;
    ex.handler.onError(new UpstreamError(code, message, phase, ex.reused));
  }

  #complete(ex: Exchange, reuse: boolean): void {
    this.#ex = undefined;
    ex.finished = true;
    this.served++;
    // A reply may end before the request body did (an early 413, say): then the connection is spent.
    if (reuse && this.#reusable && ex.requestEnded && !this.socket.destroyed) {
      this.idleUntil = Date.now() + this.#idleMs;
      this.pool.release(this);
    } else {
      this.socket.destroy();
    }
    ex.handler.onEnd();
  }

  #onData(chunk: Buffer): void {
    const ex = this.#ex;
    if (!ex || ex.finished) {
      // Bytes on an idle connection: the endpoint is out of step, so the connection is spent.
      this.socket.destroy();
      return;
    }
    ex.gotBytes = true;
    const data = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#buf = undefined;
    let pos = 0;
    const h = ex.handler;
    while (pos < data.length && !ex.finished && this.#state !== S.done) {
      switch (this.#state) {
        case S.head: {
          const end = data.indexOf('\r\n\r\n', pos, 'latin1');
          if (end < 0) {
            if (data.length - pos > MAX_HEAD_BYTES) return this.#fail('EPROTO', 'response head too large');
            this.#buf = data.subarray(pos);
            return;
          }
          const text = data.toString('latin1', pos, end);
          pos = end + 4;
          if (!this.#parseHead(ex, text)) return;
          break;
        }
        case S.fixed: {
          const n = Math.min(this.#remaining, data.length - pos);
          const piece = pos === 0 && n === data.length ? data : data.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#state = S.done;
            h.onBody(piece);
          } else if (!h.onBody(piece)) {
            this.socket.pause();
          }
          break;
        }
        case S.chunkSize:
        case S.trailers:
        case S.chunkDataEnd: {
          const eol = data.indexOf('\r\n', pos, 'latin1');
          if (eol < 0) {
            if (data.length - pos > MAX_HEAD_BYTES) return this.#fail('EPROTO', 'chunk line too long');
            this.#buf = data.subarray(pos);
            return;
          }
          const line = data.toString('latin1', pos, eol);
          pos = eol + 2;
          if (this.#state === S.chunkDataEnd) {
            if (line !== '') return this.#fail('EPROTO', 'malformed chunk terminator');
            this.#state = S.chunkSize;
          } else if (this.#state === S.trailers) {
            if (line === '') this.#state = S.done;
          } else {
            const semi = line.indexOf(';');
            const hex = (semi >= 0 ? line.slice(0, semi) : line).trim();
            if (!CHUNK_SIZE.test(hex)) return this.#fail('EPROTO', 'malformed chunk size');
            this.#remaining = parseInt(hex, 16);
            this.#state = this.#remaining === 0 ? S.trailers : S.chunkData;
          }
          break;
        }
        case S.chunkData: {
          const n = Math.min(this.#remaining, data.length - pos);
          const piece = data.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S.chunkDataEnd;
          if (!h.onBody(piece)) this.socket.pause();
          break;
        }
        case S.toClose: {
          const piece = pos === 0 ? data : data.subarray(pos);
          pos = data.length;
          if (!h.onBody(piece)) this.socket.pause();
          break;
        }
      }
    }
    if (this.#state === S.done && !ex.finished) {
      // Bytes after a complete reply: the endpoint is out of step, so the connection is spent.
      if (pos < data.length) this.#reusable = false;
      this.#complete(ex, true);
    }
  }

  /** Parses a status line and headers; false when the exchange failed or ended. */
  #parseHead(ex: Exchange, text: string): boolean {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0] ?? '');
    if (!m) {
      this.#fail('EPROTO', 'malformed status line');
      return false;
    }
    const status = Number(m[2]);
    const rawHeaders: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const first = line.charCodeAt(0);
      if (colon <= 0 || first === 0x20 || first === 0x09) {
        this.#fail('EPROTO', 'malformed header line');
        return false;
      }
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      // Only the few framing headers need a look; the rest pass through untouched.
      const c0 = first | 0x20;
      if (c0 === 0x63 || c0 === 0x74 || c0 === 0x6b) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') {
          const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
          if (Number.isNaN(n) || (contentLength >= 0 && contentLength !== n)) {
            this.#fail('EPROTO', 'invalid Content-Length');
            return false;
          }
          contentLength = n;
        } else if (lower === 'transfer-encoding') {
          chunked = CHUNKED_LAST.test(value);
          // Any other coding last means the body ends when the connection does.
          if (!chunked) contentLength = -2;
        } else if (lower === 'connection') {
          connection = connection ? `${connection}, ${value.toLowerCase()}` : value.toLowerCase();
        } else if (lower === 'keep-alive') {
          const t = /timeout=(\d+)/i.exec(value);
          // Leave a second of margin before the endpoint's own idle timeout, as Node's agent does.
          if (t) this.#idleMs = Math.max(0, Math.min(this.pool.opts.readTimeoutMs, Number(t[1]) * 1000 - 1000));
        }
      }
      rawHeaders.push(name, value);
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim replies (100 Continue, 103 Early Hints) are dropped; the final one follows.
      return true;
    }
    if (status === 101) {
      this.#fail('EPROTO', 'unexpected 101 Switching Protocols');
      return false;
    }
    if (CLOSE_TOKEN.test(connection) || (m[1] === '0' && !connection.includes('keep-alive')) || this.#idleMs <= 0) this.#reusable = false;
    ex.handler.onHead({ status, reason: m[3] ?? '', rawHeaders, connection });
    if (ex.finished) return false;
    if (ex.req.head || status === 204 || status === 304) {
      this.#state = S.done;
    } else if (chunked) {
      this.#state = S.chunkSize;
    } else if (contentLength >= 0) {
      this.#remaining = contentLength;
      this.#state = contentLength === 0 ? S.done : S.fixed;
    } else {
      this.#reusable = false;
      this.#state = S.toClose;
    }
    return true;
  }
}
