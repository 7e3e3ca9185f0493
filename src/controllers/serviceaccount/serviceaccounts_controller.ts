// The ServiceAccounts controller (upstream pkg/controller/serviceaccount/serviceaccounts_controller.go):
// every active namespace gets a `default` ServiceAccount, recreated when someone deletes it.
// Handlers enqueue namespace names; sync(namespace) reads the caches and creates what is missing.
import { logger } from '../../base/log.ts';
import type { Namespace, ServiceAccount } from '../../api/types/core_v1.ts';
import { isAlreadyExists, isForbidden } from '../../client/api_errors.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { unwrapTombstone, type DeletedFinalStateUnknown } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { runWorkers } from '../controller_utils.ts';

const log = logger('serviceaccount-controller');

/** The ServiceAccounts every namespace gets (upstream's --service-account default list). */
export const DEFAULT_SERVICE_ACCOUNTS: readonly string[] = ['default'];

/** Keeps the default ServiceAccounts present in every active namespace. */
export class ServiceAccountsController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly namespaces: SharedIndexInformer<Namespace>;
  readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  #client: ResourceClient<ServiceAccount>;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.queue = new RateLimitingQueue<string>({ name: 'serviceaccount', clock: ctx.clock });
    this.namespaces = ctx.informers.informerFor<Namespace>(resourceDescriptor('v1', 'namespaces'));
    this.serviceAccounts = ctx.informers.informerFor<ServiceAccount>(resourceDescriptor('v1', 'serviceaccounts'));
    this.#client = ctx.client.resource<ServiceAccount>(resourceDescriptor('v1', 'serviceaccounts'));
    this.#handlers.push(this.namespaces.addEventHandler({
      onAdd: (ns) => this.#enqueue(ns.metadata?.name),
      onUpdate: (_old, ns) => this.#enqueue(ns.metadata?.name),
    }));
    this.#handlers.push(this.serviceAccounts.addEventHandler({
      onDelete: (obj: ServiceAccount | DeletedFinalStateUnknown<ServiceAccount>) => {
        const sa = unwrapTombstone(obj);
        if (DEFAULT_SERVICE_ACCOUNTS.includes(sa.metadata?.name ?? '')) this.#enqueue(sa.metadata?.namespace);
      },
    }));
  }

  #enqueue(namespace: string | undefined): void {
    if (namespace) this.queue.add(namespace);
  }

  run(workers: number): void {
    void runWorkers(this.queue, workers, (key) => this.sync(key), (key, err) => log.warn('sync failed, will retry', { namespace: key, err }));
  }

  /** Creates the missing default ServiceAccounts of one namespace. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.lister.get('', namespace);
    // Terminating namespaces refuse creates; deleted ones need nothing.
    if (!ns || (ns.status?.phase ?? 'Active') !== 'Active' || ns.metadata?.deletionTimestamp) return;
    for (const name of DEFAULT_SERVICE_ACCOUNTS) {
      if (this.serviceAccounts.lister.get(namespace, name)) continue;
      try {
        await this.#client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      } catch (err) {
        // Already there (the cache lags) or the namespace started terminating meanwhile.
        if (isAlreadyExists(err) || isForbidden(err)) continue;
        throw err;
      }
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('serviceaccount', (ctx) => new ServiceAccountsController(ctx), 1);
