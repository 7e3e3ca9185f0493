// The kubelet's probe manager (upstream prober/prober_manager.go): a worker per container and probe
// type of each pod, result caches per type, and the answers the kubelet asks of them: is a container
// started, is it ready, must it be killed. Any changed result makes the kubelet sync that pod.
import type { Container, Pod, PodStatus } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { realClock, type Clock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import type { RuntimeContainer } from '../runtime_state.ts';
import { Prober } from './prober.ts';
import { ResultsManager } from './results.ts';
import { ProbeResult, ProbeType, type CommandRunner, type ContainerHealth } from './types.ts';
import { ProbeWorker, type WorkerHost } from './worker.ts';

/** Options of ProbeManager. */
export interface ProbeManagerOptions {
  /** Runs exec probes (the CRI runtime). */
  readonly runner: CommandRunner;
  readonly recorder: EventRecorder;
  /** The latest status the kubelet computed for a pod (container IDs, running, started, pod IP). */
  readonly podStatus: (uid: string) => PodStatus | undefined;
  /** A probe result of the pod changed: sync it. */
  readonly onChange: (uid: string) => void;
  readonly clock?: Clock;
  /** Replaces the real prober (tests). */
  readonly prober?: Pick<Prober, 'probe'>;
  /** Aborted when the kubelet stops: probes in flight end at once. */
  readonly signal?: AbortSignal;
}

const TYPES = [ProbeType.Startup, ProbeType.Readiness, ProbeType.Liveness] as const;

function key(uid: string, container: string, type: ProbeType): string {
  return `${uid}/${container}/${type}`;
}

/** Probes the node's containers. */
export class ProbeManager implements ContainerHealth, Disposable {
  readonly #workers = new Map<string, ProbeWorker>();
  readonly #results: Record<ProbeType, ResultsManager>;
  readonly #host: WorkerHost;
  readonly #stopping = new Set<Promise<void>>();
  #disposed = false;

  constructor(opts: ProbeManagerOptions) {
    const clock = opts.clock ?? realClock;
    const onUpdate = (u: { podUid: string }): void => {
      if (!this.#disposed) opts.onChange(u.podUid);
    };
    this.#results = {
      [ProbeType.Liveness]: new ResultsManager(onUpdate),
      [ProbeType.Readiness]: new ResultsManager(onUpdate),
      [ProbeType.Startup]: new ResultsManager(onUpdate),
    };
    this.#host = {
      clock,
      startedAt: clock.now(),
      prober: opts.prober ?? new Prober({ runner: opts.runner, recorder: opts.recorder, ...(opts.signal ? { signal: opts.signal } : {}) }),
      podStatus: opts.podStatus,
      results: (type) => this.#results[type],
      workerDone: (w) => {
        const k = key(w.pod.metadata?.uid ?? '', w.container.name, w.type);
        if (this.#workers.get(k) === w) this.#workers.delete(k);
      },
    };
  }

  /** Number of running workers. */
  get workerCount(): number {
    return this.#workers.size;
  }

  /** The cached result of a probe type for a container (tests, diagnostics). */
  result(type: ProbeType, containerId: string): ProbeResult | undefined {
    return this.#results[type].get(containerId);
  }

  /** Starts workers for every probe of the pod's containers that has none (idempotent). */
  addPod(pod: Pod): void {
    if (this.#disposed) return;
    const uid = pod.metadata?.uid ?? '';
    for (const c of pod.spec?.containers ?? []) {
      for (const type of TYPES) {
        const has = type === ProbeType.Startup ? c.startupProbe : type === ProbeType.Readiness ? c.readinessProbe : c.livenessProbe;
        if (!has) continue;
        const k = key(uid, c.name, type);
        if (this.#workers.has(k)) continue;
        const w = new ProbeWorker(this.#host, type, pod, c);
        this.#workers.set(k, w);
        w.start();
      }
    }
  }

  /** A pod shutting down: no liveness or startup probe may kill its containers now. */
  stopLivenessAndStartup(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    for (const c of pod.spec?.containers ?? []) {
      for (const type of [ProbeType.Liveness, ProbeType.Startup]) this.#stop(key(uid, c.name, type));
    }
  }

  /** Stops every worker of the pod and forgets its results. */
  removePod(uid: string): void {
    for (const k of [...this.#workers.keys()]) if (k.startsWith(`${uid}/`)) this.#stop(k);
  }

  /** Stops the workers of pods not in `desired` (UIDs). */
  cleanupPods(desired: ReadonlySet<string>): void {
    for (const [k, w] of [...this.#workers]) if (!desired.has(w.pod.metadata?.uid ?? '')) this.#stop(k);
  }

  #stop(k: string): void {
    const w = this.#workers.get(k);
    if (!w) return;
    this.#workers.delete(k);
    const p = w.stop().finally(() => this.#stopping.delete(p));
    this.#stopping.add(p);
  }

  /** upstream's isContainerStarted: running, and the startup probe (if any) succeeded. */
  isStarted(pod: Pod, container: Container, status: RuntimeContainer): boolean {
    if (status.state !== 'CONTAINER_RUNNING') return false;
    const r = this.#results[ProbeType.Startup].get(status.id);
    if (r !== undefined) return r === ProbeResult.Success;
    return !this.#workers.has(key(pod.metadata?.uid ?? '', container.name, ProbeType.Startup));
  }

  /** Readiness of a running container: started, and its readiness probe (if any) succeeded. */
  isReady(pod: Pod, container: Container, status: RuntimeContainer): boolean {
    if (!this.isStarted(pod, container, status)) return false;
    if (this.#results[ProbeType.Readiness].get(status.id) === ProbeResult.Success) return true;
    const w = this.#workers.get(key(pod.metadata?.uid ?? '', container.name, ProbeType.Readiness));
    if (!w) return true;
    // not known yet: probe now, once the status being computed has been stored
    queueMicrotask(() => w.trigger());
    return false;
  }

  failure(containerId: string): 'liveness' | 'startup' | undefined {
    if (this.#results[ProbeType.Liveness].get(containerId) === ProbeResult.Failure) return 'liveness';
    if (this.#results[ProbeType.Startup].get(containerId) === ProbeResult.Failure) return 'startup';
    return undefined;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const k of [...this.#workers.keys()]) this.#stop(k);
    await Promise.all([...this.#stopping]);
  }
}
