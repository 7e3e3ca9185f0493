// The cluster DNS server: UDP and TCP (length-prefixed) on one address and port, wire format through
// dns-packet, answers from resolve() over the record index, everything else forwarded (stub domains,
// then upstreams) or SERVFAIL. EDNS0 sizes and the TC bit as CoreDNS/miekg; bad packets never crash it.

import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server as TcpServer, Socket as TcpSocket } from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { NO_FORWARDING, stubDomainOf, upstreamsFor } from './dns_config.ts';
import type { ForwardConfig } from './dns_config.ts';
import { Forwarder } from './forward.ts';
import type { ForwarderOptions } from './forward.ts';
import { ipFamily } from './ip.ts';
import type { DnsIndex } from './records.ts';
import { resolve, zoneOf } from './resolve.ts';
import { Rcode } from './types.ts';
import type { DnsAnswer, DnsQuestion } from './types.ts';

const log = logger('dns');

/** Smallest UDP reply size every client accepts (RFC 1035), and the TCP ceiling. */
const MIN_UDP_SIZE = 512;
const MAX_MSG_SIZE = 65535;
const HEADER_SIZE = 12;
const UDP_BUFFER_BYTES = 4 << 20;
const OPCODE_QUERY = 0;
const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const FLAG_CD = 1 << 4;
const DO_BIT = 1 << 15;

/** Options of the DNS server. */
export interface DnsServerOptions {
  /** Address to bind: the cluster DNS IP (10.43.0.10) on a node, 127.0.0.1 in tests. */
  readonly host: string;
  /** Port for both UDP and TCP; 0 picks a free one. */
  readonly port: number;
  readonly index: DnsIndex;
  /** Stub domains and upstreams; default none (no forwarding, as in tests). */
  readonly forward?: ForwardConfig;
  readonly forwarder?: ForwarderOptions;
  /** Shuffle A/AAAA answers (k3s's `loadbalance`). Default true. */
  readonly loadBalance?: boolean;
  /** Idle TCP connections are closed after this long. Default 10000 ms. */
  readonly tcpIdleTimeoutMs?: number;
}

/** A running DNS server. */
export interface DnsServer extends Disposable {
  readonly host: string;
  readonly port: number;
  /** Replaces the forwarding configuration (the DNS ConfigMap reloaded live). */
  setForwardConfig(config: ForwardConfig): void;
  /** Answers one wire-format message as if it came over `transport`; undefined when it is dropped. */
  handle(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined | Promise<Buffer | undefined>;
  dispose(): Promise<void>;
}

/** Starts a DNS server on UDP and TCP at options.host:options.port. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const idle = options.tcpIdleTimeoutMs ?? 10_000;
  if (!Number.isFinite(idle) || idle <= 0) throw new Error(`tcpIdleTimeoutMs: must be a positive number, got ${idle}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error(`port: must be an integer between 0 and 65535, got ${options.port}`);
  }
  const handler = new QueryHandler(options);
  const { udp, tcp } = await bindBoth(options.host, options.port);
  const connections = new Set<TcpSocket>();

  udp.on('message', (msg, rinfo) => {
    void reply(handler, msg, 'udp', (out) => {
      udp.send(out, rinfo.port, rinfo.address, (err) => {
        if (err) log.debug('udp send failed', { to: rinfo.address, err });
      });
    });
  });
  udp.on('error', (err) => log.warn('udp socket error', { err }));

  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.setTimeout(idle, () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const n = buffered.readUInt16BE(0);
        if (n === 0) {
          socket.destroy();
          return;
        }
        if (buffered.length < n + 2) break;
        const msg = Buffer.from(buffered.subarray(2, n + 2));
        buffered = buffered.subarray(n + 2);
        void reply(handler, msg, 'tcp', (out) => {
          if (socket.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          socket.write(Buffer.concat([len, out]));
        });
      }
    });
  });
  tcp.on('error', (err) => log.warn('tcp server error', { err }));

  const address = udp.address();
  let disposed = false;
  return {
    host: address.address,
    port: address.port,
    setForwardConfig: (config) => handler.setForwardConfig(config),
    handle: (message, transport) => handler.handle(message, transport),
    async dispose() {
      if (disposed) return;
      disposed = true;
      handler.dispose();
      for (const c of connections) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** Runs the handler and sends what it produces; a throw is logged and the message dropped. */
async function reply(handler: QueryHandler, msg: Buffer, transport: 'udp' | 'tcp', send: (out: Buffer) => void): Promise<void> {
  try {
    const out = await handler.handle(msg, transport);
    if (out !== undefined) send(out);
  } catch (err) {
    log.warn('dropped a query that failed', { transport, err });
  }
}

/** Binds UDP and TCP to the same port, retrying when port 0's choice is taken on the TCP side. */
async function bindBoth(host: string, port: number): Promise<{ udp: UdpSocket; tcp: TcpServer }> {
  for (let attempt = 0; ; attempt++) {
    // A large receive buffer absorbs bursts (the kernel caps it at net.core.rmem_max); the default
    // ~200 KiB drops queries after about 250 arrive before the event loop gets to them.
    const udp = createSocket({ type: ipFamily(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind(port, host, () => {
        udp.off('error', rej);
        res();
      });
    });
    const chosen = udp.address().port;
    const tcp = createServer();
    try {
      await new Promise<void>((res, rej) => {
        tcp.once('error', rej);
        tcp.listen({ host, port: chosen }, () => {
          tcp.off('error', rej);
          res();
        });
      });
      return { udp, tcp };
    } catch (err) {
      await new Promise<void>((r) => udp.close(() => r()));
      if (port !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

/** One parsed query: what the reply needs from it. */
interface Query {
  readonly id: number;
  /** Header flags to copy into the reply: opcode, RD, CD. */
  readonly copiedFlags: number;
  readonly question: Question;
  readonly opt: OptAnswer | undefined;
}

/** Turns query messages into reply messages; knows nothing of sockets. */
class QueryHandler {
  readonly #index: DnsIndex;
  readonly #loadBalance: boolean;
  readonly #forwarder: Forwarder;
  #forward: ForwardConfig;

  constructor(options: DnsServerOptions) {
    this.#index = options.index;
    this.#loadBalance = options.loadBalance ?? true;
    this.#forwarder = new Forwarder(options.forwarder);
    this.#forward = options.forward ?? NO_FORWARDING;
  }

  setForwardConfig(config: ForwardConfig): void {
    this.#forward = config;
  }

  dispose(): void {
    this.#forwarder.dispose();
  }

  handle(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined | Promise<Buffer | undefined> {
    // Shorter than a header, or a response: nothing to answer (miekg drops these too).
    if (message.length < 12 || (message[2] & 0x80) !== 0) return undefined;
    const id = message.readUInt16BE(0);
    const flags = message.readUInt16BE(2);
    const copiedFlags = flags & (0x7800 | FLAG_RD | FLAG_CD);
    let packet: DecodedPacket;
    try {
      packet = dnsPacket.decode(message);
    } catch {
      return encodeError(id, copiedFlags, undefined, Rcode.FORMERR, undefined);
    }
    if (((flags >> 11) & 0xf) !== OPCODE_QUERY) return encodeError(id, copiedFlags, undefined, Rcode.NOTIMP, undefined);
    const questions = packet.questions ?? [];
    const additionals = packet.additionals ?? [];
    if (questions.length !== 1 || (packet.answers ?? []).length > 1 || (packet.authorities ?? []).length > 1 || additionals.length > 2) {
      return encodeError(id, copiedFlags, undefined, Rcode.FORMERR, undefined);
    }
    const opt = additionals.find((a): a is OptAnswer => a.type === 'OPT');
    const question = questions[0];
    const query: Query = { id, copiedFlags, question, opt };
    if (opt !== undefined && opt.ednsVersion > 0) {
      // RFC 6891: an unknown EDNS version gets BADVERS, with no question (as CoreDNS).
      return encodeError(id, copiedFlags, undefined, Rcode.BADVERS, opt);
    }
    if ((question.class ?? 'IN') !== 'IN') return encodeError(id, copiedFlags, question, Rcode.REFUSED, opt);

    const limit = transport === 'tcp' ? MAX_MSG_SIZE : Math.max(MIN_UDP_SIZE, opt?.udpPayloadSize ?? MIN_UDP_SIZE);
    const lname = question.name.replace(/\.$/, '').toLowerCase();
    // A stub domain more specific than the zone we serve wins, as a more specific CoreDNS server block.
    const stub = stubDomainOf(this.#forward, lname);
    const zone = zoneOf(this.#index, lname);
    if (stub !== undefined && (zone === undefined || stub.length > zone.length)) {
      return this.#forwardOrFail(message, query, transport);
    }
    const r = resolve(this.#index, { name: question.name, type: question.type });
    if (r.kind === 'next') return this.#forwardOrFail(message, query, transport);
    if (r.chase !== undefined) return this.#chase(query, r, r.chase, transport, limit);
    return this.#encodeAnswer(query, r, [], limit);
  }

  /** Forwards the client's message as is; SERVFAIL when there is nowhere to send it or nobody answers. */
  async #forwardOrFail(message: Buffer, query: Query, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const target = upstreamsFor(this.#forward, query.question.name.replace(/\.$/, '').toLowerCase());
    if (target !== undefined) {
      const out = await this.#forwarder.forward(message, target.servers, transport);
      if (out !== undefined) return out;
    }
    return encodeError(query.id, query.copiedFlags, query.question, Rcode.SERVFAIL, query.opt);
  }

  /** Completes a CNAME to outside the zone through forwarding, appending what comes back. */
  async #chase(query: Query, answer: DnsAnswer, chase: DnsQuestion, transport: 'udp' | 'tcp', limit: number): Promise<Buffer> {
    let extra: Answer[] = [];
    const target = upstreamsFor(this.#forward, chase.name.replace(/\.$/, '').toLowerCase());
    if (target !== undefined) {
      const q: Packet = {
        type: 'query',
        id: randomInt(0, 0x10000),
        flags: FLAG_RD,
        questions: [{ name: chase.name, type: chase.type as Question['type'], class: 'IN' }],
      };
      const out = await this.#forwarder.forward(dnsPacket.encode(q), target.servers, transport);
      if (out !== undefined) {
        try {
          extra = dnsPacket.decode(out).answers ?? [];
        } catch {
          extra = [];
        }
      }
    }
    return this.#encodeAnswer(query, answer, extra, limit);
  }

  #encodeAnswer(query: Query, r: DnsAnswer, extra: readonly Answer[], limit: number): Buffer {
    let answers = [...(r.answers as readonly Answer[]), ...extra];
    if (this.#loadBalance && answers.length > 1) answers = roundRobin(answers);
    const packet: Packet = {
      type: 'response',
      id: query.id,
      flags: query.copiedFlags | (r.authoritative ? FLAG_AA : 0) | (r.rcode & 0xf),
      questions: [query.question],
      answers,
      authorities: [...(r.authorities as readonly Answer[])],
      additionals: [...(r.additionals as readonly Answer[])],
    };
    return encodeWithin(packet, replyOpt(query.opt, r.rcode), limit);
  }
}

/** The OPT record of a reply: the client's payload size echoed, version 0, its DO bit, no options. */
function replyOpt(opt: OptAnswer | undefined, rcode: number): OptAnswer | undefined {
  if (opt === undefined) return undefined;
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: opt.udpPayloadSize,
    extendedRcode: rcode >> 4,
    ednsVersion: 0,
    flags: opt.flags & DO_BIT,
    flag_do: (opt.flags & DO_BIT) !== 0,
    options: [],
  };
}

function encodeError(id: number, copiedFlags: number, question: Question | undefined, rcode: number, opt: OptAnswer | undefined): Buffer {
  const packet: Packet = {
    type: 'response',
    id,
    flags: copiedFlags | (rcode & 0xf),
    questions: question ? [question] : [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  return encodeWithin(packet, replyOpt(opt, rcode), MAX_MSG_SIZE);
}

/**
 * Encodes `packet` (plus `opt`) in at most `limit` bytes. Past the limit, records are kept in order
 * (answers, then authorities, then additionals) while they fit and TC is set, as miekg's Truncate.
 */
function encodeWithin(packet: Packet, opt: OptAnswer | undefined, limit: number): Buffer {
  const additionals = packet.additionals ?? [];
  const full: Packet = opt ? { ...packet, additionals: [...additionals, opt] } : packet;
  const whole = dnsPacket.encode(full);
  if (whole.length <= limit) return whole;
  let size = dnsPacket.encodingLength({ questions: packet.questions ?? [], additionals: opt ? [opt] : [] });
  let dropped = false;
  const fit = (list: readonly Answer[]): Answer[] => {
    const kept: Answer[] = [];
    for (const rr of list) {
      const n = dnsPacket.encodingLength({ answers: [rr] }) - HEADER_SIZE;
      if (dropped || size + n > limit) {
        dropped = true;
        continue;
      }
      size += n;
      kept.push(rr);
    }
    return kept;
  };
  const answers = fit(packet.answers ?? []);
  const authorities = fit(packet.authorities ?? []);
  const extra = fit(additionals);
  return dnsPacket.encode({
    ...packet,
    flags: (packet.flags ?? 0) | FLAG_TC,
    answers,
    authorities,
    additionals: opt ? [...extra, opt] : extra,
  });
}

/** CoreDNS's loadbalance: CNAMEs first, then other records, then the address records shuffled. */
function roundRobin(records: readonly Answer[]): Answer[] {
  const cnames: Answer[] = [];
  const addresses: Answer[] = [];
  const rest: Answer[] = [];
  for (const r of records) {
    if (r.type === 'CNAME') cnames.push(r);
    else if (r.type === 'A' || r.type === 'AAAA') addresses.push(r);
    else rest.push(r);
  }
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [addresses[i], addresses[j]] = [addresses[j], addresses[i]];
  }
  return [...cnames, ...rest, ...addresses];
}
