// The controller manager (cmd/kube-controller-manager): one shared informer factory and event
// broadcaster, the kube-controller-manager Lease in kube-system when leader election is on, and
// every registered controller built, synced and run while we lead; stopped cleanly on loss.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { KUBERNETES_VERSION } from '../base/version.ts';
import { realClock, type Clock } from '../client/clock.ts';
import { EventBroadcaster, type EventRecorder } from '../client/events.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import { LeaderElector } from '../client/leader_election.ts';
import { LeaseLock } from '../client/lease_lock.ts';
import type { KubeObject } from '../client/resource_client.ts';
import { RestClient } from '../client/rest_client.ts';
import { readKubeconfig } from '../base/kubeconfig.ts';
import { errMessage } from './controller_utils.ts';
import { CONTROLLER_SERVICE_ACCOUNTS, ServiceAccountClientBuilder } from './service_account_clients.ts';
import { registeredControllers, type Controller, type ControllerContext, type ControllerEntry, type ControllerOptions } from './registry.ts';
import './all.ts';

const log = logger('controller-manager');

/** Settings of a controller manager. */
export interface ControllerManagerOptions {
  /** Where to reach the API server: a kubeconfig path, or a client (not disposed by us). */
  readonly kubeconfig?: string;
  readonly client?: RestClient;
  readonly options: ControllerOptions;
  /**
   * Controllers to run, upstream's --controllers syntax: names, '*' for all, '-name' to leave one
   * out. Default: all registered.
   */
  readonly controllers?: readonly string[];
  readonly leaderElection: boolean;
  /**
   * Upstream's --use-service-account-credentials: each controller acts as its own ServiceAccount
   * (kube-system/<name>, role system:controller:<name>) instead of the manager's identity. Needs kubeconfig.
   */
  readonly useServiceAccountCredentials?: boolean;
  /** This candidate's identity (upstream: hostname_uuid). */
  readonly identity: string;
  readonly clock?: Clock;
  /** Lease timing (upstream 15 s / 10 s / 2 s). */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Longest wait for the informers' first lists before controllers start anyway (default 60 s). */
  readonly cacheSyncTimeoutMs?: number;
}

/** A running controller manager. */
export interface ControllerManager extends Disposable {
  /** True while this instance runs the controllers. */
  isLeading(): boolean;
  /** Resolves once controllers run (first leadership); never rejects. */
  readonly started: Promise<void>;
  /** Names of the controllers this instance runs (when leading). */
  readonly controllerNames: readonly string[];
  dispose(): Promise<void>;
}

/** Lease name and namespace of kube-controller-manager's election. */
export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'kube-controller-manager';

/** Which registered controllers `selection` enables (upstream's --controllers). */
export function selectControllers(all: readonly ControllerEntry[], selection: readonly string[] | undefined): ControllerEntry[] {
  if (!selection || selection.length === 0) return [...all];
  const known = new Set(all.map((c) => c.name));
  for (const s of selection) {
    const name = s.startsWith('-') ? s.slice(1) : s;
    if (name !== '*' && !known.has(name)) throw new Error(`"${name}" is not in the list of known controllers`);
  }
  const star = selection.includes('*');
  return all.filter((c) => {
    if (selection.includes(`-${c.name}`)) return false;
    return selection.includes(c.name) || star;
  });
}

/** The object without metadata.managedFields (the same object when it has none). */
export function trimManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** One period of leadership: informers, controllers, and their disposal. */
class Session {
  readonly factory: SharedInformerFactory;
  readonly controllers: { name: string; controller: Controller; workers: number }[] = [];
  #stopped = false;

  constructor(client: RestClient, clock: Clock) {
    // As upstream's informers.WithTransform(trim): no controller reads managedFields, and pods keep
    // most of their bytes there. Updates from a trimmed copy keep the stored managedFields.
    this.factory = new SharedInformerFactory(client, { clock, transform: trimManagedFields });
  }

  async start(ctxFor: (e: ControllerEntry) => Promise<ControllerContext>, entries: readonly ControllerEntry[], syncTimeoutMs: number, signal: AbortSignal): Promise<void> {
    for (const e of entries) {
      try {
        this.controllers.push({ name: e.name, controller: e.factory(await ctxFor(e)), workers: e.workers });
      } catch (err) {
        log.error('failed to build controller', { controller: e.name, err: errMessage(err) });
      }
    }
    this.factory.start();
    await this.factory.waitForCacheSync(syncTimeoutMs, signal);
    if (this.#stopped || signal.aborted) return;
    for (const c of this.controllers) {
      try {
        await c.controller.run(c.workers);
        log.info('started controller', { controller: c.name });
      } catch (err) {
        log.error('failed to start controller', { controller: c.name, err: errMessage(err) });
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.controllers.map(async (c) => {
      try {
        await c.controller.dispose();
      } catch (err) {
        log.warn('controller did not stop cleanly', { controller: c.name, err: errMessage(err) });
      }
    }));
    await this.factory.dispose();
  }
}

/** Starts the controller manager; dispose() stops every controller, informer and the election. */
export async function startControllerManager(opts: ControllerManagerOptions): Promise<ControllerManager> {
  if (!opts.client && !opts.kubeconfig) throw new Error('startControllerManager: give kubeconfig or client');
  if (typeof opts.identity !== 'string' || opts.identity === '') throw new Error(`startControllerManager: identity must be a non-empty string, got ${JSON.stringify(opts.identity)}`);
  const entries = selectControllers(registeredControllers(), opts.controllers);
  const clock = opts.clock ?? realClock;
  const ownClient = opts.client === undefined;
  const userAgent = `kube-controller-manager/${KUBERNETES_VERSION} (${process.platform}/${process.arch}) tkube`;
  const client = opts.client ?? await RestClient.fromKubeconfig(opts.kubeconfig!, { userAgent });
  let saClients: ServiceAccountClientBuilder | undefined;
  if (opts.useServiceAccountCredentials) {
    if (!opts.kubeconfig) throw new Error('startControllerManager: useServiceAccountCredentials needs kubeconfig');
    const kc = await readKubeconfig(opts.kubeconfig);
    saClients = new ServiceAccountClientBuilder({ root: client, connection: { server: kc.server, ...(kc.caPem ? { caPem: kc.caPem } : {}), userAgent }, clock });
  }
  // Informers, events and the election use the manager's own identity, as upstream; controllers' writes their own.
  const clientFor = async (e: ControllerEntry): Promise<RestClient> => {
    const sa = CONTROLLER_SERVICE_ACCOUNTS[e.name];
    if (!saClients) return client;
    if (sa === undefined) {
      log.warn('no service account known for controller; it runs as the controller manager', { controller: e.name });
      return client;
    }
    return saClients.clientFor(sa);
  };
  // One broadcaster per event source, as each upstream controller starts its own: a controller
  // reporting on thousands of objects (node-controller's RegisteredNode) never holds up another's events.
  const broadcasters = new Map<string, EventBroadcaster>();
  const recorderFor = (component: string): EventRecorder => {
    let b = broadcasters.get(component);
    if (!b) broadcasters.set(component, b = new EventBroadcaster({ client, clock }));
    return b.newRecorder({ component });
  };
  const ctx = (c: RestClient): ControllerContext => ({
    client: c,
    informers: session!.factory,
    recorder: recorderFor,
    clock,
    options: opts.options,
  });
  let session: Session | undefined;
  let leading = false;
  let disposed = false;
  let resolveStarted!: () => void;
  const started = new Promise<void>((r) => { resolveStarted = r; });
  const syncTimeoutMs = opts.cacheSyncTimeoutMs ?? 60_000;

  const lead = async (signal: AbortSignal): Promise<void> => {
    leading = true;
    const s = new Session(client, clock);
    session = s;
    try {
      await s.start(async (e) => ctx(await clientFor(e)), entries, syncTimeoutMs, signal);
    } finally {
      resolveStarted();
    }
  };
  const stopLeading = async (): Promise<void> => {
    leading = false;
    const s = session;
    session = undefined;
    await s?.stop();
  };

  let elector: LeaderElector | undefined;
  let electionLoop: Promise<void> | undefined;
  const standalone = new AbortController();
  if (opts.leaderElection) {
    const lockRecorder = recorderFor('kube-controller-manager');
    electionLoop = (async () => {
      // Upstream exits on lost leadership and is restarted; we stop cleanly and stand again.
      while (!disposed) {
        let stopping: Promise<void> | undefined;
        elector = new LeaderElector({
          lock: new LeaseLock({ client, namespace: LEASE_NAMESPACE, name: LEASE_NAME, identity: opts.identity, recorder: lockRecorder }),
          ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
          ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
          ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
          releaseOnCancel: true,
          clock,
          name: `${LEASE_NAMESPACE}/${LEASE_NAME}`,
          callbacks: {
            onStartedLeading: (signal) => lead(signal),
            onStoppedLeading: () => {
              if (leading) log.info('leaderelection lost', { identity: opts.identity });
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
    isLeading: () => leading,
    started,
    controllerNames: entries.map((e) => e.name),
    async dispose() {
      if (disposed) return;
      disposed = true;
      standalone.abort();
      // Stop controllers before releasing the lease so a successor never overlaps with us.
      await stopLeading();
      elector?.stop();
      await electionLoop;
      resolveStarted();
      await Promise.all([...broadcasters.values()].map((b) => b.dispose()));
      await saClients?.dispose();
      if (ownClient) await client.dispose();
    },
  };
}
