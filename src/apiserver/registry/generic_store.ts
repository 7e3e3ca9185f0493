// The generic registry of one resource (upstream's genericregistry.Store): create, get, update with
// optimistic concurrency, graceful and finalizer-aware delete, list and watch through the watch
// cache. Per-resource differences come from its Strategy; storage is bytes under upstream's keys.
import type { ResourceInfo } from '../../api/resource_types.ts';
import { groupVersionString } from '../../api/resource_types.ts';
import { convertObject } from '../../api/conversion.ts';
import { copyJson } from '../../api/json_copy.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { FieldError } from '../../api/field_errors.ts';
import type { KeyValue, Store } from '../../storage/types.ts';
import { ConflictError, StorageError, StorageErrorCode } from '../../storage/types.ts';
import {
  ApiError, newAlreadyExists, newBadRequest, newConflict, newInvalid, newNotFound, toApiError,
  type GroupResource,
} from '../errors.ts';
import { WatchCache, setResourceVersion } from '../watch_cache.ts';
import { encodeObject, rememberServedJSON, withResourceVersion } from '../stored_json.ts';
import type { AdmissionAttributes, Operation } from '../admission/types.ts';
import type { UserInfo } from '../handlers/context.ts';
import { generateName, jsonEqual, meta, metaString, newUID, rfc3339, specEqual } from './object_meta.ts';
import { strategyFor, type KObject, type Strategy, type StrategyContext } from './strategy.ts';

/** Options common to writes. */
export interface WriteOptions {
  readonly dryRun?: boolean;
  /** Who writes (for admission); undefined for the server's own writes. */
  readonly user?: UserInfo;
  /** Where admission warnings go. */
  readonly warnings?: string[];
  /** "status" or "" (subresource being written). */
  readonly subresource?: string;
  /** The field manager recorded in managedFields (default "kube-apiserver", the server's own writes). */
  readonly fieldManager?: string;
  /** The object already carries its managedFields (server-side apply computed them). */
  readonly managedFieldsSet?: boolean;
  /** The subresource recorded in managedFields when it differs from the one written (scale). */
  readonly managerSubresource?: string;
  /** PATCH with server-side apply creates a missing object. */
  readonly createIfMissing?: boolean;
  /** Called on the object after defaults, before validation (admission hooks later). */
  readonly mutate?: (obj: KObject) => void | Promise<void>;
}

/** DeleteOptions as the handler parsed them. */
export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: boolean;
  readonly user?: UserInfo;
  readonly warnings?: string[];
}

/** Result of a delete: the object and whether it is gone already. */
export interface DeleteResult {
  readonly obj: KObject;
  readonly deleted: boolean;
}

/** Hooks that the server wires in (defaulting, metadata validation). */
export interface GenericStoreHooks {
  /** Applies upstream defaults in place. */
  defaults?(info: ResourceInfo, obj: KObject): void;
  /** Field errors of metadata (names, labels, annotations …) for a create or an update. */
  validateMeta?(info: ResourceInfo, obj: KObject, old: KObject | undefined, strategy: Strategy): FieldError[];
  /** Upstream's create-time preparation of a kind (fresh status, generated selectors …). */
  prepareForCreate?(info: ResourceInfo, obj: KObject): void;
  /** Field errors of the kind's own fields (beyond ObjectMeta); old is set for updates. */
  validate?(info: ResourceInfo, obj: KObject, old: KObject | undefined): FieldError[];
  /** New managedFields for a write by `manager` (empty: the object carries none). */
  managedFields?(info: ResourceInfo, apiVersion: string, live: KObject | undefined, next: KObject, manager: string, subresource: string): unknown[];
  /** The admission chain: mutating plugins before validation, validating ones after. */
  admission?: {
    admit(a: AdmissionAttributes): Promise<void>;
    validate(a: AdmissionAttributes): Promise<void>;
  };
  /** Resource-specific work before validation that needs other state (Service IP allocation). */
  admit?(info: ResourceInfo, obj: KObject, old: KObject | undefined): Promise<FieldError[]>;
}

const MAX_UPDATE_RETRIES = 16;
/** Attempts at a name from generateName (upstream's maxNameGenerationCreateAttempts). */
const GENERATE_NAME_ATTEMPTS = 8;

/** An object's state an update starts from. */
interface CurrentState {
  /** The state itself: only read, never changed (it may be the watch cache's own object). */
  readonly obj: KObject;
  readonly revision: number;
  /** Read from the watch cache (which may lag behind storage). */
  readonly cached: boolean;
}

function isNotFound(err: unknown): boolean {
  return err instanceof StorageError && err.code === StorageErrorCode.NotFound;
}

/** Storage key prefix of a resource: /registry/<resource>/ (core, and most groups as upstream), /registry/<group>/<resource>/ otherwise. */
export function storagePrefix(info: Pick<ResourceInfo, 'group' | 'resource'>): string {
  const builtinGroups = new Set(['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io',
    'storage.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'scheduling.k8s.io', 'node.k8s.io',
    'certificates.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apiregistration.k8s.io', 'flowcontrol.apiserver.k8s.io']);
  if (builtinGroups.has(info.group)) {
    // events.k8s.io Events are the core events; one stored object for both APIs, as upstream.
    if (info.group === 'events.k8s.io' && info.resource === 'events') return '/registry/events/';
    return `/registry/${info.resource}/`;
  }
  return `/registry/${info.group}/${info.resource}/`;
}

/** Decodes stored JSON and stamps the revision as resourceVersion. */
export function decodeStored(kv: KeyValue): KObject {
  const obj = JSON.parse(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString('utf8')) as KObject;
  setResourceVersion(obj, kv.modRevision);
  return obj;
}

/** One resource's registry. */
export class GenericStore {
  readonly info: ResourceInfo;
  readonly gr: GroupResource;
  readonly prefix: string;
  readonly strategy: Strategy;
  readonly cache: WatchCache;
  /** The resource as stored (another group/version when objects are converted on the way). */
  readonly storageInfo: ResourceInfo;
  /** True when served objects are converted from the stored version. */
  readonly converts: boolean;
  #store: Store;
  #hooks: GenericStoreHooks;

  /** The underlying store (for paginated storage lists). */
  get rawStore(): Store {
    return this.#store;
  }

  constructor(info: ResourceInfo, store: Store, cache: WatchCache, hooks: GenericStoreHooks = {}) {
    this.info = info;
    this.gr = { group: info.group, resource: info.resource };
    this.prefix = storagePrefix(info);
    // events.k8s.io Events are stored as core Events; other groups store one version of their own.
    const storageGroup = info.group === 'events.k8s.io' && info.resource === 'events' ? '' : info.group;
    this.storageInfo = resourceFor(storageGroup, info.storageVersion, info.resource) ?? info;
    this.converts = this.storageInfo !== info && (this.storageInfo.group !== info.group || this.storageInfo.version !== info.version);
    this.strategy = strategyFor(this.storageInfo.group, this.storageInfo.resource);
    this.cache = cache;
    this.#store = store;
    this.#hooks = hooks;
  }

  /** Storage key of an object. */
  key(namespace: string, name: string): string {
    return this.info.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** Key prefix of a namespace (or of everything). */
  keyPrefix(namespace: string): string {
    return this.info.namespaced && namespace !== '' ? `${this.prefix}${namespace}/` : this.prefix;
  }

  #ctx(subresource = ''): StrategyContext {
    return { info: this.storageInfo, subresource, now: new Date() };
  }

  /** A stored object as this version serves it (a copy when converted). */
  present(obj: KObject): KObject {
    if (!this.converts) return obj;
    return convertObject(obj, groupVersionString(this.storageInfo.group, this.storageInfo.version), groupVersionString(this.info.group, this.info.version), this.info.kind);
  }

  /** A served object in its stored form. */
  #toStorage(obj: KObject): KObject {
    if (!this.converts) return obj;
    // Defaults of the served version first (as upstream decodes into it), then convert.
    this.#hooks.defaults?.(this.info, obj);
    return convertObject(obj, groupVersionString(this.info.group, this.info.version), groupVersionString(this.storageInfo.group, this.storageInfo.version), this.info.kind);
  }

  #attrs(operation: Operation, subresource: string, namespace: string, object: KObject | undefined, oldObject: KObject | undefined,
    opts: { dryRun?: boolean; user?: UserInfo; warnings?: string[] }): AdmissionAttributes {
    return {
      operation, info: this.storageInfo, requestInfo: this.info, subresource, namespace,
      name: metaString(object ?? oldObject ?? {}, 'name'), object, oldObject,
      user: opts.user, dryRun: opts.dryRun === true, warnings: opts.warnings ?? [],
    };
  }

  /** Reads one object from storage (a consistent read). */
  async get(namespace: string, name: string): Promise<KObject> {
    const res = await this.#store.get(this.key(namespace, name)).catch((e: unknown) => { throw toApiError(e, this.gr, name); });
    if (!res.kv) throw newNotFound(this.gr, name);
    return this.present(decodeStored(res.kv));
  }

  /**
   * The served JSON of one object read from storage: its stored bytes with resourceVersion spliced
   * in, not decoded and encoded again (undefined when this version converts or the bytes are odd).
   */
  async getServedJSON(namespace: string, name: string): Promise<Buffer | undefined> {
    if (this.converts) return undefined;
    const res = await this.#store.get(this.key(namespace, name)).catch((e: unknown) => { throw toApiError(e, this.gr, name); });
    if (!res.kv) throw newNotFound(this.gr, name);
    const v = res.kv.value;
    return withResourceVersion(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength), res.kv.modRevision);
  }

  /**
   * Serializes an object about to be written and hands it to the watch cache, whose event of the
   * write then keeps this object rather than decoding the bytes again (the caller gets the same
   * object back, and may not change it). resourceVersion goes last in metadata, where decoding
   * stored bytes puts it, so a cached object reads the same whichever way it came.
   */
  #encodeForWrite(key: string, obj: KObject): ReturnType<typeof encodeObject> {
    delete meta(obj)['resourceVersion'];
    const encoded = encodeObject(obj);
    if (!this.converts) this.cache.adopt(key, obj, encoded);
    return encoded;
  }

  /** A written object as returned to the caller, with its served JSON when it is the stored form. */
  #written(obj: KObject, served: Buffer | undefined): KObject {
    if (this.converts) return this.present(obj);
    rememberServedJSON(obj, served);
    return obj;
  }

  /**
   * The current state of an object for an update: from the watch cache when allowed and present,
   * else from storage; `obj` is only to be read (copyJson gives copies to change).
   */
  async #current(key: string, name: string, allowCache: boolean): Promise<CurrentState | undefined> {
    const cached = allowCache ? this.cache.get(key) : undefined;
    if (cached) return { obj: cached.obj, revision: cached.revision, cached: true };
    const res = await this.#store.get(key).catch((e: unknown) => { throw toApiError(e, this.gr, name); });
    const kv = res.kv;
    if (!kv) return undefined;
    return { obj: decodeStored(kv), revision: kv.modRevision, cached: false };
  }

  /** Whether storage still holds `revision` of a key. */
  async #isCurrent(key: string, name: string, revision: number): Promise<boolean> {
    const res = await this.#store.get(key).catch((e: unknown) => { throw toApiError(e, this.gr, name); });
    return res.kv?.modRevision === revision;
  }

  /** Reads an object and its raw kv, or undefined. */
  async #read(key: string, name: string): Promise<{ obj: KObject; kv: KeyValue } | undefined> {
    const res = await this.#store.get(key).catch((e: unknown) => { throw toApiError(e, this.gr, name); });
    return res.kv ? { obj: decodeStored(res.kv), kv: res.kv } : undefined;
  }

  /** Creates an object (already decoded and checked against the URL). */
  async create(namespace: string, served: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const ctx = this.#ctx();
    const obj = this.#toStorage(served);
    const m = meta(obj);
    if (m['resourceVersion'] !== undefined && m['resourceVersion'] !== '') {
      throw newBadRequest('resourceVersion should not be set on objects to be created');
    }
    if (this.info.namespaced) m['namespace'] = namespace;
    else delete m['namespace'];
    const generated = (m['name'] === undefined || m['name'] === '') && typeof m['generateName'] === 'string' && m['generateName'] !== '';
    if (generated) m['name'] = this.#freshName(namespace, m['generateName'] as string);
    this.#hooks.defaults?.(this.storageInfo, obj);
    this.#trackFields(undefined, obj, opts, '');
    m['uid'] = newUID();
    m['creationTimestamp'] = rfc3339(ctx.now);
    delete m['deletionTimestamp'];
    delete m['deletionGracePeriodSeconds'];
    delete m['selfLink'];
    if (this.strategy.tracksGeneration) m['generation'] = 1;
    else delete m['generation'];
    this.strategy.prepareForCreate?.(obj, ctx);
    this.#hooks.prepareForCreate?.(this.storageInfo, obj);
    await opts.mutate?.(obj);
    const attrs = this.#attrs('CREATE', '', namespace, obj, undefined, opts);
    await this.#hooks.admission?.admit(attrs);
    const name = metaString(obj, 'name');
    const errs = [
      ...((await this.#hooks.admit?.(this.storageInfo, obj, undefined)) ?? []),
      ...(this.#hooks.validateMeta?.(this.storageInfo, obj, undefined, this.strategy) ?? []),
      ...(this.#hooks.validate?.(this.storageInfo, obj, undefined) ?? []),
      ...(this.strategy.validate?.(obj, ctx) ?? []),
    ];
    if (errs.length > 0) throw newInvalid(this.info.group, this.info.kind, name, errs);
    await this.#hooks.admission?.validate(attrs);
    if (opts.dryRun) {
      const existing = await this.#read(this.key(namespace, name), name);
      if (existing) throw newAlreadyExists(this.gr, name);
      return this.present(obj);
    }
    // Upstream (RetryGenerateName) makes up to 8 attempts at a generated name. Names are picked
    // unused in the cache, so only a race gets here; the retry keeps what admission checked.
    for (let attempt = 1; ; attempt++) {
      const written = metaString(obj, 'name');
      const key = this.key(namespace, written);
      try {
        const encoded = this.#encodeForWrite(key, obj);
        const res = await this.#store.create(key, encoded.stored);
        setResourceVersion(obj, res.revision);
        return this.#written(obj, encoded.served(res.revision));
      } catch (err) {
        this.cache.abandon(key, obj);
        if (generated && err instanceof StorageError && err.code === StorageErrorCode.KeyExists && attempt < GENERATE_NAME_ATTEMPTS) {
          meta(obj)['name'] = this.#freshName(namespace, m['generateName'] as string);
          continue;
        }
        throw toApiError(err, this.gr, written);
      }
    }
  }

  /** generateName plus a suffix, avoiding names the cache knows to be taken. */
  #freshName(namespace: string, base: string): string {
    let name = generateName(base);
    for (let i = 1; i < GENERATE_NAME_ATTEMPTS && this.cache.get(this.key(namespace, name)) !== undefined; i++) name = generateName(base);
    return name;
  }

  /**
   * Updates an object with optimistic concurrency: a set metadata.resourceVersion must match the
   * stored one (409 otherwise); an unset one means "whatever is current" (retried on races).
   * `build` turns the current object into the desired one (PUT returns the body; PATCH applies a patch).
   */
  async update(namespace: string, name: string, build: (current: KObject | undefined) => Promise<KObject> | KObject, opts: WriteOptions = {}): Promise<{ obj: KObject; created: boolean }> {
    const key = this.key(namespace, name);
    const sub = opts.subresource ?? '';
    const ctx = this.#ctx(sub);
    for (let attempt = 0; ; attempt++) {
      // The first attempt starts from the watch cache, as upstream's cacher hands GuaranteedUpdate
      // its cached object: a stale one only costs a conflict and a retry from storage. Dry runs
      // read storage (as upstream's dry-run storage does): they never reach the conflict check.
      const fromCache = attempt === 0 && opts.dryRun !== true;
      const current = await this.#current(key, name, fromCache);
      if (!current) {
        if (!(this.strategy.allowCreateOnUpdate || opts.createIfMissing) || sub !== '') throw newNotFound(this.gr, name);
        const obj = await build(undefined);
        const m = meta(obj);
        if (m['resourceVersion'] !== undefined && m['resourceVersion'] !== '') throw newNotFound(this.gr, name);
        return { obj: await this.create(namespace, obj, opts), created: true };
      }
      const old = current.obj;
      // `build` changes its input, so it gets its own copy, unless it takes none (a PUT replaces).
      const input = build.length === 0 ? undefined : this.converts ? this.present(copyJson(old)) : copyJson(old);
      const obj = this.#toStorage(await build(input));
      const m = meta(obj);
      const wantRV = m['resourceVersion'];
      const conditional = typeof wantRV === 'string' && wantRV !== '';
      if (conditional && wantRV !== String(current.revision)) {
        if (current.cached) continue; // the cache may lag behind storage: ask storage
        throw newConflict(this.gr, name);
      }
      const wantUid = m['uid'];
      const haveUid = meta(old)['uid'];
      if (typeof wantUid === 'string' && wantUid !== '' && wantUid !== haveUid) {
        if (current.cached) continue;
        throw newConflict(this.gr, name, `Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${String(haveUid ?? '')}`);
      }
      m['resourceVersion'] = String(current.revision);
      this.#carryOverSystemFields(obj, old, sub, opts.managedFieldsSet === true);
      if (sub === '') this.#hooks.defaults?.(this.storageInfo, obj);
      this.#trackFields(old, obj, opts, sub);
      this.strategy.prepareForUpdate?.(obj, old, ctx);
      if (this.strategy.tracksGeneration && sub === '' && !specEqual(obj, old)) {
        meta(obj)['generation'] = (typeof meta(old)['generation'] === 'number' ? meta(old)['generation'] as number : 0) + 1;
      }
      await opts.mutate?.(obj);
      const attrs = this.#attrs('UPDATE', sub, namespace, obj, old, opts);
      await this.#hooks.admission?.admit(attrs);
      const errs = [
        ...(sub === '' ? ((await this.#hooks.admit?.(this.storageInfo, obj, old)) ?? []) : []),
        ...(this.#hooks.validateMeta?.(this.storageInfo, obj, old, this.strategy) ?? []),
        ...(sub === '' ? (this.#hooks.validate?.(this.storageInfo, obj, old) ?? []) : []),
        ...(this.strategy.validateUpdate?.(obj, old, ctx) ?? []),
      ];
      if (errs.length > 0) throw newInvalid(this.info.group, this.info.kind, name, errs);
      await this.#hooks.admission?.validate(attrs);
      meta(obj)['resourceVersion'] = String(current.revision);
      // A no-op writes nothing (same resourceVersion), unless the stored value is stale at rest
      // (encrypted with an old key): then rewriting it is how keys rotate.
      const stale = (this.#store as { isStale?(key: string): boolean }).isStale?.(key) ?? false;
      if (jsonEqual(obj, old) && !stale) {
        // "Nothing to do" is only the answer when the state compared with is the current one.
        if (current.cached && !(await this.#isCurrent(key, name, current.revision))) continue;
        return { obj: this.present(old), created: false };
      }
      if (opts.dryRun) return { obj: this.present(obj), created: false };
      // An object being deleted whose last finalizer went away is deleted now.
      if (this.#finishedDeleting(obj)) {
        try {
          const res = await this.#store.delete(key, current.revision);
          setResourceVersion(obj, res.revision);
          return { obj: this.present(obj), created: false };
        } catch (err) {
          if (current.cached && (err instanceof ConflictError || isNotFound(err))) continue;
          if (err instanceof ConflictError && !conditional && attempt < MAX_UPDATE_RETRIES) continue;
          throw toApiError(err, this.gr, name);
        }
      }
      try {
        const encoded = this.#encodeForWrite(key, obj);
        const res = await this.#store.update(key, encoded.stored, current.revision);
        setResourceVersion(obj, res.revision);
        return { obj: this.#written(obj, encoded.served(res.revision)), created: false };
      } catch (err) {
        this.cache.abandon(key, obj);
        // A cached state may have been stale: check everything again against storage's.
        if (current.cached && (err instanceof ConflictError || isNotFound(err))) continue;
        if (err instanceof ConflictError && !conditional && attempt < MAX_UPDATE_RETRIES) continue;
        if (isNotFound(err)) throw newNotFound(this.gr, name);
        throw toApiError(err, this.gr, name);
      }
    }
  }

  #finishedDeleting(obj: KObject): boolean {
    const m = meta(obj);
    if (!m['deletionTimestamp']) return false;
    const fin = m['finalizers'];
    if (Array.isArray(fin) && fin.length > 0) return false;
    const grace = m['deletionGracePeriodSeconds'];
    if (grace !== undefined && grace !== 0) return false;
    return this.strategy.canFinishDeletion?.(obj) ?? true;
  }

  /** Records the writer's field ownership in metadata.managedFields (upstream's field manager). */
  #trackFields(live: KObject | undefined, next: KObject, opts: WriteOptions, sub: string): void {
    if (opts.managedFieldsSet || !this.#hooks.managedFields) return;
    const subresource = opts.managerSubresource ?? sub;
    const entries = this.#hooks.managedFields(this.storageInfo, groupVersionString(this.info.group, this.info.version), live, next, opts.fieldManager ?? 'kube-apiserver', subresource);
    const m = meta(next);
    if (entries.length > 0) m['managedFields'] = entries;
    else delete m['managedFields'];
  }

  /** Fields an update may not change, as upstream's BeforeUpdate and status strategies. */
  #carryOverSystemFields(obj: KObject, old: KObject, sub: string, keepManagedFields: boolean): void {
    const m = meta(obj), om = meta(old);
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'selfLink']) {
      if (om[f] === undefined) delete m[f];
      else m[f] = om[f];
    }
    if (m['name'] === undefined || m['name'] === '') m['name'] = om['name'];
    if (m['generateName'] === undefined && om['generateName'] !== undefined) m['generateName'] = om['generateName'];
    const hasStatus = this.info.subresources.some((s) => s.name === 'status');
    if (sub === 'status') {
      // Status writes change status and annotations (upstream's status strategies copy spec,
      // labels and ownerReferences from the stored object; controllers record revisions in
      // annotations through /status).
      const status = obj['status'];
      const annotations = m['annotations'];
      // A server-side apply to /status has already worked out the object's managedFields.
      const managedFields = m['managedFields'];
      for (const k of Object.keys(obj)) delete obj[k];
      // The stored object's members in its order, copied (it is the watch cache's), but for the
      // status, which is the one written: copying the old status only to drop it is half the work.
      for (const [k, v] of Object.entries(old)) {
        const value = k === 'status' ? status : copyJson(v);
        if (value === undefined) continue;
        if (k === '__proto__') Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
        else obj[k] = value;
      }
      if (status !== undefined && !Object.hasOwn(obj, 'status')) obj['status'] = status;
      const nm = meta(obj);
      if (annotations === undefined) delete nm['annotations'];
      else nm['annotations'] = annotations;
      if (keepManagedFields) {
        if (managedFields === undefined) delete nm['managedFields'];
        else nm['managedFields'] = managedFields;
      }
      nm['resourceVersion'] = m['resourceVersion'];
    } else if (hasStatus && sub === '') {
      if (old['status'] === undefined) delete obj['status'];
      else obj['status'] = copyJson(old['status']);
    }
  }

  /** Deletes an object: gracefully, behind finalizers, or at once. */
  async delete(namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    const ctx = this.#ctx();
    for (let attempt = 0; ; attempt++) {
      const current = await this.#read(key, name);
      if (!current) throw newNotFound(this.gr, name);
      const obj = decodeStored(current.kv);
      if (attempt === 0) await this.#hooks.admission?.validate(this.#attrs('DELETE', '', namespace, undefined, current.obj, opts));
      const m = meta(obj);
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== m['uid']) {
        throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(m['uid'] ?? '')}`, { name, group: this.gr.group || undefined, kind: this.gr.resource } as never);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== m['resourceVersion']) {
        throw new ApiError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(m['resourceVersion'] ?? '')}`, { name, group: this.gr.group || undefined, kind: this.gr.resource } as never);
      }
      let changed = false;
      const finalizers = Array.isArray(m['finalizers']) ? [...(m['finalizers'] as string[])] : [];
      if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) {
        finalizers.push('foregroundDeletion');
        changed = true;
      } else if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) {
        finalizers.push('orphan');
        changed = true;
      }
      if (changed) m['finalizers'] = finalizers;
      const graceful = this.strategy.checkGracefulDelete?.(obj, opts.gracePeriodSeconds);
      const special = this.strategy.beforeDelete?.(obj, ctx);
      const pending = finalizers.length > 0 || (graceful !== undefined && graceful.gracePeriodSeconds > 0) || special === 'update';
      if (pending) {
        if (!m['deletionTimestamp']) {
          const grace = graceful?.gracePeriodSeconds ?? 0;
          m['deletionTimestamp'] = rfc3339(new Date(ctx.now.getTime() + grace * 1000));
          m['deletionGracePeriodSeconds'] = grace;
          changed = true;
        } else if (graceful !== undefined && typeof m['deletionGracePeriodSeconds'] === 'number' && graceful.gracePeriodSeconds < m['deletionGracePeriodSeconds']) {
          // A shorter grace period may replace a longer one, never the reverse.
          m['deletionTimestamp'] = rfc3339(new Date(ctx.now.getTime() + graceful.gracePeriodSeconds * 1000));
          m['deletionGracePeriodSeconds'] = graceful.gracePeriodSeconds;
          changed = true;
        }
        if (!changed || opts.dryRun) return { obj: this.present(obj), deleted: false };
        try {
          const encoded = encodeObject(obj);
          const res = await this.#store.update(key, encoded.stored, current.kv.modRevision);
          setResourceVersion(obj, res.revision);
          return { obj: this.#written(obj, encoded.served(res.revision)), deleted: false };
        } catch (err) {
          if (err instanceof ConflictError && attempt < MAX_UPDATE_RETRIES) continue;
          throw toApiError(err, this.gr, name);
        }
      }
      if (opts.dryRun) return { obj: this.present(obj), deleted: true };
      try {
        const res = await this.#store.delete(key, current.kv.modRevision);
        setResourceVersion(obj, res.revision);
        return { obj: this.present(obj), deleted: true };
      } catch (err) {
        if (err instanceof ConflictError && attempt < MAX_UPDATE_RETRIES) continue;
        if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) throw newNotFound(this.gr, name);
        throw toApiError(err, this.gr, name);
      }
    }
  }
}

/** Checks a decoded body against the URL, as upstream does before create/update. */
export function checkBodyAgainstRequest(info: ResourceInfo, obj: KObject, namespace: string, name: string | undefined, expectedApiVersion: string): void {
  const apiVersion = obj['apiVersion'];
  const kind = obj['kind'];
  if (typeof kind === 'string' && kind !== '' && kind !== info.kind) {
    throw newBadRequest(`the API version in the data (${String(apiVersion ?? '')}) does not match the expected API version (${expectedApiVersion})`);
  }
  if (typeof apiVersion === 'string' && apiVersion !== '' && apiVersion !== expectedApiVersion) {
    throw newBadRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expectedApiVersion})`);
  }
  const m = obj['metadata'];
  if (m !== undefined && (typeof m !== 'object' || m === null || Array.isArray(m))) {
    throw newBadRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: metadata must be an object`);
  }
  const md = meta(obj);
  if (info.namespaced) {
    const ns = md['namespace'];
    if (typeof ns === 'string' && ns !== '' && ns !== namespace) {
      throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }
  if (name !== undefined) {
    const n = md['name'];
    if (typeof n === 'string' && n !== '' && n !== name) {
      throw newBadRequest(`the name of the object (${n}) does not match the name on the URL (${name})`);
    }
    if (n === undefined || n === '') md['name'] = name;
  }
  obj['apiVersion'] = expectedApiVersion;
  obj['kind'] = info.kind;
}
