// Encryption at rest as a Store decorator: values under configured resources' key prefixes are
// encrypted on write and decrypted on every read, list, watch and conflict, so the apiserver above
// never sees ciphertext; rewriteAll moves stored objects to the current (first) key.
import { RESOURCES } from '../../api/resource_table.ts';
import {
  ConflictError, StorageError, StorageErrorCode, type DeleteResult, type GetResult, type KeyValue, type ListOptions, type ListResult,
  type Store, type Watch, type WatchEvent, type WatchOptions, type WatchSink, type WriteResult,
} from '../../storage/types.ts';
import { validateValue } from '../../storage/keys.ts';
import { storagePrefix } from '../registry/generic_store.ts';
import type { EncryptionConfig, GroupResource } from './config.ts';
import type { Transformer } from './transformers.ts';

/** A stored value that cannot be decrypted (or encrypted) with the configured providers. */
export class TransformStorageError extends StorageError {
  constructor(key: string, cause: string) {
    super(StorageErrorCode.Corrupt, `unable to transform key ${JSON.stringify(key)}: ${cause}`, key);
    this.name = 'TransformStorageError';
  }
}

/** Maps storage prefixes ("/registry/deployments/") to the group-resource stored under them. */
function prefixTable(): Map<string, GroupResource> {
  const table = new Map<string, GroupResource>();
  for (const info of RESOURCES) {
    const prefix = storagePrefix(info);
    const seg = prefix.split('/').filter((s) => s !== '');
    // events.k8s.io Events live under the core prefix and belong to the core group there.
    const group = seg.length === 2 && info.group === 'events.k8s.io' ? '' : info.group;
    const prev = table.get(prefix);
    if (!prev || (prev.group !== '' && group === '')) table.set(prefix, { group, resource: info.resource });
  }
  return table;
}

/**
 * The storage prefix of a resource key ("/registry/secrets/" for "/registry/secrets/ns/x"), or
 * undefined for keys that hold no objects. Unknown groups are stored as /registry/<group>/<resource>/.
 */
function resourcePrefixOf(key: string, table: Map<string, GroupResource>): string | undefined {
  const seg = key.split('/');
  if (seg[0] !== '' || seg[1] !== 'registry' || seg.length < 4 || seg[2] === '') return undefined;
  const two = `/registry/${seg[2]}/${seg[3]}/`;
  if (table.has(two)) return two;
  const one = `/registry/${seg[2]}/`;
  if (table.has(one)) return one;
  return seg[2]!.includes('.') && seg.length >= 5 ? two : one;
}

function groupResourceOf(prefix: string, table: Map<string, GroupResource>): GroupResource {
  const known = table.get(prefix);
  if (known) return known;
  const seg = prefix.split('/').filter((s) => s !== '').slice(1);
  return seg.length === 2 ? { group: seg[0]!, resource: seg[1]! } : { group: '', resource: seg[0]! };
}

/** Options of the encrypting store. */
export interface EncryptingStoreOptions {
  /** Overrides how keys map to group-resources (tests run the storage conformance suite this way). */
  readonly keyResource?: (key: string) => GroupResource | undefined;
}

/** A Store that encrypts and decrypts values per the encryption configuration. */
export class EncryptingStore implements Store {
  readonly driver: string;
  readonly #inner: Store;
  readonly #config: EncryptionConfig;
  readonly #table = prefixTable();
  readonly #byPrefix = new Map<string, Transformer>();
  readonly #keyResource: ((key: string) => GroupResource | undefined) | undefined;
  /** Keys last seen stored by a provider other than the first (they need a rewrite). */
  readonly #stale = new Set<string>();

  constructor(inner: Store, config: EncryptionConfig, opts: EncryptingStoreOptions = {}) {
    this.#inner = inner;
    this.#config = config;
    this.#keyResource = opts.keyResource;
    this.driver = inner.driver;
  }

  /** The wrapped store (raw, encrypted values). */
  get inner(): Store {
    return this.#inner;
  }

  #transformer(key: string): Transformer {
    if (this.#keyResource) {
      const gr = this.#keyResource(key);
      return gr ? this.#config.transformerFor(gr) : passThrough;
    }
    const prefix = resourcePrefixOf(key, this.#table);
    if (prefix === undefined) return passThrough;
    let t = this.#byPrefix.get(prefix);
    if (!t) {
      t = this.#config.transformerFor(groupResourceOf(prefix, this.#table));
      this.#byPrefix.set(prefix, t);
    }
    return t;
  }

  #encrypt(key: string, value: Uint8Array): Uint8Array {
    // Plain values are checked first, so callers get the same errors as from the inner store.
    validateValue(key, value);
    try {
      return this.#transformer(key).toStorage(value, Buffer.from(key));
    } catch (err) {
      throw new TransformStorageError(key, err instanceof Error ? err.message : String(err));
    }
  }

  #decrypt(kv: KeyValue): KeyValue {
    let r: { data: Uint8Array; stale: boolean };
    try {
      r = this.#transformer(kv.key).fromStorage(kv.value, Buffer.from(kv.key));
    } catch (err) {
      throw new TransformStorageError(kv.key, err instanceof Error ? err.message : String(err));
    }
    if (r.stale) this.#stale.add(kv.key);
    else this.#stale.delete(kv.key);
    return r.data === kv.value ? kv : { ...kv, value: r.data };
  }

  /**
   * Whether a key was last read encrypted with a provider or key other than the current first one.
   * An update that changes nothing must still write such a key (upstream's "stale" transform), so
   * `kubectl get secrets -A -o json | kubectl replace -f -` re-encrypts after a key rotation.
   */
  isStale(key: string): boolean {
    return this.#stale.has(key);
  }

  #decryptConflict(err: unknown, expected: number): never {
    if (err instanceof ConflictError) throw new ConflictError(err.key ?? err.current.key, expected, this.#decrypt(err.current));
    throw err;
  }

  async create(key: string, value: Uint8Array): Promise<WriteResult> {
    const r = await this.#inner.create(key, this.#encrypt(key, value));
    this.#stale.delete(key);
    return r;
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<WriteResult> {
    let r: WriteResult;
    try {
      r = await this.#inner.update(key, this.#encrypt(key, value), expectedModRevision);
    } catch (err) {
      return this.#decryptConflict(err, expectedModRevision);
    }
    this.#stale.delete(key);
    return r;
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    let r: DeleteResult;
    try {
      r = await this.#inner.delete(key, expectedModRevision);
    } catch (err) {
      return this.#decryptConflict(err, expectedModRevision ?? 0);
    }
    const prevKv = this.#decrypt(r.prevKv);
    this.#stale.delete(key);
    return { ...r, prevKv };
  }

  async get(key: string, opts?: { readonly revision?: number }): Promise<GetResult> {
    const r = await this.#inner.get(key, opts);
    return r.kv ? { ...r, kv: this.#decrypt(r.kv) } : r;
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const r = await this.#inner.list(prefix, opts);
    return { ...r, kvs: r.kvs.map((kv) => this.#decrypt(kv)) };
  }

  count(prefix: string): Promise<number> {
    return this.#inner.count(prefix);
  }

  currentRevision(): Promise<number> {
    return this.#inner.currentRevision();
  }

  watch(prefix: string, opts: WatchOptions, sink: WatchSink): Watch {
    let failed = false;
    // A value we cannot read ends the watch with an error, as upstream's watcher does.
    const w: Watch = this.#inner.watch(prefix, opts, {
      onEvents: (events) => {
        if (failed) return;
        let out: WatchEvent[];
        try {
          out = events.map((e) => {
            // The previous value first, so staleness ends up describing the newest one.
            const prevKv = e.prevKv ? this.#decrypt(e.prevKv) : undefined;
            const kv = this.#decrypt(e.kv);
            if (e.type === 'DELETED') this.#stale.delete(e.kv.key);
            return prevKv ? { ...e, kv, prevKv } : { ...e, kv };
          });
        } catch (err) {
          failed = true;
          w.dispose();
          sink.onError(err as StorageError);
          return;
        }
        sink.onEvents(out);
      },
      onError: (err) => {
        if (!failed) sink.onError(err);
      },
      ...(sink.onProgress ? { onProgress: (rev: number) => { if (!failed) sink.onProgress!(rev); } } : {}),
    });
    return w;
  }

  compact(revision: number): Promise<void> {
    return this.#inner.compact(revision);
  }

  compactedRevision(): Promise<number> {
    return this.#inner.compactedRevision();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Keys outside /registry/<resource>/ (bookkeeping) are stored as given. */
const passThrough: Transformer = {
  toStorage: (data) => data,
  fromStorage: (data) => ({ data, stale: false }),
};

/** Wraps a store so configured resources are encrypted at rest. */
export function encryptingStore(store: Store, config: EncryptionConfig, opts: EncryptingStoreOptions = {}): EncryptingStore {
  return new EncryptingStore(store, config, opts);
}

/** Result of rewriteAll. */
export interface RewriteResult {
  /** Objects written back (now under the first provider's key). */
  readonly rewritten: number;
  /** Objects changed or deleted meanwhile (their writer already used the current key). */
  readonly skipped: number;
}

/**
 * Reads every object under a prefix and writes it back unchanged, so it is stored with the first
 * provider's key: the key-rotation step upstream does with
 * `kubectl get secrets -A -o json | kubectl replace -f -`. Pass the encrypting store.
 */
export async function rewriteAll(store: Store, prefix: string, opts: { readonly pageSize?: number } = {}): Promise<RewriteResult> {
  let rewritten = 0;
  let skipped = 0;
  let cont: string | undefined;
  do {
    const page = await store.list(prefix, { limit: opts.pageSize ?? 500, continue: cont });
    for (const kv of page.kvs) {
      try {
        await store.update(kv.key, kv.value, kv.modRevision);
        rewritten++;
      } catch (err) {
        if (err instanceof StorageError && (err.code === StorageErrorCode.Conflict || err.code === StorageErrorCode.NotFound)) skipped++;
        else throw err;
      }
    }
    cont = page.continue;
  } while (cont);
  return { rewritten, skipped };
}
