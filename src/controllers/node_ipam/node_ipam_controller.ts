// The node IPAM controller with the range allocator (upstream pkg/controller/nodeipam): every node
// gets a /24 of the cluster CIDR in spec.podCIDR/podCIDRs, set once; the range returns to the pool
// when the node is deleted, and a full pool is reported with a CIDRNotAvailable event.
import { logger } from '../../base/log.ts';
import type { Node } from '../../api/types/core_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { CidrRangeExhausted, CidrSet } from './cidr_set.ts';

const log = logger('node-ipam-controller');

/** Upstream's --node-cidr-mask-size for IPv4. */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

/** Hands out and reclaims per-node pod CIDRs. */
export class NodeIpamController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly cidrs: CidrSet;
  #client: ResourceClient<Node>;
  #recorder: EventRecorder;
  #handlers: HandlerRegistration[] = [];
  /** CIDRs allocated and patched but perhaps not yet visible in the cache, by node. */
  #pending = new Map<string, string>();

  constructor(ctx: ControllerContext, opts: { readonly nodeCidrMaskSize?: number } = {}) {
    // Dual-stack is not supported yet: the first IPv4 range of --cluster-cidr is used.
    const v4 = ctx.options.clusterCidr.split(',').map((c) => c.trim()).find((c) => !c.includes(':'));
    if (!v4) throw new Error(`node-ipam: no IPv4 range in cluster CIDR ${JSON.stringify(ctx.options.clusterCidr)}`);
    this.cidrs = new CidrSet(v4, opts.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
    this.queue = new RateLimitingQueue<string>({ name: 'node_ipam', clock: ctx.clock });
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.#client = ctx.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    this.#recorder = ctx.recorder('cidrAllocator');
    this.#handlers.push(this.nodes.addEventHandler({
      onAdd: (n) => this.#observe(n),
      onUpdate: (_old, n) => this.#observe(n),
      onDelete: (obj) => {
        const n = unwrapTombstone(obj);
        const name = n.metadata?.name ?? '';
        for (const c of podCidrsOf(n)) this.cidrs.release(c);
        const pending = this.#pending.get(name);
        if (pending) this.cidrs.release(pending);
        this.#pending.delete(name);
      },
    }));
  }

  #observe(node: Node): void {
    const name = node.metadata?.name ?? '';
    const cidrs = podCidrsOf(node);
    for (const c of cidrs) this.cidrs.occupy(c);
    if (cidrs.length === 0) {
      this.queue.add(name);
      return;
    }
    // Someone else set the node's range first: ours goes back to the pool.
    const pending = this.#pending.get(name);
    if (pending !== undefined && !cidrs.includes(pending)) this.cidrs.release(pending);
    this.#pending.delete(name);
  }

  run(workers: number): void {
    // Every range nodes already hold is taken before anything new is handed out.
    for (const n of this.nodes.lister.list()) for (const c of podCidrsOf(n)) this.cidrs.occupy(c);
    for (let i = 0; i < workers; i++) void this.#worker();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        if (!(err instanceof CidrRangeExhausted)) log.warn('sync failed, will retry', { node: key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Gives node `name` a pod CIDR if it has none. */
  async sync(name: string): Promise<void> {
    const node = this.nodes.lister.get('', name);
    if (!node || podCidrsOf(node).length > 0) return;
    let cidr = this.#pending.get(name);
    if (cidr === undefined) {
      try {
        cidr = this.cidrs.allocateNext();
      } catch (err) {
        if (err instanceof CidrRangeExhausted) {
          this.#recorder.event({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '' }, EventType.Normal, 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        }
        throw err;
      }
      this.#pending.set(name, cidr);
    }
    try {
      await this.#client.patch(name, 'strategic', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      // The node went away, or its spec was set by someone else meanwhile: give the range back.
      if (isNotFound(err)) {
        this.cidrs.release(cidr);
        this.#pending.delete(name);
        return;
      }
      throw err;
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

function podCidrsOf(node: Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return list;
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

registerController('nodeipam', (ctx) => new NodeIpamController(ctx), 1);
