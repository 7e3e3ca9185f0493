// The built-in service load balancer's status writer (k3s ServiceLB-like): watches Services and
// Nodes and keeps status.loadBalancer of every LoadBalancer Service without a loadBalancerClass at
// the Ready nodes' addresses (service_lb.ts decides which). The proxy opens the ports itself.
// Every agent may run one: they compute the same status from the same caches and write only diffs.

import type { LoadBalancerStatus, Node } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isNotFound } from '../client/api_errors.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { RateLimitingQueue } from '../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import { splitKey } from '../client/store.ts';
import { PROXY_LABEL_SELECTOR, SERVICES } from './proxy_source.ts';
import { handledByServiceLB, loadBalancerStatusEqual, serviceLBStatus } from './service_lb.ts';
import type { Service } from './types.ts';

const log = logger('servicelb');
const NODES = resourceDescriptor('v1', 'nodes');

function keyOf(s: Service): string {
  return `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
}

/** The status patch `svc` needs, or undefined when its status is right (or not ours to write). */
export function statusPatchFor(svc: Service, nodes: readonly Node[]): { status: { loadBalancer: LoadBalancerStatus | { ingress: null } } } | undefined {
  const want = serviceLBStatus(svc, nodes);
  const have = svc.status?.loadBalancer;
  if (want === null) {
    // A Service that stopped being a LoadBalancer loses its addresses (upstream's service controller);
    // one with a loadBalancerClass belongs to another implementation.
    if (svc.spec?.type === 'LoadBalancer' || (have?.ingress ?? []).length === 0) return undefined;
    return { status: { loadBalancer: { ingress: null } } };
  }
  if (loadBalancerStatusEqual(have, want)) return undefined;
  return { status: { loadBalancer: (want.ingress ?? []).length > 0 ? want : { ingress: null } } };
}

/** Keeps LoadBalancer statuses current until disposed; start the factory after creating it. */
export class ServiceLBController implements Disposable {
  readonly queue = new RateLimitingQueue<string>({ name: 'servicelb' });
  readonly #services: SharedIndexInformer<Service>;
  readonly #nodes: SharedIndexInformer<Node>;
  readonly #client: RestClient;
  readonly #regs: Disposable[];
  #busy = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(client: RestClient, factory: SharedInformerFactory) {
    this.#client = client;
    this.#services = factory.informerFor<Service>(SERVICES, { labelSelector: PROXY_LABEL_SELECTOR });
    this.#nodes = factory.informerFor<Node>(NODES);
    const enqueue = (s: Service): void => {
      if (handledByServiceLB(s) || (s.status?.loadBalancer?.ingress ?? []).length > 0) this.queue.add(keyOf(s));
    };
    const enqueueAll = (): void => {
      for (const s of this.#services.indexer.list()) enqueue(s);
    };
    this.#regs = [
      this.#services.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s) }),
      this.#nodes.addEventHandler({
        onAdd: enqueueAll,
        onUpdate: (o, n) => {
          if (JSON.stringify([o.status?.addresses, o.status?.conditions?.find((c) => c.type === 'Ready')?.status, o.spec?.unschedulable])
            !== JSON.stringify([n.status?.addresses, n.status?.conditions?.find((c) => c.type === 'Ready')?.status, n.spec?.unschedulable])) enqueueAll();
        },
        onDelete: enqueueAll,
      }),
    ];
  }

  /** Starts `workers` workers once both caches have synced. */
  run(workers = 1): void {
    void Promise.all([this.#services.whenSynced(), this.#nodes.whenSynced()]).then(() => {
      for (let i = 0; i < workers; i++) void this.#worker();
    });
  }

  /** Resolves when the queue is empty and no sync runs. */
  settled(): Promise<void> {
    if (this.#busy === 0 && this.queue.len() === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.#busy++;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        log.warn('load balancer status sync failed, will retry', { key, err: err instanceof Error ? err.message : String(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.#busy--;
        if (this.#busy === 0 && this.queue.len() === 0) for (const w of this.#idleWaiters.splice(0)) w();
      }
    }
  }

  /** Writes the status of one Service from the caches. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.lister.get(namespace, name);
    if (!svc) return;
    const patch = statusPatchFor(svc, this.#nodes.indexer.list());
    if (!patch) return;
    try {
      await this.#client.resource<Service>(SERVICES, namespace).patchStatus(name, 'merge', patch);
      log.info('updated load balancer status', { service: key, ingress: (patch.status.loadBalancer.ingress ?? []).map((i) => i.ip) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  dispose(): void {
    this.queue.shutDown();
    for (const r of this.#regs) r.dispose();
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}
