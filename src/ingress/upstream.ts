// The proxy's HTTP/1.1 client to endpoints: pooled keep-alive sockets per endpoint, the request
// head written in one go, and a small incremental response parser (Content-Length, chunked, or
// read-to-close framing). Node's http client costs about twice as much per request, which the
// throughput target (half of a direct hit) cannot afford.
import { connect, type Socket } from 'node:net';

/** Where an exchange stands when it fails; only failures before any reply byte may be retried. */
export const FailPhase = { connect: 'connect', request: 'request', response: 'response' } as const;
export type FailPhase = (typeof FailPhase)[keyof typeof FailPhase];

/** An exchange failure. */
export class UpstreamError extends Error {
  readonly code: string;
  readonly phase: FailPhase;
  /** True when the socket came from the pool (a stale keep-alive connection may fail like this). */
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
  /** The connection to a new endpoint is up (not called for pooled sockets: see Exchange.connected). */
  onConnect(): void;
  onHead(head: ResponseHead): void;
  /** A piece of the decoded body; return false to pause the endpoint until resume(). */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: UpstreamError): void;
}

/** One request to an endpoint: write the body (if any) through it, abort it if the client leaves. */
export interface Exchange {
  /** True once the connection is up; send the body only then, so a failed connect can be retried. */
  readonly connected: boolean;
  /** Sends body bytes (framed as the head announced); false means wait for onDrain. */
  write(chunk: Buffer): boolean;
  /** Ends the request body. */
  end(): void;
  /** Continues reading a paused reply. */
  resume(): void;
  /** Called once when a full write buffer empties. */
  onDrain(fn: () => void): void;
  /** Drops the exchange and its connection. */
  abort(): void;
}

/** What to send. */
export interface ExchangeRequest {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** The complete head: request line, headers and the empty line. */
  readonly head: string;
  /** How the body is framed: none, as is (Content-Length), or re-chunked. */
  readonly body: 'none' | 'length' | 'chunked';
}

/** Options of the pool. */
export interface UpstreamPoolOptions {
  readonly connectTimeoutMs: number;
  /** Longest silence of an endpoint during an exchange, and the idle limit of pooled sockets. */
  readonly readTimeoutMs: number;
  /** Idle sockets kept per endpoint. */
  readonly maxIdlePerEndpoint?: number;
}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

interface Idle {
  readonly socket: Socket;
  readonly onGone: () => void;
}

/** Keep-alive sockets per endpoint and the exchanges over them. */
export class UpstreamPool {
  #idle = new Map<string, Idle[]>();
  #busy = new Set<Socket>();
  #opts: Required<UpstreamPoolOptions>;
  #closed = false;

  constructor(opts: UpstreamPoolOptions) {
    this.#opts = { maxIdlePerEndpoint: 256, ...opts };
  }

  /** Starts one exchange; events arrive on `handler`. */
  exchange(req: ExchangeRequest, handler: ExchangeHandler): Exchange {
    const key = `${req.host}|${req.port}`;
    const pooled = this.#take(key);
    const socket = pooled ?? connect({ host: req.host, port: req.port, noDelay: true });
    return new ExchangeImpl(this, key, socket, pooled !== undefined, req, handler, this.#opts);
  }

  /** Destroys every socket; exchanges in flight fail. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const i of list) i.socket.destroy();
    this.#idle.clear();
    for (const s of this.#busy) s.destroy();
    this.#busy.clear();
  }

  /** @internal */
  markBusy(socket: Socket, busy: boolean): void {
    if (busy) this.#busy.add(socket);
    else this.#busy.delete(socket);
  }

  /** @internal Returns a socket after a complete exchange; `idleMs` may be shortened by a Keep-Alive hint. */
  release(key: string, socket: Socket, idleMs: number): void {
    this.#busy.delete(socket);
    let list = this.#idle.get(key);
    if (this.#closed || socket.destroyed || idleMs <= 0 || (list && list.length >= this.#opts.maxIdlePerEndpoint)) {
      socket.destroy();
      return;
    }
    if (!list) this.#idle.set(key, (list = []));
    const entry: Idle = {
      socket,
      onGone: () => {
        socket.destroy();
        const l = this.#idle.get(key);
        if (!l) return;
        const i = l.indexOf(entry);
        if (i >= 0) l.splice(i, 1);
        if (l.length === 0) this.#idle.delete(key);
      },
    };
    // An idle socket that receives anything, closes or errs is useless: drop it.
    socket.on('data', entry.onGone);
    socket.on('close', entry.onGone);
    socket.on('error', entry.onGone);
    socket.on('timeout', entry.onGone);
    socket.setTimeout(idleMs);
    list.push(entry);
  }

  #take(key: string): Socket | undefined {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const e = list.pop()!;
      const s = e.socket;
      s.off('data', e.onGone);
      s.off('close', e.onGone);
      s.off('error', e.onGone);
      s.off('timeout', e.onGone);
      if (list.length === 0) this.#idle.delete(key);
      if (!s.destroyed && s.writable) return s;
    }
    return undefined;
  }
}

// Response parser states.
const S = { head: 0, fixed: 1, chunkSize: 2, chunkData: 3, chunkDataEnd: 4, trailers: 5, toClose: 6, done: 7 } as const;
type S = (typeof S)[keyof typeof S];

class ExchangeImpl implements Exchange {
  #pool: UpstreamPool;
  #key: string;
  #socket: Socket;
  #reused: boolean;
  #req: ExchangeRequest;
  #h: ExchangeHandler;
  #opts: Required<UpstreamPoolOptions>;
  #connected: boolean;
  #connectTimer: NodeJS.Timeout | undefined;
  #state: S = S.head;
  #buf: Buffer | undefined;
  #remaining = 0;
  #gotBytes = false;
  #finished = false;
  #requestEnded = false;
  #reusable = true;
  #idleMs: number;
  #pending: Buffer[] = [];
  #pendingEnd = false;
  #drain: (() => void) | undefined;
  #headOnly: boolean;

  constructor(pool: UpstreamPool, key: string, socket: Socket, reused: boolean, req: ExchangeRequest, handler: ExchangeHandler, opts: Required<UpstreamPoolOptions>) {
    this.#pool = pool;
    this.#key = key;
    this.#socket = socket;
    this.#reused = reused;
    this.#req = req;
    this.#h = handler;
    this.#opts = opts;
    this.#idleMs = opts.readTimeoutMs;
    this.#headOnly = req.method === 'HEAD';
    this.#connected = !socket.connecting;
    pool.markBusy(socket, true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    socket.on('drain', this.#onDrainEvent);
    if (this.#connected) {
      socket.setTimeout(opts.readTimeoutMs);
      this.#sendHead();
    } else {
      this.#connectTimer = setTimeout(() => this.#fail('ECONNTIMEOUT', `connect to ${req.host}:${req.port} timed out`), opts.connectTimeoutMs);
      socket.once('connect', this.#onConnect);
    }
  }

  get connected(): boolean {
    return this.#connected;
  }

  write(chunk: Buffer): boolean {
    if (this.#finished || chunk.length === 0) return true;
    if (!this.#connected) {
      this.#pending.push(chunk);
      return false;
    }
    if (this.#req.body === 'chunked') {
      this.#socket.write(`${chunk.length.toString(16)}\r\n`);
      this.#socket.write(chunk);
      return this.#socket.write(CRLF);
    }
    return this.#socket.write(chunk);
  }

  end(): void {
    if (this.#finished || this.#requestEnded) return;
    if (!this.#connected) {
      this.#pendingEnd = true;
      return;
    }
    this.#requestEnded = true;
    if (this.#req.body === 'chunked') this.#socket.write(LAST_CHUNK);
  }

  resume(): void {
    if (!this.#finished) this.#socket.resume();
  }

  onDrain(fn: () => void): void {
    this.#drain = fn;
  }

  abort(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#detach();
    this.#socket.destroy();
  }

  #onConnect = (): void => {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#connected = true;
    this.#socket.setTimeout(this.#opts.readTimeoutMs);
    this.#sendHead();
    for (const c of this.#pending.splice(0)) this.write(c);
    if (this.#pendingEnd) this.end();
    this.#h.onConnect();
  };

  #sendHead(): void {
    this.#socket.write(this.#req.head, 'latin1');
    if (this.#req.body === 'none') this.#requestEnded = true;
  }

  #onDrainEvent = (): void => {
    const d = this.#drain;
    if (d) d();
  };

  #onTimeout = (): void => {
    this.#fail('ETIMEDOUT', `endpoint ${this.#req.host}:${this.#req.port} timed out`);
  };

  #onError = (err: NodeJS.ErrnoException): void => {
    this.#fail(err.code ?? 'EPROTO', err.message);
  };

  #onClose = (): void => {
    if (this.#finished) return;
    if (this.#state === S.toClose) {
      this.#state = S.done;
      this.#complete(false);
      return;
    }
    this.#fail('ECONNRESET', `endpoint ${this.#req.host}:${this.#req.port} closed the connection`);
  };

  #fail(code: string, message: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#connectTimer);
    this.#detach();
    this.#socket.destroy();
    const phase: FailPhase = !this.#connected ? FailPhase.connect : this.#gotBytes ? FailPhase.response : FailPhase.request;
    this.#h.onError(new UpstreamError(code, message, phase, this.#reused));
  }

  #detach(): void {
    const s = this.#socket;
    s.off('data', this.#onData);
    s.off('error', this.#onError);
    s.off('close', this.#onClose);
    s.off('timeout', this.#onTimeout);
    s.off('drain', this.#onDrainEvent);
    s.off('connect', this.#onConnect);
    this.#pool.markBusy(s, false);
  }

  #complete(reuse: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#detach();
    // A reply may end before the request body did (an early 413, say): then the socket is not reusable.
    if (reuse && this.#reusable && this.#requestEnded) {
      this.#socket.setTimeout(0);
      this.#pool.release(this.#key, this.#socket, this.#idleMs);
    } else {
      this.#socket.destroy();
    }
    this.#h.onEnd();
  }

  #onData = (chunk: Buffer): void => {
    this.#gotBytes = true;
    const data = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#buf = undefined;
    let pos = 0;
    while (pos < data.length && !this.#finished) {
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
          if (!this.#parseHead(text)) return;
          break;
        }
        case S.fixed: {
          const n = Math.min(this.#remaining, data.length - pos);
          const piece = data.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#state = S.done;
            if (piece.length > 0) this.#h.onBody(piece);
          } else if (!this.#h.onBody(piece)) {
            this.#socket.pause();
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
            if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return this.#fail('EPROTO', 'malformed chunk size');
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
          if (!this.#h.onBody(piece)) this.#socket.pause();
          break;
        }
        case S.toClose: {
          const piece = pos === 0 ? data : data.subarray(pos);
          pos = data.length;
          if (!this.#h.onBody(piece)) this.#socket.pause();
          break;
        }
        case S.done:
          break;
      }
      if (this.#state === S.done) break;
    }
    if (this.#state === S.done && !this.#finished) {
      // Bytes after a complete reply: the endpoint is out of step, so the socket is not reused.
      if (pos < data.length) this.#reusable = false;
      this.#complete(true);
    }
  };

  /** Parses a status line and headers; false when the exchange failed. */
  #parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (!m) {
      this.#fail('EPROTO', 'malformed status line');
      return false;
    }
    const status = Number(m[2]);
    const http10 = m[1] === '0';
    const rawHeaders: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0 || line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
        this.#fail('EPROTO', 'malformed header line');
        return false;
      }
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
        if (Number.isNaN(n) || (contentLength >= 0 && contentLength !== n)) {
          this.#fail('EPROTO', 'invalid Content-Length');
          return false;
        }
        contentLength = n;
      } else if (lower === 'transfer-encoding') {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        if (!chunked) contentLength = -2;
      } else if (lower === 'connection') {
        connection = connection ? `${connection}, ${value.toLowerCase()}` : value.toLowerCase();
      } else if (lower === 'keep-alive') {
        const t = /timeout=(\d+)/i.exec(value);
        // Leave a second of margin before the endpoint's own idle timeout, as Node's agent does.
        if (t) this.#idleMs = Math.min(this.#idleMs, Number(t[1]) * 1000 - 1000);
      }
      rawHeaders.push(name, value);
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim replies (100 Continue, 103 Early Hints) are dropped; the final one follows.
      this.#state = S.head;
      return true;
    }
    if (status === 101) {
      this.#fail('EPROTO', 'unexpected 101 Switching Protocols');
      return false;
    }
    if (/(?:^|,)\s*close\s*(?:,|$)/.test(connection) || (http10 && !/keep-alive/.test(connection))) this.#reusable = false;
    this.#h.onHead({ status, reason: m[3] ?? '', rawHeaders, connection });
    if (this.#finished) return false;
    if (this.#headOnly || status === 204 || status === 304) {
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
