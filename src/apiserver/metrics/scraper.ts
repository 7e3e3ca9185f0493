// Scrapes every node once per resolution period (metrics-server's 15 s by default) and hands the
// merged batch to MetricsStorage. Real nodes are fetched from their kubelets in parallel, simulated
// nodes are synthesized; a failing node only loses its own points for that round.
import type { Node, Pod } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import type { MetricsStorage } from './storage.ts';
import { isSimulatedNode, simulatedBatch } from './sim_usage.ts';
import type { MetricsBatch, MetricsPoint, PodMetricsPoint } from './types.ts';

const log = logger('metrics-scraper');

/** Options of Scraper. */
export interface ScraperOptions {
  readonly storage: MetricsStorage;
  /** Scrape period in ms. */
  readonly resolutionMs: number;
  /** Deadline of one node's scrape (default 90% of the period, as metrics-server). */
  readonly timeoutMs?: number;
  readonly nodes: () => Promise<Node[]>;
  /** Every pod (read once per round when there are simulated nodes). */
  readonly pods: () => Promise<Pod[]>;
  /** Fetches one real node's batch. */
  readonly scrapeNode: (nodeName: string, timeoutMs: number) => Promise<MetricsBatch>;
}

function nodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The periodic scraper. */
export class Scraper implements Disposable {
  readonly #o: ScraperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #disposed = false;
  /** Nodes whose last scrape failed, so a lasting failure is logged once. */
  readonly #failing = new Set<string>();

  constructor(opts: ScraperOptions) {
    if (!(Number.isFinite(opts.resolutionMs) && opts.resolutionMs > 0)) {
      throw new Error(`ScraperOptions.resolutionMs: want a positive number of milliseconds, got ${String(opts.resolutionMs)}`);
    }
    this.#o = opts;
  }

  /** Scrapes now and then every period. */
  start(): void {
    if (this.#timer || this.#disposed) return;
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), this.#o.resolutionMs);
  }

  async #tick(): Promise<void> {
    // a round that outlives the period delays the next one rather than overlapping it
    if (this.#running) return;
    this.#running = this.scrapeOnce().catch((err: unknown) => log.error('scrape failed', { err: err instanceof Error ? err.message : String(err) }));
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  /** One round over every node; resolves once the storage has it. */
  async scrapeOnce(): Promise<void> {
    const nodes = await this.#o.nodes();
    const timeoutMs = this.#o.timeoutMs ?? Math.max(1, Math.floor(this.#o.resolutionMs * 0.9));
    const podsByNode = new Map<string, Pod[]>();
    if (nodes.some(isSimulatedNode)) {
      for (const p of await this.#o.pods()) {
        const n = p.spec?.nodeName;
        if (!n) continue;
        const list = podsByNode.get(n);
        if (list) list.push(p);
        else podsByNode.set(n, [p]);
      }
    }
    const batches = await Promise.all(nodes.map(async (node): Promise<MetricsBatch | undefined> => {
      const name = node.metadata?.name ?? '';
      try {
        const batch = isSimulatedNode(node) ? simulatedBatch(node, podsByNode.get(name) ?? [], Date.now()) : await this.#o.scrapeNode(name, timeoutMs);
        if (this.#failing.delete(name)) log.info('scraping the node works again', { node: name });
        return batch;
      } catch (err) {
        if (!this.#failing.has(name) && nodeReady(node)) log.warn('failed to scrape node', { node: name, err: err instanceof Error ? err.message : String(err) });
        this.#failing.add(name);
        return undefined;
      }
    }));
    if (this.#disposed) return;
    const merged = { nodes: new Map<string, MetricsPoint>(), pods: new Map<string, PodMetricsPoint>() };
    for (const b of batches) {
      if (!b) continue;
      for (const [k, v] of b.nodes) if (!merged.nodes.has(k)) merged.nodes.set(k, v);
      for (const [k, v] of b.pods) if (!merged.pods.has(k)) merged.pods.set(k, v);
    }
    this.#o.storage.store(merged);
  }

  /** Stops the period and waits for a round in flight. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
