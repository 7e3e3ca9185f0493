// metrics-server built into the API server: registers the metrics.k8s.io API on it (discovery and
// requests), scrapes the kubelets through its KubeletDialer, and creates metrics-server's
// system:aggregated-metrics-reader ClusterRole so that view, edit and admin may read metrics.
import type { Node, Pod } from '../../api/types/core_v1.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { ApiError } from '../errors.ts';
import type { KubeletDialer } from '../handlers/pod_proxy.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import { MetricsApi, type MetricsObjects } from './api.ts';
import { scrapeKubelet } from './kubelet_client.ts';
import { Scraper } from './scraper.ts';
import { MetricsStorage } from './storage.ts';
import { METRICS_GROUP } from './types.ts';

const log = logger('metrics-server');

/** metrics-server's --metric-resolution default. */
export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;

/** What the metrics server needs of the API server it lives in (ApiServer satisfies it). */
export interface MetricsHost {
  storeFor(info: ResourceInfo): GenericStore;
  /** Read at every scrape, so a dialer replaced after start is used. */
  readonly kubeletDialer: KubeletDialer;
  /** Where the API server looks for the metrics.k8s.io API; set while the metrics server lives. */
  metrics: MetricsApi | undefined;
}

/** Options of MetricsServer. */
export interface MetricsServerOptions {
  /** Scrape period (default 15 s). */
  readonly resolutionMs?: number;
  /** Deadline of one kubelet scrape (default 90% of the period). */
  readonly scrapeTimeoutMs?: number;
}

/** The ClusterRole metrics-server's manifest installs, aggregated into view, edit and admin. */
export const AGGREGATED_METRICS_READER = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: {
    name: 'system:aggregated-metrics-reader',
    labels: {
      'k8s-app': 'metrics-server',
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
    },
  },
  rules: [{ apiGroups: [METRICS_GROUP], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
};

async function cached<T>(store: GenericStore, keyPrefix: string): Promise<T[]> {
  await store.cache.start();
  return store.cache.list(keyPrefix).map((c) => c.obj as T);
}

/** The built-in metrics server of one API server. */
export class MetricsServer implements Disposable {
  readonly api: MetricsApi;
  readonly storage: MetricsStorage;
  readonly scraper: Scraper;
  readonly #host: MetricsHost;
  #disposed = false;

  /** Registers the API on the host at once (discovery lists the group; lists are empty until two scrapes). */
  constructor(host: MetricsHost, opts: MetricsServerOptions = {}) {
    const resolutionMs = opts.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.#host = host;
    const nodes = host.storeFor(resourceFor('', 'v1', 'nodes')!);
    const pods = host.storeFor(resourceFor('', 'v1', 'pods')!);
    const objects: MetricsObjects = {
      nodes: () => cached<Node>(nodes, nodes.keyPrefix('')),
      pods: (namespace) => cached<Pod>(pods, pods.keyPrefix(namespace)),
    };
    this.storage = new MetricsStorage(resolutionMs);
    this.api = new MetricsApi(this.storage, objects);
    this.scraper = new Scraper({
      storage: this.storage, resolutionMs, timeoutMs: opts.scrapeTimeoutMs,
      nodes: objects.nodes,
      pods: () => objects.pods(''),
      scrapeNode: (nodeName, timeoutMs) => scrapeKubelet(host.kubeletDialer, nodeName, timeoutMs),
    });
    host.metrics = this.api;
  }

  /** Ensures the aggregated reader role and starts scraping. */
  async start(): Promise<void> {
    if (this.#disposed) return;
    await ensureAggregatedMetricsReader(this.#host.storeFor(resourceFor('rbac.authorization.k8s.io', 'v1', 'clusterroles')!));
    this.scraper.start();
  }

  /** Stops scraping and takes the API off the host. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#host.metrics === this.api) this.#host.metrics = undefined;
    await this.scraper.dispose();
  }
}

/** Creates system:aggregated-metrics-reader unless it exists (an admin's edits are kept). */
export async function ensureAggregatedMetricsReader(store: GenericStore): Promise<void> {
  try {
    await store.get('', AGGREGATED_METRICS_READER.metadata.name);
    return;
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  try {
    await store.create('', structuredClone(AGGREGATED_METRICS_READER));
    log.info('created the aggregated metrics reader ClusterRole');
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
  }
}

/** Creates, registers and starts a metrics server on the API server. */
export async function startMetricsServer(host: MetricsHost, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const ms = new MetricsServer(host, opts);
  try {
    await ms.start();
  } catch (err) {
    await ms.dispose();
    throw err;
  }
  return ms;
}
