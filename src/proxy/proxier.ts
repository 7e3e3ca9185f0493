// The Service proxy of one node: informer events feed the change trackers, a rate-limited sync
// loop renders the rules (pure) and loads them with iptables-restore, then clears stale UDP
// conntrack entries. The first sync, and any after a failure, is a full one.

import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { EndpointsChangeTracker, ServiceChangeTracker, applyEndpointsChanges, applyServiceChanges } from './change_tracker.ts';
import { runConntrackDeletions, staleConntrackDeletions } from './conntrack.ts';
import { Iptables, detectIptables, execRunner, missingJumpLines } from './iptables.ts';
import { SYSCTL_BRIDGE_NF_CALL_IPTABLES, SYSCTL_ROUTE_LOCALNET, ensureSysctl, readSysctl } from './node_net.ts';
import { defaultRulesConfig, renderRules, restoreInput } from './rules.ts';
import { BoundedFrequencyRunner, realTimers, type Timers } from './sync_runner.ts';
import type {
  CommandRunner,
  EndpointSlice,
  EndpointSliceHandler,
  EndpointsMap,
  NodeInfo,
  RulesConfig,
  Service,
  ServiceHandler,
  ServicePortMap,
} from './types.ts';

const log = logger('proxy');

/** Options of a Proxier. */
export interface ProxierOptions {
  node: NodeInfo;
  /** Runs iptables, sysctl and conntrack (default: this host). */
  runner?: CommandRunner;
  /** Least time between syncs (upstream's --iptables-min-sync-period, default 1 s; 0 in tests). */
  minSyncPeriodMs?: number;
  /** Periodic resync, and the retry delay after a failed sync (default 30 s). */
  syncPeriodMs?: number;
  /** A periodic sync rewrites every chain at least this often (default 1 h, upstream's FullSyncPeriod). */
  fullSyncPeriodMs?: number;
  /** Overrides of the rendering defaults. */
  rules?: Partial<RulesConfig>;
  /** Delete stale UDP conntrack entries with the `conntrack` tool (default true). */
  conntrack?: boolean;
  timers?: Timers;
}

const SAMPLE_LIMIT = 1024;

/** Counters and recent samples, like kube-proxy's sync_proxy_rules_* metrics. */
export interface ProxierMetrics {
  syncs: number;
  fullSyncs: number;
  syncFailures: number;
  /** Latest sync: whole, rendering, and iptables-restore (ms). */
  lastSyncMs: number;
  lastRenderMs: number;
  lastRestoreMs: number;
  /** Recent sync durations (ms). */
  syncDurationsMs: number[];
  /** Recent EndpointSlice-change-to-rules-applied latencies (ms), upstream's network_programming_duration. */
  networkProgrammingLatencyMs: number[];
  /** How many latencies were ever recorded (the list above keeps only the recent ones). */
  networkProgrammingSamples: number;
  /** Rule lines of the last restore input. */
  lastRuleLines: { filter: number; nat: number };
  /** Stale conntrack deletions that failed (e.g. no `conntrack` binary). */
  conntrackFailures: number;
}

function pushSample(list: number[], v: number): void {
  list.push(v);
  if (list.length > SAMPLE_LIMIT) list.splice(0, list.length - SAMPLE_LIMIT);
}

/** The p-th percentile (0..100) of `samples`, nearest-rank; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Programs Services of one node into iptables; feed it with the handler methods. */
export class Proxier implements ServiceHandler, EndpointSliceHandler, Disposable {
  readonly config: RulesConfig;
  readonly metrics: ProxierMetrics = {
    syncs: 0,
    fullSyncs: 0,
    syncFailures: 0,
    lastSyncMs: 0,
    lastRenderMs: 0,
    lastRestoreMs: 0,
    syncDurationsMs: [],
    networkProgrammingLatencyMs: [],
    networkProgrammingSamples: 0,
    lastRuleLines: { filter: 0, nat: 0 },
    conntrackFailures: 0,
  };
  readonly #runner: CommandRunner;
  readonly #iptables: Iptables;
  readonly #serviceChanges: ServiceChangeTracker;
  readonly #endpointsChanges: EndpointsChangeTracker;
  readonly #servicePorts: ServicePortMap = new Map();
  readonly #endpoints: EndpointsMap = new Map();
  readonly #syncRunner: BoundedFrequencyRunner;
  readonly #timers: Timers;
  readonly #syncPeriodMs: number;
  readonly #fullSyncPeriodMs: number;
  readonly #conntrack: boolean;
  #servicesSynced = false;
  #endpointSlicesSynced = false;
  #needFullSync = true;
  #lastFullSync = Number.NEGATIVE_INFINITY;
  #activeNatChains = new Set<string>();
  #lastError: unknown = null;

  private constructor(opts: ProxierOptions, runner: CommandRunner, iptables: Iptables) {
    this.#runner = runner;
    this.#iptables = iptables;
    this.#timers = opts.timers ?? realTimers;
    this.#syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.#fullSyncPeriodMs = opts.fullSyncPeriodMs ?? 3_600_000;
    this.#conntrack = opts.conntrack ?? true;
    this.config = { ...defaultRulesConfig(opts.node), randomFully: iptables.tools.randomFully, ...opts.rules };
    const c = this.config;
    const lbAddresses = !c.serviceLoadBalancer
      ? []
      : c.nodePortAddresses === 'all'
        ? [...c.nodeIPs, ...(c.localhostNodePorts ? ['127.0.0.1'] : [])]
        : c.nodePortAddresses.filter((ip) => c.localhostNodePorts || !ip.startsWith('127.'));
    this.#serviceChanges = new ServiceChangeTracker({ serviceLoadBalancerAddresses: lbAddresses });
    this.#endpointsChanges = new EndpointsChangeTracker(c.nodeName, Date.now());
    this.#syncRunner = new BoundedFrequencyRunner(() => this.#syncProxyRules(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 1000,
      maxIntervalMs: this.#syncPeriodMs,
      timers: this.#timers,
      onError: (err) => log.error('sync failed', { err }),
    });
  }

  /** Detects the iptables backend, sets route_localnet when localhost NodePorts are on, and returns a stopped-until-synced proxier. */
  static async create(opts: ProxierOptions): Promise<Proxier> {
    for (const k of ['minSyncPeriodMs', 'syncPeriodMs', 'fullSyncPeriodMs'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new RangeError(`ProxierOptions.${k} must be >= 0, got ${v}`);
    }
    if (!opts.node.name) throw new RangeError('ProxierOptions.node.name must be set');
    const runner = opts.runner ?? execRunner();
    const iptables = new Iptables(runner, await detectIptables(runner));
    const proxier = new Proxier(opts, runner, iptables);
    if (proxier.config.localhostNodePorts) await ensureSysctl(runner, SYSCTL_ROUTE_LOCALNET, '1');
    if ((await readSysctl(runner, SYSCTL_BRIDGE_NF_CALL_IPTABLES)) === '0') {
      log.warn(`${SYSCTL_BRIDGE_NF_CALL_IPTABLES} is 0: bridged pod traffic will bypass Service rules`);
    }
    log.info('proxier created', { backend: iptables.tools.backend, iptables: iptables.tools.version });
    return proxier;
  }

  /** The iptables wrapper (backend, save, cleanup). */
  get iptables(): Iptables {
    return this.#iptables;
  }

  /** The error of the last failed sync, null after a success. */
  get lastError(): unknown {
    return this.#lastError;
  }

  #initialized(): boolean {
    return this.#servicesSynced && this.#endpointSlicesSynced;
  }

  #changed(pending: boolean): void {
    if (pending && this.#initialized()) this.#syncRunner.run();
  }

  onServiceAdd(service: Service): void {
    this.#changed(this.#serviceChanges.update(undefined, service));
  }

  onServiceUpdate(oldService: Service, service: Service): void {
    this.#changed(this.#serviceChanges.update(oldService, service));
  }

  onServiceDelete(service: Service): void {
    this.#changed(this.#serviceChanges.update(service, undefined));
  }

  onServicesSynced(): void {
    this.#servicesSynced = true;
    this.#startIfReady();
  }

  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.#changed(this.#endpointsChanges.endpointSliceUpdate(slice, false));
  }

  onEndpointSliceUpdate(_oldSlice: EndpointSlice, slice: EndpointSlice): void {
    this.#changed(this.#endpointsChanges.endpointSliceUpdate(slice, false));
  }

  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.#changed(this.#endpointsChanges.endpointSliceUpdate(slice, true));
  }

  onEndpointSlicesSynced(): void {
    this.#endpointSlicesSynced = true;
    this.#startIfReady();
  }

  #startIfReady(): void {
    if (!this.#initialized()) return;
    // Not before both initial lists are in: partial data would briefly reject live Services.
    this.#syncRunner.start();
    this.#syncRunner.run();
  }

  /** Resolves when no sync is running or requested (tests and benchmarks wait on this). */
  idle(): Promise<void> {
    return this.#syncRunner.idle();
  }

  /** Forces the next sync to rewrite every chain and re-check the jump rules, and requests it. */
  requestFullSync(): void {
    this.#needFullSync = true;
    if (this.#initialized()) this.#syncRunner.run();
  }

  async #syncProxyRules(): Promise<void> {
    if (!this.#initialized()) return;
    const start = this.#timers.now();
    if (start - this.#lastFullSync >= this.#fullSyncPeriodMs) this.#needFullSync = true;
    const full = this.#needFullSync;
    const services = applyServiceChanges(this.#servicePorts, this.#serviceChanges);
    const endpoints = applyEndpointsChanges(this.#endpoints, this.#endpointsChanges);
    try {
      let existing: Iterable<string> = this.#activeNatChains;
      let jumps: { filter: string[]; nat: string[] } = { filter: [], nat: [] };
      if (full) {
        // Only a full sync reads the kernel: leftovers of an earlier run, missing jump rules.
        const saved = await this.#iptables.save();
        existing = [...(saved.get('nat')?.chains ?? []), ...this.#activeNatChains];
        jumps = missingJumpLines(saved);
      }
      const changed = full ? null : new Set([...services.updatedServices, ...endpoints.updatedServices]);
      const renderStart = this.#timers.now();
      const rendered = renderRules({
        config: this.config,
        servicePorts: this.#servicePorts,
        endpoints: this.#endpoints,
        changedServices: changed,
        existingNatChains: existing,
      });
      const input = restoreInput(rendered, jumps);
      const restoreStart = this.#timers.now();
      await this.#iptables.restore(input);
      const end = this.#timers.now();

      this.#activeNatChains = rendered.activeNatChains;
      this.#needFullSync = false;
      this.#lastError = null;
      if (full) this.#lastFullSync = start;
      const m = this.metrics;
      m.syncs++;
      if (full) m.fullSyncs++;
      m.lastRenderMs = restoreStart - renderStart;
      m.lastRestoreMs = end - restoreStart;
      m.lastSyncMs = end - start;
      pushSample(m.syncDurationsMs, m.lastSyncMs);
      m.lastRuleLines = { filter: rendered.filterRules.length + jumps.filter.length, nat: rendered.natRules.length + jumps.nat.length };
      const wall = Date.now();
      for (const times of endpoints.lastChangeTriggerTimes.values()) {
        for (const t of times) {
          pushSample(m.networkProgrammingLatencyMs, wall - t);
          m.networkProgrammingSamples++;
        }
      }
      log.debug('synced rules', { full, ms: m.lastSyncMs, servicePorts: rendered.stats.servicePorts, endpoints: rendered.stats.endpoints });
    } catch (err) {
      // The checked-out changes are gone, so only a full sync can restore consistency.
      this.#needFullSync = true;
      this.#lastError = err;
      this.metrics.syncFailures++;
      log.error('failed to sync iptables rules', { err });
      this.#syncRunner.retryAfter(Math.min(this.#syncPeriodMs, 5000));
      return;
    }
    if (this.#conntrack) {
      const deletions = staleConntrackDeletions(this.#servicePorts, services, endpoints);
      if (deletions.length > 0) {
        const errors = await runConntrackDeletions(this.#runner, deletions);
        this.metrics.conntrackFailures += errors.length;
        for (const e of errors) log.warn('stale conntrack cleanup failed', { err: e });
      }
    }
  }

  /** Stops syncing and waits for a sync in flight; the rules stay (a restart rebuilds them, `iptables.cleanup()` removes them). */
  async dispose(): Promise<void> {
    this.#syncRunner.dispose();
    await this.#syncRunner.idle();
  }
}
