// The bootstrap signer (upstream pkg/controller/bootstrap/bootstrapsigner.go): keeps one detached
// JWS per signing bootstrap token on the kube-public/cluster-info ConfigMap, so a joining node that
// holds a token can check that the cluster-info it read comes from a server that knows the token.
import type { ConfigMap, Secret } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import { isConflict, isNotFound } from '../../client/api_errors.ts';
import type { Clock } from '../../client/clock.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../../client/shared_informer.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import {
  BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, CLUSTER_INFO_KUBECONFIG_KEY, CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE,
  JWS_SIGNATURE_PREFIX, TokenKeys, detachedSignature, isExpired, secretValue, tokenOf,
} from './token_secret.ts';

const log = logger('bootstrap-signer');
const KEY = `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME}`;

/** The signatures cluster-info should carry: one per valid, unexpired token marked for signing. */
export function wantedSignatures(content: string, secrets: readonly Secret[], nowMs: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of secrets) {
    if (s.metadata?.namespace !== BOOTSTRAP_TOKEN_NAMESPACE || s.metadata.deletionTimestamp) continue;
    const t = tokenOf(s);
    if (!t || isExpired(s, nowMs) || secretValue(s, `${TokenKeys.usagePrefix}signing`) !== 'true') continue;
    out.set(JWS_SIGNATURE_PREFIX + t.id, detachedSignature(content, t.id, t.secret));
  }
  return out;
}

/** Signs kube-public/cluster-info with every signing bootstrap token. */
export class BootstrapSigner implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly secrets: SharedIndexInformer<Secret>;
  readonly configMaps: SharedIndexInformer<ConfigMap>;
  readonly #client: ResourceClient<ConfigMap>;
  readonly #clock: Clock;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.#clock = ctx.clock;
    this.queue = new RateLimitingQueue<string>({ name: 'bootstrap_signer_queue', clock: ctx.clock });
    this.secrets = ctx.informers.informerFor<Secret>(resourceDescriptor('v1', 'secrets'), { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
    this.configMaps = ctx.informers.informerFor<ConfigMap>(resourceDescriptor('v1', 'configmaps'), { fieldSelector: `metadata.name=${CLUSTER_INFO_NAME}` });
    this.#client = ctx.client.resource<ConfigMap>(resourceDescriptor('v1', 'configmaps'), CLUSTER_INFO_NAMESPACE);
    // Any token or cluster-info change may change the signatures; there is only one object to sign.
    const poke = (): void => this.queue.add(KEY);
    this.#handlers.push(this.secrets.addEventHandler({ onAdd: poke, onUpdate: poke, onDelete: poke }));
    this.#handlers.push(this.configMaps.addEventHandler({ onAdd: poke, onUpdate: poke }));
  }

  run(workers: number): void {
    for (let i = 0; i < Math.min(workers, 1); i++) void this.#worker();
    this.queue.add(KEY);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync();
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { configMap: key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Brings cluster-info's signatures up to date. */
  async sync(): Promise<void> {
    const cm = this.configMaps.lister.get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME);
    if (!cm || cm.metadata?.deletionTimestamp) return;
    const content = cm.data?.[CLUSTER_INFO_KUBECONFIG_KEY];
    if (content === undefined) return;
    const wanted = wantedSignatures(content, this.secrets.lister.list(), this.#clock.now());
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(cm.data ?? {})) if (!k.startsWith(JWS_SIGNATURE_PREFIX)) data[k] = v;
    for (const [k, v] of wanted) data[k] = v;
    const before = cm.data ?? {};
    const same = Object.keys(before).length === Object.keys(data).length && Object.entries(data).every(([k, v]) => before[k] === v);
    if (same) return;
    try {
      await this.#client.update({ ...structuredClone(cm), data });
    } catch (err) {
      // A newer cluster-info brings us back through the informer.
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('bootstrapsigner', (ctx) => new BootstrapSigner(ctx), 1);
