// The root CA publisher (upstream pkg/controller/certificates/rootcacertpublisher): every active
// namespace gets the ConfigMap kube-root-ca.crt holding the cluster CA, so pods can verify the API
// server through the kubernetes.default service; edits and deletes of it are undone.
import { logger } from '../../base/log.ts';
import type { ConfigMap, Namespace } from '../../api/types/core_v1.ts';
import { hasStatusCause, isNotFound } from '../../client/api_errors.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { runWorkers } from '../controller_utils.ts';

const log = logger('root-ca-cert-publisher');

/** Name of the published ConfigMap. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Annotation describing the ConfigMap's purpose, with upstream's text. */
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. '
  + 'No other usage is guaranteed across distributions of Kubernetes clusters.';

/** Publishes ControllerOptions.rootCaPem into every namespace. */
export class RootCaPublisher implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly namespaces: SharedIndexInformer<Namespace>;
  readonly configMaps: SharedIndexInformer<ConfigMap>;
  #rootCa: string;
  #client: ResourceClient<ConfigMap>;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.#rootCa = ctx.options.rootCaPem;
    this.queue = new RateLimitingQueue<string>({ name: 'root_ca_cert_publisher', clock: ctx.clock });
    this.namespaces = ctx.informers.informerFor<Namespace>(resourceDescriptor('v1', 'namespaces'));
    // Only the one ConfigMap per namespace matters: a field selector keeps the cache small.
    this.configMaps = ctx.informers.informerFor<ConfigMap>(resourceDescriptor('v1', 'configmaps'), { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    this.#client = ctx.client.resource<ConfigMap>(resourceDescriptor('v1', 'configmaps'));
    this.#handlers.push(this.namespaces.addEventHandler({
      onAdd: (ns) => this.#enqueue(ns.metadata?.name),
      onUpdate: (_old, ns) => {
        if ((ns.status?.phase ?? 'Active') === 'Active') this.#enqueue(ns.metadata?.name);
      },
    }));
    this.#handlers.push(this.configMaps.addEventHandler({
      onUpdate: (_old, cm) => this.#configMapChanged(cm),
      onDelete: (obj) => this.#configMapChanged(unwrapTombstone(obj)),
    }));
  }

  #configMapChanged(cm: ConfigMap): void {
    if (cm.metadata?.name === ROOT_CA_CONFIGMAP) this.#enqueue(cm.metadata.namespace);
  }

  #enqueue(namespace: string | undefined): void {
    if (namespace) this.queue.add(namespace);
  }

  run(workers: number): void {
    void runWorkers(this.queue, workers, (key) => this.sync(key), (key, err) => log.warn('sync failed, will retry', { namespace: key, err }));
  }

  /** Creates or repairs kube-root-ca.crt in one namespace. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.lister.get('', namespace);
    if (!ns || ns.metadata?.deletionTimestamp || (ns.status?.phase ?? 'Active') !== 'Active') return;
    const data = { 'ca.crt': this.#rootCa };
    const cm = this.configMaps.lister.get(namespace, ROOT_CA_CONFIGMAP);
    if (!cm) {
      try {
        await this.#client.create({
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data,
        });
      } catch (err) {
        // A namespace that vanished or is terminating needs no ConfigMap.
        if (isNotFound(err) || hasStatusCause(err, 'NamespaceTerminating')) return;
        throw err;
      }
      return;
    }
    const current = cm.data ?? {};
    if (Object.keys(current).length === 1 && current['ca.crt'] === this.#rootCa && cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION]) return;
    const updated = structuredClone(cm);
    updated.data = data;
    delete updated.binaryData;
    updated.metadata = { ...updated.metadata, annotations: { ...updated.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
    await this.#client.update(updated);
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('root-ca-cert-publisher', (ctx) => new RootCaPublisher(ctx), 1);
