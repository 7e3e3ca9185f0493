// The namespace controller (pkg/controller/namespace/namespace_controller.go): Terminating
// namespaces are queued (after a short grace so admission caches catch up), emptied by the
// deleter, and retried after about half the remaining estimate while content is left.
import type { Namespace } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { HandlerRegistration } from '../../client/shared_informer.ts';
import { metaNamespaceKey } from '../../client/store.ts';
import { errMessage } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { NamespacedResourcesDeleter, ResourcesRemainingError, restNamespaceDeleterClient, type NamespaceDeleterClient } from './namespaced_resources_deleter.ts';

const log = logger('namespace-controller');

/** Time to wait before processing a namespace event (namespaceDeletionGracePeriod). */
export const NAMESPACE_DELETION_GRACE_PERIOD_MS = 5_000;

/** Options and seams. */
export interface NamespaceControllerOptions {
  readonly client?: NamespaceDeleterClient;
  readonly deletionGracePeriodMs?: number;
  /** Delay before looking again when content remains (upstream: estimate/2 + 1 seconds). */
  readonly remainingDelayMs?: (estimateSeconds: number) => number;
}

export class NamespaceController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly deleter: NamespacedResourcesDeleter;
  #graceMs: number;
  #remainingDelayMs: (estimateSeconds: number) => number;
  #registration: HandlerRegistration;
  #running: Promise<void> | undefined;

  constructor(ctx: ControllerContext, opts: NamespaceControllerOptions = {}) {
    this.#graceMs = opts.deletionGracePeriodMs ?? NAMESPACE_DELETION_GRACE_PERIOD_MS;
    this.#remainingDelayMs = opts.remainingDelayMs ?? ((e) => (Math.floor(e / 2) + 1) * 1000);
    this.queue = new RateLimitingQueue<string>({ name: 'namespace', clock: ctx.clock });
    this.deleter = new NamespacedResourcesDeleter(opts.client ?? restNamespaceDeleterClient(ctx.client), () => ctx.clock.now());
    const informer = ctx.informers.informerFor<Namespace>(resourceDescriptor('v1', 'namespaces'));
    this.#registration = informer.addEventHandler({
      onAdd: (ns) => this.#enqueue(ns),
      onUpdate: (_old, ns) => this.#enqueue(ns),
    });
  }

  #enqueue(ns: Namespace): void {
    if (!ns.metadata?.deletionTimestamp) return;
    this.queue.addAfter(metaNamespaceKey(ns), this.#graceMs);
  }

  run(workers: number): void {
    if (this.#running) return;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.queue.get();
        if (key === undefined) return;
        try {
          await this.syncNamespaceFromKey(key);
          this.queue.forget(key);
        } catch (err) {
          if (err instanceof ResourcesRemainingError) {
            this.queue.addAfter(key, this.#remainingDelayMs(err.estimate));
          } else {
            log.warn('deletion of namespace failed', { namespace: key, err: errMessage(err) });
            this.queue.addRateLimited(key);
          }
        } finally {
          this.queue.done(key);
        }
      }
    };
    this.#running = Promise.all(Array.from({ length: Math.max(1, workers) }, worker)).then(() => undefined);
  }

  async dispose(): Promise<void> {
    this.#registration.dispose();
    this.queue.shutDown();
    await this.#running;
  }

  /** Empties and finalizes one namespace (throws ResourcesRemainingError while content remains). */
  async syncNamespaceFromKey(key: string): Promise<void> {
    await this.deleter.delete(key);
  }
}

registerController('namespace', (ctx) => new NamespaceController(ctx), 10);
