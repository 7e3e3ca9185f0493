// A typed client of one resource (client-go's typed clientset methods): get/list/create/update/
// updateStatus/patch/delete/deleteCollection/watch plus subresources (status, scale, binding,
// eviction), with the standard query options.
import type { ListMeta, ObjectMeta, Status } from '../api/types/meta_v1.ts';
import type { Query, RestClient } from './rest_client.ts';
import { apiVersionOf, groupResourceOf, resourcePath, type ResourceDescriptor } from './resource_descriptor.ts';
import type { WatchStream } from './watch_stream.ts';

/** Anything with TypeMeta and ObjectMeta. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list reply. */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: ListMeta;
  items: T[];
}

/** Options every call accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** GET of one object. */
export interface GetOptions extends CallOptions {
  /** "0": any cached version is fine. */
  readonly resourceVersion?: string;
}

/** LIST. */
export interface ListOptions extends CallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  readonly timeoutSeconds?: number;
}

/** WATCH. */
export interface WatchOptions extends CallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'NotOlderThan';
  readonly timeoutSeconds?: number;
  readonly allowWatchBookmarks?: boolean;
  readonly sendInitialEvents?: boolean;
}

/** create/update. */
export interface WriteOptions extends CallOptions {
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  readonly fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

/** PATCH. */
export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  readonly force?: boolean;
}

/** DELETE (sent as a DeleteOptions body, as client-go does). */
export interface DeleteOptions extends CallOptions {
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: boolean;
}

/** DELETE of a collection: which objects, and how. */
export interface DeleteCollectionOptions extends DeleteOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** PATCH flavours and their content types. */
export const PatchType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = keyof typeof PatchType;

/** A client of one resource, optionally bound to one namespace. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  readonly desc: ResourceDescriptor;
  /** Bound namespace; undefined means "all namespaces" for list/watch and "from the object" for writes. */
  readonly namespace: string | undefined;
  #rest: RestClient;

  constructor(rest: RestClient, desc: ResourceDescriptor, namespace?: string) {
    this.#rest = rest;
    this.desc = desc;
    this.namespace = desc.namespaced ? (namespace === '' ? undefined : namespace) : undefined;
  }

  /** The same resource bound to `namespace`. */
  inNamespace(namespace: string): ResourceClient<T> {
    return new ResourceClient<T>(this.#rest, this.desc, namespace);
  }

  /** Path of the collection (in the bound namespace, or all namespaces). */
  collectionPath(namespace?: string): string {
    return resourcePath(this.desc, namespace ?? this.namespace);
  }

  get(name: string, opts: GetOptions = {}): Promise<T> {
    return this.#rest.request<T>({
      method: 'GET', path: this.#objectPath(name, undefined, undefined),
      query: { resourceVersion: opts.resourceVersion }, ...sig(opts),
    });
  }

  list(opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.#rest.request<KubeList<T>>({ method: 'GET', path: this.collectionPath(), query: listQuery(opts), ...sig(opts) });
  }

  /** Opens a watch; resolves when the server accepted it (non-2xx replies reject with ApiStatusError). */
  watch(opts: WatchOptions = {}): Promise<WatchStream<T>> {
    return this.#rest.watch<T>(this.collectionPath(), {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      timeoutSeconds: opts.timeoutSeconds,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      sendInitialEvents: opts.sendInitialEvents === undefined ? undefined : String(opts.sendInitialEvents),
    }, opts.signal);
  }

  /** POST; the namespace comes from the binding or the object's metadata. */
  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = this.#namespaceFor(obj);
    return this.#rest.request<T>({
      method: 'POST', path: resourcePath(this.desc, ns), query: writeQuery(opts), body: this.#withTypeMeta(obj), ...sig(opts),
    });
  }

  /** PUT of the whole object (optimistic concurrency through metadata.resourceVersion). */
  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#rest.request<T>({
      method: 'PUT', path: this.#objectPath(nameOf(obj, 'update'), this.#namespaceFor(obj), undefined),
      query: writeQuery(opts), body: this.#withTypeMeta(obj), ...sig(opts),
    });
  }

  /** PUT of the status subresource. */
  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#rest.request<T>({
      method: 'PUT', path: this.#objectPath(nameOf(obj, 'updateStatus'), this.#namespaceFor(obj), 'status'),
      query: writeQuery(opts), body: this.#withTypeMeta(obj), ...sig(opts),
    });
  }

  /** PATCH; `patch` is JSON (an array for type "json") or, for "apply", YAML/JSON text or an object. */
  patch(name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.patchSubresource<T>(name, '', type, patch, opts);
  }

  /** PATCH of the status subresource. */
  patchStatus(name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.patchSubresource<T>(name, 'status', type, patch, opts);
  }

  /** DELETE; answers the object (while finalizers or grace keep it) or a Success Status. */
  delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return this.#rest.request<T | Status>({
      method: 'DELETE', path: this.#objectPath(name, undefined, undefined),
      query: { dryRun: opts.dryRun ? 'All' : undefined }, body: deleteBody(opts), ...sig(opts),
    });
  }

  /** DELETE of every object matching the selectors in the bound namespace. */
  deleteCollection(opts: DeleteCollectionOptions = {}): Promise<KubeList<T> | Status> {
    return this.#rest.request<KubeList<T> | Status>({
      method: 'DELETE', path: this.collectionPath(),
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, dryRun: opts.dryRun ? 'All' : undefined },
      body: deleteBody(opts), ...sig(opts),
    });
  }

  /** GET of a subresource ("scale", "status"). */
  getSubresource<R = unknown>(name: string, subresource: string, opts: CallOptions = {}): Promise<R> {
    return this.#rest.request<R>({ method: 'GET', path: this.#objectPath(name, undefined, subresource), ...sig(opts) });
  }

  /** POST to a subresource ("binding", "eviction"); the namespace is the bound one or the body's. */
  createSubresource<R = unknown>(name: string, subresource: string, body: KubeObject, opts: WriteOptions = {}): Promise<R> {
    const ns = this.namespace ?? body.metadata?.namespace;
    return this.#rest.request<R>({
      method: 'POST', path: this.#objectPath(name, ns, subresource), query: writeQuery(opts), body, ...sig(opts),
    });
  }

  /** PUT of a subresource ("scale", "status"). */
  updateSubresource<R = unknown>(name: string, subresource: string, body: KubeObject, opts: WriteOptions = {}): Promise<R> {
    const ns = this.namespace ?? body.metadata?.namespace;
    return this.#rest.request<R>({
      method: 'PUT', path: this.#objectPath(name, ns, subresource), query: writeQuery(opts), body, ...sig(opts),
    });
  }

  /** PATCH of a subresource ('' for the object itself). */
  patchSubresource<R = unknown>(name: string, subresource: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<R> {
    if (!(type in PatchType)) throw new Error(`patch: unknown patch type ${JSON.stringify(type)} (json, merge, strategic, apply)`);
    if (type === 'apply' && !opts.fieldManager) throw new Error('patch: server-side apply needs opts.fieldManager');
    return this.#rest.request<R>({
      method: 'PATCH', path: this.#objectPath(name, undefined, subresource || undefined),
      query: { ...writeQuery(opts), force: opts.force === undefined ? undefined : String(opts.force) },
      body: typeof patch === 'string' || Buffer.isBuffer(patch) ? patch : JSON.stringify(patch),
      contentType: PatchType[type], ...sig(opts),
    });
  }

  #objectPath(name: string, namespace: string | undefined, subresource: string | undefined): string {
    if (typeof name !== 'string' || name === '') throw new Error(`${groupResourceOf(this.desc)}: a name is required`);
    const ns = namespace ?? this.namespace;
    if (this.desc.namespaced && !ns) throw new Error(`${groupResourceOf(this.desc)} ${JSON.stringify(name)}: a namespace is required`);
    return resourcePath(this.desc, ns, name, subresource);
  }

  #namespaceFor(obj: KubeObject): string | undefined {
    if (!this.desc.namespaced) return undefined;
    const ns = this.namespace ?? obj.metadata?.namespace;
    if (!ns) throw new Error(`${groupResourceOf(this.desc)}: a namespace is required (bind one or set metadata.namespace)`);
    return ns;
  }

  #withTypeMeta(obj: T): T {
    if (obj.apiVersion !== undefined && obj.kind !== undefined) return obj;
    if (this.desc.kind === undefined) return obj;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(this.desc), kind: obj.kind ?? this.desc.kind };
  }
}

function sig(opts: CallOptions): { signal?: AbortSignal } {
  return opts.signal ? { signal: opts.signal } : {};
}

function nameOf(obj: KubeObject, verb: string): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${verb}: the object has no metadata.name`);
  return name;
}

function listQuery(o: ListOptions): Query {
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    timeoutSeconds: o.timeoutSeconds,
  };
}

function writeQuery(o: WriteOptions): Query {
  return { dryRun: o.dryRun ? 'All' : undefined, fieldManager: o.fieldManager, fieldValidation: o.fieldValidation };
}

function deleteBody(o: DeleteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (o.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = o.gracePeriodSeconds;
  if (o.preconditions !== undefined) body['preconditions'] = o.preconditions;
  if (o.propagationPolicy !== undefined) body['propagationPolicy'] = o.propagationPolicy;
  if (o.dryRun) body['dryRun'] = ['All'];
  return body;
}
