// The garbage collector (pkg/controller/garbagecollector/garbagecollector.go): deletes objects
// whose owners are all gone (background), deletes blocking dependents before removing an owner's
// foregroundDeletion finalizer (foreground), and strips ownerReferences before removing the
// orphan finalizer (orphan). All lookups of owners go to the API server, never to caches.
import { preferredVersion, resourceForKind } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { logger } from '../../base/log.ts';
import { isConflict, isNotFound } from '../../client/api_errors.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { RestClient } from '../../client/rest_client.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { deleteOwnerRefPatch, errMessage } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import type { GraphNode, ObjectIdentity } from './graph.ts';
import { FinalizerDeleteDependents, FinalizerOrphanDependents, GraphBuilder, monitoredResources } from './graph_builder.ts';
import { discoverCustomResources } from '../../client/discovery.ts';

const log = logger('garbage-collector');

/** What the collector does to objects through the API (seam for unit tests). */
export interface GcClient {
  /** The live object, or throws NotFound. */
  get(resource: ResourceInfo, namespace: string, name: string): Promise<KubeObject>;
  delete(resource: ResourceInfo, namespace: string, name: string, uid: string, policy: 'Foreground' | 'Background' | 'Orphan'): Promise<void>;
  /** Strategic merge patch (ownerReferences edits). */
  patch(resource: ResourceInfo, namespace: string, name: string, patch: unknown): Promise<void>;
  /** JSON merge patch (finalizers with a resourceVersion precondition). */
  mergePatch(resource: ResourceInfo, namespace: string, name: string, patch: unknown): Promise<void>;
}

/** The GcClient over the API. */
export function restGcClient(client: RestClient): GcClient {
  const rc = (r: ResourceInfo, ns: string): ResourceClient<KubeObject> => client.resource<KubeObject>(r, r.namespaced ? ns : undefined);
  return {
    get: (r, ns, name) => rc(r, ns).get(name),
    async delete(r, ns, name, uid, policy) {
      await rc(r, ns).delete(name, { preconditions: { uid }, propagationPolicy: policy });
    },
    async patch(r, ns, name, patch) {
      try {
        await rc(r, ns).patch(name, 'strategic', patch);
      } catch (err) {
        // Custom resources take no strategic merge patch: upstream's collector falls back to a JSON merge patch.
        if (statusCodeOf(err) !== 415) throw err;
        const live = await rc(r, ns).get(name);
        await rc(r, ns).patch(name, 'merge', ownerRefsMergePatch(live, patch));
      }
    },
    async mergePatch(r, ns, name, patch) {
      await rc(r, ns).patch(name, 'merge', patch);
    },
  };
}

function statusCodeOf(err: unknown): number | undefined {
  const e = err as { status?: { code?: number }; code?: unknown };
  return e?.status?.code ?? (typeof e?.code === 'number' ? e.code : undefined);
}

/**
 * The JSON merge patch doing what an ownerReferences strategic patch of the collector does
 * (entries by uid: `$patch: delete` removes, others merge), with the live object's uid and
 * resourceVersion as preconditions.
 */
export function ownerRefsMergePatch(live: KubeObject, strategic: unknown): unknown {
  const md = ((strategic as { metadata?: { ownerReferences?: Record<string, unknown>[] } }).metadata ?? {});
  let refs = [...(live.metadata?.ownerReferences ?? [])] as unknown as Record<string, unknown>[];
  for (const entry of md.ownerReferences ?? []) {
    if (entry['$patch'] === 'delete') refs = refs.filter((r) => r['uid'] !== entry['uid']);
    else refs = refs.map((r) => (r['uid'] === entry['uid'] ? { ...r, ...entry } : r));
  }
  return { metadata: { ownerReferences: refs.length > 0 ? refs : null, uid: live.metadata?.uid, resourceVersion: live.metadata?.resourceVersion } };
}

/** How often the monitors follow discovery without a CRD change seen (upstream's 30 s resync). */
const DISCOVERY_RESYNC_MS = 30_000;
/** A CRD change is followed by a resync this much later (establishment comes right after creation). */
const CRD_CHANGE_RESYNC_MS = 300;

/** The result of one attempt: forget (done or handed to the graph), or try again later. */
type Outcome = 'forget' | 'requeue';

/** Finds the resource of an apiVersion/kind (any served version of the group when the given one is not). */
export function resourceOfKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const exact = resourceForKind(group, version, kind);
  if (exact) return exact;
  const pv = preferredVersion(group);
  return pv ? resourceForKind(group, pv, kind) : undefined;
}

/** Options and seams. */
export interface GarbageCollectorOptions {
  readonly gcClient?: GcClient;
  /** Resources to watch (default: every deletable built-in resource but events). */
  readonly resources?: readonly ResourceInfo[];
  /** How long to wait for the monitors' first lists before collecting anyway (default 30 s). */
  readonly syncTimeoutMs?: number;
}

/** The garbage collector controller. */
export class GarbageCollector implements Controller {
  readonly builder: GraphBuilder;
  readonly attemptToDeleteQueue: RateLimitingQueue<string>;
  readonly attemptToOrphanQueue: RateLimitingQueue<string>;
  #client: GcClient;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #syncTimeoutMs: number;
  #ctx: Pick<ControllerContext, 'client' | 'clock'>;
  /** Whether monitors follow discovery (the default resource set), for custom resources. */
  #discovers: boolean;
  /** Discovered custom resources by "group/kind". */
  #custom = new Map<string, ResourceInfo>();
  #resyncTimer: NodeJS.Timeout | undefined;
  #resyncing: Promise<void> = Promise.resolve();

  constructor(ctx: Pick<ControllerContext, 'client' | 'clock'>, opts: GarbageCollectorOptions = {}) {
    this.#ctx = ctx;
    this.#discovers = opts.resources === undefined;
    this.#client = opts.gcClient ?? restGcClient(ctx.client);
    this.#syncTimeoutMs = opts.syncTimeoutMs ?? 30_000;
    this.attemptToDeleteQueue = new RateLimitingQueue<string>({ name: 'garbage_collector_attempt_to_delete', clock: ctx.clock });
    this.attemptToOrphanQueue = new RateLimitingQueue<string>({ name: 'garbage_collector_attempt_to_orphan', clock: ctx.clock });
    this.builder = new GraphBuilder({
      attemptToDelete: (n) => this.attemptToDeleteQueue.add(n.identity.uid),
      attemptToOrphan: (n) => this.attemptToOrphanQueue.add(n.identity.uid),
    });
    if (opts.resources?.length !== 0) this.builder.monitor(ctx.client, ctx.clock, opts.resources);
    if (this.#discovers) this.builder.onCrdChange = () => this.#scheduleResync(CRD_CHANGE_RESYNC_MS);
  }

  #scheduleResync(ms: number): void {
    if (this.#stop.signal.aborted || !this.#running) return;
    if (this.#resyncTimer) clearTimeout(this.#resyncTimer);
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = undefined;
      this.#resyncing = this.#resyncing.then(() => this.resyncMonitors()).finally(() => this.#scheduleResync(DISCOVERY_RESYNC_MS));
    }, ms);
  }

  /** Follows discovery: monitors every deletable custom resource, and learns their kinds. */
  async resyncMonitors(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    try {
      const found = (await discoverCustomResources(this.#ctx.client))
        .filter((r) => ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v)));
      this.#custom = new Map(found.map((r) => [`${r.group}/${r.kind}`, r]));
      if (this.#stop.signal.aborted) return;
      const builtin = new Set(monitoredResources().map((r) => `${r.group}/${r.resource}`));
      await this.builder.syncCustomMonitors(this.#ctx.client, this.#ctx.clock, found, builtin);
    } catch (err) {
      log.warn('discovery resync failed', { err: errMessage(err) });
    }
  }

  /** The resource of an owner or dependent: built-in by kind, else a discovered custom resource. */
  #resourceOf(apiVersion: string, kind: string): ResourceInfo | undefined {
    const builtin = resourceOfKind(apiVersion, kind);
    if (builtin) return builtin;
    const slash = apiVersion.indexOf('/');
    return this.#custom.get(`${slash < 0 ? '' : apiVersion.slice(0, slash)}/${kind}`);
  }

  run(workers: number): void {
    if (this.#running) return;
    this.builder.start();
    this.#running = (async () => {
      if (this.#discovers) {
        await this.resyncMonitors();
        this.#scheduleResync(DISCOVERY_RESYNC_MS);
      }
      // Upstream collects only after its monitors synced; we wait a bounded time, then go on.
      await this.builder.waitForSync(this.#syncTimeoutMs, this.#stop.signal);
      if (this.#stop.signal.aborted) return;
      await Promise.all([
        this.#workers(this.attemptToDeleteQueue, workers, (uid) => this.processAttemptToDelete(uid)),
        this.#workers(this.attemptToOrphanQueue, workers, (uid) => this.processAttemptToOrphan(uid)),
      ]);
    })();
  }

  async dispose(): Promise<void> {
    this.#stop.abort();
    if (this.#resyncTimer) clearTimeout(this.#resyncTimer);
    await this.#resyncing.catch(() => undefined);
    this.attemptToDeleteQueue.shutDown();
    this.attemptToOrphanQueue.shutDown();
    await this.#running;
    await this.builder.dispose();
  }

  #workers(queue: RateLimitingQueue<string>, n: number, fn: (uid: string) => Promise<Outcome>): Promise<void> {
    const one = async (): Promise<void> => {
      for (;;) {
        const uid = await queue.get();
        if (uid === undefined) return;
        try {
          const outcome = await fn(uid);
          if (outcome === 'forget') queue.forget(uid);
          else queue.addRateLimited(uid);
        } catch (err) {
          log.warn('error syncing item', { uid, err: errMessage(err) });
          queue.addRateLimited(uid);
        } finally {
          queue.done(uid);
        }
      }
    };
    return Promise.all(Array.from({ length: Math.max(1, n) }, one)).then(() => undefined);
  }

  // ---- attemptToDelete.

  /** One attemptToDelete item (attemptToDeleteWorker). */
  async processAttemptToDelete(uid: string): Promise<Outcome> {
    const n = this.builder.graph.get(uid);
    if (!n) return 'forget';
    const outcome = await this.attemptToDeleteItem(n);
    if (outcome === 'requeue') return 'requeue';
    // A virtual node still not observed: look again later, or it may stay forever.
    if (!n.observed && this.builder.graph.get(uid) === n) return 'requeue';
    return 'forget';
  }

  async attemptToDeleteItem(item: GraphNode): Promise<Outcome> {
    // Being deleted without waiting for dependents: the final delete event will come.
    if (item.beingDeleted && !item.deletingDependents) return 'forget';
    const resource = this.#resourceOf(item.identity.apiVersion, item.identity.kind);
    if (!resource) {
      log.debug('no resource for kind, will retry', { item: item.toString() });
      return 'requeue';
    }
    let latest: KubeObject;
    try {
      latest = await this.#client.get(resource, item.identity.namespace, item.identity.name);
    } catch (err) {
      if (isNotFound(err)) {
        this.builder.virtualDelete(item.identity);
        return 'forget';
      }
      throw err;
    }
    if (latest.metadata?.uid !== item.identity.uid) {
      this.builder.virtualDelete(item.identity);
      return 'forget';
    }
    if (item.deletingDependents) return this.#processDeletingDependentsItem(item, resource);
    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return 'forget';
    const { solid, dangling, waiting } = await this.#classifyReferences(item, refs);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return 'forget';
      // Waiting references must go too, or those owners would wait for us forever.
      const uids = [...dangling, ...waiting].map((r) => r.uid);
      await this.#client.patch(resource, item.identity.namespace, item.identity.name, deleteOwnerRefPatch(item.identity.uid, ...uids));
      return 'forget';
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (dep.deletingDependents) {
          // A possible cycle of foreground deletions: stop blocking our owners, then go on.
          const unblock = refs.filter((r) => r.blockOwnerDeletion === true).map((r) => ({ uid: r.uid, blockOwnerDeletion: false }));
          await this.#client.patch(resource, item.identity.namespace, item.identity.name, { metadata: { ownerReferences: unblock, uid: item.identity.uid } });
          break;
        }
      }
      await this.#delete(resource, item.identity, 'Foreground');
      return 'forget';
    }
    const policy = latest.metadata?.finalizers?.includes(FinalizerOrphanDependents) ? 'Orphan'
      : latest.metadata?.finalizers?.includes(FinalizerDeleteDependents) ? 'Foreground' : 'Background';
    log.debug('deleting object', { item: item.toString(), propagationPolicy: policy });
    await this.#delete(resource, item.identity, policy);
    return 'forget';
  }

  async #delete(resource: ResourceInfo, id: ObjectIdentity, policy: 'Foreground' | 'Background' | 'Orphan'): Promise<void> {
    try {
      await this.#client.delete(resource, id.namespace, id.name, id.uid, policy);
    } catch (err) {
      // Gone already, or replaced by another object with the same name (UID precondition).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  async #processDeletingDependentsItem(item: GraphNode, resource: ResourceInfo): Promise<Outcome> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      await this.#removeFinalizer(item, resource, FinalizerDeleteDependents);
      return 'forget';
    }
    for (const dep of blocking) {
      if (!dep.deletingDependents) this.attemptToDeleteQueue.add(dep.identity.uid);
    }
    return 'forget';
  }

  /** Splits references into live owners, missing ones, and owners waiting in a foreground delete. */
  async #classifyReferences(item: GraphNode, refs: readonly OwnerReference[]): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [], dangling: OwnerReference[] = [], waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const { isDangling, owner } = await this.#isDangling(ref, item);
      if (isDangling) dangling.push(ref);
      else if (owner?.metadata?.deletionTimestamp && owner.metadata.finalizers?.includes(FinalizerDeleteDependents)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  async #isDangling(ref: OwnerReference, item: GraphNode): Promise<{ isDangling: boolean; owner?: KubeObject }> {
    if (this.builder.absentOwnerCache.has(ref.uid)) return { isDangling: true };
    const resource = this.#resourceOf(ref.apiVersion, ref.kind);
    // An owner of a kind we do not serve cannot be checked: keep the dependent (upstream retries).
    if (!resource) return { isDangling: false };
    if (resource.namespaced && item.identity.namespace === '') {
      // A cluster-scoped dependent cannot have a namespaced owner: upstream leaves it alone.
      return { isDangling: false };
    }
    try {
      const owner = await this.#client.get(resource, resource.namespaced ? item.identity.namespace : '', ref.name);
      if (owner.metadata?.uid !== ref.uid) {
        this.builder.absentOwnerCache.add(ref.uid);
        return { isDangling: true };
      }
      return { isDangling: false, owner };
    } catch (err) {
      if (isNotFound(err)) {
        this.builder.absentOwnerCache.add(ref.uid);
        return { isDangling: true };
      }
      throw err;
    }
  }

  // ---- attemptToOrphan.

  /** Removes the owner from every dependent's ownerReferences, then the orphan finalizer. */
  async processAttemptToOrphan(uid: string): Promise<Outcome> {
    const owner = this.builder.graph.get(uid);
    if (!owner) return 'forget';
    const errors: unknown[] = [];
    await Promise.all([...owner.dependents].map(async (dep) => {
      const r = this.#resourceOf(dep.identity.apiVersion, dep.identity.kind);
      if (!r) return;
      try {
        await this.#client.patch(r, dep.identity.namespace, dep.identity.name, deleteOwnerRefPatch(dep.identity.uid, owner.identity.uid));
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
    }));
    if (errors.length > 0) {
      log.warn('orphanDependents failed', { owner: owner.toString(), err: errMessage(errors[0]) });
      return 'requeue';
    }
    const resource = this.#resourceOf(owner.identity.apiVersion, owner.identity.kind);
    if (!resource) return 'requeue';
    await this.#removeFinalizer(owner, resource, FinalizerOrphanDependents);
    return 'forget';
  }

  /** Drops `finalizer` from the live object, retrying on conflicts (removeFinalizer). */
  async #removeFinalizer(n: GraphNode, resource: ResourceInfo, finalizer: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let obj: KubeObject;
      try {
        obj = await this.#client.get(resource, n.identity.namespace, n.identity.name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      const finalizers = obj.metadata?.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await this.#client.mergePatch(resource, n.identity.namespace, n.identity.name, {
          metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers: rest.length > 0 ? rest : null },
        });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
      }
    }
  }
}

registerController('garbagecollector', (ctx) => new GarbageCollector(ctx), 20);

