// API server benchmark: create, get, update, list of 10k objects and watch fan-out through HTTPS
// (HTTP/2, the admin client certificate) on a SQLite-backed server, each printed beside the same
// operation done directly on the server's store in the same run, with their ratio. The clients run
// in a worker thread (apiserver_client.ts), so "server ms/op" is the server thread's own CPU time.
// Usage: npm run bench -- apiserver [--same-thread] [--cpu-prof FILE] (profile of the server thread)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { startTestServer, type TestServer } from '../src/testing/test_server.ts';
import type { Store } from '../src/storage/types.ts';
import { openSession, podBody, runJob, type ClientJob, type ClientResult, type ClientSetup } from './apiserver_client.ts';

const CONCURRENCY = 32;
const PHASE_MS = 2000;
const LIST_OBJECTS = 10_000;
const LIST_ROUNDS = 50;
const WATCHERS = 1000;
const WATCH_WRITES = 50;

interface Sample extends ClientResult {
  /** Milliseconds the server's thread was busy per operation (undefined for the raw store). */
  readonly busyMs?: number;
}

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs `op(i)` from CONCURRENCY loops for PHASE_MS in this thread (the raw store's side). */
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

/**
 * CPU time of this (the server's) thread in ms: Linux's per-thread counters (10 ms ticks), so that
 * other processes on a busy machine do not count; the event loop's busy time elsewhere.
 */
function threadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return performance.eventLoopUtilization().active;
  }
}

/** The load generator: a worker thread, or this thread with --same-thread. */
interface Client {
  run(job: ClientJob): Promise<Sample>;
  close(): Promise<void>;
}

async function startClient(setup: ClientSetup, sameThread: boolean): Promise<Client> {
  const measured = async (job: ClientJob, go: () => Promise<ClientResult>): Promise<Sample> => {
    const before = threadCpuMs();
    const r = await go();
    const used = threadCpuMs() - before;
    return { ...r, busyMs: r.ops > 0 && job.kind !== 'fill' ? used / r.ops : undefined };
  };
  if (sameThread) {
    const session = openSession(setup);
    return {
      run: (job) => measured(job, () => runJob(session, job)),
      close: async () => { await runJob(session, { kind: 'close' }); },
    };
  }
  // Loader hooks are per thread: the worker registers tsx before importing the TypeScript entry.
  const entry = new URL('./apiserver_client.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: setup });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(`client worker: ${JSON.stringify(m)}`))));
  });
  const call = (job: ClientJob): Promise<ClientResult> => new Promise((resolve, reject) => {
    worker.once('message', (m: { ok?: ClientResult; error?: string }) => (m.ok ? resolve(m.ok) : reject(new Error(m.error))));
    worker.postMessage(job);
  });
  return {
    run: (job) => measured(job, () => call(job)),
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ kind: 'close' } satisfies ClientJob);
      await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate();
    },
  };
}

function row(op: string, api: Sample, raw: Sample): string {
  const a = api.ops / api.seconds;
  const r = raw.ops / raw.seconds;
  const busy = api.busyMs === undefined ? '' : `  server ${api.busyMs.toFixed(3)} ms/op`;
  return `${op.padEnd(34)} ${a.toFixed(0).padStart(10)} ops/s raw ${r.toFixed(0).padStart(10)}  ratio ${((a / r) * 100).toFixed(0).padStart(4)}%  p50 ${pct(api.lat, 50).toFixed(2)} ms, p99 ${pct(api.lat, 99).toFixed(2)} ms${busy}`;
}

export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { 'same-thread': { type: 'boolean' }, 'cpu-prof': { type: 'string' } } });
  const dir = await mkdtemp('/tmp/tkube-bench-');
  const s: TestServer = await startTestServer({ endpoint: `sqlite://${join(dir, 'state.db')}` });
  const store: Store = s.store;
  const tls = join(s.dir, 'tls');
  const setup: ClientSetup = {
    url: s.url,
    ca: await readFile(join(tls, 'ca.crt'), 'utf8'), cert: await readFile(join(tls, 'admin.crt'), 'utf8'), key: await readFile(join(tls, 'admin.key'), 'utf8'),
  };
  const sameThread = values['same-thread'] === true;
  const client = await startClient(setup, sameThread);
  let profiler: Session | undefined;
  if (values['cpu-prof']) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const lines: string[] = [];
  try {
    const ns = await s.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }), headers: { 'content-type': 'application/json' } });
    if (ns.status !== 201) throw new Error(`cannot create the bench namespace: ${ns.status}`);
    const rawValue = Buffer.from(podBody('raw'));

    const apiCreate = await client.run({ kind: 'create', ms: PHASE_MS, concurrency: CONCURRENCY });
    const rawCreate = await phase((i) => store.create(`/bench-raw/create/${i}`, rawValue).then(() => undefined));
    lines.push(row('create (pods)', apiCreate, rawCreate));

    const created = apiCreate.ops;
    const apiGet = await client.run({ kind: 'get', ms: PHASE_MS, concurrency: CONCURRENCY, count: created });
    const rawGet = await phase((i) => store.get(`/bench-raw/create/${i % rawCreate.ops}`).then(() => undefined));
    lines.push(row('get', apiGet, rawGet));

    // update (label change, unconditional)
    const apiUpdate = await client.run({ kind: 'update', ms: PHASE_MS, concurrency: CONCURRENCY, count: created });
    const rawUpdate = await phase(async (i) => {
      const key = `/bench-raw/create/${i % rawCreate.ops}`;
      for (;;) {
        const cur = await store.get(key);
        try { await store.update(key, rawValue, cur.kv!.modRevision); return; } catch { /* conflict: retry */ }
      }
    });
    lines.push(row('update (merge patch)', apiUpdate, rawUpdate));

    // list of 10k from the watch cache (resourceVersion=0) vs raw store list
    await client.run({ kind: 'fill', from: created, to: LIST_OBJECTS });
    const list = await client.run({ kind: 'list', rounds: LIST_ROUNDS, expect: LIST_OBJECTS });
    const rawListLat: number[] = [];
    for (let r = 0; r < LIST_ROUNDS; r++) {
      const t = performance.now();
      await store.list('/registry/pods/bench/');
      rawListLat.push(performance.now() - t);
    }
    lines.push(`${'list 10k pods (rv=0, watch cache)'.padEnd(34)} p50 ${pct(list.lat, 50).toFixed(1)} ms, p99 ${pct(list.lat, 99).toFixed(1)} ms   raw store list p50 ${pct(rawListLat, 50).toFixed(1)} ms, p99 ${pct(rawListLat, 99).toFixed(1)} ms  ratio ${((pct(rawListLat, 99) / pct(list.lat, 99)) * 100).toFixed(0)}%  server ${list.busyMs?.toFixed(1)} ms/list`);

    // watch fan-out: WATCHERS watches of one object over one HTTP/2 connection; one writer
    const fan = await client.run({ kind: 'watch', watchers: WATCHERS, writes: WATCH_WRITES });
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
    lines.push(`${`watch fan-out (${WATCHERS} watchers)`.padEnd(34)} p50 ${pct(fan.lat, 50).toFixed(1)} ms, p99 ${pct(fan.lat, 99).toFixed(1)} ms (${fan.lat.length} events)   raw store watch p50 ${pct(rawLat, 50).toFixed(1)} ms, p99 ${pct(rawLat, 99).toFixed(1)} ms`);
  } finally {
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(values['cpu-prof']!, JSON.stringify(profile));
      profiler.disconnect();
    }
    await client.close();
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`tkube API server vs its own SQLite store (same run, ${CONCURRENCY} concurrent clients ${sameThread ? 'in the server thread' : 'in a worker thread'}, ${PHASE_MS} ms per phase)`);
  for (const l of lines) console.log(l);
  console.log('targets: create >= 40% of raw; list 10k p99 < 150 ms; watch fan-out p99 < 100 ms');
}
