// Ingress benchmark: requests per second through the ingress proxy (host and path routing over a
// table of 100 Ingresses, keep-alive to the endpoint) beside the same backend hit directly, in the
// same run. Backend and proxy each run in their own process; the load generator is a lean
// keep-alive HTTP/1.1 client so that its own cost is the same small constant for both targets.
// Usage: npm run bench -- ingress [seconds-per-slice] [concurrency]   (defaults 5 and 32)

import { fork } from 'node:child_process';
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

/** Runs in the child: the backend, or the proxy routing to the backend at `target`. */
async function serve(kind: string, target: number): Promise<void> {
  // Exit normally when the parent kills us, so --cpu-prof (via NODE_OPTIONS) can write its profile.
  process.on('SIGTERM', () => process.exit(0));
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
    const proxy = new IngressProxy({ routes, certs: new Map() }, { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', fallbackCertificate: await selfSignedCertificate() });
    await proxy.listen();
    port = proxy.httpPort;
  }
  process.send?.({ port } satisfies Ready);
}

function startChild(kind: 'backend' | 'proxy', target: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, String(target)], {
    execArgv: ['--import', 'tsx', ...(process.env['TMP_PROF'] && kind === 'proxy' ? ['--cpu-prof', `--cpu-prof-dir=${process.env['TMP_PROF']}`] : [])],
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
  if (!(seconds > 0)) throw new Error(`seconds-per-slice: must be a positive number, got ${JSON.stringify(args[0])}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency: must be a positive integer, got ${JSON.stringify(args[1])}`);

  const backend = await startChild('backend', 0);
  try {
    const proxy = await startChild('proxy', backend.port);
    try {
      process.stderr.write(`bench ingress: GET ${HOST}${PATH} (${BODY.length} B reply), ${INGRESSES} Ingresses, ${ROUNDS} x ${seconds}s slices each, ${concurrency} keep-alive connections\n`);
      await load(backend.port, 500, concurrency); // warm-up
      await load(proxy.port, 500, concurrency);
      const results = { direct: { count: 0, errors: 0, latencies: [] as number[] }, ingress: { count: 0, errors: 0, latencies: [] as number[] } };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, port] of [['direct', backend.port], ['ingress', proxy.port]] as const) {
          const r = await load(port, (seconds * 1000) / ROUNDS, concurrency);
          results[name].count += r.count;
          results[name].errors += r.errors;
          for (const l of r.latencies) results[name].latencies.push(l);
        }
      }
      const row = (name: 'direct' | 'ingress') => {
        const r = results[name];
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return { rps: r.count / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors: r.errors };
      };
      const d = row('direct');
      const i = row('ingress');
      console.log('target          requests/s    p50 ms    p99 ms    errors');
      for (const [name, r] of [['backend direct', d], ['through ingress', i]] as const) {
        console.log(`${name.padEnd(15)} ${r.rps.toFixed(0).padStart(10)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(9)} ${String(r.errors).padStart(9)}`);
      }
      console.log('');
      const ratio = i.rps / d.rps;
      console.log(`ratio ingress/direct: ${(ratio * 100).toFixed(0)}% of direct throughput (target >= 50%: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
      console.log('backend and proxy are separate processes on 127.0.0.1; the proxy routes by host and path and keeps');
      console.log('keep-alive connections to the backend; the same load generator drives both targets.');
    } finally {
      proxy.child.kill();
    }
  } finally {
    backend.child.kill();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--serve') {
  await serve(process.argv[3] ?? 'backend', Number(process.argv[4] ?? 0));
}
