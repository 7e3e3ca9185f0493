// The ResourceQuota controller (upstream pkg/controller/resourcequota): recounts each quota's usage
// from informer caches and writes status.hard (= spec.hard) and status.used. Quotas are recounted
// when they change, when a counted object in their namespace goes away or changes what it costs
// (replenishment; admission charges creations), and every resync period.
import { logger } from '../../base/log.ts';
import { preferredResource } from '../../api/resource_table.ts';
import type { ResourceQuota } from '../../api/types/core_v1.ts';
import { type Clock, type ClockTimer } from '../../client/clock.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import type { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { calculateUsage, evaluatorFor, listsEqual, parseResourceList, quotaScopes, resourcesForHard, toJson } from './evaluators.ts';

const log = logger('resourcequota-controller');

/** Tunables. */
export interface ResourceQuotaControllerOptions {
  /** --resource-quota-sync-period (5 minutes). */
  readonly resyncPeriodMs?: number;
}

/** Keeps ResourceQuota status in step with what its namespace holds. */
export class ResourceQuotaController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly quotas: SharedIndexInformer<ResourceQuota>;
  #informers: SharedInformerFactory;
  #monitors = new Map<string, SharedIndexInformer<KubeObject>>();
  #client: ResourceClient<ResourceQuota>;
  #clock: Clock;
  #resyncMs: number;
  #timer: ClockTimer | undefined;
  #handlers: HandlerRegistration[] = [];
  #running = false;

  constructor(ctx: ControllerContext, opts: ResourceQuotaControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#resyncMs = opts.resyncPeriodMs ?? 5 * 60 * 1000;
    this.#informers = ctx.informers;
    this.queue = new RateLimitingQueue<string>({ name: 'resourcequota_primary', clock: ctx.clock });
    this.quotas = ctx.informers.informerFor<ResourceQuota>(resourceDescriptor('v1', 'resourcequotas'));
    this.#client = ctx.client.resource<ResourceQuota>(resourceDescriptor('v1', 'resourcequotas'));
    this.#handlers.push(this.quotas.addEventHandler({
      onAdd: (q) => this.queue.add(metaNamespaceKey(q)),
      onUpdate: (old, q) => {
        // Only a changed spec, or a status missing what the spec asks for, needs a recount.
        if (!listsEqual(old.spec?.hard, q.spec?.hard) || !listsEqual(q.spec?.hard, q.status?.hard) || JSON.stringify(old.spec) !== JSON.stringify(q.spec)) {
          this.queue.add(metaNamespaceKey(q));
        }
      },
    }));
    // The resources every quota commonly counts are watched from the start.
    for (const r of ['pods', 'services', 'persistentvolumeclaims']) this.#monitor('', r);
  }

  /** The informer counting `group/resource`, created (and started, once running) on first need. */
  #monitor(group: string, resource: string): SharedIndexInformer<KubeObject> | undefined {
    const id = `${resource}.${group}`;
    const existing = this.#monitors.get(id);
    if (existing) return existing;
    const info = preferredResource(group, resource);
    if (!info || !info.namespaced) return undefined;
    const inf = this.#informers.informerFor<KubeObject>(info);
    const ev = evaluatorFor(group, resource);
    this.#handlers.push(inf.addEventHandler({
      onAdd: (o, initial) => {
        if (!initial) this.#enqueueNamespace(o.metadata?.namespace);
      },
      onUpdate: (old, o) => {
        // Only namespaces with quotas care; skip computing usage (twice per pod update) elsewhere.
        if (this.quotas.lister.listNamespace(o.metadata?.namespace ?? '').length === 0) return;
        const now = this.#clock.now();
        if (JSON.stringify(toJson(ev.usage(old, now))) !== JSON.stringify(toJson(ev.usage(o, now)))) this.#enqueueNamespace(o.metadata?.namespace);
      },
      onDelete: (o) => this.#enqueueNamespace(unwrapTombstone(o).metadata?.namespace),
    }));
    this.#monitors.set(id, inf);
    if (this.#running) this.#informers.start();
    return inf;
  }

  #enqueueNamespace(namespace: string | undefined): void {
    if (!namespace) return;
    for (const q of this.quotas.lister.listNamespace(namespace)) this.queue.add(metaNamespaceKey(q));
  }

  run(workers: number): void {
    this.#running = true;
    this.#informers.start();
    for (let i = 0; i < workers; i++) void this.#worker();
    this.#scheduleResync();
  }

  #scheduleResync(): void {
    this.#timer = this.#clock.setTimer(() => {
      for (const q of this.quotas.lister.list()) this.queue.add(metaNamespaceKey(q));
      this.#scheduleResync();
    }, this.#resyncMs);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { quota: key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Recounts quota `key` and writes its status when it changed (syncResourceQuota). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const quota = this.quotas.lister.get(namespace, name);
    if (!quota) return;
    const hard = parseResourceList(quota.spec?.hard);
    const hardNames = [...hard.keys()];
    // Counting needs every monitor synced; new ones are waited for here.
    const monitors = resourcesForHard(hardNames).map(({ group, resource }) => this.#monitor(group, resource)).filter((m): m is SharedIndexInformer<KubeObject> => m !== undefined);
    for (const m of monitors) {
      if (!m.hasSynced()) throw new Error(`waiting for the ${m.name} cache to sync`);
    }
    const computed = calculateUsage(hardNames, quotaScopes(quota.spec), (group, resource) => {
      const inf = this.#monitors.get(`${resource}.${group}`);
      return inf ? inf.lister.listNamespace(namespace) : undefined;
    }, this.#clock.now());
    // Usage of names nothing here can count is kept as last observed.
    const used = parseResourceList(quota.status?.used);
    for (const [k, v] of computed) used.set(k, v);
    for (const k of [...used.keys()]) if (!hard.has(k)) used.delete(k);
    const status = { hard: toJson(hard), used: toJson(used) };
    if (listsEqual(quota.status?.hard, status.hard) && listsEqual(quota.status?.used, status.used)) return;
    await this.#client.updateStatus({ ...quota, status });
  }

  async dispose(): Promise<void> {
    this.#timer?.dispose();
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('resourcequota', (ctx) => new ResourceQuotaController(ctx), 5);
