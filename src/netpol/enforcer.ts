// NetworkPolicy enforcement on one node: informer events for Pods, Namespaces and NetworkPolicies
// update a flattened view, and a coalescing sync loop renders the chains (pure) and loads them with
// iptables-restore when they changed. Every sync reads the filter table to keep our FORWARD jump first.

import type { Namespace, Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { namespaceInfoFromNamespace, podInfoFromPod } from './inputs.ts';
import { Iptables, detectIptables, detectSctp, execRunner, forwardJumpInPlace, restoreInput, staleChains } from './iptables.ts';
import { defaultNetpolConfig, renderNetpolRules, renderedText } from './rules.ts';
import { SyncRunner, realTimers, type Timers } from './sync_runner.ts';
import type { CommandRunner, NamespaceInfo, NetpolConfig, NetworkPolicy, PodInfo } from './types.ts';

const log = logger('netpol');

/** Options of a NetworkPolicyEnforcer. */
export interface EnforcerOptions {
  nodeName: string;
  /** Runs iptables (default: this host). */
  runner?: CommandRunner;
  /** Least time between syncs (default 250 ms; 0 in tests). */
  minSyncPeriodMs?: number;
  /** A periodic sync re-checks and rewrites the rules this often (default 5 min, kube-router's). */
  syncPeriodMs?: number;
  /** Overrides of the rendering defaults (nodeName always comes from `nodeName`). */
  rules?: Partial<Omit<NetpolConfig, 'nodeName'>>;
  timers?: Timers;
}

/** Counters of the sync loop. */
export interface EnforcerMetrics {
  syncs: number;
  /** Syncs that ran iptables-restore (the others found nothing to change). */
  restores: number;
  syncFailures: number;
  lastSyncMs: number;
  lastRuleLines: number;
}

type Kind = 'pods' | 'namespaces' | 'policies';

function objectKey(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Enforces NetworkPolicies for the pods of one node; feed it with the handler methods. */
export class NetworkPolicyEnforcer implements Disposable {
  readonly config: NetpolConfig;
  readonly metrics: EnforcerMetrics = { syncs: 0, restores: 0, syncFailures: 0, lastSyncMs: 0, lastRuleLines: 0 };
  readonly #iptables: Iptables;
  readonly #timers: Timers;
  readonly #syncPeriodMs: number;
  readonly #runner: SyncRunner;
  readonly #pods = new Map<string, PodInfo>();
  readonly #namespaces = new Map<string, NamespaceInfo>();
  readonly #policies = new Map<string, NetworkPolicy>();
  readonly #synced = new Set<Kind>();
  #lastApplied: string | null = null;
  #lastFullSync = Number.NEGATIVE_INFINITY;
  #lastError: unknown = null;

  private constructor(opts: EnforcerOptions, iptables: Iptables, sctp: boolean) {
    this.#iptables = iptables;
    this.#timers = opts.timers ?? realTimers;
    this.#syncPeriodMs = opts.syncPeriodMs ?? 300_000;
    this.config = { ...defaultNetpolConfig(opts.nodeName), sctp, ...opts.rules, nodeName: opts.nodeName };
    this.#runner = new SyncRunner(() => this.#sync(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 250,
      periodMs: this.#syncPeriodMs,
      timers: this.#timers,
      onError: (err) => log.error('sync failed', { err }),
    });
  }

  /** Detects the iptables backend and SCTP support; syncing starts once all three initial lists are in. */
  static async create(opts: EnforcerOptions): Promise<NetworkPolicyEnforcer> {
    if (!opts.nodeName) throw new RangeError('EnforcerOptions.nodeName must be set');
    for (const k of ['minSyncPeriodMs', 'syncPeriodMs'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new RangeError(`EnforcerOptions.${k} must be >= 0, got ${v}`);
    }
    const runner = opts.runner ?? execRunner();
    const iptables = new Iptables(runner, await detectIptables(runner));
    const sctp = opts.rules?.sctp ?? (await detectSctp(runner));
    if (!sctp) log.warn('the kernel has no sctp match: SCTP ports in policies allow nothing');
    return new NetworkPolicyEnforcer(opts, iptables, sctp);
  }

  get iptables(): Iptables {
    return this.#iptables;
  }

  /** The error of the last failed sync, null after a success. */
  get lastError(): unknown {
    return this.#lastError;
  }

  #changed(): void {
    if (this.#synced.size === 3) this.#runner.run();
  }

  #markSynced(kind: Kind): void {
    this.#synced.add(kind);
    if (this.#synced.size !== 3) return;
    // Not before all lists are in: a partial view would isolate pods whose allowing peers are missing.
    this.#runner.start();
    this.#runner.run();
  }

  onPodAdd(pod: Pod): void {
    this.#setPod(objectKey(pod), pod);
  }

  onPodUpdate(_old: Pod, pod: Pod): void {
    this.#setPod(objectKey(pod), pod);
  }

  onPodDelete(pod: Pod): void {
    if (this.#pods.delete(objectKey(pod))) this.#changed();
  }

  onPodsSynced(): void {
    this.#markSynced('pods');
  }

  #setPod(key: string, pod: Pod): void {
    const info = podInfoFromPod(pod);
    const old = this.#pods.get(key);
    if (info === undefined) {
      if (old !== undefined && this.#pods.delete(key)) this.#changed();
      return;
    }
    // Status-only updates are frequent and rarely matter to policies.
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(info)) return;
    this.#pods.set(key, info);
    this.#changed();
  }

  onNamespaceAdd(ns: Namespace): void {
    this.#setNamespace(ns);
  }

  onNamespaceUpdate(_old: Namespace, ns: Namespace): void {
    this.#setNamespace(ns);
  }

  onNamespaceDelete(ns: Namespace): void {
    if (this.#namespaces.delete(ns.metadata?.name ?? '')) this.#changed();
  }

  onNamespacesSynced(): void {
    this.#markSynced('namespaces');
  }

  #setNamespace(ns: Namespace): void {
    const info = namespaceInfoFromNamespace(ns);
    if (!info) return;
    const old = this.#namespaces.get(info.name);
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(info)) return;
    this.#namespaces.set(info.name, info);
    this.#changed();
  }

  onNetworkPolicyAdd(policy: NetworkPolicy): void {
    this.#policies.set(objectKey(policy), policy);
    this.#changed();
  }

  onNetworkPolicyUpdate(_old: NetworkPolicy, policy: NetworkPolicy): void {
    this.#policies.set(objectKey(policy), policy);
    this.#changed();
  }

  onNetworkPolicyDelete(policy: NetworkPolicy): void {
    if (this.#policies.delete(objectKey(policy))) this.#changed();
  }

  onNetworkPoliciesSynced(): void {
    this.#markSynced('policies');
  }

  /** Resolves when no sync is running or requested. */
  idle(): Promise<void> {
    return this.#runner.idle();
  }

  /** Forces the next sync to rewrite our chains even when nothing seems changed, and requests it. */
  requestFullSync(): void {
    this.#lastApplied = null;
    if (this.#synced.size === 3) this.#runner.run();
  }

  async #sync(): Promise<void> {
    if (this.#synced.size !== 3) return;
    const start = this.#timers.now();
    try {
      const rendered = renderNetpolRules({ pods: this.#pods.values(), namespaces: this.#namespaces.values(), policies: this.#policies.values() }, this.config);
      const text = renderedText(rendered);
      const saved = await this.#iptables.saveFilter();
      const full = this.#syncPeriodMs > 0 && start - this.#lastFullSync >= this.#syncPeriodMs;
      const current =
        text === this.#lastApplied &&
        forwardJumpInPlace(saved) &&
        staleChains(saved, rendered).length === 0 &&
        rendered.chains.every((c) => saved.chains.has(c));
      this.metrics.syncs++;
      if (current && !full) {
        this.#lastError = null;
        return;
      }
      await this.#iptables.restore(restoreInput(rendered, saved));
      this.#lastApplied = text;
      this.#lastFullSync = start;
      this.#lastError = null;
      this.metrics.restores++;
      this.metrics.lastRuleLines = rendered.rules.length;
      this.metrics.lastSyncMs = this.#timers.now() - start;
      log.debug('synced network policy rules', { ms: this.metrics.lastSyncMs, policies: rendered.stats.policies, ...rendered.stats.isolatedPods });
    } catch (err) {
      this.#lastApplied = null;
      this.#lastError = err;
      this.metrics.syncFailures++;
      log.error('failed to sync network policy rules', { err });
      this.#runner.retryAfter(Math.min(this.#syncPeriodMs || 5000, 5000));
    }
  }

  /** Stops syncing and waits for a sync in flight; the rules stay (`iptables.cleanup()` removes them). */
  async dispose(): Promise<void> {
    this.#runner.dispose();
    await this.#runner.idle();
  }
}
