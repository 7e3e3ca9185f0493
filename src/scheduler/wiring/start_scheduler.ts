// kube-scheduler as a component (cmd/kube-scheduler/app): the configuration, the kube-scheduler
// Lease in kube-system when leader election is on, and, while we lead, the informers, the API seams
// (binding, events, pod status, preemption, volume binding) and the scheduling loop.
//
// `tkube server` starts it in its control-plane thread (src/cli/component_thread.ts), which calls:
//   const sched = await startScheduler({ kubeconfig, config: flags.schedulerConfig, leaderElection: true, identity });
//   ... await sched.dispose();

import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { KUBERNETES_VERSION } from '../../base/version.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import { realClock, type Clock } from '../../client/clock.ts';
import { EventBroadcaster } from '../../client/events.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { LeaderElector } from '../../client/leader_election.ts';
import { LeaseLock } from '../../client/lease_lock.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { RestClient } from '../../client/rest_client.ts';
import type { SchedulerConfig } from '../config.ts';
import { MemoryListers } from '../framework/listers.ts';
import { Scheduler } from '../scheduler.ts';
import { ApiBinder } from './binder.ts';
import { loadSchedulerConfig, type SchedulerConfigSource } from './config_file.ts';
import { ProfileEventRecorder } from './event_recorder.ts';
import { addAllEventHandlers } from './event_handlers.ts';
import { InformerListers, schedulerInformers, stripManagedFields } from './informers.ts';
import { ApiPodStatusUpdater } from './pod_status.ts';
import { ApiPreemption } from './preemption_api.ts';
import { ApiVolumeBinding } from './volume_binding_api.ts';

const log = logger('scheduler');

/** Options of startScheduler. */
export interface StartSchedulerOptions {
  /** A client (not disposed by us), or give `kubeconfig`. */
  readonly client?: RestClient;
  readonly kubeconfig?: string;
  /** `--scheduler-config`: a file path or a decoded KubeSchedulerConfiguration; default upstream's defaults. */
  readonly config?: SchedulerConfigSource;
  /** Elect a leader on the configured Lease (kube-system/kube-scheduler) before scheduling. */
  readonly leaderElection: boolean;
  /** This candidate's identity (upstream: hostname_uuid). */
  readonly identity: string;
  readonly clock?: Clock;
  /** Lease timing overrides (default: the configuration's leaderElection, 15 s / 10 s / 2 s). */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Longest wait for the informers' first lists before scheduling starts anyway (default 60 s). */
  readonly cacheSyncTimeoutMs?: number;
}

/** A running scheduler. */
export interface RunningScheduler extends Disposable {
  /** The effective configuration. */
  readonly config: SchedulerConfig;
  /** True while this instance schedules. */
  isLeading(): boolean;
  /** Resolves once the scheduling loop runs (first leadership); never rejects. */
  readonly started: Promise<void>;
  /** The scheduler of the current leadership term, for tests and diagnostics. */
  current(): Scheduler | undefined;
  dispose(): Promise<void>;
}

/** Builds a scheduler from `config` with inert seams, so configuration errors surface at start. */
function checkConfig(config: SchedulerConfig): void {
  const noop = async (): Promise<void> => {};
  const probe = new Scheduler({
    listers: new MemoryListers(),
    binder: { bind: noop },
    events: { eventf: () => {} },
    podStatus: { updatePodStatus: noop },
    preemption: { preemptPod: noop, clearNominatedNodeName: noop },
  }, { config });
  void probe.dispose();
}

function bindTimeoutMs(config: SchedulerConfig): number {
  let seconds = 0;
  for (const p of config.profiles) {
    const args = p.pluginArgs.get('VolumeBinding') as { bindTimeoutSeconds?: number } | undefined;
    seconds = Math.max(seconds, args?.bindTimeoutSeconds ?? 600);
  }
  return seconds * 1000;
}

/** One term of leadership: informers, seams, the scheduler and its loop. */
class Session {
  readonly factory: SharedInformerFactory;
  readonly scheduler: Scheduler;
  readonly #volumeBinding: ApiVolumeBinding;
  readonly #handlers: Disposable;
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(client: RestClient, config: SchedulerConfig, events: ProfileEventRecorder, clock: Clock) {
    this.factory = new SharedInformerFactory(client, { clock, transform: stripManagedFields });
    const informers = schedulerInformers(this.factory);
    const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#volumeBinding = new ApiVolumeBinding({
      pvcs: client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims')),
      pvs: client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes')),
      informers,
      clock,
      bindTimeoutMs: bindTimeoutMs(config),
    });
    this.scheduler = new Scheduler({
      listers: new InformerListers(informers),
      binder: new ApiBinder(pods),
      events,
      podStatus: new ApiPodStatusUpdater(pods, clock),
      preemption: new ApiPreemption(pods, clock, events),
      volumeBinding: this.#volumeBinding,
    }, { config, log });
    this.#handlers = addAllEventHandlers(this.scheduler, informers);
  }

  async start(syncTimeoutMs: number, signal: AbortSignal): Promise<void> {
    this.factory.start();
    await this.factory.waitForCacheSync(syncTimeoutMs, signal);
    if (this.#stopped || signal.aborted) return;
    this.#loop = this.scheduler.run().catch((err: unknown) => log.error('scheduling loop failed', { err: err instanceof Error ? err.message : String(err) }));
    log.info('scheduler started', { nodes: this.scheduler.cache.nodeCount() });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Pending volume waits end first so the binding cycles they hold can finish.
    this.#volumeBinding.dispose();
    await this.scheduler.dispose();
    await this.#loop;
    this.#handlers.dispose();
    await this.factory.dispose();
  }
}

/** Starts kube-scheduler; dispose() stops scheduling, the informers and the election. */
export async function startScheduler(opts: StartSchedulerOptions): Promise<RunningScheduler> {
  if ((opts.client === undefined) === (opts.kubeconfig === undefined)) throw new Error('startScheduler: give exactly one of client and kubeconfig');
  if (typeof opts.identity !== 'string' || opts.identity === '') throw new Error(`startScheduler: identity must be a non-empty string, got ${JSON.stringify(opts.identity)}`);
  const config = await loadSchedulerConfig(opts.config);
  checkConfig(config);
  const clock = opts.clock ?? realClock;
  const ownClient = opts.client === undefined;
  const client = opts.client ?? await RestClient.fromKubeconfig(opts.kubeconfig!, {
    userAgent: `kube-scheduler/${KUBERNETES_VERSION} (${process.platform}/${process.arch}) tkube`,
  });
  const broadcaster = new EventBroadcaster({ client, clock });
  const events = new ProfileEventRecorder(broadcaster);
  const syncTimeoutMs = opts.cacheSyncTimeoutMs ?? 60_000;
  let session: Session | undefined;
  let disposed = false;
  let resolveStarted!: () => void;
  const started = new Promise<void>((r) => { resolveStarted = r; });

  const lead = async (signal: AbortSignal): Promise<void> => {
    const s = new Session(client, config, events, clock);
    session = s;
    try {
      await s.start(syncTimeoutMs, signal);
    } catch (err) {
      log.error('scheduler failed to start', { err: err instanceof Error ? err.message : String(err) });
    } finally {
      resolveStarted();
    }
  };
  const stopLeading = async (): Promise<void> => {
    const s = session;
    session = undefined;
    await s?.stop();
  };

  const le = config.leaderElection;
  let elector: LeaderElector | undefined;
  let electionLoop: Promise<void> | undefined;
  const standalone = new AbortController();
  if (opts.leaderElection) {
    const lockRecorder = broadcaster.newRecorder({ component: 'default-scheduler' });
    electionLoop = (async () => {
      // Upstream exits when it loses the lease and is restarted; we stop cleanly and stand again.
      while (!disposed) {
        let stopping: Promise<void> | undefined;
        elector = new LeaderElector({
          lock: new LeaseLock({ client, namespace: le.resourceNamespace, name: le.resourceName, identity: opts.identity, recorder: lockRecorder }),
          leaseDurationMs: opts.leaseDurationMs ?? le.leaseDurationMs,
          renewDeadlineMs: opts.renewDeadlineMs ?? le.renewDeadlineMs,
          retryPeriodMs: opts.retryPeriodMs ?? le.retryPeriodMs,
          releaseOnCancel: true,
          clock,
          name: `${le.resourceNamespace}/${le.resourceName}`,
          callbacks: {
            onStartedLeading: (signal) => lead(signal),
            onStoppedLeading: () => {
              if (session !== undefined) log.info('leaderelection lost', { identity: opts.identity });
              stopping = stopLeading();
            },
          },
        });
        await elector.run();
        await stopping;
      }
    })();
  } else {
    void lead(standalone.signal);
  }

  return {
    config,
    isLeading: () => session !== undefined,
    started,
    current: () => session?.scheduler,
    async dispose() {
      if (disposed) return;
      disposed = true;
      standalone.abort();
      // Stop scheduling before releasing the lease so a successor never overlaps with us.
      await stopLeading();
      elector?.stop();
      await electionLoop;
      resolveStarted();
      await broadcaster.dispose();
      if (ownClient) await client.dispose();
    },
  };
}
