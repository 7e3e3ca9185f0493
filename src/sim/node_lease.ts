// The node heartbeat Leases of simulated nodes (the kubelet's nodelease controller): one Lease per
// node in kube-node-lease, renewed every interval with a PUT of the last copy we hold (a GET only
// after a conflict), spread over the interval so thousands of nodes never renew at once.
import type { Lease } from '../api/types/coordination_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/api_errors.ts';
import { formatMicroTime, type Clock } from '../client/clock.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';
import { leaseObject, NODE_LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, type SimNode } from './node_object.ts';
import { SpreadTicker } from './spread_ticker.ts';

/** Options of NodeLeaseRenewer. */
export interface NodeLeaseOptions {
  readonly client: RestClient;
  readonly clock: Clock;
  /** Renewal period, ms (the kubelet: 10 s, a quarter of the 40 s lease). */
  readonly intervalMs: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
}

/** Keeps every simulated node's Lease fresh. */
export class NodeLeaseRenewer implements Disposable {
  readonly ticker: SpreadTicker<string>;
  renewals = 0;
  #nodes: ReadonlyMap<string, SimNode>;
  #client: ResourceClient<Lease>;
  #clock: Clock;

  constructor(nodes: ReadonlyMap<string, SimNode>, opts: NodeLeaseOptions) {
    this.#nodes = nodes;
    this.#client = opts.client.resource<Lease>(resourceDescriptor('coordination.k8s.io/v1', 'leases'), NODE_LEASE_NAMESPACE);
    this.#clock = opts.clock;
    this.ticker = new SpreadTicker((name) => this.renew(name), { intervalMs: opts.intervalMs, concurrency: opts.concurrency, clock: opts.clock });
  }

  /** Starts renewing every node's Lease. */
  start(): void {
    for (const name of this.#nodes.keys()) this.ticker.add(name);
  }

  /** Renews (or creates) the node's Lease now. */
  async renew(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node) throw new Error(`sim: unknown node ${JSON.stringify(name)}`);
    const now = formatMicroTime(this.#clock.now());
    if (node.lease) {
      try {
        node.lease = await this.#client.update(withRenewTime(node.lease, now));
        this.renewals++;
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        node.lease = undefined;
      }
    }
    // No copy yet: create it, or take over the one a previous run left.
    try {
      node.lease = await this.#client.create(leaseObject(name, node.current?.metadata?.uid, now));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node.lease = await this.#client.get(name);
      node.lease = await this.#client.update(withRenewTime(node.lease, now));
    }
    this.renewals++;
  }

  async dispose(): Promise<void> {
    await this.ticker.dispose();
  }
}

function withRenewTime(lease: Lease, renewTime: string): Lease {
  return {
    ...lease,
    spec: { ...lease.spec, holderIdentity: lease.metadata?.name ?? '', leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime },
  };
}
