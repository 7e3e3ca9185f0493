// The storage contract: a revisioned key/value store with etcd's semantics (global revisions,
// compare-and-swap, ordered watches, compaction). Every driver in drivers/ implements Store;
// the apiserver builds resourceVersion, optimistic concurrency and watch resume on top of it.
// Storage knows bytes and keys only, never Kubernetes kinds.

/** One stored key at one revision. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created this key (first create after any delete). */
  readonly createRevision: number;
  /** Revision of the last write to this key. */
  readonly modRevision: number;
}

/** What happened to a key; ADDED is a create, MODIFIED an update, DELETED a delete. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, delivered to watchers in revision order exactly once. */
export interface WatchEvent {
  readonly type: WatchEventType;
  /** Revision of the write. */
  readonly revision: number;
  /** For ADDED/MODIFIED the new value; for DELETED the last value, with modRevision = the delete's revision. */
  readonly kv: KeyValue;
  /** The value before this write (absent for ADDED). */
  readonly prevKv?: KeyValue;
}

/** Result of a successful write. */
export interface WriteResult {
  /** The new global revision; the written key's modRevision. */
  readonly revision: number;
}

/** Result of a successful delete. */
export interface DeleteResult extends WriteResult {
  readonly prevKv: KeyValue;
}

/** Result of a get. */
export interface GetResult {
  /** The key's value at `revision`, absent when it did not exist then. */
  readonly kv?: KeyValue;
  /** The revision the read was served at (the current one unless a revision was asked for). */
  readonly revision: number;
}

/** Options of a list. */
export interface ListOptions {
  /** Read at this revision (must still be in history); 0 or absent = latest. Ignored with `continue`. */
  readonly revision?: number;
  /** At most this many keys; 0 or absent = no limit. */
  readonly limit?: number;
  /** Token from a previous page; keeps that page's snapshot revision. */
  readonly continue?: string;
}

/** Result of a list: keys in byte order. */
export interface ListResult {
  readonly kvs: readonly KeyValue[];
  /** Snapshot revision of this list (and of every page of it). */
  readonly revision: number;
  /** Opaque token for the next page; absent on the last page. */
  readonly continue?: string;
  /** How many keys remain after this page, when known. */
  readonly remaining?: number;
}

/** Options of a watch. */
export interface WatchOptions {
  /** Deliver every event with revision > fromRevision. Must not be older than the compacted revision. */
  readonly fromRevision: number;
  /** Watch one key instead of a prefix. */
  readonly exact?: boolean;
}

/** A running watch; dispose() stops delivery (idempotent). */
export interface Watch {
  dispose(): void;
  /**
   * Asks for a progress notification: sink.onProgress(R) will follow once every event with
   * revision <= R (R >= the store's revision at the time of the request) has been delivered.
   * The watch cache uses it for consistent reads when its prefix is quiet.
   */
  requestProgress(): void;
}

/** Callbacks of a watch. Events come in batches in revision order; onError ends the watch. */
export interface WatchSink {
  onEvents(events: readonly WatchEvent[]): void;
  onError(err: StorageError): void;
  /** Every event up to `revision` has been delivered (answer to Watch.requestProgress). */
  onProgress?(revision: number): void;
}

/** The store. Keys are absolute paths ("/registry/pods/default/x"); prefixes end with "/". */
export interface Store {
  /** Driver name: "sqlite", "etcd" or "memory". */
  readonly driver: string;
  /** Create a key; KeyExistsError if it exists. */
  create(key: string, value: Uint8Array): Promise<WriteResult>;
  /** Replace a key whose modRevision equals expectedModRevision; ConflictError or NotFoundError otherwise. */
  update(key: string, value: Uint8Array, expectedModRevision: number): Promise<WriteResult>;
  /** Delete a key, optionally only at expectedModRevision; NotFoundError or ConflictError otherwise. */
  delete(key: string, expectedModRevision?: number): Promise<DeleteResult>;
  /** Read one key, at the latest revision or at `revision` (CompactedError if compacted away). */
  get(key: string, opts?: { readonly revision?: number }): Promise<GetResult>;
  /** List keys under a prefix, paginated by limit/continue. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of live keys under a prefix. */
  count(prefix: string): Promise<number>;
  /** The latest revision. */
  currentRevision(): Promise<number>;
  /** Watch a prefix (or exact key) from a revision. Errors (CompactedError…) go to sink.onError. */
  watch(prefix: string, opts: WatchOptions, sink: WatchSink): Watch;
  /** Drop history older than `revision` (exclusive); later reads/watches before it fail with CompactedError. */
  compact(revision: number): Promise<void>;
  /** The oldest revision still readable (the compacted revision). */
  compactedRevision(): Promise<number>;
  /** Flush and release everything; pending watches end. */
  close(): Promise<void>;
}

/** Codes of storage faults, mapped by the apiserver to HTTP statuses in one place. */
export const StorageErrorCode = {
  KeyExists: 'KeyExists',
  NotFound: 'NotFound',
  Conflict: 'Conflict',
  Compacted: 'Compacted',
  FutureRevision: 'FutureRevision',
  InvalidKey: 'InvalidKey',
  InvalidValue: 'InvalidValue',
  InvalidContinue: 'InvalidContinue',
  Corrupt: 'Corrupt',
  Unavailable: 'Unavailable',
  Closed: 'Closed',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** Base of every storage fault. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string | undefined;
  constructor(code: StorageErrorCode, message: string, key?: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
    this.key = key;
  }
}

/** create() of a key that exists. */
export class KeyExistsError extends StorageError {
  constructor(key: string) {
    super(StorageErrorCode.KeyExists, `key exists: ${key}`, key);
  }
}

/** update()/delete()/get-for-update of a key that does not exist. */
export class NotFoundError extends StorageError {
  constructor(key: string) {
    super(StorageErrorCode.NotFound, `key not found: ${key}`, key);
  }
}

/** Compare-and-swap failure; `current` is the key's value now, so callers can retry. */
export class ConflictError extends StorageError {
  readonly current: KeyValue;
  constructor(key: string, expected: number, current: KeyValue) {
    super(StorageErrorCode.Conflict, `conflict on ${key}: expected modRevision ${expected}, found ${current.modRevision}`, key);
    this.current = current;
  }
}

/** A read, list or watch at a revision older than the compacted one. */
export class CompactedError extends StorageError {
  readonly requested: number;
  readonly compacted: number;
  constructor(requested: number, compacted: number) {
    super(StorageErrorCode.Compacted, `required revision ${requested} has been compacted (oldest ${compacted})`);
    this.requested = requested;
    this.compacted = compacted;
  }
}

/** A read at a revision newer than the store's. */
export class FutureRevisionError extends StorageError {
  readonly requested: number;
  readonly current: number;
  constructor(requested: number, current: number) {
    super(StorageErrorCode.FutureRevision, `revision ${requested} is newer than the current revision ${current}`);
    this.requested = requested;
    this.current = current;
  }
}
