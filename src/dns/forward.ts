// Forwarding of questions the cluster zone does not answer, after CoreDNS's `forward` plugin: the
// query goes out unchanged (fresh random ID) over the transport the client used, to the servers in
// random order until one answers; the reply comes back unchanged but for the client's ID.

import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Socket as TcpSocket } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Disposable } from '../base/disposable.ts';
import { ipFamily } from './ip.ts';
import type { Upstream } from './dns_config.ts';

/** Forwarding limits. */
export interface ForwarderOptions {
  /** How long one server gets to answer. Default 2000 ms (CoreDNS forward's read timeout). */
  readonly attemptTimeoutMs?: number;
  /** How long one query may take over all servers. Default 5000 ms (CoreDNS forward). */
  readonly totalTimeoutMs?: number;
}

/** Sends queries to upstream servers; owns every socket it opens until it is disposed. */
export class Forwarder implements Disposable {
  readonly #attemptTimeoutMs: number;
  readonly #totalTimeoutMs: number;
  readonly #open = new Set<UdpSocket | TcpSocket>();
  #disposed = false;

  constructor(options: ForwarderOptions = {}) {
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
    this.#totalTimeoutMs = options.totalTimeoutMs ?? 5000;
    for (const [k, v] of [['attemptTimeoutMs', this.#attemptTimeoutMs], ['totalTimeoutMs', this.#totalTimeoutMs]] as const) {
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${k}: must be a positive number of milliseconds, got ${v}`);
    }
  }

  /**
   * Forwards `query` (a whole DNS message) and returns the reply with the query's ID, or undefined
   * when no server answered in time.
   */
  async forward(query: Buffer, servers: readonly Upstream[], transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (query.length < 12 || servers.length === 0) return undefined;
    const clientId = query.readUInt16BE(0);
    const deadline = Date.now() + this.#totalTimeoutMs;
    for (const server of shuffled(servers)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#disposed) break;
      const id = randomInt(0, 0x10000);
      const out = Buffer.from(query);
      out.writeUInt16BE(id, 0);
      const timeout = Math.min(left, this.#attemptTimeoutMs);
      const reply = transport === 'udp' ? await this.#udp(out, server, id, timeout) : await this.#tcp(out, server, id, timeout);
      if (reply !== undefined) {
        reply.writeUInt16BE(clientId, 0);
        return reply;
      }
    }
    return undefined;
  }

  #udp(query: Buffer, server: Upstream, id: number, timeoutMs: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = createSocket(ipFamily(server.host) === 6 ? 'udp6' : 'udp4');
      this.#open.add(socket);
      let settled = false;
      const done = (reply: Buffer | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#open.delete(socket);
        socket.removeAllListeners('message');
        try {
          socket.close();
        } catch {
          // already closed by dispose()
        }
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      socket.on('error', () => done(undefined));
      socket.on('close', () => done(undefined));
      socket.on('message', (msg, rinfo) => {
        // Only the server asked, with the ID we chose, may answer (spoofing defence).
        if (rinfo.address !== server.host || rinfo.port !== server.port || msg.length < 12 || msg.readUInt16BE(0) !== id) return;
        done(msg);
      });
      socket.send(query, server.port, server.host, (err) => {
        if (err) done(undefined);
      });
    });
  }

  #tcp(query: Buffer, server: Upstream, id: number, timeoutMs: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ host: server.host, port: server.port });
      this.#open.add(socket);
      let buffered: Buffer = Buffer.alloc(0);
      let settled = false;
      const done = (reply: Buffer | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#open.delete(socket);
        socket.destroy();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      socket.on('error', () => done(undefined));
      socket.on('close', () => done(undefined));
      socket.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        socket.write(Buffer.concat([len, query]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const n = buffered.readUInt16BE(0);
          if (buffered.length < n + 2) return;
          const msg = buffered.subarray(2, n + 2);
          buffered = buffered.subarray(n + 2);
          if (msg.length >= 12 && msg.readUInt16BE(0) === id) {
            done(Buffer.from(msg));
            return;
          }
        }
      });
    });
  }

  /** Closes every socket still open; queries under way answer undefined. */
  dispose(): void {
    this.#disposed = true;
    for (const s of [...this.#open]) {
      if ('destroy' in s) s.destroy();
      else {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
    }
    this.#open.clear();
  }
}

function shuffled<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
