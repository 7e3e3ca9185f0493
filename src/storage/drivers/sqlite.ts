// The SQLite driver (sqlite:///abs/path/state.db), the default store: kine's log design (every
// write is a row, the row id is the revision) on better-sqlite3 in WAL mode, with group commit:
// the writes of one event-loop tick share one transaction and are acknowledged after its COMMIT.
import type Database from 'better-sqlite3';
import { Compactor, startCompactor } from '../compactor.ts';
import { encodeContinue } from '../continue_token.ts';
import { closedError, planList, prefixUpperBound, readRevision } from '../driver_common.ts';
import { validateKey, validatePrefix, validateValue } from '../keys.ts';
import { registerDriver } from '../registry.ts';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError, StorageError,
} from '../types.ts';
import type {
  DeleteResult, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions,
  WatchSink, WriteResult,
} from '../types.ts';
import { WatchHub } from '../watch_hub.ts';
import { openStateDatabase, sqliteError } from './sqlite_schema.ts';
import { backupDatabase, type SnapshotInfo } from './sqlite_snapshot.ts';

/** Revisions compacted per transaction, so a large compaction does not stall the event loop. */
const COMPACT_CHUNK = 10_000;

/** Options of a SQLite store. */
export interface SqliteStoreOptions {
  /** History window for the automatic compactor; 0 or less disables it (default 5 minutes). */
  readonly compactionWindowMs?: number;
}

/** Opens the state file at an absolute path (parent directories are created). */
export async function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return new SqliteStore(path, opts);
}

/** The latest row of a key, as the write path reads it. */
interface LatestRow {
  id: number;
  created: number;
  deleted: number;
  create_revision: number;
  value: Buffer | null;
}

/** A log row with its predecessor's value, as watch catch-up reads it. */
interface EventRow extends LatestRow {
  name: string;
  prev_revision: number;
  prev_value: Buffer | null;
}

type WriteOp =
  | { readonly kind: 'create'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'update'; readonly key: string; readonly value: Buffer; readonly expected: number }
  | { readonly kind: 'delete'; readonly key: string; readonly expected: number | undefined };

interface PendingWrite {
  readonly op: WriteOp;
  resolve(r: WriteResult | DeleteResult): void;
  reject(err: unknown): void;
}

type Outcome = { readonly result: WriteResult | DeleteResult; readonly event: WatchEvent | undefined } | { readonly error: StorageError };

/** A store in one SQLite file, owned exclusively by this process. */
export class SqliteStore implements Store {
  readonly driver = 'sqlite';
  readonly path: string;
  readonly #db: Database.Database;
  readonly #q: ReturnType<typeof prepare>;
  readonly #hub = new WatchHub(() => this.#revision);
  readonly #compactor: Compactor | undefined;
  #revision: number;
  #compacted: number;
  #queue: PendingWrite[] = [];
  #flushScheduled = false;
  #compacting: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Transactions committed by group commit (tests check that concurrent writes share them). */
  commits = 0;

  constructor(path: string, opts: SqliteStoreOptions) {
    this.path = path;
    const opened = openStateDatabase(path);
    this.#db = opened.db;
    this.#revision = opened.revision;
    this.#compacted = opened.compacted;
    this.#q = prepare(this.#db);
    this.#compactor = startCompactor(this, opts.compactionWindowMs);
  }

  create(key: string, value: Uint8Array): Promise<WriteResult> {
    return this.#enqueue(() => {
      validateKey(key);
      validateValue(key, value);
      return { kind: 'create', key, value: Buffer.from(value) };
    });
  }

  update(key: string, value: Uint8Array, expectedModRevision: number): Promise<WriteResult> {
    return this.#enqueue(() => {
      validateKey(key);
      validateValue(key, value);
      return { kind: 'update', key, value: Buffer.from(value), expected: expectedModRevision };
    });
  }

  delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    return this.#enqueue(() => {
      validateKey(key);
      return { kind: 'delete', key, expected: expectedModRevision };
    });
  }

  async get(key: string, opts?: { readonly revision?: number }): Promise<GetResult> {
    this.#open();
    validateKey(key);
    const revision = readRevision(opts?.revision, this.#revision, this.#compacted);
    const row = this.#read(() => this.#q.latestAt.get(key, revision) as LatestRow | undefined);
    return row && !row.deleted ? { kv: toKv(key, row), revision } : { revision };
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    this.#open();
    validatePrefix(prefix);
    const plan = planList(prefix, opts, this.#revision, this.#compacted);
    const end = prefixUpperBound(prefix);
    // One row more than the page tells whether another page exists without counting the rest
    // (remaining is optional in the contract; counting made every page O(rest of the list)).
    const rows = this.#read(() => this.#q.list.all(plan.afterKey ?? prefix, end, plan.revision, plan.limit ? plan.limit + 1 : -1) as Array<LatestRow & { name: string }>);
    if (plan.limit === 0 || rows.length <= plan.limit) return { kvs: rows.map((r) => toKv(r.name, r)), revision: plan.revision, remaining: 0 };
    const kvs = rows.slice(0, plan.limit).map((r) => toKv(r.name, r));
    const afterKey = kvs[kvs.length - 1]!.key;
    return { kvs, revision: plan.revision, continue: encodeContinue({ revision: plan.revision, afterKey, prefix }) };
  }

  async count(prefix: string): Promise<number> {
    this.#open();
    validatePrefix(prefix);
    return this.#read(() => this.#q.count.get(prefix, prefixUpperBound(prefix), this.#revision) as number);
  }

  async currentRevision(): Promise<number> {
    this.#open();
    return this.#revision;
  }

  watch(prefix: string, opts: WatchOptions, sink: WatchSink): Watch {
    try {
      this.#open();
      const exact = opts.exact === true;
      if (exact) validateKey(prefix);
      else validatePrefix(prefix);
      const from = opts.fromRevision;
      if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`fromRevision must be a non-negative integer, got ${from}`);
      if (from < this.#compacted) throw new CompactedError(from, this.#compacted);
      // Catch-up and registration happen in one synchronous step: no commit can slip between them.
      let catchUp: WatchEvent[] = [];
      if (from < this.#revision) {
        const rows = this.#read(() => (exact
          ? this.#q.eventsExact.all(from, this.#revision, prefix)
          : this.#q.eventsPrefix.all(from, this.#revision, prefix, prefixUpperBound(prefix))) as EventRow[]);
        catchUp = rows.map(rowEvent);
      }
      return this.#hub.add(prefix, exact, sink, from, catchUp);
    } catch (err) {
      if (err instanceof StorageError) return this.#hub.failed(sink, err);
      throw err;
    }
  }

  compact(revision: number): Promise<void> {
    const run = this.#compacting.then(() => this.#compactTo(revision));
    this.#compacting = run.catch(() => undefined);
    return run;
  }

  async compactedRevision(): Promise<number> {
    this.#open();
    return this.#compacted;
  }

  /** Writes a consistent copy of the whole state to `dest` while serving (see sqlite_snapshot.ts). */
  async snapshot(dest: string): Promise<SnapshotInfo> {
    this.#open();
    await backupDatabase(this.#db, dest);
    return { revision: this.#revision };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#flush();
    await this.#compactor?.dispose();
    await this.#compacting;
    this.#hub.failAll(closedError(this.driver));
    this.#db.close();
  }

  #open(): void {
    if (this.#closed) throw closedError(this.driver);
  }

  /** Runs a read, mapping SQLite faults to storage errors. */
  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw err instanceof StorageError ? err : sqliteError(this.path, err);
    }
  }

  #enqueue<R extends WriteResult>(build: () => WriteOp): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#closed) throw closedError(this.driver);
      this.#queue.push({ op: build(), resolve: resolve as (r: WriteResult) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // setImmediate, not a microtask: writers woken by the previous commit enqueue first.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Commits every queued write in one transaction, then acknowledges and publishes them. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const withEvents = this.#hub.size > 0;
    let outcomes: Outcome[];
    let last: number;
    try {
      [outcomes, last] = this.#q.apply(batch, withEvents);
    } catch (err) {
      const fault = sqliteError(this.path, err);
      for (const w of batch) w.reject(fault);
      return;
    }
    this.commits++;
    if (last > 0) this.#revision = last;
    if (withEvents) {
      const events: WatchEvent[] = [];
      for (const o of outcomes) if ('result' in o && o.event) events.push(o.event);
      this.#hub.publish(events);
    }
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i]!;
      if ('error' in o) batch[i]!.reject(o.error);
      else batch[i]!.resolve(o.result);
    }
  }

  async #compactTo(revision: number): Promise<void> {
    this.#open();
    if (!Number.isSafeInteger(revision) || revision < 0) throw new RangeError(`revision must be a non-negative integer, got ${revision}`);
    if (revision > this.#revision) throw new FutureRevisionError(revision, this.#revision);
    while (this.#compacted < revision) {
      const from = this.#compacted;
      const to = Math.min(revision, from + COMPACT_CHUNK);
      this.#read(() => this.#q.compactChunk(from, to));
      this.#compacted = to;
      if (to < revision) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.#open();
      }
    }
  }
}

/** Prepares every statement once; `apply` and `compactChunk` are transactions. */
function prepare(db: Database.Database) {
  const latest = db.prepare(`SELECT id, created, deleted, create_revision, value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`);
  const insert = db.prepare(`INSERT INTO log (name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)`);
  const latestIds = `SELECT MAX(id) AS id FROM log WHERE name > ? AND name < ? AND id <= ? GROUP BY name`;
  const eventColumns = `l.id, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value, p.value AS prev_value`;
  const deleteSuperseded = db.prepare(`DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0)`);
  const deleteTombstones = db.prepare(`DELETE FROM log WHERE deleted = 1 AND id >= ? AND id < ?`);
  const recordCompacted = db.prepare(`UPDATE meta SET value = ? WHERE name = 'compact_revision'`);

  /** Applies writes in order, each checking its own precondition against the state so far. */
  function applyOne(op: WriteOp, withEvent: boolean): Outcome {
    const row = latest.get(op.key) as LatestRow | undefined;
    const live = row !== undefined && row.deleted === 0 ? row : undefined;
    if (op.kind === 'create') {
      if (live) return { error: new KeyExistsError(op.key) };
      const id = Number(insert.run(op.key, 1, 0, 0, row?.id ?? 0, op.value).lastInsertRowid);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: id, modRevision: id };
      return { result: { revision: id }, event: withEvent ? { type: 'ADDED', revision: id, kv } : undefined };
    }
    if (!live) return { error: new NotFoundError(op.key) };
    const prevKv = toKv(op.key, live);
    if (op.expected !== undefined && live.id !== op.expected) return { error: new ConflictError(op.key, op.expected, prevKv) };
    if (op.kind === 'update') {
      const id = Number(insert.run(op.key, 0, 0, prevKv.createRevision, live.id, op.value).lastInsertRowid);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: prevKv.createRevision, modRevision: id };
      return { result: { revision: id }, event: withEvent ? { type: 'MODIFIED', revision: id, kv, prevKv } : undefined };
    }
    const id = Number(insert.run(op.key, 0, 1, prevKv.createRevision, live.id, null).lastInsertRowid);
    const kv: KeyValue = { ...prevKv, modRevision: id };
    return { result: { revision: id, prevKv }, event: withEvent ? { type: 'DELETED', revision: id, kv, prevKv } : undefined };
  }

  const apply = db.transaction((batch: readonly PendingWrite[], withEvents: boolean): [Outcome[], number] => {
    const outcomes: Outcome[] = [];
    let last = 0;
    for (const w of batch) {
      const o = applyOne(w.op, withEvents);
      if ('result' in o) last = o.result.revision;
      outcomes.push(o);
    }
    return [outcomes, last];
  });

  return {
    latestAt: db.prepare(`SELECT id, created, deleted, create_revision, value FROM log WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`),
    // Walks the (name, id) index in key order, so LIMIT stops early instead of sorting every key.
    list: db.prepare(`SELECT l.id, l.name, l.created, l.deleted, l.create_revision, l.value FROM log AS l WHERE l.name > ? AND l.name < ? AND l.id = (SELECT MAX(m.id) FROM log AS m WHERE m.name = l.name AND m.id <= ?) AND l.deleted = 0 ORDER BY l.name LIMIT ?`),
    count: db.prepare(`SELECT COUNT(*) FROM (${latestIds}) AS x JOIN log AS l ON l.id = x.id WHERE l.deleted = 0`).pluck(),
    // Unary + keeps the planner on the primary key: a watch usually resumes from a recent revision.
    eventsPrefix: db.prepare(`SELECT ${eventColumns} FROM log AS l LEFT JOIN log AS p ON p.id = l.prev_revision WHERE l.id > ? AND l.id <= ? AND +l.name > ? AND +l.name < ? ORDER BY l.id`),
    eventsExact: db.prepare(`SELECT ${eventColumns} FROM log AS l LEFT JOIN log AS p ON p.id = l.prev_revision WHERE l.id > ? AND l.id <= ? AND l.name = ? ORDER BY l.id`),
    apply(batch: readonly PendingWrite[], withEvents: boolean): [Outcome[], number] {
      return apply.immediate(batch, withEvents);
    },
    /** Compacts (from, to]: rows superseded at or before `to`, and deletes older than `to`. */
    compactChunk: db.transaction((from: number, to: number): void => {
      deleteSuperseded.run(from, to);
      deleteTombstones.run(from, to);
      recordCompacted.run(to);
    }),
  };
}

function toKv(key: string, row: LatestRow): KeyValue {
  return {
    key,
    value: row.value ?? new Uint8Array(0),
    createRevision: row.created ? row.id : row.create_revision,
    modRevision: row.id,
  };
}

/** The watch event a log row records; a row's predecessor is never compacted while the row is newer than the compacted revision. */
function rowEvent(r: EventRow): WatchEvent {
  if (r.created) {
    return { type: 'ADDED', revision: r.id, kv: { key: r.name, value: r.value ?? new Uint8Array(0), createRevision: r.id, modRevision: r.id } };
  }
  const prevKv: KeyValue = { key: r.name, value: r.prev_value ?? new Uint8Array(0), createRevision: r.create_revision, modRevision: r.prev_revision };
  if (r.deleted) return { type: 'DELETED', revision: r.id, kv: { ...prevKv, modRevision: r.id }, prevKv };
  return { type: 'MODIFIED', revision: r.id, kv: { key: r.name, value: r.value ?? new Uint8Array(0), createRevision: r.create_revision, modRevision: r.id }, prevKv };
}

/** The file path of a sqlite:///abs/path endpoint. */
function endpointPath(url: URL): string {
  if (url.host !== '') {
    throw new Error(`invalid sqlite endpoint ${JSON.stringify(url.href)}: expected sqlite:///absolute/path/state.db (three slashes)`);
  }
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // A literal "%" in the path that is not an escape: keep the path as written.
  }
  if (!path.startsWith('/') || path.endsWith('/')) {
    throw new Error(`invalid sqlite endpoint ${JSON.stringify(url.href)}: expected sqlite:///absolute/path/state.db`);
  }
  return path;
}

registerDriver('sqlite', (url, opts) => openSqliteStore(endpointPath(url), { compactionWindowMs: opts.compactionWindowMs }));
