// The token cleaner (upstream pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap token
// Secrets in kube-system once their expiration has passed, so an expired token leaves no trace;
// a live token is looked at again when it is due.
import type { Secret } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import { isNotFound } from '../../client/api_errors.ts';
import type { Clock } from '../../client/clock.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../../client/shared_informer.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, msUntilExpiry } from './token_secret.ts';
import { runWorkers } from '../controller_utils.ts';

const log = logger('token-cleaner');

/** Deletes expired bootstrap token Secrets. */
export class TokenCleaner implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly secrets: SharedIndexInformer<Secret>;
  readonly #client: ResourceClient<Secret>;
  readonly #clock: Clock;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.#clock = ctx.clock;
    this.queue = new RateLimitingQueue<string>({ name: 'token_cleaner', clock: ctx.clock });
    this.secrets = ctx.informers.informerFor<Secret>(resourceDescriptor('v1', 'secrets'), { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
    this.#client = ctx.client.resource<Secret>(resourceDescriptor('v1', 'secrets'), BOOTSTRAP_TOKEN_NAMESPACE);
    const enqueue = (s: Secret): void => {
      if (s.metadata?.namespace === BOOTSTRAP_TOKEN_NAMESPACE && s.metadata.name) this.queue.add(s.metadata.name);
    };
    this.#handlers.push(this.secrets.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s) }));
  }

  run(workers: number): void {
    void runWorkers(this.queue, workers, (key) => this.sync(key), (key, err) => log.warn('sync failed, will retry', { secret: key, err }));
  }

  /** Deletes the Secret when expired, or looks again at its expiry. */
  async sync(name: string): Promise<void> {
    const secret = this.secrets.lister.get(BOOTSTRAP_TOKEN_NAMESPACE, name);
    if (!secret || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.metadata?.deletionTimestamp) return;
    const ms = msUntilExpiry(secret, this.#clock.now());
    if (ms === undefined) return;
    if (ms > 0) {
      this.queue.addAfter(name, ms);
      return;
    }
    log.info('deleting expired bootstrap token', { secret: `${BOOTSTRAP_TOKEN_NAMESPACE}/${name}` });
    try {
      const uid = secret.metadata?.uid;
      await this.#client.delete(name, uid ? { preconditions: { uid } } : {});
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('tokencleaner', (ctx) => new TokenCleaner(ctx), 1);
