// The resource lock of leader election (client-go tools/leaderelection/resourcelock/leaselock.go):
// the election record lives in the spec of a coordination.k8s.io/v1 Lease, and updates carry the
// Lease's resourceVersion so two candidates can never both win the same round.
import type { Lease, LeaseSpec } from '../api/types/coordination_v1.ts';
import { formatMicroTime, parseTime } from './clock.ts';
import type { EventRecorder } from './events.ts';
import type { RestClient } from './rest_client.ts';
import type { ResourceClient } from './resource_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';

/** What the lock stores (resourcelock.LeaderElectionRecord); times in ms since the epoch. */
export interface LeaderElectionRecord {
  /** "" when nobody holds the lease (after a release). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

/** Options of a Lease lock. */
export interface LeaseLockOptions {
  readonly client: RestClient;
  readonly namespace: string;
  readonly name: string;
  /** This candidate's identity (upstream: hostname + "_" + a UUID). */
  readonly identity: string;
  /** Records "<identity> became leader" / "stopped leading" on the Lease when given. */
  readonly recorder?: EventRecorder;
}

const LEASES = resourceDescriptor('coordination.k8s.io/v1', 'leases');

/** What leader election needs from a lock (resourcelock.Interface). */
export interface ResourceLock {
  readonly identity: string;
  describe(): string;
  get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string }>;
  create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  recordEvent(message: string): void;
}

/** A leader-election lock on a Lease. */
export class LeaseLock implements ResourceLock {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  #leases: ResourceClient<Lease>;
  #lease: Lease | undefined;
  #recorder: EventRecorder | undefined;

  constructor(opts: LeaseLockOptions) {
    for (const f of ['namespace', 'name', 'identity'] as const) {
      if (typeof opts[f] !== 'string' || opts[f] === '') throw new Error(`LeaseLock: ${f} must be a non-empty string, got ${JSON.stringify(opts[f])}`);
    }
    this.identity = opts.identity;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.#leases = opts.client.resource<Lease>(LEASES, opts.namespace);
    this.#recorder = opts.recorder;
  }

  /** "namespace/name". */
  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** Reads the record; `raw` is a canonical text of it for change detection. Throws NotFound if absent. */
  async get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string }> {
    const lease = await this.#leases.get(this.name, signal ? { signal } : {});
    this.#lease = lease;
    const record = leaseSpecToRecord(lease.spec ?? {});
    return { record, raw: JSON.stringify(record) };
  }

  /** Creates the Lease holding `record`. */
  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    this.#lease = await this.#leases.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: recordToLeaseSpec(record),
    }, signal ? { signal } : {});
  }

  /** Replaces the record, guarded by the resourceVersion last read or written (Conflict if stale). */
  async update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    if (!this.#lease) throw new Error('lease not initialized, call get or create first');
    this.#lease = await this.#leases.update({ ...this.#lease, spec: recordToLeaseSpec(record) }, signal ? { signal } : {});
  }

  /** Records an event about the Lease ("<identity> <message>"). */
  recordEvent(message: string): void {
    if (!this.#recorder || !this.#lease) return;
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: this.#lease.metadata ?? {} };
    this.#recorder.eventf(lease, 'Normal', 'LeaderElection', '%v %v', this.identity, message);
  }
}

/** LeaseSpec from a record, as resourcelock.LeaderElectionRecordToLeaseSpec writes it. */
export function recordToLeaseSpec(r: LeaderElectionRecord): LeaseSpec {
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: formatMicroTime(r.acquireTime),
    renewTime: formatMicroTime(r.renewTime),
    leaseTransitions: r.leaderTransitions,
  };
}

/** A record from a LeaseSpec (absent fields read as zero values). */
export function leaseSpecToRecord(spec: LeaseSpec): LeaderElectionRecord {
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: parseTime(spec.acquireTime) ?? 0,
    renewTime: parseTime(spec.renewTime) ?? 0,
    leaderTransitions: spec.leaseTransitions ?? 0,
  };
}
