// Ingress benchmark: requests per second through the ingress proxy (host and path routing over a
// table of 100 Ingresses, keep-alive to the endpoint) beside the same backend hit directly, in the
// same run: the proxy in one process, and in one worker process per core. Backend and proxy run in
// processes of their own; the load generator is a lean keep-alive HTTP/1.1 client so that its own
// cost is the same small constant for every target.
// Usage: npm run bench -- ingress [seconds-per-target] [concurrency] [workers]
//        (defaults 5, 32 and the number of cores)

import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Ingress } from '../src/api/types/networking_v1.ts';
import type { Upstream } from '../src/ingress/backends.ts';
import { selfSignedCertificate } from '../src/ingress/certificates.ts';
import { IngressProxy } from '../src/ingress/proxy.ts';
import { ProxyWorkers } from '../src/ingress/proxy_workers.ts';
import { buildRouteTable } from '../src/ingress/routing.ts';

const INGRESSES = 100;
const HOST = 'shop-42.example.com';
const PATH = '/api/v1/items';
const BODY = JSON.stringify({ ok: true, items: Array.from({ length: 8 }, (_, i) => ({ id: i, name: `item-${i}` })) });
/** Direct and proxied slices alternate this many times, so outside load hits both alike. */
const ROUNDS = 2;

/** What a child process reports once it listens. */
interface Ready {
  readonly port: number;
}

/** Runs in the child: the backend, or the proxy (in `workers` processes) routing to the backend at `target`. */
async function serve(kind: string, target: number, workers: number): Promise<void> {
  if (workers <= 1) process.on('SIGTERM', () => process.exit(0));
  let port: number;
  if (kind === 'backend') {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  } else {
    const upstream: Upstream = { key: 'bench/api:http', endpoints: [{ host: '127.0.0.1', port: target }] };
    const other: Upstream = { key: 'bench/other:http', endpoints: [{ host: '127.0.0.1', port: 9 }] };
    const ingresses: Ingress[] = Array.from({ length: INGRESSES }, (_, i) => ({
      metadata: { name: `shop-${i}`, namespace: 'bench', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: {
        rules: [{
          host: `shop-${i}.example.com`,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { name: 'http' } } } },
              { path: '/static', pathType: 'Prefix', backend: { service: { name: 'other', port: { name: 'http' } } } },
              { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } },
              { path: '/healthz', pathType: 'Exact', backend: { service: { name: 'other', port: { name: 'http' } } } },
            ],
          },
        }],
      },
    }));
    const routes = buildRouteTable<Upstream>(ingresses, (_ns, b) => (b.service?.name === 'api' ? upstream : other));
    const options = { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', fallbackCertificate: await selfSignedCertificate() };
    if (workers > 1) {
      const pw = await ProxyWorkers.start(workers, options, { routes, certs: new Map() });
      process.on('SIGTERM', () => void pw.dispose().finally(() => process.exit(0)));
      port = pw.httpPort;
    } else {
      const proxy = new IngressProxy({ routes, certs: new Map() }, options);
      await proxy.listen();
      port = proxy.httpPort;
    }
  }
  process.send?.({ port } satisfies Ready);
}

function startChild(kind: 'backend' | 'proxy', target: number, workers = 1): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, String(target), String(workers)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
    child.once('message', (m) => resolve({ child, port: (m as Ready).port }));
  });
}

/**
 * Closed-loop load: `concurrency` keep-alive connections, each sending the next GET as soon as the
 * previous reply (framed by Content-Length) is complete. Returns completed requests and latencies.
 */
async function load(port: number, ms: number, concurrency: number): Promise<{ count: number; errors: number; latencies: number[] }> {
  const req = Buffer.from(`GET ${PATH} HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: tkube-bench\r\nAccept: */*\r\n\r\n`);
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const conns = Array.from({ length: concurrency }, () => new Promise<void>((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= end) {
        sock.end();
        return;
      }
      sentAt = performance.now();
      sock.write(req);
    };
    sock.on('connect', send);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buf.toString('latin1', 0, headEnd);
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!m) {
          errors++;
          sock.destroy();
          return;
        }
        const total = headEnd + 4 + Number(m[1]);
        if (buf.length < total) return;
        if (!head.startsWith('HTTP/1.1 200')) errors++;
        buf = buf.subarray(total);
        latencies.push(performance.now() - sentAt);
        send();
      }
    });
    sock.on('error', () => {
      errors++;
    });
    sock.on('close', () => resolve());
  }));
  await Promise.all(conns);
  return { count: latencies.length, errors, latencies };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(args: readonly string[]): Promise<void> {
  const seconds = Number(args[0] ?? 5);
  const concurrency = Number(args[1] ?? 32);
  const workers = Number(args[2] ?? availableParallelism());
  if (!(seconds > 0)) throw new Error(`seconds-per-target: must be a positive number, got ${JSON.stringify(args[0])}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency: must be a positive integer, got ${JSON.stringify(args[1])}`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: must be a positive integer, got ${JSON.stringify(args[2])}`);

  const children: ChildProcess[] = [];
  try {
    const backend = await startChild('backend', 0);
    children.push(backend.child);
    const single = await startChild('proxy', backend.port, 1);
    children.push(single.child);
    const targets: [string, number][] = [['backend direct', backend.port], ['ingress, 1 process', single.port]];
    if (workers > 1) {
      const multi = await startChild('proxy', backend.port, workers);
      children.push(multi.child);
      targets.push([`ingress, ${workers} workers`, multi.port]);
    }
    process.stderr.write(`bench ingress: GET ${HOST}${PATH} (${BODY.length} B reply), ${INGRESSES} Ingresses, ${seconds}s per target in ${ROUNDS} slices, ${concurrency} keep-alive connections\n`);
    for (const [, port] of targets) await load(port, 500, concurrency); // warm-up
    const results = new Map(targets.map(([name]) => [name, { count: 0, errors: 0, latencies: [] as number[] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, port] of targets) {
        const r = await load(port, (seconds * 1000) / ROUNDS, concurrency);
        const acc = results.get(name)!;
        acc.count += r.count;
        acc.errors += r.errors;
        for (const l of r.latencies) acc.latencies.push(l);
      }
    }
    console.log('target                 requests/s    p50 ms    p99 ms    errors');
    const rps = new Map<string, number>();
    for (const [name] of targets) {
      const r = results.get(name)!;
      const sorted = [...r.latencies].sort((a, b) => a - b);
      rps.set(name, r.count / seconds);
      console.log(`${name.padEnd(22)} ${(r.count / seconds).toFixed(0).padStart(10)} ${percentile(sorted, 50).toFixed(3).padStart(9)} ${percentile(sorted, 99).toFixed(3).padStart(9)} ${String(r.errors).padStart(9)}`);
    }
    console.log('');
    const direct = rps.get('backend direct')!;
    for (const [name] of targets.slice(1)) {
      const ratio = rps.get(name)! / direct;
      console.log(`ratio ${name} / direct: ${(ratio * 100).toFixed(0)}% (target >= 50%: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
    }
    console.log('backend and proxies are separate processes on 127.0.0.1; the proxy routes by host and path and');
    console.log('keeps keep-alive connections to the backend; the same load generator drives every target.');
  } finally {
    for (const c of children) c.kill();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--serve') {
  await serve(process.argv[3] ?? 'backend', Number(process.argv[4] ?? 0), Number(process.argv[5] ?? 1));
}
