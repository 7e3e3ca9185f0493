// Registration and status reports of simulated nodes, the kubelet's node status loop: create the
// Node with the status of the node-initialize stage, then report every interval (spread over it)
// with whichever node stage applies — heartbeat times while Ready, the full status otherwise.
import type { Node } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { formatTime, type Clock } from '../client/clock.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';
import { nodeObject, nodeReadyStatus, type SimNode } from './node_object.ts';
import { SpreadTicker } from './spread_ticker.ts';
import { pickStage, renderStage, StageKind, type Stage } from './stage.ts';

/** Options of NodeStatusReporter. */
export interface NodeStatusOptions {
  readonly client: RestClient;
  readonly stages: readonly Stage[];
  readonly clock: Clock;
  /** Status report period, ms. */
  readonly intervalMs: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
}

/** Registers simulated nodes and reports their status. */
export class NodeStatusReporter implements Disposable {
  readonly ticker: SpreadTicker<string>;
  reports = 0;
  #nodes: ReadonlyMap<string, SimNode>;
  #client: ResourceClient<Node>;
  #stages: readonly Stage[];
  #clock: Clock;

  constructor(nodes: ReadonlyMap<string, SimNode>, opts: NodeStatusOptions) {
    this.#nodes = nodes;
    this.#client = opts.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    this.#stages = opts.stages;
    this.#clock = opts.clock;
    this.ticker = new SpreadTicker((name) => this.report(name), { intervalMs: opts.intervalMs, concurrency: opts.concurrency, clock: opts.clock });
  }

  /** Creates the node (or adopts an existing one and reports its status); node.current holds the result. */
  async register(name: string): Promise<void> {
    const node = this.#mustGet(name);
    const obj = nodeObject(node.spec);
    const action = this.#render(node, obj);
    try {
      node.current = await this.#client.create({ ...obj, ...(action?.status ? { status: action.status } : {}) });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node.current = await this.#client.get(name);
      await this.report(name);
    }
  }

  /**
   * A Node as the watch shows it: kept as the current copy unless ours is newer. When someone else
   * turned its Ready condition away from True (the node lifecycle controller marks a node Unknown
   * when its Lease lapsed), the node reports again at once, as the kubelet posts a status that
   * differs from the server's without waiting for its next report. True when Ready turned True.
   */
  observe(obj: Node): boolean {
    const node = this.#nodes.get(obj.metadata?.name ?? '');
    if (!node) return false;
    const before = nodeReadyStatus(node.current);
    if (node.current !== undefined && olderThan(obj, node.current)) return false;
    node.current = obj;
    const now = nodeReadyStatus(obj);
    if (before === 'True' && now !== 'True') this.ticker.trigger(obj.metadata!.name!);
    return before !== 'True' && now === 'True';
  }

  /** Starts the periodic reports of every node. */
  start(): void {
    for (const name of this.#nodes.keys()) this.ticker.add(name);
  }

  /** One status report: the node stage that applies to the node as last seen, as a status patch. */
  async report(name: string): Promise<void> {
    const node = this.#mustGet(name);
    if (!node.current) {
      await this.register(name);
      return;
    }
    const action = this.#render(node, node.current);
    if (!action?.status) return;
    try {
      const written = await this.#client.patchStatus(name, 'strategic', { status: action.status });
      // The watch may have shown a newer copy while the patch was answered.
      if (node.current === undefined || !olderThan(written, node.current)) node.current = written;
      this.reports++;
    } catch (err) {
      // Someone deleted the node: register it again, as the kubelet does.
      if (!isNotFound(err)) throw err;
      node.current = undefined;
      node.lease = undefined;
      await this.register(name);
    }
  }

  async dispose(): Promise<void> {
    await this.ticker.dispose();
  }

  #render(node: SimNode, obj: Node): ReturnType<typeof renderStage> | undefined {
    const now = this.#clock.now();
    const env = { root: obj, vars: { now: formatTime(now), node: node.vars } };
    const pick = pickStage(this.#stages, StageKind.Node, env, () => now);
    return pick && pick.dueMs <= now ? renderStage(pick.stage, env) : undefined;
  }

  #mustGet(name: string): SimNode {
    const node = this.#nodes.get(name);
    if (!node) throw new Error(`sim: unknown node ${JSON.stringify(name)}`);
    return node;
  }
}

/** True when `a` is an older version of the same object than `b` (resourceVersions compared as numbers when they are). */
function olderThan(a: Node, b: Node): boolean {
  if (a.metadata?.uid !== b.metadata?.uid) return false;
  const ra = a.metadata?.resourceVersion ?? '', rb = b.metadata?.resourceVersion ?? '';
  if (!/^\d+$/.test(ra) || !/^\d+$/.test(rb)) return false;
  return ra.length !== rb.length ? ra.length < rb.length : ra < rb;
}
