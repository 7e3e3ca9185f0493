// Tests of the DNS server with real UDP and TCP queries on 127.0.0.1: answers, NXDOMAIN with SOA,
// EDNS0, truncation, malformed input, concurrency, and forwarding to fake upstreams on 127.0.0.1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import { DnsIndex } from './records.ts';
import { startDnsServer } from './server.ts';
import type { DnsServer } from './server.ts';
import { parseDnsConfigMap, NO_FORWARDING } from './dns_config.ts';
import { endpointSlice, fixtureEvents, service } from './dns_fixture.ts';

const TIMEOUT_MS = 3000;

// Sequential IDs: random ones collide (birthday odds) when a test sends hundreds of queries and
// matches replies by ID.
let nextId = 1;
function query(name: string, type: string, extra: Partial<Packet> = {}): Packet {
  nextId = (nextId % 65535) + 1;
  return {
    type: 'query',
    id: nextId,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  };
}

function edns(udpPayloadSize: number, ednsVersion = 0, flags = 0): OptAnswer {
  return { type: 'OPT', name: '.', udpPayloadSize, extendedRcode: 0, ednsVersion, flags, flag_do: false, options: [] };
}

/** A UDP client socket that yields replies in arrival order. */
class UdpClient {
  readonly socket: UdpSocket = createSocket('udp4');
  readonly #queue: Buffer[] = [];
  readonly #waiters: ((b: Buffer) => void)[] = [];
  readonly port: number;

  constructor(port: number) {
    this.port = port;
    this.socket.on('message', (msg) => {
      const w = this.#waiters.shift();
      if (w) w(msg);
      else this.#queue.push(msg);
    });
  }

  send(buf: Buffer): void {
    this.socket.send(buf, this.port, '127.0.0.1');
  }

  next(): Promise<Buffer> {
    const b = this.#queue.shift();
    if (b) return Promise.resolve(b);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP reply in time')), TIMEOUT_MS);
      this.#waiters.push((msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
  }

  async ask(p: Packet): Promise<DecodedPacket> {
    this.send(dnsPacket.encode(p));
    const raw = await this.next();
    return dnsPacket.decode(raw);
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends raw TCP frames (already length-prefixed) and collects `count` replies. */
function tcpExchange(port: number, payload: Buffer, count: number): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const replies: DecodedPacket[] = [];
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${replies.length} of ${count} TCP replies in time`));
    }, TIMEOUT_MS);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        const n = buffered.readUInt16BE(0);
        replies.push(dnsPacket.decode(buffered.subarray(2, n + 2)));
        buffered = buffered.subarray(n + 2);
      }
      if (replies.length === count) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
  });
}

/** Resolves when the peer closes the connection after `payload`. */
function tcpClosedAfter(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server kept the connection open'));
    }, TIMEOUT_MS);
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(payload));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function frame(buf: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(buf.length);
  return Buffer.concat([len, buf]);
}

function show(a: Answer): string {
  if (a.type === 'OPT') return 'OPT';
  if (a.type === 'SRV') return `${a.name} SRV ${a.data.priority} ${a.data.weight} ${a.data.port} ${a.data.target}`;
  if (a.type === 'SOA') return `${a.name} SOA ${a.data.mname} ${a.data.rname} ${a.data.minimum}`;
  return `${a.name} ${a.type} ${String(a.data)}`;
}

function rcode(p: DecodedPacket): string {
  return (p as DecodedPacket & { rcode: string }).rcode;
}

/** A fake upstream DNS server on 127.0.0.1: answers A 192.0.2.<n> for every name, or stays silent. */
async function fakeUpstream(lastOctet: number, silent = false): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const seen: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = (q.questions ?? [])[0];
    seen.push(`${question.name} ${question.type}`);
    if (silent) return;
    const reply: Packet = {
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [question],
      answers: question.type === 'A' ? [{ name: question.name, type: 'A', ttl: 60, data: `192.0.2.${lastOctet}` }] : [],
    };
    socket.send(dnsPacket.encode(reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    port: socket.address().port,
    seen,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

describe('DNS server', () => {
  let server: DnsServer;
  let client: UdpClient;

  before(async () => {
    const index = new DnsIndex();
    for (const e of fixtureEvents()) index.apply(e);
    // A headless Service with 60 endpoints: its A answer is over 512 bytes.
    index.apply({ type: 'upsert', kind: 'Service', object: service('default', 'big', { clusterIP: 'None', ports: [{ port: 80 }] }) });
    const eps = Array.from({ length: 60 }, (_, i) => ({ ip: `10.42.9.${i + 1}`, ready: true }));
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', 'big', 'big-1', eps, [{ port: 80 }]) });
    server = await startDnsServer({ host: '127.0.0.1', port: 0, index, forward: NO_FORWARDING, forwarder: { attemptTimeoutMs: 300, totalTimeoutMs: 1000 } });
    client = new UdpClient(server.port);
  });

  after(async () => {
    client.close();
    await server.dispose();
  });

  test('answers A over UDP, authoritative, ID and RD echoed, no RA', async () => {
    const q = query('web.default.svc.cluster.local', 'A');
    const r = await client.ask(q);
    assert.equal(r.id, q.id);
    assert.equal(r.type, 'response');
    assert.equal(rcode(r), 'NOERROR');
    assert.equal(r.flag_aa, true);
    assert.equal(r.flag_rd, true);
    assert.equal(r.flag_ra, false);
    assert.equal(r.flag_tc, false);
    assert.deepEqual((r.questions ?? []).map((x) => `${x.name} ${x.type}`), ['web.default.svc.cluster.local A']);
    assert.deepEqual((r.answers ?? []).map(show), ['web.default.svc.cluster.local A 10.43.0.20']);
    const first = (r.answers ?? [])[0];
    assert.equal(first.type === 'A' ? first.ttl : undefined, 5);
  });

  test('answers SRV with the target addresses as additional records', async () => {
    const r = await client.ask(query('_web._tcp.nginx.default.svc.cluster.local', 'SRV'));
    assert.deepEqual((r.answers ?? []).map(show).sort(), [
      '_web._tcp.nginx.default.svc.cluster.local SRV 0 50 80 web-0.nginx.default.svc.cluster.local',
      '_web._tcp.nginx.default.svc.cluster.local SRV 0 50 80 web-1.nginx.default.svc.cluster.local',
    ]);
    assert.deepEqual((r.additionals ?? []).map(show).sort(), [
      'web-0.nginx.default.svc.cluster.local A 10.42.0.5',
      'web-1.nginx.default.svc.cluster.local A 10.42.0.6',
    ]);
  });

  test('answers PTR for a Service IP', async () => {
    const r = await client.ask(query('20.0.43.10.in-addr.arpa', 'PTR'));
    assert.deepEqual((r.answers ?? []).map(show), ['20.0.43.10.in-addr.arpa PTR web.default.svc.cluster.local']);
  });

  test('answers NXDOMAIN with the zone SOA in the authority section', async () => {
    const r = await client.ask(query('missing.default.svc.cluster.local', 'A'));
    assert.equal(rcode(r), 'NXDOMAIN');
    assert.equal(r.flag_aa, true);
    assert.deepEqual(r.answers, []);
    assert.deepEqual((r.authorities ?? []).map(show), ['cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local 5']);
  });

  test('AAAA of an IPv4-only Service is NOERROR without data', async () => {
    const r = await client.ask(query('web.default.svc.cluster.local', 'AAAA'));
    assert.equal(rcode(r), 'NOERROR');
    assert.deepEqual(r.answers, []);
    assert.equal((r.authorities ?? [])[0]?.type, 'SOA');
  });

  test('names outside the zone are SERVFAIL when nothing forwards', async () => {
    const r = await client.ask(query('example.com', 'A'));
    assert.equal(rcode(r), 'SERVFAIL');
    assert.equal(r.flag_aa, false);
  });

  test('EDNS0: the OPT record is echoed with the client payload size and DO bit', async () => {
    const r = await client.ask(query('web.default.svc.cluster.local', 'A', { additionals: [edns(1232, 0, dnsPacket.DNSSEC_OK)] }));
    const opt = (r.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
    assert.ok(opt, 'reply has an OPT record');
    assert.equal(opt.udpPayloadSize, 1232);
    assert.equal(opt.ednsVersion, 0);
    assert.equal(opt.flag_do, true);
    const plain = await client.ask(query('web.default.svc.cluster.local', 'A'));
    assert.deepEqual(plain.additionals, [], 'no OPT without one in the query');
  });

  test('EDNS0: an unknown version is BADVERS', async () => {
    const r = await client.ask(query('web.default.svc.cluster.local', 'A', { additionals: [edns(4096, 1)] }));
    const opt = (r.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
    assert.ok(opt);
    assert.equal(opt.extendedRcode, 1, 'BADVERS = 16: extended rcode 1, header rcode 0');
    assert.equal(rcode(r), 'NOERROR');
    assert.deepEqual(r.answers, []);
  });

  test('UDP answers over 512 bytes are truncated with TC; EDNS0 and TCP get all of it', async () => {
    const small = await client.ask(query('big.default.svc.cluster.local', 'A'));
    assert.equal(small.flag_tc, true);
    const n = (small.answers ?? []).length;
    assert.ok(n > 0 && n < 60, `some answers fit in 512 bytes, got ${n}`);
    assert.ok(dnsPacket.encodingLength(small) <= 512);

    const large = await client.ask(query('big.default.svc.cluster.local', 'A', { additionals: [edns(4096)] }));
    assert.equal(large.flag_tc, false);
    assert.equal((large.answers ?? []).length, 60);

    const [overTcp] = await tcpExchange(server.port, frame(dnsPacket.encode(query('big.default.svc.cluster.local', 'A'))), 1);
    assert.equal(overTcp.flag_tc, false);
    assert.equal((overTcp.answers ?? []).length, 60);
  });

  test('TCP: length-prefixed, several queries in one write are all answered', async () => {
    const q1 = query('web.default.svc.cluster.local', 'A');
    const q2 = query('missing.default.svc.cluster.local', 'A');
    const q3 = query('_http._tcp.web.default.svc.cluster.local', 'SRV');
    const replies = await tcpExchange(server.port, Buffer.concat([q1, q2, q3].map((q) => frame(dnsPacket.encode(q)))), 3);
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.deepEqual((byId.get(q1.id)?.answers ?? []).map(show), ['web.default.svc.cluster.local A 10.43.0.20']);
    assert.equal(rcode(byId.get(q2.id) as DecodedPacket), 'NXDOMAIN');
    assert.deepEqual((byId.get(q3.id)?.answers ?? []).map(show), ['_http._tcp.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local']);
  });

  test('TCP: a zero-length frame closes the connection', async () => {
    await tcpClosedAfter(server.port, Buffer.from([0, 0]));
  });

  test('malformed UDP input is dropped or FORMERR, and the server keeps answering', async () => {
    // Too short for a header, and a response: dropped (the next reply is the valid query's).
    client.send(Buffer.from([1, 2, 3]));
    const resp = dnsPacket.encode({ type: 'response', id: 7, flags: 0, questions: [{ name: 'x', type: 'A' }] });
    client.send(resp);
    const ok = await client.ask(query('web.default.svc.cluster.local', 'A'));
    assert.equal(rcode(ok), 'NOERROR');
    assert.equal((ok.answers ?? []).length, 1);

    // A readable header with a broken body: FORMERR with the same ID.
    const broken = Buffer.from(dnsPacket.encode(query('web.default.svc.cluster.local', 'A', { id: 4242 })).subarray(0, 20));
    client.send(broken);
    const formerr = dnsPacket.decode(await client.next());
    assert.equal(formerr.id, 4242);
    assert.equal(rcode(formerr), 'FORMERR');

    // Random garbage never crashes it.
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(12 + ((i * 7) % 100));
      for (let j = 0; j < junk.length; j++) junk[j] = (i * 31 + j * 17) & 0xff;
      junk[2] &= 0x7f; // a query, so it is parsed rather than dropped
      const res = await server.handle(junk, 'udp');
      if (res !== undefined) assert.ok(res.length >= 12);
    }
    const still = await client.ask(query('nginx.default.svc.cluster.local', 'A'));
    assert.equal((still.answers ?? []).length, 2);
  });

  test('questions it cannot take: two questions FORMERR, other opcodes NOTIMP, other classes REFUSED', async () => {
    const two = await client.ask({ ...query('a.cluster.local', 'A'), questions: [{ name: 'a', type: 'A' }, { name: 'b', type: 'A' }] });
    assert.equal(rcode(two), 'FORMERR');
    const status = await client.ask({ ...query('web.default.svc.cluster.local', 'A'), flags: 2 << 11 });
    assert.equal(rcode(status), 'NOTIMP');
    const chaos = await client.ask(query('version.bind', 'TXT', { questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] }));
    assert.equal(rcode(chaos), 'REFUSED');
  });

  test('answers 300 concurrent UDP queries correctly', async () => {
    const sockets = Array.from({ length: 10 }, () => new UdpClient(server.port));
    try {
      const names = ['web.default.svc.cluster.local', 'nginx.default.svc.cluster.local', 'missing.default.svc.cluster.local'];
      const all = await Promise.all(
        sockets.map(async (c, i) => {
          const qs = Array.from({ length: 30 }, (_, k) => query(names[(i + k) % 3], 'A'));
          for (const q of qs) c.send(dnsPacket.encode(q));
          const replies: DecodedPacket[] = [];
          for (let k = 0; k < qs.length; k++) replies.push(dnsPacket.decode(await c.next()));
          return { qs, replies };
        }),
      );
      for (const { qs, replies } of all) {
        const byId = new Map(replies.map((r) => [r.id, r]));
        for (const q of qs) {
          const r = byId.get(q.id);
          assert.ok(r, `reply for ${q.id}`);
          const name = (q.questions ?? [])[0].name;
          assert.equal((r.answers ?? []).length, name.startsWith('web') ? 1 : name.startsWith('nginx') ? 2 : 0);
        }
      }
    } finally {
      for (const c of sockets) c.close();
    }
  });
});

describe('DNS server forwarding', () => {
  test('stub domains and upstreams forward to their servers; the reply keeps the client ID', async () => {
    const stub = await fakeUpstream(1);
    const up = await fakeUpstream(2);
    const index = new DnsIndex();
    for (const e of fixtureEvents()) index.apply(e);
    const parsed = parseDnsConfigMap(
      { stubDomains: JSON.stringify({ 'acme.local': [`127.0.0.1:${stub.port}`] }), upstreamNameservers: JSON.stringify([`127.0.0.1:${up.port}`]) },
      { clusterDomain: 'cluster.local', nodeUpstreams: [] },
    );
    assert.ok(parsed.ok);
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, index });
    const client = new UdpClient(server.port);
    try {
      const before = await client.ask(query('www.acme.local', 'A'));
      assert.equal(rcode(before), 'SERVFAIL', 'no forwarding until the config is loaded');

      server.setForwardConfig(parsed.config);
      const q = query('www.acme.local', 'A');
      const r = await client.ask(q);
      assert.equal(r.id, q.id);
      assert.deepEqual((r.answers ?? []).map(show), ['www.acme.local A 192.0.2.1']);
      assert.equal(r.flag_ra, true, "the upstream's reply is passed through");

      const other = await client.ask(query('example.org', 'A'));
      assert.deepEqual((other.answers ?? []).map(show), ['example.org A 192.0.2.2']);

      // Unknown reverse names fall through to forwarding (k3s: fallthrough in-addr.arpa ip6.arpa).
      await client.ask(query('9.9.9.9.in-addr.arpa', 'PTR'));
      assert.ok(up.seen.includes('9.9.9.9.in-addr.arpa PTR'));

      // Cluster names are never forwarded.
      const cluster = await client.ask(query('web.default.svc.cluster.local', 'A'));
      assert.deepEqual((cluster.answers ?? []).map(show), ['web.default.svc.cluster.local A 10.43.0.20']);
      assert.ok(!up.seen.some((s) => s.includes('cluster.local')) && !stub.seen.some((s) => s.includes('cluster.local')));

      // An ExternalName's CNAME target is completed through forwarding.
      const ext = await client.ask(query('ext.default.svc.cluster.local', 'A'));
      assert.deepEqual((ext.answers ?? []).map(show), ['ext.default.svc.cluster.local CNAME www.example.com', 'www.example.com A 192.0.2.2']);
      assert.equal(ext.flag_aa, true);

      // Over TCP the forwarder uses TCP; the fake upstream has none, so this fails over to SERVFAIL.
      const [tcp] = await tcpExchange(server.port, frame(dnsPacket.encode(query('example.org', 'A'))), 1);
      assert.equal(rcode(tcp), 'SERVFAIL');
    } finally {
      client.close();
      await server.dispose();
      await stub.close();
      await up.close();
    }
  });

  test('an upstream that never answers gives SERVFAIL after the timeout', async () => {
    const silent = await fakeUpstream(3, true);
    const index = new DnsIndex();
    index.markSynced();
    const server = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      index,
      forward: { stubDomains: new Map(), upstreams: [{ host: '127.0.0.1', port: silent.port }] },
      forwarder: { attemptTimeoutMs: 100, totalTimeoutMs: 300 },
    });
    const client = new UdpClient(server.port);
    try {
      const r = await client.ask(query('example.net', 'A'));
      assert.equal(rcode(r), 'SERVFAIL');
      assert.deepEqual(silent.seen, ['example.net A']);
    } finally {
      client.close();
      await server.dispose();
      await silent.close();
    }
  });

  test('rejects bad options with the field named', async () => {
    await assert.rejects(startDnsServer({ host: '127.0.0.1', port: 70000, index: new DnsIndex() }), /port: must be an integer/);
    await assert.rejects(startDnsServer({ host: '127.0.0.1', port: 0, index: new DnsIndex(), tcpIdleTimeoutMs: 0 }), /tcpIdleTimeoutMs/);
  });
});
