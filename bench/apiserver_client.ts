// The load generator of the API server benchmark: HTTP/2 requests with the admin client certificate,
// run in a worker thread so that the server's thread is measured alone (as upstream measures an
// apiserver from separate client processes), or in the server's thread with --same-thread.
// Started with workerData (ClientSetup); each message is a ClientJob, each answer its ClientResult.
import { connect, type ClientHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** How to reach the server. */
export interface ClientSetup {
  readonly url: string;
  /** The floor server: the same HTTP/2 stack with a no-op handler. */
  readonly floorUrl: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** One phase of load. */
export type ClientJob =
  | { readonly kind: 'create' | 'get' | 'update' | 'status' | 'floor'; readonly ms: number; readonly concurrency: number; readonly count?: number; readonly first?: number }
  | { readonly kind: 'bind'; readonly ms: number; readonly concurrency: number; readonly count: number }
  | { readonly kind: 'fill'; readonly from: number; readonly to: number }
  | { readonly kind: 'list'; readonly rounds: number; readonly expect: number }
  | { readonly kind: 'watch'; readonly watchers: number; readonly writes: number }
  | { readonly kind: 'close' };

/** Outcome of a phase: operations, seconds and latencies in ms. */
export interface ClientResult {
  readonly ops: number;
  readonly seconds: number;
  readonly lat: number[];
}

// client-go's HTTP/2 flow-control windows (Go's transport: 4 MiB per stream, 1 GiB per connection);
// Node's 64 KiB default would make a 20 MB list wait on window updates rather than on the server.
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 1 << 30;

/** Opens the client's session. */
export function openSession(s: ClientSetup): ClientHttp2Session {
  const session = connect(s.url, { ca: s.ca, cert: s.cert, key: s.key, settings: { initialWindowSize: STREAM_WINDOW } });
  session.on('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW));
  session.setMaxListeners(0);
  return session;
}

function request(session: ClientHttp2Session, method: string, path: string, body?: string, keepText = true): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const ct = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const req = session.request({ ':method': method, ':path': path, accept: 'application/json', ...(body ? { 'content-type': ct } : {}) });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, text: keepText ? Buffer.concat(chunks).toString() : '' }));
    req.on('error', reject);
    req.end(body);
  });
}

/** The benchmark's pod: a realistic size (about 1 KiB of spec). */
export function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench', tier: 'x' } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'x'.repeat(600) }] }] },
  });
}

/** The status a simulated kubelet reports for running pod number `pod` (pod-running stage), varied by `i`. */
export function podStatusPatch(pod: number, i: number): string {
  const t = new Date(Date.UTC(2025, 0, 1, 0, 0, i % 60, 0)).toISOString().replace('.000Z', 'Z');
  const ip = `10.64.${(pod >> 8) & 255}.${pod & 255}`;
  const cond = (type: string): Record<string, unknown> => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  return JSON.stringify({
    status: {
      phase: 'Running',
      conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
      hostIP: '10.0.0.1', hostIPs: [{ ip: '10.0.0.1' }], podIP: ip, podIPs: [{ ip }],
      startTime: t,
      containerStatuses: [{
        name: 'c', image: 'nginx:1.27', imageID: 'sim://nginx:1.27', containerID: `sim://${pod}`, ready: true, started: true, restartCount: i,
        state: { running: { startedAt: t } }, lastState: {},
      }],
    },
  });
}

/** Runs `op(i)` from `concurrency` loops for `ms` (or until `limit` operations have started). */
export async function phase(ms: number, concurrency: number, op: (i: number) => Promise<void>, limit = Infinity): Promise<ClientResult> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline && next < limit) {
      const i = next++;
      const t = performance.now();
      await op(i);
      lat.push(performance.now() - t);
    }
  }));
  return { ops: lat.length, seconds: (performance.now() - start) / 1000, lat };
}

const PODS = '/api/v1/namespaces/bench/pods';

/** The client's sessions: to the API server and to the floor server. */
export interface Sessions {
  readonly api: ClientHttp2Session;
  readonly floor: ClientHttp2Session;
}

/** Opens both sessions. */
export function openSessions(s: ClientSetup): Sessions {
  return { api: openSession(s), floor: openSession({ ...s, url: s.floorUrl }) };
}

/** Runs one job against the server. */
export async function runJob(sessions: Sessions, job: ClientJob): Promise<ClientResult> {
  const session = sessions.api;
  switch (job.kind) {
    case 'floor':
      // The same request as a create, answered by the floor server's no-op handler.
      return phase(job.ms, job.concurrency, (i) => request(sessions.floor, 'POST', PODS, podBody(`c${i}`)).then((r) => { if (r.status !== 201) throw new Error(r.text); }));
    case 'bind':
      // Each created pod once, as the scheduler binds it.
      return phase(job.ms, job.concurrency, (i) => request(session, 'POST', `${PODS}/c${i}/binding`, JSON.stringify({
        apiVersion: 'v1', kind: 'Binding', metadata: { name: `c${i}` }, target: { apiVersion: 'v1', kind: 'Node', name: `node-${i % 100}` },
      })).then((r) => { if (r.status !== 201) throw new Error(r.text); }), job.count);
    case 'status':
      return phase(job.ms, job.concurrency, (i) => request(session, 'PATCH', `${PODS}/c${i % job.count!}/status`, podStatusPatch(i % job.count!, i))
        .then((r) => { if (r.status !== 200) throw new Error(r.text); }));
    case 'create':
      return phase(job.ms, job.concurrency, (i) => request(session, 'POST', PODS, podBody(`c${(job.first ?? 0) + i}`)).then((r) => { if (r.status !== 201) throw new Error(r.text); }));
    case 'get':
      return phase(job.ms, job.concurrency, (i) => request(session, 'GET', `${PODS}/c${i % job.count!}`).then((r) => { if (r.status !== 200) throw new Error(r.text); }));
    case 'update':
      return phase(job.ms, job.concurrency, (i) => request(session, 'PATCH', `${PODS}/c${i % job.count!}`, JSON.stringify({ metadata: { labels: { n: String(i) } } }))
        .then((r) => { if (r.status !== 200) throw new Error(r.text); }));
    case 'fill': {
      const start = performance.now();
      for (let i = job.from; i < job.to; i += 64) {
        await Promise.all(Array.from({ length: Math.min(64, job.to - i) }, (_, j) => request(session, 'POST', PODS, podBody(`c${i + j}`))));
      }
      return { ops: Math.max(0, job.to - job.from), seconds: (performance.now() - start) / 1000, lat: [] };
    }
    case 'list': {
      // One list, untimed, is parsed to check it is complete; then the latency to the last byte.
      const first = await request(session, 'GET', `${PODS}?resourceVersion=0`);
      if (first.status !== 200 || (JSON.parse(first.text) as { items: unknown[] }).items.length < job.expect) throw new Error('list returned too few items');
      const lat: number[] = [];
      const start = performance.now();
      for (let r = 0; r < job.rounds; r++) {
        const t = performance.now();
        const res = await request(session, 'GET', `${PODS}?resourceVersion=0`, undefined, false);
        lat.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`list answered ${res.status}`);
      }
      return { ops: job.rounds, seconds: (performance.now() - start) / 1000, lat };
    }
    case 'watch':
      return watchFanOut(session, job.watchers, job.writes);
    case 'close':
      await Promise.all([sessions.api, sessions.floor].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      return { ops: 0, seconds: 0, lat: [] };
  }
}

/** `watchers` watches of one pod on one connection, one writer; latency from write to each event. */
async function watchFanOut(session: ClientHttp2Session, watchers: number, writes: number): Promise<ClientResult> {
  const lat: number[] = [];
  let writeStart = 0;
  const start = performance.now();
  const streams = await Promise.all(Array.from({ length: watchers }, () => new Promise<{ close(): void }>((resolve) => {
    const req = session.request({ ':method': 'GET', ':path': `${PODS}?watch=true&fieldSelector=metadata.name%3Dc0&resourceVersion=0`, accept: 'application/json' });
    let buf = '';
    let first = true;
    req.on('response', () => resolve({ close: () => req.close() }));
    req.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        buf = buf.slice(i + 1);
        if (first) { first = false; continue; } // the synthetic ADDED
        lat.push(performance.now() - writeStart);
      }
    });
    req.on('error', () => undefined);
  })));
  await new Promise((r) => setTimeout(r, 300));
  for (let w = 0; w < writes; w++) {
    const before = lat.length;
    writeStart = performance.now();
    await request(session, 'PATCH', `${PODS}/c0`, JSON.stringify({ metadata: { labels: { w: String(w) } } }));
    const deadline = performance.now() + 5000;
    while (lat.length < before + watchers && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  }
  for (const s of streams) s.close();
  return { ops: lat.length, seconds: (performance.now() - start) / 1000, lat };
}

if (parentPort !== null && workerData !== null) {
  const port = parentPort;
  const sessions = openSessions(workerData as ClientSetup);
  port.on('message', (job: ClientJob) => {
    if (job.kind === 'close') {
      void runJob(sessions, job).then(() => port.close());
      return;
    }
    runJob(sessions, job).then((r) => port.postMessage({ ok: r }), (err: unknown) => port.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }));
  });
  port.postMessage('ready');
}
