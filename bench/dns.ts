// DNS benchmark: queries per second and latency (p50/p99) of the cluster DNS server answering A
// questions over UDP with 1,000 Services x 3 endpoints loaded, beside a plain UDP echo server that
// replies with the same number of bytes (the floor), measured in the same run. Each server runs in
// its own child process so the load generator does not share its event loop.
// Usage: npm run bench -- dns [seconds-per-slice] [concurrency]   (defaults 2 and 16)

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import dnsPacket from 'dns-packet';
import { DnsIndex } from '../src/dns/records.ts';
import { startDnsServer } from '../src/dns/server.ts';
import { clusterIPService, endpointSlice, namespace } from '../src/dns/dns_fixture.ts';

const SERVICES = 1000;
/** Server and echo runs alternate this many times, so outside load hits both alike. */
const ROUNDS = 3;
const QUERY_TIMEOUT_MS = 1000;

/** What a child process reports once it listens. */
interface Ready {
  readonly port: number;
}

/** Runs in the child: serves DNS (with the benchmark cluster loaded) or echo until killed. */
async function serve(kind: string, replySize: number): Promise<void> {
  let port: number;
  if (kind === 'dns') {
    const index = new DnsIndex();
    index.apply({ type: 'upsert', kind: 'Namespace', object: namespace('default') });
    for (let i = 0; i < SERVICES; i++) {
      index.apply({ type: 'upsert', kind: 'Service', object: clusterIPService('default', `svc-${i}`, `10.43.${i >> 8}.${i & 255}`, [{ name: 'http', port: 80 }]) });
      const eps = [0, 1, 2].map((j) => ({ ip: `10.42.${(i * 3 + j) >> 8}.${(i * 3 + j) & 255}`, ready: true }));
      index.apply({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', `svc-${i}`, `svc-${i}-a`, eps, [{ name: 'http', port: 8080 }]) });
    }
    index.markSynced();
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, index });
    port = server.port;
  } else {
    const reply = Buffer.alloc(replySize);
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    socket.on('message', (msg, rinfo) => {
      // Same work a minimal responder must do: copy the ID, send a reply of the DNS reply's size.
      msg.copy(reply, 0, 0, 2);
      socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    port = socket.address().port;
  }
  process.send?.({ port } satisfies Ready);
}

function startChild(kind: 'dns' | 'echo', replySize: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, String(replySize)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.once('message', (m) => resolve({ child, port: (m as Ready).port }));
  });
}

/** Pre-encoded A queries for random Services (ID patched per send). */
function queries(n: number): Buffer[] {
  return Array.from({ length: n }, (_, k) =>
    dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: `svc-${(k * 7919) % SERVICES}.default.svc.cluster.local` }],
    }),
  );
}

/** Closed-loop load: `concurrency` queries in flight on one socket for `ms`; latencies in ms. */
async function load(port: number, ms: number, concurrency: number, pool: readonly Buffer[]): Promise<{ count: number; lost: number; latencies: number[] }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let lost = 0;
  let nextId = 0;
  let k = 0;
  const end = performance.now() + ms;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let inFlight = 0;
  const send = (): void => {
    if (performance.now() >= end) {
      if (inFlight === 0) finish();
      return;
    }
    const id = nextId;
    nextId = (nextId + 1) & 0xffff;
    const q = pool[k++ % pool.length];
    q.writeUInt16BE(id, 0);
    sentAt.set(id, performance.now());
    inFlight++;
    socket.send(q, port, '127.0.0.1');
  };
  socket.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const t = sentAt.get(id);
    if (t === undefined) return;
    sentAt.delete(id);
    inFlight--;
    latencies.push(performance.now() - t);
    send();
  });
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [id, t] of sentAt) {
      if (now - t > QUERY_TIMEOUT_MS) {
        sentAt.delete(id);
        inFlight--;
        lost++;
        send();
      }
    }
  }, 100);
  for (let i = 0; i < concurrency; i++) send();
  await finished;
  clearInterval(sweeper);
  await new Promise<void>((r) => socket.close(() => r()));
  return { count: latencies.length, lost, latencies };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function run(args: readonly string[]): Promise<void> {
  const seconds = Number(args[0] ?? 2);
  const concurrency = Number(args[1] ?? 16);
  if (!(seconds > 0)) throw new Error(`seconds-per-slice: must be a positive number, got ${JSON.stringify(args[0])}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency: must be a positive integer, got ${JSON.stringify(args[1])}`);
  const pool = queries(997);

  const dns = await startChild('dns', 0);
  try {
    // Size one real reply, so the echo sends the same bytes back.
    const probe = await new Promise<Buffer>((resolve) => {
      const s = createSocket('udp4');
      s.once('message', (m) => {
        s.close();
        resolve(m);
      });
      s.send(pool[0], dns.port, '127.0.0.1');
    });
    const replySize = probe.length;
    const echo = await startChild('echo', replySize);
    try {
      process.stderr.write(`bench dns: query ${pool[0].length} B, reply ${replySize} B, ${ROUNDS} x ${seconds}s slices each, concurrency ${concurrency}\n`);
      await load(dns.port, 300, concurrency, pool); // warm-up
      await load(echo.port, 300, concurrency, pool);
      const results = { dns: { count: 0, lost: 0, latencies: [] as number[] }, echo: { count: 0, lost: 0, latencies: [] as number[] } };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, port] of [['dns', dns.port], ['echo', echo.port]] as const) {
          const r = await load(port, seconds * 1000, concurrency, pool);
          results[name].count += r.count;
          results[name].lost += r.lost;
          for (const l of r.latencies) results[name].latencies.push(l);
        }
      }
      const total = ROUNDS * seconds;
      const row = (name: 'dns' | 'echo') => {
        const r = results[name];
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return { qps: r.count / total, p50: percentile(sorted, 50), p99: percentile(sorted, 99), lost: r.lost };
      };
      const d = row('dns');
      const e = row('echo');
      console.log('target        queries/s    p50 ms    p99 ms    lost');
      for (const [name, r] of [['tkube dns', d], ['udp echo', e]] as const) {
        console.log(`${name.padEnd(12)} ${r.qps.toFixed(0).padStart(10)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(9)} ${String(r.lost).padStart(7)}`);
      }
      console.log('');
      console.log(`ratio dns/echo: throughput ${(d.qps / e.qps).toFixed(2)}, p99 ${(d.p99 / e.p99).toFixed(2)}`);
      console.log(`A questions for random Services among ${SERVICES} (x 3 endpoints), ${concurrency} in flight on one client socket;`);
      console.log('each server is its own process on 127.0.0.1; the echo answers with as many bytes as the DNS reply.');
    } finally {
      echo.child.kill();
    }
  } finally {
    dns.child.kill();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--serve') {
  await serve(process.argv[3] ?? 'dns', Number(process.argv[4] ?? 0));
}
