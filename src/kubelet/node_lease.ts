// The node's heartbeat Lease in kube-node-lease (the kubelet's nodelease controller): created owned
// by the Node, renewed every 10 s with an update of the copy we hold, re-read only after a conflict.
import type { Lease } from '../api/types/coordination_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/api_errors.ts';
import { formatMicroTime, realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';

const log = logger('node-lease');

/** Namespace of node Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The Lease's duration (the kubelet's default 40 s). */
export const NODE_LEASE_DURATION_SECONDS = 40;

/** Options of NodeLease. */
export interface NodeLeaseOptions {
  readonly client: RestClient;
  readonly nodeName: string;
  /** The Node's UID for the owner reference (read when the Lease is created). */
  readonly nodeUid: () => string | undefined;
  readonly clock?: Clock;
  /** Renewal period (default 10 s). */
  readonly renewMs?: number;
}

/** Keeps the node's Lease fresh. */
export class NodeLease implements Disposable {
  readonly #o: NodeLeaseOptions;
  readonly #leases: ResourceClient<Lease>;
  readonly #clock: Clock;
  #lease: Lease | undefined;
  #timer: ClockTimer | undefined;
  #stopped = false;
  #inFlight: Promise<void> | undefined;
  /** Ends a renewal in flight on dispose (an API server that does not answer must not hold up a stop). */
  readonly #abort = new AbortController();

  constructor(opts: NodeLeaseOptions) {
    this.#o = opts;
    this.#leases = opts.client.resource<Lease>(resourceDescriptor('coordination.k8s.io/v1', 'leases'), NODE_LEASE_NAMESPACE);
    this.#clock = opts.clock ?? realClock;
  }

  /** Renews now, then every period. */
  start(): void {
    this.#tick(0);
  }

  #tick(delay: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#inFlight = this.renew().catch((err: unknown) => {
        if (this.#stopped) return;
        log.warn('renewing the node lease failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        this.#inFlight = undefined;
        this.#tick(this.#o.renewMs ?? 10_000);
      });
    }, delay);
  }

  /** One renewal (creating the Lease when missing). */
  async renew(): Promise<void> {
    const now = formatMicroTime(this.#clock.now());
    const name = this.#o.nodeName;
    if (this.#lease) {
      try {
        this.#lease = await this.#leases.update(withRenewTime(this.#lease, name, now), { signal: this.#abort.signal });
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        this.#lease = undefined;
      }
    }
    const uid = this.#o.nodeUid();
    try {
      this.#lease = await this.#leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name, namespace: NODE_LEASE_NAMESPACE,
          ...(uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid }] } : {}),
        },
        spec: { holderIdentity: name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: now },
      }, { signal: this.#abort.signal });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.#leases.get(name, { signal: this.#abort.signal });
      this.#lease = await this.#leases.update(withRenewTime(existing, name, now), { signal: this.#abort.signal });
    }
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#abort.abort();
    await this.#inFlight;
  }
}

function withRenewTime(lease: Lease, holder: string, renewTime: string): Lease {
  return { ...lease, spec: { ...lease.spec, holderIdentity: holder, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime } };
}
