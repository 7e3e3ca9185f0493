// One storage watch over one etcd Watch RPC: maps etcd events to ADDED/MODIFIED/DELETED, reports
// compaction as CompactedError, and after a broken connection resumes from the last delivered
// revision on the next endpoint, so the consumer sees every event once and in order.
import { logger } from '../../../base/log.ts';
import { CompactedError, StorageError, StorageErrorCode } from '../../types.ts';
import type { KeyValue, Watch, WatchEvent, WatchSink } from '../../types.ts';
import type { EtcdClient, RawEvent, RawKeyValue, WatchResponse, WatchStream } from './client.ts';

const log = logger('storage');

/** Reconnect attempts in a row before the watch gives up with Unavailable. */
const MAX_RETRIES = 8;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/** Converts etcd's KeyValue to ours; values become plain Uint8Array views (no copy). */
export function toKeyValue(kv: RawKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: new Uint8Array(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
  };
}

/** Maps one etcd event: a PUT that created the key is ADDED; a DELETE carries the last value. */
export function toWatchEvent(ev: RawEvent): WatchEvent {
  const revision = ev.kv.modRevision;
  const prevKv = ev.prevKv ? toKeyValue(ev.prevKv) : undefined;
  if (ev.type === 'DELETE') {
    const kv: KeyValue = {
      key: ev.kv.key.toString('utf8'),
      value: prevKv?.value ?? new Uint8Array(0),
      createRevision: prevKv?.createRevision ?? 0,
      modRevision: revision,
    };
    return prevKv ? { type: 'DELETED', revision, kv, prevKv } : { type: 'DELETED', revision, kv };
  }
  const kv = toKeyValue(ev.kv);
  if (kv.createRevision === kv.modRevision) return { type: 'ADDED', revision, kv };
  return prevKv ? { type: 'MODIFIED', revision, kv, prevKv } : { type: 'MODIFIED', revision, kv };
}

/** What a watch needs to open its stream. */
export interface EtcdWatchSpec {
  readonly key: Buffer;
  /** Absent for a single-key watch. */
  readonly rangeEnd?: Buffer;
  readonly fromRevision: number;
  /**
   * The server orders progress responses with events (etcd >= 3.4.31 / 3.5.13). Older servers
   * send them on a separate queue that can overtake events already pending for this watch.
   */
  readonly orderedProgress: boolean;
}

/**
 * How long after creation a watch that etcd registered as "unsynced" (starting at or below the
 * current revision) may still be catching up: etcd 3.4 syncs such watchers every 100 ms.
 */
const SYNC_GRACE_MS = 250;

/** A running etcd watch; `onEnd` tells the store it is gone. */
export class EtcdWatch implements Watch {
  readonly #client: EtcdClient;
  readonly #spec: EtcdWatchSpec;
  readonly #sink: WatchSink;
  readonly #onEnd: (w: EtcdWatch) => void;
  /** Newest revision delivered (or the starting point); a resumed stream starts after it. */
  #lastRevision: number;
  #stream: WatchStream | undefined;
  #endpoint = '';
  #retries = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #ended = false;
  /** etcd confirmed the watcher on the current stream. */
  #created = false;
  /** The watcher is known to be past its catch-up from history (see #onCreated). */
  #synced = false;
  /** Store revision when the watcher was created; delivering past it proves catch-up is over. */
  #createdRevision = 0;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Progress request: none, waiting to be sent, or waiting for the first / confirming response. */
  #progress: 'idle' | 'waiting' | 'first' | 'second' = 'idle';
  /** The first response's revision, reported once the confirming one arrives. */
  #progressRevision = 0;
  /** A request came while a round was in flight; it needs a round of its own. */
  #progressAgain = false;

  constructor(client: EtcdClient, spec: EtcdWatchSpec, sink: WatchSink, onEnd: (w: EtcdWatch) => void) {
    this.#client = client;
    this.#spec = spec;
    this.#sink = sink;
    this.#onEnd = onEnd;
    this.#lastRevision = spec.fromRevision;
    this.#open();
  }

  /** Stops delivery and cancels the RPC; idempotent. */
  dispose(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#teardown();
  }

  /** Ends the watch with `err` (used by the store on close). */
  fail(err: StorageError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#teardown();
    try {
      this.#sink.onError(err);
    } catch (e) {
      log.error('watch consumer threw', { err: e });
    }
  }

  /** Asks etcd for a progress notification; answered through sink.onProgress. */
  requestProgress(): void {
    if (this.#ended) return;
    if (this.#progress !== 'idle') {
      this.#progressAgain = true;
      return;
    }
    this.#progress = 'waiting';
    this.#advanceProgress();
  }

  /**
   * Sends the progress request once etcd can answer it truthfully. etcd answers with its current
   * revision without regard to this watch, so the request waits until the watcher has caught up
   * with history; older etcd also lets the answer overtake events already queued for the watch,
   * so there a second round trip confirms the first (see #onProgress).
   */
  #advanceProgress(): void {
    if (this.#progress !== 'waiting' || !this.#stream || !this.#created) return;
    if (!this.#spec.orderedProgress && !this.#synced) return;
    this.#progress = 'first';
    this.#stream.write({ progressRequest: {} });
  }

  #onProgress(revision: number): void {
    if (this.#progress !== 'first' && this.#progress !== 'second') return; // nobody asked
    if (this.#progress === 'first' && !this.#spec.orderedProgress) {
      this.#progressRevision = revision;
      this.#progress = 'second';
      this.#stream?.write({ progressRequest: {} });
      return;
    }
    const answer = this.#progress === 'second' ? this.#progressRevision : revision;
    this.#progress = 'idle';
    try {
      this.#sink.onProgress?.(Math.max(answer, this.#lastRevision));
    } catch (err) {
      log.error('watch consumer threw', { err });
    }
    if (this.#progressAgain && !this.#ended) {
      this.#progressAgain = false;
      this.requestProgress();
    }
  }

  /**
   * etcd registers a watcher starting above its current revision as synced: every later event
   * reaches it in order. One starting lower catches up from history first, out of band; it is
   * known caught up once it delivers an event past the creation revision, or after the grace time
   * in which etcd syncs such watchers.
   */
  #onCreated(revision: number): void {
    this.#created = true;
    this.#retries = 0;
    this.#createdRevision = revision;
    if (this.#lastRevision >= revision) {
      this.#markSynced();
      return;
    }
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#markSynced();
    }, SYNC_GRACE_MS);
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#advanceProgress();
  }

  #teardown(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    const s = this.#stream;
    this.#stream = undefined;
    s?.cancel();
    this.#onEnd(this);
  }

  #open(): void {
    let s: WatchStream;
    try {
      s = this.#client.watchStream();
    } catch (err) {
      this.fail(new StorageError(StorageErrorCode.Unavailable, `etcd watch: ${(err as Error).message}`));
      return;
    }
    this.#stream = s;
    this.#endpoint = this.#client.currentEndpoint;
    this.#created = false;
    this.#synced = false;
    // A progress round cut by a reconnect starts over on the new stream.
    if (this.#progress === 'first' || this.#progress === 'second') this.#progress = 'waiting';
    s.on('data', (resp: WatchResponse) => {
      if (this.#stream === s) this.#onResponse(resp);
    });
    s.on('error', (err: Error) => {
      if (this.#stream === s) this.#onBroken(err);
    });
    s.on('end', () => {
      if (this.#stream === s) this.#onBroken(new Error('etcd closed the watch stream'));
    });
    s.write({
      createRequest: {
        key: this.#spec.key,
        ...(this.#spec.rangeEnd ? { rangeEnd: this.#spec.rangeEnd } : {}),
        // start_revision is inclusive.
        startRevision: this.#lastRevision + 1,
        prevKv: true,
      },
    });
  }

  #onResponse(resp: WatchResponse): void {
    if (resp.compactRevision > 0) {
      this.fail(new CompactedError(this.#lastRevision, resp.compactRevision));
      return;
    }
    if (resp.canceled) {
      this.fail(new StorageError(StorageErrorCode.Unavailable, `etcd canceled the watch: ${resp.cancelReason || 'no reason given'}`));
      return;
    }
    if (resp.created) {
      this.#onCreated(resp.header.revision);
      return;
    }
    if (resp.events.length === 0) {
      this.#onProgress(resp.header.revision);
      return;
    }
    const batch: WatchEvent[] = [];
    for (const raw of resp.events) {
      if (raw.kv.modRevision <= this.#lastRevision) continue;
      batch.push(toWatchEvent(raw));
      this.#lastRevision = raw.kv.modRevision;
    }
    if (batch.length > 0) {
      try {
        this.#sink.onEvents(batch);
      } catch (err) {
        log.error('watch consumer threw', { err });
      }
    }
    if (!this.#synced && this.#lastRevision > this.#createdRevision) this.#markSynced();
  }

  #onBroken(err: Error): void {
    if (this.#ended) return;
    const s = this.#stream;
    this.#stream = undefined;
    s?.cancel();
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    if (this.#retries >= MAX_RETRIES) {
      this.fail(new StorageError(StorageErrorCode.Unavailable, `etcd watch lost after ${MAX_RETRIES} reconnects: ${err.message}`));
      return;
    }
    this.#client.failOver(this.#endpoint);
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.#retries);
    this.#retries++;
    log.debug('etcd watch reconnecting', { endpoint: this.#client.currentEndpoint, from: this.#lastRevision, err });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#ended) this.#open();
    }, delay);
  }
}
