// Simulated nodes (`tkube server --sim-nodes N`): N Nodes that register, keep Leases and a Ready
// condition, and move their pods through the stages of stages/*.yaml — all over the API, so they
// can live beside real nodes or in another process. startSimNodes() is the entry point.
import type { Node, Taint } from '../api/types/core_v1.ts';
import { parseDuration } from '../api/duration.ts';
import { tryParseQuantity } from '../api/quantity.ts';
import { DisposableStore, type Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock } from '../client/clock.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import type { KubeObject } from '../client/resource_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';
import { nodeAddress, PodAddressPool } from './ip_pool.ts';
import { NodeLeaseRenewer } from './node_lease.ts';
import { nodeVars, type SimNode, type SimNodeSpec } from './node_object.ts';
import { NodeStatusReporter } from './node_status.ts';
import { PodLifecycle } from './pod_lifecycle.ts';
import { defaultStages, StageKind, type Stage } from './stage.ts';

const log = logger('sim');

/** Options of startSimNodes. */
export interface SimNodesOptions {
  /** The API client to use (not disposed by the simulator); or give `kubeconfig`. */
  readonly client?: RestClient;
  /** Path of a kubeconfig file; the simulator owns the client it makes. */
  readonly kubeconfig?: string;
  /** Number of nodes. */
  readonly count: number;
  /** Node names are prefix + index (default "sim-"). */
  readonly namePrefix?: string;
  /** Default {cpu: "32", memory: "256Gi", pods: "110"}. */
  readonly capacity?: Readonly<Record<string, string>>;
  /** Default: the capacity. */
  readonly allocatable?: Readonly<Record<string, string>>;
  /** Extra labels of every node. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  /** Spread topology.kubernetes.io/zone over this many zones (zone-a, zone-b, …), round robin. */
  readonly zones?: number;
  /** Lease renewal period, ms (default 10 s, as the kubelet). */
  readonly heartbeatIntervalMs?: number;
  /**
   * Node status report period, ms (default 5 min, the kubelet's nodeStatusReportFrequency: with
   * Leases, an unchanged status is only re-posted that often).
   */
  readonly statusIntervalMs?: number;
  /** Node InternalIPs (default 10.244.0.0/16); never contacted. */
  readonly nodeCidr?: string;
  /** Pod IPs, a /24 per node (default 100.64.0.0/10); never contacted. */
  readonly podCidr?: string;
  /** Pods with restartPolicy Never/OnFailure succeed this long after starting (Go duration) unless annotated otherwise. */
  readonly completeAfter?: string;
  /** Pods fail (Never) or restart their containers (OnFailure, Always) this long after starting. */
  readonly failAfter?: string;
  /** Pods being deleted are confirmed deleted this long after the sim notices (default at once). */
  readonly deleteAfter?: string;
  /** Stages to play instead of the shipped ones. */
  readonly stages?: readonly Stage[];
  /** Concurrent pod status writers (default 32). */
  readonly podWorkers?: number;
  /** Pod writes per second at most (default unlimited). */
  readonly podQps?: number;
  /** Lease and node status requests in flight at most, each (default a tenth of the nodes, 16 to 128). */
  readonly heartbeatConcurrency?: number;
  /** Node registrations in flight at most (default 32). */
  readonly registerConcurrency?: number;
  readonly clock?: Clock;
}

/** Counters of a running simulator. */
export interface SimNodesStats {
  readonly nodes: number;
  readonly leaseRenewals: number;
  readonly leaseFailures: number;
  readonly leaseSkipped: number;
  readonly statusReports: number;
  readonly statusFailures: number;
  readonly podPatches: number;
  readonly podDeletes: number;
  readonly podErrors: number;
  readonly podBacklog: number;
}

/** Running simulated nodes; dispose to stop them (the Node objects stay, and turn NotReady as real ones would). */
export interface SimNodes extends Disposable {
  readonly nodeNames: readonly string[];
  stats(): SimNodesStats;
  dispose(): Promise<void>;
}

const DEFAULT_CAPACITY = { cpu: '32', memory: '256Gi', pods: '110' } as const;
const DEFAULT_STATUS_INTERVAL_MS = 5 * 60_000;

function zoneName(i: number): string {
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `zone-${s}`;
}

function checkDuration(field: string, v: string | undefined): void {
  if (v === undefined) return;
  try {
    parseDuration(v);
  } catch (err) {
    throw new Error(`startSimNodes: ${field}: ${(err as Error).message}`);
  }
}

function checkResources(field: string, r: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(r ?? {})) {
    if (typeof v !== 'string' || tryParseQuantity(v) === null) throw new Error(`startSimNodes: ${field}.${k}: not a quantity: ${JSON.stringify(v)}`);
  }
}

function positiveInt(field: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`startSimNodes: ${field} must be an integer >= 1, got ${v}`);
}

/** Checks options up front; errors name the field and the value. */
export function validateSimNodesOptions(o: SimNodesOptions): void {
  if ((o.client === undefined) === (o.kubeconfig === undefined)) throw new Error('startSimNodes: give exactly one of client and kubeconfig');
  if (!(Number.isInteger(o.count) && o.count >= 0)) throw new Error(`startSimNodes: count must be an integer >= 0, got ${o.count}`);
  const prefix = o.namePrefix ?? 'sim-';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9-])?$/.test(prefix)) throw new Error(`startSimNodes: namePrefix must start a DNS subdomain name, got ${JSON.stringify(prefix)}`);
  positiveInt('zones', o.zones);
  positiveInt('podWorkers', o.podWorkers);
  positiveInt('heartbeatConcurrency', o.heartbeatConcurrency);
  positiveInt('registerConcurrency', o.registerConcurrency);
  for (const f of ['heartbeatIntervalMs', 'statusIntervalMs', 'podQps'] as const) {
    const v = o[f];
    if (v !== undefined && !(v > 0)) throw new Error(`startSimNodes: ${f} must be > 0, got ${v}`);
  }
  checkDuration('completeAfter', o.completeAfter);
  checkDuration('failAfter', o.failAfter);
  checkDuration('deleteAfter', o.deleteAfter);
  checkResources('capacity', o.capacity);
  checkResources('allocatable', o.allocatable);
  // Addresses are checked by building the last node's (throws when the ranges are too small).
  if (o.count > 0) {
    nodeAddress(o.nodeCidr ?? '10.244.0.0/16', o.count - 1);
    new PodAddressPool(o.podCidr ?? '100.64.0.0/10', o.count - 1);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (firstError !== undefined) throw firstError;
}

/** Registers the nodes and their Leases, then keeps them alive and plays their pods. */
export async function startSimNodes(options: SimNodesOptions): Promise<SimNodes> {
  validateSimNodesOptions(options);
  const owner = new DisposableStore();
  try {
    const clock = options.clock ?? realClock;
    let client = options.client;
    let watchClient = client;
    if (!client) {
      client = owner.add(await RestClient.fromKubeconfig(options.kubeconfig!, { userAgent: 'tkube-sim-nodes', clock }));
      // Lists of every assigned pod can run to megabytes: on a connection of their own they never
      // hold up (or, past the server's HTTP/2 session memory, get refused together with) the writes.
      watchClient = owner.add(await RestClient.fromKubeconfig(options.kubeconfig!, { userAgent: 'tkube-sim-nodes', clock }));
    }
    const prefix = options.namePrefix ?? 'sim-';
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    const nodes = new Map<string, SimNode>();
    for (let i = 0; i < options.count; i++) {
      const spec: SimNodeSpec = {
        name: `${prefix}${i}`,
        ip: nodeAddress(options.nodeCidr ?? '10.244.0.0/16', i),
        capacity,
        ...(options.allocatable ? { allocatable: options.allocatable } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.taints ? { taints: options.taints } : {}),
        ...(options.zones ? { zone: zoneName(i % options.zones) } : {}),
      };
      nodes.set(spec.name, { spec, vars: nodeVars(spec), pods: new PodAddressPool(options.podCidr ?? '100.64.0.0/10', i) });
    }
    const stages = options.stages ?? defaultStages();
    // A tenth of the nodes (16 to 128): renewals keep their 10 s pace even when a busy API server
    // answers in a second; with too few in flight, a slow server would let Leases lapse and the node
    // lifecycle controller mark healthy nodes Unknown (the renewal rate is the same either way).
    const concurrency = options.heartbeatConcurrency ?? Math.min(128, Math.max(16, Math.ceil(options.count / 10)));
    const status = new NodeStatusReporter(nodes, { client, stages, clock, intervalMs: options.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS, concurrency });
    const leases = new NodeLeaseRenewer(nodes, { client, clock, intervalMs: options.heartbeatIntervalMs ?? 10_000, concurrency });
    const factory = new SharedInformerFactory(watchClient!, {
      clock,
      // The simulator never reads managedFields; leaving them out halves the cache at scale.
      transform: (obj: KubeObject) => {
        if (obj.metadata?.managedFields === undefined) return obj;
        const { managedFields: _, ...metadata } = obj.metadata;
        return { ...obj, metadata };
      },
    });
    const stageOptions: Record<string, string> = {};
    if (options.completeAfter !== undefined) stageOptions['completeAfter'] = options.completeAfter;
    if (options.failAfter !== undefined) stageOptions['failAfter'] = options.failAfter;
    if (options.deleteAfter !== undefined) stageOptions['deleteAfter'] = options.deleteAfter;
    // Without pod stages (node-only simulation, as scheduler_perf has no kubelets) nothing watches pods.
    const pods = stages.some((st) => st.kind === StageKind.Pod)
      ? new PodLifecycle(nodes, {
        client, factory, stages, clock, stageOptions,
        workers: options.podWorkers ?? 32,
        ...(options.podQps !== undefined ? { qps: options.podQps } : {}),
      })
      : null;
    // Our nodes as the API server has them: what the node lifecycle controller changes (Ready
    // marked Unknown) is answered at once, and pods it marked NotReady recover when Ready returns.
    factory.informerFor<Node>(resourceDescriptor('v1', 'nodes')).addEventHandler({
      onAdd: (n) => {
        if (status.observe(n)) pods?.nodeReadyAgain(n.metadata?.name ?? '');
      },
      onUpdate: (_old, n) => {
        if (status.observe(n)) pods?.nodeReadyAgain(n.metadata?.name ?? '');
      },
    });
    owner.add(factory);
    if (pods !== null) owner.add(pods);
    owner.add(leases);
    owner.add(status);

    const started = clock.now();
    const names = [...nodes.keys()];
    const registerConcurrency = options.registerConcurrency ?? 32;
    await forEachLimited(names, registerConcurrency, (name) => status.register(name));
    await forEachLimited(names, registerConcurrency, (name) => leases.renew(name));
    status.start();
    leases.start();
    factory.start();
    pods?.start();
    log.info('simulated nodes registered', { count: names.length, ms: clock.now() - started });
    return {
      nodeNames: names,
      stats: () => ({
        nodes: names.length,
        leaseRenewals: leases.renewals,
        leaseFailures: leases.ticker.stats.failures,
        leaseSkipped: leases.ticker.stats.skipped,
        statusReports: status.reports,
        statusFailures: status.ticker.stats.failures,
        podPatches: pods?.stats.patches ?? 0,
        podDeletes: pods?.stats.deletes ?? 0,
        podErrors: pods?.stats.errors ?? 0,
        podBacklog: pods?.backlog() ?? 0,
      }),
      dispose: () => owner.dispose(),
    };
  } catch (err) {
    await owner.dispose().catch(() => undefined);
    throw err;
  }
}

/**
 * The `--sim-nodes N` hook of `tkube server`: N simulated nodes against the server's kubeconfig,
 * with the flags' options (capacity, labels, taints, name prefix, zones).
 */
export function startSimNodesForServer(kubeconfig: string, count: number, extra: Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'count'> = {}): Promise<SimNodes> {
  return startSimNodes({ ...extra, kubeconfig, count });
}
