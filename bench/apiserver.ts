// API server benchmark: create, get, update, list of 10k objects and watch fan-out through HTTPS
// (HTTP/2, the admin client certificate) on a SQLite-backed server, each printed beside the same
// operation done directly on the server's store in the same run, with their ratio.
// Usage: npm run bench -- apiserver
import { connect, type ClientHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../src/testing/test_server.ts';
import type { Store } from '../src/storage/types.ts';

const CONCURRENCY = 32;
const PHASE_MS = 2000;
const LIST_OBJECTS = 10_000;
const LIST_ROUNDS = 20;
const WATCHERS = 1000;
const WATCH_WRITES = 50;

interface Sample { readonly ops: number; readonly seconds: number; readonly lat: number[] }

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs `op(i)` from CONCURRENCY loops for PHASE_MS; returns throughput and latencies. */
async function phase(op: (i: number) => Promise<void>): Promise<Sample> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  const deadline = start + PHASE_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      await op(i);
      lat.push(performance.now() - t);
    }
  }));
  return { ops: lat.length, seconds: (performance.now() - start) / 1000, lat };
}

function request(session: ClientHttp2Session, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const ct = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const req = session.request({ ':method': method, ':path': path, accept: 'application/json', ...(body ? { 'content-type': ct } : {}) });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    req.end(body);
  });
}

function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench', tier: 'x' } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'x'.repeat(600) }] }] },
  });
}

function row(op: string, api: Sample | number, raw: Sample | number, unit: string): string {
  const a = typeof api === 'number' ? api : api.ops / api.seconds;
  const r = typeof raw === 'number' ? raw : raw.ops / raw.seconds;
  const ratio = unit === 'ops/s' ? a / r : r / a;
  const lat = typeof api === 'number' ? '' : `p50 ${pct(api.lat, 50).toFixed(2)} ms, p99 ${pct(api.lat, 99).toFixed(2)} ms`;
  return `${op.padEnd(34)} ${a.toFixed(unit === 'ops/s' ? 0 : 2).padStart(10)} ${unit.padEnd(6)} raw ${r.toFixed(unit === 'ops/s' ? 0 : 2).padStart(10)}  ratio ${(ratio * 100).toFixed(0).padStart(4)}%  ${lat}`;
}

export async function run(): Promise<void> {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/tkube-bench-'));
  const s: TestServer = await startTestServer({ endpoint: `sqlite://${join(dir, 'state.db')}` });
  const store: Store = s.store;
  const tls = join(s.dir, 'tls');
  const session = connect(s.url, {
    ca: await readFile(join(tls, 'ca.crt')), cert: await readFile(join(tls, 'admin.crt')), key: await readFile(join(tls, 'admin.key')),
  });
  session.setMaxListeners(0);
  const lines: string[] = [];
  try {
    await request(session, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }));
    const rawValue = Buffer.from(podBody('raw'));

    // create
    const apiCreate = await phase((i) => request(session, 'POST', '/api/v1/namespaces/bench/pods', podBody(`c${i}`)).then((r) => { if (r.status !== 201) throw new Error(r.text); }));
    const rawCreate = await phase((i) => store.create(`/bench-raw/create/${i}`, rawValue).then(() => undefined));
    lines.push(row('create (pods)', apiCreate, rawCreate, 'ops/s'));

    // get
    const created = apiCreate.ops;
    const apiGet = await phase((i) => request(session, 'GET', `/api/v1/namespaces/bench/pods/c${i % created}`).then(() => undefined));
    const rawGet = await phase((i) => store.get(`/bench-raw/create/${i % rawCreate.ops}`).then(() => undefined));
    lines.push(row('get', apiGet, rawGet, 'ops/s'));

    // update (label change, unconditional)
    const apiUpdate = await phase((i) => request(session, 'PATCH', `/api/v1/namespaces/bench/pods/c${i % created}`, JSON.stringify({ metadata: { labels: { n: String(i) } } }))
      .then((r) => { if (r.status !== 200) throw new Error(r.text); }));
    const rawUpdate = await phase(async (i) => {
      const key = `/bench-raw/create/${i % rawCreate.ops}`;
      for (;;) {
        const cur = await store.get(key);
        try { await store.update(key, rawValue, cur.kv!.modRevision); return; } catch { /* conflict: retry */ }
      }
    });
    lines.push(row('update (merge patch)', apiUpdate, rawUpdate, 'ops/s'));

    // list of 10k from the watch cache (resourceVersion=0) vs raw store list
    for (let i = created; i < LIST_OBJECTS; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, LIST_OBJECTS - i) }, (_, j) => request(session, 'POST', '/api/v1/namespaces/bench/pods', podBody(`c${i + j}`))));
    }
    const listLat: number[] = [];
    for (let r = 0; r < LIST_ROUNDS; r++) {
      const t = performance.now();
      const res = await request(session, 'GET', '/api/v1/namespaces/bench/pods?resourceVersion=0');
      listLat.push(performance.now() - t);
      if (r === 0 && (JSON.parse(res.text) as { items: unknown[] }).items.length < LIST_OBJECTS) throw new Error('list returned too few items');
    }
    const rawListLat: number[] = [];
    for (let r = 0; r < LIST_ROUNDS; r++) {
      const t = performance.now();
      await store.list('/registry/pods/bench/');
      rawListLat.push(performance.now() - t);
    }
    lines.push(`${'list 10k pods (rv=0, watch cache)'.padEnd(34)} p50 ${pct(listLat, 50).toFixed(1)} ms, p99 ${pct(listLat, 99).toFixed(1)} ms   raw store list p50 ${pct(rawListLat, 50).toFixed(1)} ms, p99 ${pct(rawListLat, 99).toFixed(1)} ms  ratio ${((pct(rawListLat, 99) / pct(listLat, 99)) * 100).toFixed(0)}%`);

    // watch fan-out: WATCHERS watches of one object over one HTTP/2 connection; one writer
    const { rv } = JSON.parse((await request(session, 'GET', '/api/v1/namespaces/bench/pods/c0')).text).metadata as { rv: string } & Record<string, string>;
    void rv;
    const latencies: number[] = [];
    let writeStart = 0;
    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => new Promise<{ close(): void }>((resolve) => {
      const req = session.request({ ':method': 'GET', ':path': '/api/v1/namespaces/bench/pods?watch=true&fieldSelector=metadata.name%3Dc0&resourceVersion=0', accept: 'application/json' });
      let buf = '';
      let first = true;
      req.on('response', () => resolve({ close: () => req.close() }));
      req.on('data', (c: Buffer) => {
        buf += c.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          buf = buf.slice(i + 1);
          if (first) { first = false; continue; } // the synthetic ADDED
          latencies.push(performance.now() - writeStart);
        }
      });
      req.on('error', () => undefined);
    })));
    await new Promise((r) => setTimeout(r, 300));
    for (let w = 0; w < WATCH_WRITES; w++) {
      const before = latencies.length;
      writeStart = performance.now();
      await request(session, 'PATCH', '/api/v1/namespaces/bench/pods/c0', JSON.stringify({ metadata: { labels: { w: String(w) } } }));
      const deadline = performance.now() + 5000;
      while (latencies.length < before + WATCHERS && performance.now() < deadline) await new Promise((r) => setImmediate(r));
    }
    for (const w of watchers) w.close();
    // raw: WATCHERS storage watches of the same key, one writer
    const rawLat: number[] = [];
    let rawStart = 0;
    const cur = await store.get('/bench-raw/create/0');
    const rawWatches = Array.from({ length: WATCHERS }, () => store.watch('/bench-raw/create/0', { fromRevision: cur.revision, exact: true }, {
      onEvents: (evs) => { for (let k = 0; k < evs.length; k++) rawLat.push(performance.now() - rawStart); },
      onError: () => undefined,
    }));
    for (let w = 0; w < WATCH_WRITES; w++) {
      const before = rawLat.length;
      rawStart = performance.now();
      const c = await store.get('/bench-raw/create/0');
      await store.update('/bench-raw/create/0', rawValue, c.kv!.modRevision);
      const deadline = performance.now() + 5000;
      while (rawLat.length < before + WATCHERS && performance.now() < deadline) await new Promise((r) => setImmediate(r));
    }
    for (const w of rawWatches) w.dispose();
    lines.push(`${`watch fan-out (${WATCHERS} watchers)`.padEnd(34)} p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms (${latencies.length} events)   raw store watch p50 ${pct(rawLat, 50).toFixed(1)} ms, p99 ${pct(rawLat, 99).toFixed(1)} ms`);
  } finally {
    session.close();
    await s.stop();
    await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
  }
  console.log(`tkube API server vs its own SQLite store (same run, ${CONCURRENCY} concurrent clients, ${PHASE_MS} ms per phase)`);
  for (const l of lines) console.log(l);
  console.log('targets: create >= 40% of raw; list 10k p99 < 150 ms; watch fan-out p99 < 100 ms');
}
