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
}

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

  #teardown(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
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
    s.on('data', (resp: WatchResponse) => {
      if (this.#stream === s) this.#onResponse(resp);
    });
    s.on('error', (err: Error) => {
      if (this.#stream === s) this.#onBroken(err);
    });
    s.on('end', () => {
      if (this.#stream === s) this.#onBroken(new Error('etcd closed the watch stream'));
    });
    // Start one revision early (start_revision is inclusive) so etcd itself refuses a start older
    // than the compacted revision, exactly as the contract says; the extra event is dropped below.
    // 0 would mean "from now" to etcd, hence at least 1.
    s.write({
      createRequest: {
        key: this.#spec.key,
        ...(this.#spec.rangeEnd ? { rangeEnd: this.#spec.rangeEnd } : {}),
        startRevision: Math.max(1, this.#lastRevision),
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
    if (resp.created) this.#retries = 0;
    if (resp.events.length === 0) return;
    const batch: WatchEvent[] = [];
    for (const raw of resp.events) {
      if (raw.kv.modRevision <= this.#lastRevision) continue;
      batch.push(toWatchEvent(raw));
      this.#lastRevision = raw.kv.modRevision;
    }
    if (batch.length === 0) return;
    try {
      this.#sink.onEvents(batch);
    } catch (err) {
      log.error('watch consumer threw', { err });
    }
  }

  #onBroken(err: Error): void {
    if (this.#ended) return;
    const s = this.#stream;
    this.#stream = undefined;
    s?.cancel();
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
