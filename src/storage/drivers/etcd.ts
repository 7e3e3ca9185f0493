// The etcd v3 storage driver (scheme "etcd": etcd://h1:2379,h2:2379). Keys are stored as-is and
// etcd's own revisions are ours; compare-and-swap is one Txn per write, as the Kubernetes apiserver
// does, so several tkube servers can share one etcd cluster.
import { registerDriver } from '../registry.ts';
import type { OpenOptions } from '../registry.ts';
import { encodeContinue, decodeContinue } from '../continue_token.ts';
import { startCompactor } from '../compactor.ts';
import type { Compactor } from '../compactor.ts';
import { closedError, prefixUpperBound } from '../driver_common.ts';
import { validateKey, validatePrefix, validateValue } from '../keys.ts';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError, StorageError, StorageErrorCode,
} from '../types.ts';
import type {
  DeleteResult, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchOptions, WatchSink, WriteResult,
} from '../types.ts';
import { EtcdClient, GrpcStatus, hasStatus } from './etcd/client.ts';
import type { Compare, RangeResponse } from './etcd/client.ts';
import { EtcdWatch, toKeyValue } from './etcd/watch.ts';

/** A key no caller can write (validated keys start with "/"), for reads that only want a revision. */
const PROBE_KEY = Buffer.from([0]);

/** Options of openEtcdStore beyond the registry's. */
export interface EtcdStoreOptions {
  /** History older than this is compacted; undefined = 5 minutes, 0 or less = never. */
  readonly compactionWindowMs?: number;
  /** Deadline of each etcd call (default 15 s). */
  readonly callTimeoutMs?: number;
}

/** Parses "etcd://h1:2379,h2" (or bare "h1:2379,h2") into "host:port" endpoints (default port 2379). */
export function parseEtcdEndpoints(endpoint: string): string[] {
  const rest = endpoint.replace(/^etcd:\/\//, '');
  const hosts = rest.replace(/\/.*$/, '').split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (hosts.length === 0) {
    throw new Error(`invalid etcd endpoint ${JSON.stringify(endpoint)}: expected etcd://host:port[,host:port...]`);
  }
  return hosts.map((h) => {
    if (/^\[[^\]]+\]$/.test(h) || /^[^:]+$/.test(h)) return `${h}:2379`;
    if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(h)) {
      throw new Error(`invalid etcd endpoint ${JSON.stringify(h)} in ${JSON.stringify(endpoint)}: expected host:port`);
    }
    return h;
  });
}

/** Connects to etcd (failing clearly if no endpoint answers) and returns a store on it. */
export async function openEtcdStore(endpoints: readonly string[], opts: EtcdStoreOptions = {}): Promise<Store> {
  const client = new EtcdClient(endpoints, opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {});
  let status;
  try {
    status = await client.connect();
  } catch (err) {
    client.close();
    throw err;
  }
  const store = new EtcdStore(client, { orderedProgress: orderedProgress(status.version) });
  store.startCompaction(opts.compactionWindowMs);
  return store;
}

/** Store over an etcd v3 cluster. */
export class EtcdStore implements Store {
  readonly driver = 'etcd';
  readonly #client: EtcdClient;
  readonly #watches = new Set<EtcdWatch>();
  #compactor: Compactor | undefined;
  /** Highest compacted revision this process has seen (others may compact too). */
  #knownCompacted = 0;
  /** Calls in flight: close() lets them finish, so a write issued before close is acknowledged. */
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  readonly #orderedProgress: boolean;

  constructor(client: EtcdClient, opts: { readonly orderedProgress: boolean }) {
    this.#client = client;
    this.#orderedProgress = opts.orderedProgress;
  }

  /** Starts time-window compaction (see compactor.ts); called once by openEtcdStore. */
  startCompaction(windowMs: number | undefined): void {
    this.#compactor = startCompactor(this, windowMs);
  }

  async create(key: string, value: Uint8Array): Promise<WriteResult> {
    this.#checkOpen();
    validateKey(key);
    validateValue(key, value);
    const k = Buffer.from(key);
    const resp = await this.#call(key, undefined, () => this.#client.txn({
      compare: [{ result: 'EQUAL', target: 'CREATE', key: k, createRevision: 0 }],
      success: [{ requestPut: { key: k, value } }],
      failure: [],
    }));
    if (!resp.succeeded) throw new KeyExistsError(key);
    return { revision: resp.header.revision };
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<WriteResult> {
    this.#checkOpen();
    validateKey(key);
    validateValue(key, value);
    checkExpected(expectedModRevision);
    const k = Buffer.from(key);
    const resp = await this.#call(key, undefined, () => this.#client.txn({
      compare: casCompares(k, expectedModRevision),
      success: [{ requestPut: { key: k, value } }],
      failure: [{ requestRange: { key: k } }],
    }));
    if (!resp.succeeded) throw casFailure(key, expectedModRevision, resp.responses[0]?.responseRange);
    return { revision: resp.header.revision };
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    this.#checkOpen();
    validateKey(key);
    const k = Buffer.from(key);
    if (expectedModRevision === undefined) {
      const resp = await this.#call(key, undefined, () => this.#client.deleteRange({ key: k, prevKv: true }));
      const prev = resp.prevKvs[0];
      if (resp.deleted === 0 || !prev) throw new NotFoundError(key);
      return { revision: resp.header.revision, prevKv: toKeyValue(prev) };
    }
    checkExpected(expectedModRevision);
    const resp = await this.#call(key, undefined, () => this.#client.txn({
      compare: casCompares(k, expectedModRevision),
      success: [{ requestDeleteRange: { key: k, prevKv: true } }],
      failure: [{ requestRange: { key: k } }],
    }));
    if (!resp.succeeded) throw casFailure(key, expectedModRevision, resp.responses[0]?.responseRange);
    const prev = resp.responses[0]?.responseDeleteRange?.prevKvs[0];
    if (!prev) throw new NotFoundError(key);
    return { revision: resp.header.revision, prevKv: toKeyValue(prev) };
  }

  async get(key: string, opts?: { readonly revision?: number }): Promise<GetResult> {
    this.#checkOpen();
    validateKey(key);
    const revision = opts?.revision ?? 0;
    checkRevisionArg('revision', revision);
    const resp = await this.#call(key, revision, () => this.#client.range({ key: Buffer.from(key), revision }));
    const raw = resp.kvs[0];
    const served = revision || resp.header.revision;
    return raw ? { kv: toKeyValue(raw), revision: served } : { revision: served };
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    this.#checkOpen();
    validatePrefix(prefix);
    const limit = opts?.limit ?? 0;
    checkRevisionArg('limit', limit);
    let revision = opts?.revision ?? 0;
    let start = Buffer.from(prefix);
    if (opts?.continue !== undefined && opts.continue !== '') {
      const token = decodeContinue(opts.continue, prefix);
      revision = token.revision;
      // The smallest key after the last one returned.
      start = Buffer.concat([Buffer.from(token.afterKey), PROBE_KEY]);
    } else {
      checkRevisionArg('revision', revision);
    }
    const resp = await this.#call(undefined, revision, () => this.#client.range({
      key: start,
      rangeEnd: Buffer.from(prefixUpperBound(prefix)),
      limit,
      revision,
    }));
    const snapshot = revision || resp.header.revision;
    const kvs = resp.kvs.map(toKeyValue);
    if (limit > 0 && resp.more && kvs.length > 0) {
      const last = kvs[kvs.length - 1]!.key;
      return {
        kvs,
        revision: snapshot,
        continue: encodeContinue({ revision: snapshot, afterKey: last, prefix }),
        remaining: resp.count - kvs.length,
      };
    }
    return { kvs, revision: snapshot, remaining: 0 };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen();
    validatePrefix(prefix);
    const resp = await this.#call(undefined, undefined, () => this.#client.range({
      key: Buffer.from(prefix),
      rangeEnd: Buffer.from(prefixUpperBound(prefix)),
      countOnly: true,
    }));
    return resp.count;
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    return (await this.#call(undefined, undefined, () => this.#rawCurrentRevision()));
  }

  watch(prefix: string, opts: WatchOptions, sink: WatchSink): Watch {
    checkRevisionArg('fromRevision', opts.fromRevision);
    try {
      this.#checkOpen();
      if (opts.exact) validateKey(prefix);
      else validatePrefix(prefix);
      // etcd itself refuses only starts below the compacted revision (fromRevision + 1 < it); the
      // contract also refuses fromRevision = compacted - 1, which the last compaction we know of catches.
      if (opts.fromRevision < this.#knownCompacted) throw new CompactedError(opts.fromRevision, this.#knownCompacted);
    } catch (err) {
      // Like the in-process drivers: storage faults of a watch arrive through the sink.
      if (err instanceof StorageError) return failedWatch(sink, err);
      throw err;
    }
    const base = { key: Buffer.from(prefix), fromRevision: opts.fromRevision, orderedProgress: this.#orderedProgress };
    const spec = opts.exact ? base : { ...base, rangeEnd: Buffer.from(prefixUpperBound(prefix)) };
    const w = new EtcdWatch(this.#client, spec, {
      onEvents: (events) => sink.onEvents(events),
      onError: (err) => {
        if (err instanceof CompactedError) this.#noteCompacted(err.compacted);
        sink.onError(err);
      },
      onProgress: (revision) => sink.onProgress?.(revision),
    }, (done) => this.#watches.delete(done));
    this.#watches.add(w);
    return w;
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    checkRevisionArg('revision', revision);
    if (revision <= this.#knownCompacted) return;
    try {
      await this.#call(undefined, revision, () => this.#client.compact({ revision }));
    } catch (err) {
      // Already compacted at or past `revision` (by us or another server): nothing to do.
      if (err instanceof CompactedError) return;
      throw err;
    }
    this.#noteCompacted(revision);
  }

  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    return this.#call(undefined, undefined, () => this.#serverCompacted());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#compactor?.dispose();
    for (const w of [...this.#watches]) w.fail(closedError(this.driver));
    await Promise.allSettled([...this.#inflight]);
    this.#client.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.driver);
  }

  #noteCompacted(revision: number): void {
    if (revision > this.#knownCompacted) this.#knownCompacted = revision;
  }

  async #rawCurrentRevision(): Promise<number> {
    return (await this.#client.range({ key: PROBE_KEY, countOnly: true })).header.revision;
  }

  /**
   * etcd 3.4 does not report its compacted revision directly. A read at the revision we last knew
   * tells whether anyone compacted further; if so, a watch from revision 1 is refused with the
   * exact compacted revision.
   */
  async #serverCompacted(): Promise<number> {
    try {
      await this.#client.range({ key: PROBE_KEY, countOnly: true, revision: Math.max(1, this.#knownCompacted) });
      return this.#knownCompacted;
    } catch (err) {
      if (!(hasStatus(err, GrpcStatus.OUT_OF_RANGE) && /compacted/.test(errorText(err)))) throw err;
    }
    const compacted = await this.#probeCompactedByWatch();
    this.#noteCompacted(compacted);
    return this.#knownCompacted;
  }

  #probeCompactedByWatch(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = this.#client.watchStream();
      let settled = false;
      const timer = setTimeout(() => finish(new Error('etcd did not report its compacted revision within 5 s')), 5_000);
      const finish = (result: number | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        s.cancel();
        if (typeof result === 'number') resolve(result);
        else reject(result);
      };
      s.on('data', (resp: { compactRevision: number; canceled: boolean }) => {
        if (resp.compactRevision > 0) finish(resp.compactRevision);
        else if (resp.canceled) finish(new Error('etcd canceled the compaction probe'));
      });
      s.on('error', (err: Error) => finish(err));
      s.on('end', () => finish(new Error('etcd closed the compaction probe')));
      s.write({ createRequest: { key: PROBE_KEY, startRevision: 1 } });
    });
  }

  /** Runs an etcd call, turning gRPC failures into storage errors. */
  async #call<T>(key: string | undefined, revision: number | undefined, fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.#inflight.add(p);
    try {
      return await p;
    } catch (err) {
      throw await this.#mapError(err, key, revision);
    } finally {
      this.#inflight.delete(p);
    }
  }

  async #mapError(err: unknown, key: string | undefined, revision: number | undefined): Promise<Error> {
    if (err instanceof StorageError || err instanceof RangeError) return err;
    if (this.#closed) return closedError(this.driver);
    const text = errorText(err);
    if (hasStatus(err, GrpcStatus.OUT_OF_RANGE) && revision !== undefined) {
      if (/compacted/.test(text)) {
        let compacted = this.#knownCompacted;
        try {
          compacted = await this.#serverCompacted();
        } catch {
          // Best effort: the error is still "compacted", only the oldest revision is unknown.
        }
        return new CompactedError(revision, compacted);
      }
      if (/future revision/.test(text)) {
        let current = 0;
        try {
          current = await this.#rawCurrentRevision();
        } catch {
          // Best effort, as above.
        }
        return new FutureRevisionError(revision, current);
      }
    }
    if (/request is too large/.test(text) || hasStatus(err, GrpcStatus.RESOURCE_EXHAUSTED)) {
      return new StorageError(StorageErrorCode.InvalidValue, `etcd refused the request as too large${key ? ` for ${key}` : ''}: ${text}`, key);
    }
    return new StorageError(StorageErrorCode.Unavailable, `etcd (${this.#client.currentEndpoint}): ${text}`, key);
  }
}

/** True for etcd versions whose progress responses are ordered with events (3.4.31+, 3.5.13+, 3.6+). */
export function orderedProgress(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major !== 3) return major > 3;
  if (minor === 4) return patch >= 31;
  if (minor === 5) return patch >= 13;
  return minor > 5;
}

/** Compare-and-swap guard: the key exists and was last written at `expected`. */
function casCompares(key: Buffer, expected: number): Compare[] {
  // A missing key has mod_revision 0 in etcd's compares; the CREATE guard keeps expected=0 from
  // matching it.
  return [
    { result: 'EQUAL', target: 'MOD', key, modRevision: expected },
    { result: 'GREATER', target: 'CREATE', key, createRevision: 0 },
  ];
}

function casFailure(key: string, expected: number, current: RangeResponse | undefined): StorageError {
  const raw = current?.kvs[0];
  if (!raw) return new NotFoundError(key);
  const kv: KeyValue = toKeyValue(raw);
  return new ConflictError(key, expected, kv);
}

function checkRevisionArg(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

function checkExpected(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`expectedModRevision must be an integer, got ${value}`);
}

/** A watch that only reports `err`, asynchronously like every other delivery. */
function failedWatch(sink: WatchSink, err: StorageError): Watch {
  let disposed = false;
  queueMicrotask(() => {
    if (!disposed) sink.onError(err);
  });
  return {
    dispose: () => {
      disposed = true;
    },
    requestProgress: () => {},
  };
}

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const details = (err as { details?: unknown }).details;
    if (typeof details === 'string' && details !== '') return details;
    if (err instanceof Error) return err.message;
  }
  return String(err);
}

registerDriver('etcd', (_url: URL, opts: OpenOptions) => openEtcdStore(parseEtcdEndpoints(opts.endpoint), opts.compactionWindowMs !== undefined ? { compactionWindowMs: opts.compactionWindowMs } : {}));
