// Storage benchmark: the sqlite and etcd drivers against the same operation done directly on the
// raw backend in the same run (plain better-sqlite3 with one transaction per write; plain etcd
// calls through the driver's own gRPC client), printed side by side with their ratio.
// Usage: npm run bench -- storage [sqlite] [etcd]   (default: both)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/storage/drivers/sqlite.ts';
import { openEtcdStore } from '../src/storage/drivers/etcd.ts';
import { EtcdClient } from '../src/storage/drivers/etcd/client.ts';
import type { Store, WatchEvent } from '../src/storage/types.ts';
import { startEtcd } from '../src/testing/etcd.ts';

/** How long each throughput figure is measured, split into ROUNDS slices alternating with raw. */
const PHASE_MS = 1500;
/** Driver and raw runs alternate this many times, so load from elsewhere hits both alike. */
const ROUNDS = 3;
const WRITERS = [1, 16, 64] as const;
const READERS = 16;
const LIST_KEYS = 10_000;
const PAGE = 500;
const LIST_ROUNDS = 5;
const WATCH_WRITES = 300;
const VALUE = new Uint8Array(1024).fill(0x61);

/** One line of the report: what tkube's driver did next to what the raw backend did. */
interface Row {
  readonly backend: string;
  readonly op: string;
  readonly tkube: number;
  readonly raw: number;
  /** "ops/s" (higher is better) or "ms" (lower is better). */
  readonly unit: string;
}

/** The operations measured on one backend, once through the driver and once raw. */
interface Target {
  readonly name: string;
  /** The driver under test. */
  readonly store: Store;
  rawCreate(key: string, value: Uint8Array): Promise<void>;
  rawGet(key: string): Promise<void>;
  /** Lists every key under prefix; page = 0 for one unpaginated read. Returns the count. */
  rawList(prefix: string, page: number): Promise<number>;
  /** Seeds the raw backend's copy of the list data (not measured). */
  rawSeed(prefix: string, n: number): Promise<void>;
  /** Latencies in ms of the raw counterpart of "write, then see the watch event" (keys first..first+n-1). */
  rawWatchLatencies(prefix: string, first: number, n: number): Promise<number[]>;
  readonly rawWatchNote: string;
  close(): Promise<void>;
}

export async function run(args: readonly string[]): Promise<void> {
  const wanted = args.length > 0 ? args : ['sqlite', 'etcd'];
  for (const a of wanted) {
    if (a !== 'sqlite' && a !== 'etcd') throw new Error(`unknown backend ${JSON.stringify(a)}: expected sqlite and/or etcd`);
  }
  const started = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const name of wanted) {
    const target = name === 'sqlite' ? await sqliteTarget() : await etcdTarget();
    try {
      process.stderr.write(`bench storage: ${name}...\n`);
      rows.push(...await measure(target));
      notes.push(`${name}: raw watch = ${target.rawWatchNote}`);
    } finally {
      await target.close();
    }
  }
  printTable(rows);
  console.log('');
  console.log('ratio = tkube / raw; for ops/s higher is better, for ms lower is better.');
  console.log(`creates: 1 KiB values, each writer creates new keys back to back for ${PHASE_MS} ms in all.`);
  console.log(`driver and raw runs alternate (${ROUNDS} slices each) so outside load hits both alike.`);
  console.log(`gets: ${READERS} concurrent readers of random keys among the ${LIST_KEYS} listed ones.`);
  console.log(`lists: all ${LIST_KEYS} keys of a prefix, median of ${LIST_ROUNDS} rounds.`);
  console.log(`watch: ${WATCH_WRITES} sequential writes, time from issuing the write to the event reaching the watcher.`);
  for (const n of notes) console.log(n);
  console.log(`total ${(performance.now() - started) / 1000 | 0} s`);
}

async function measure(t: Target): Promise<Row[]> {
  const rows: Row[] = [];
  const row = (op: string, tkube: number, raw: number, unit: string): void => {
    rows.push({ backend: t.name, op, tkube, raw, unit });
  };

  for (const writers of WRITERS) {
    const [ours, raw] = await throughputPair(writers,
      (w, i) => t.store.create(`/bench/create/${writers}/${w}/${i}`, VALUE).then(() => undefined),
      (w, i) => t.rawCreate(`/raw/create/${writers}/${w}/${i}`, VALUE));
    row(`create, ${writers} writer${writers > 1 ? 's' : ''}`, ours, raw, 'ops/s');
  }

  // 10k keys for gets and lists, written through the driver (64 at a time) and seeded raw.
  const prefix = '/bench/list/';
  await parallel(64, LIST_KEYS, (i) => t.store.create(`${prefix}${keyName(i)}`, VALUE).then(() => undefined));
  await t.rawSeed('/raw/list/', LIST_KEYS);

  const [getOurs, getRaw] = await throughputPair(READERS,
    () => t.store.get(`${prefix}${keyName(randomIndex())}`).then(() => undefined),
    () => t.rawGet(`/raw/list/${keyName(randomIndex())}`));
  row(`get, ${READERS} readers`, getOurs, getRaw, 'ops/s');

  const [listAll, listAllRaw] = await medianPair(
    async () => check(await listAllPages(t.store, prefix, 0)),
    async () => check(await t.rawList('/raw/list/', 0)));
  row(`list ${LIST_KEYS / 1000}k, unpaginated`, listAll, listAllRaw, 'ms');
  const [listPaged, listPagedRaw] = await medianPair(
    async () => check(await listAllPages(t.store, prefix, PAGE)),
    async () => check(await t.rawList('/raw/list/', PAGE)));
  row(`list ${LIST_KEYS / 1000}k, pages of ${PAGE}`, listPaged, listPagedRaw, 'ms');

  const ours: number[] = [];
  const raw: number[] = [];
  const chunk = WATCH_WRITES / ROUNDS;
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(...await watchLatencies(t.store, '/bench/watch/', r * chunk, chunk));
    raw.push(...await t.rawWatchLatencies('/raw/watch/', r * chunk, chunk));
  }
  row('watch delivery p50', percentile(ours, 50), percentile(raw, 50), 'ms');
  row('watch delivery p99', percentile(ours, 99), percentile(raw, 99), 'ms');
  return rows;
}

function check(n: number): void {
  if (n !== LIST_KEYS) throw new Error(`list returned ${n} keys, expected ${LIST_KEYS}`);
}

async function listAllPages(store: Store, prefix: string, page: number): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const r = await store.list(prefix, { limit: page, ...(cont ? { continue: cont } : {}) });
    n += r.kvs.length;
    cont = r.continue;
  } while (cont);
  return n;
}

/** Write-to-event latencies through the driver: one write at a time, each awaited until seen. */
async function watchLatencies(store: Store, prefix: string, first: number, n: number): Promise<number[]> {
  const waiting = new Map<string, () => void>();
  const from = await store.currentRevision();
  let failure: Error | undefined;
  const w = store.watch(prefix, { fromRevision: from }, {
    onEvents(events: readonly WatchEvent[]) {
      for (const ev of events) waiting.get(ev.kv.key)?.();
    },
    onError(err) {
      failure = err;
    },
  });
  try {
    const out: number[] = [];
    for (let i = first; i < first + n; i++) {
      const key = `${prefix}${keyName(i)}`;
      const seen = new Promise<void>((resolve) => waiting.set(key, resolve));
      const t0 = performance.now();
      await store.create(key, VALUE);
      await withTimeout(seen, 5000, `watch event for ${key}`);
      out.push(performance.now() - t0);
      waiting.delete(key);
      if (failure) throw failure;
    }
    return out;
  } finally {
    w.dispose();
  }
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-bench-'));
  const store = await openSqliteStore(join(dir, 'state.db'), { compactionWindowMs: 0 });
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)');
  // One statement in autocommit mode is one transaction: BEGIN, INSERT, COMMIT (with fsync).
  const insert = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
  const select = db.prepare('SELECT value FROM kv WHERE key = ?');
  const rangeAll = db.prepare('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key');
  const rangePage = db.prepare('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?');
  const upper = (prefix: string): string => prefix.slice(0, -1) + '0';
  return {
    name: 'sqlite',
    store,
    async rawCreate(key, value) {
      insert.run(key, value);
      // better-sqlite3 is synchronous: concurrent raw writers simply take turns.
      await null;
    },
    async rawGet(key) {
      if (select.get(key) === undefined) throw new Error(`raw sqlite: ${key} missing`);
      await null;
    },
    async rawList(prefix, page) {
      if (page === 0) return rangeAll.all(prefix, upper(prefix)).length;
      let n = 0;
      let after = prefix;
      for (;;) {
        const rows = rangePage.all(after, upper(prefix), page) as Array<{ key: string }>;
        n += rows.length;
        if (rows.length < page) return n;
        after = rows[rows.length - 1]!.key;
        await null;
      }
    },
    async rawSeed(prefix, n) {
      db.transaction(() => {
        for (let i = 0; i < n; i++) insert.run(`${prefix}${keyName(i)}`, VALUE);
      })();
    },
    async rawWatchLatencies(prefix, first, n) {
      const out: number[] = [];
      for (let i = first; i < first + n; i++) {
        const t0 = performance.now();
        insert.run(`${prefix}${keyName(i)}`, VALUE);
        out.push(performance.now() - t0);
        await null;
      }
      return out;
    },
    rawWatchNote: 'commit latency of one INSERT (SQLite has no watch; this is the floor for write-to-event)',
    async close() {
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function etcdTarget(): Promise<Target> {
  // On disk, like the sqlite files, so both pay for fsync.
  const etcd = await startEtcd();
  try {
    const address = etcd.endpoint.replace(/^etcd:\/\//, '');
    const store = await openEtcdStore([address], { compactionWindowMs: 0 });
    const client = new EtcdClient([address]);
    const b = (s: string): Buffer => Buffer.from(s);
    const upper = (prefix: string): Buffer => b(prefix.slice(0, -1) + '0');
    return {
      name: 'etcd',
      store,
      async rawCreate(key, value) {
        await client.put({ key: b(key), value });
      },
      async rawGet(key) {
        const r = await client.range({ key: b(key) });
        if (r.kvs.length !== 1) throw new Error(`raw etcd: ${key} missing`);
      },
      async rawList(prefix, page) {
        if (page === 0) return (await client.range({ key: b(prefix), rangeEnd: upper(prefix) })).kvs.length;
        let n = 0;
        let revision = 0;
        let start = b(prefix);
        for (;;) {
          const r = await client.range({ key: start, rangeEnd: upper(prefix), limit: page, revision });
          revision = r.header.revision;
          n += r.kvs.length;
          if (!r.more) return n;
          start = Buffer.concat([r.kvs[r.kvs.length - 1]!.key, Buffer.from([0])]);
        }
      },
      async rawSeed(prefix, n) {
        await parallel(64, n, async (i) => {
          await client.put({ key: b(`${prefix}${keyName(i)}`), value: VALUE });
        });
      },
      async rawWatchLatencies(prefix, first, n) {
        const stream = client.watchStream();
        const waiting = new Map<string, () => void>();
        let created!: () => void;
        const ready = new Promise<void>((resolve) => (created = resolve));
        stream.on('data', (resp) => {
          if (resp.created) created();
          for (const ev of resp.events) waiting.get(ev.kv.key.toString())?.();
        });
        stream.on('error', () => undefined);
        stream.write({ createRequest: { key: b(prefix), rangeEnd: upper(prefix), prevKv: true } });
        await withTimeout(ready, 5000, 'raw etcd watch creation');
        try {
          const out: number[] = [];
          for (let i = first; i < first + n; i++) {
            const key = `${prefix}${keyName(i)}`;
            const seen = new Promise<void>((resolve) => waiting.set(key, resolve));
            const t0 = performance.now();
            await client.put({ key: b(key), value: VALUE });
            await withTimeout(seen, 5000, `raw watch event for ${key}`);
            out.push(performance.now() - t0);
            waiting.delete(key);
          }
          return out;
        } finally {
          stream.cancel();
        }
      },
      rawWatchNote: 'plain Put plus a plain Watch stream on the same gRPC client',
      async close() {
        try {
          await store.close();
          client.close();
        } finally {
          await etcd.stop();
        }
      },
    };
  } catch (err) {
    await etcd.stop();
    throw err;
  }
}

/**
 * Operations per second of `ours` and `raw`, each run by `concurrency` loops for PHASE_MS in all,
 * in ROUNDS alternating slices. op(worker, i) gets an i unique within its worker.
 */
async function throughputPair(concurrency: number, ours: Op, raw: Op): Promise<[number, number]> {
  const sides = [{ op: ours, done: 0, ms: 0, next: 0 }, { op: raw, done: 0, ms: 0, next: 0 }];
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of sides) {
      const t0 = performance.now();
      const deadline = t0 + PHASE_MS / ROUNDS;
      const base = side.next;
      let most = 0;
      await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
        let i = base;
        for (; performance.now() < deadline; i++) {
          await side.op(w, i);
          side.done++;
        }
        most = Math.max(most, i);
      }));
      side.next = most;
      side.ms += performance.now() - t0;
    }
  }
  return [sides[0]!.done / (sides[0]!.ms / 1000), sides[1]!.done / (sides[1]!.ms / 1000)];
}

type Op = (worker: number, i: number) => Promise<void>;

/** Runs op(0..n-1) with at most `concurrency` in flight. */
async function parallel(concurrency: number, n: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await op(next++);
  }));
}

/** Median duration in ms of `ours` and of `raw`, run alternately LIST_ROUNDS times each. */
async function medianPair(ours: () => Promise<void>, raw: () => Promise<void>): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < LIST_ROUNDS; i++) {
    for (const [side, fn] of [ours, raw].entries()) {
      const t0 = performance.now();
      await fn();
      times[side as 0 | 1].push(performance.now() - t0);
    }
  }
  return [percentile(times[0], 50), percentile(times[1], 50)];
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

function keyName(i: number): string {
  return `k${String(i).padStart(6, '0')}`;
}

function randomIndex(): number {
  return Math.floor(Math.random() * LIST_KEYS);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function printTable(rows: readonly Row[]): void {
  const fmt = (v: number, unit: string): string => (unit === 'ops/s' ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const table = [
    ['backend', 'operation', 'tkube', 'raw', 'unit', 'ratio'],
    ...rows.map((r) => [r.backend, r.op, fmt(r.tkube, r.unit), fmt(r.raw, r.unit), r.unit, `${(r.tkube / r.raw).toFixed(2)}x`]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((line) => line[c]!.length)));
  const numeric = new Set([2, 3, 5]);
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  console.log(line(table[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table.slice(1)) console.log(line(r));
}
