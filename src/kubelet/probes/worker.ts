// One probe of one container, run every periodSeconds until the pod ends (upstream prober/worker.go):
// follows the container ID through the status manager, applies initialDelaySeconds, the startup
// gate and the success/failure thresholds, and holds off after a liveness/startup failure until the
// container is replaced.
import type { Container, ContainerStatus, Pod, PodStatus, Probe } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import type { Clock, ClockTimer } from '../../client/clock.ts';
import type { Prober } from './prober.ts';
import { probeSpec } from './prober.ts';
import type { ResultsManager } from './results.ts';
import { ProbeResult, ProbeType } from './types.ts';

const log = logger('prober');

/** What a worker needs from its manager. */
export interface WorkerHost {
  readonly clock: Clock;
  /** When the manager started (ms): workers created soon after spread their first probe over a period. */
  readonly startedAt: number;
  readonly prober: Pick<Prober, 'probe'>;
  /** The latest status the kubelet computed for the pod. */
  podStatus(uid: string): PodStatus | undefined;
  results(type: ProbeType): ResultsManager;
  /** The worker ended by itself (its pod finished). */
  workerDone(worker: ProbeWorker): void;
}

/** The runtime's container ID inside an API containerID ("containerd://abc" -> "abc"). */
export function runtimeContainerId(containerID: string): string {
  const i = containerID.indexOf('://');
  return i === -1 ? containerID : containerID.slice(i + 3);
}

function findStatus(list: readonly ContainerStatus[] | undefined, name: string): ContainerStatus | undefined {
  const s = list?.find((c) => c.name === name);
  return s?.containerID ? s : undefined;
}

/** Probes one container with one of its probes. */
export class ProbeWorker {
  readonly pod: Pod;
  readonly container: Container;
  readonly type: ProbeType;
  readonly spec: Probe;
  readonly #host: WorkerHost;
  readonly #initial: ProbeResult;
  #containerId = '';
  #lastResult: ProbeResult | undefined;
  #resultRun = 0;
  #onHold = false;
  #timer: ClockTimer | undefined;
  #running: Promise<void> | undefined;
  #manual = false;
  #stopped = false;

  constructor(host: WorkerHost, type: ProbeType, pod: Pod, container: Container) {
    const spec = probeSpec(container, type);
    if (!spec) throw new Error(`ProbeWorker: container ${container.name} has no ${type} probe`);
    this.#host = host;
    this.type = type;
    this.pod = pod;
    this.container = container;
    this.spec = spec;
    // readiness starts false, liveness true (never kill before a probe said so), startup unknown
    this.#initial = type === ProbeType.Readiness ? ProbeResult.Failure : type === ProbeType.Liveness ? ProbeResult.Success : ProbeResult.Unknown;
  }

  get #periodMs(): number {
    return (this.spec.periodSeconds || 10) * 1000;
  }

  /** The container this worker last saw. */
  get containerId(): string {
    return this.#containerId;
  }

  /** Starts the loop: right away, or (kubelet just started) after a random part of a period so restarts do not probe in a burst. */
  start(): void {
    const period = this.#periodMs;
    const delay = period > this.#host.clock.now() - this.#host.startedAt ? Math.random() * period : 0;
    this.#timer = this.#host.clock.setTimer(() => this.#tick(), delay);
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#timer = this.#host.clock.setTimer(() => this.#tick(), this.#periodMs);
    // a tick while a probe is still running is dropped, as a Go ticker drops it
    if (!this.#running) this.#run();
  }

  /** Probes as soon as possible (e.g. readiness not yet known), without moving the period. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) this.#manual = true;
    else this.#run();
  }

  #run(): void {
    this.#running = this.doProbe().catch((err: unknown) => {
      log.warn('probe worker failed', { pod: this.pod.metadata?.name, container: this.container.name, type: this.type, err: err instanceof Error ? err.message : String(err) });
      return true;
    }).then((keepGoing) => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (!keepGoing) {
        this.#end();
        this.#host.workerDone(this);
      } else if (this.#manual) {
        this.#manual = false;
        this.#run();
      }
    });
  }

  /** Stops probing and forgets the result; resolves when a probe in flight is over. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#running;
    this.#end();
    await this.#running;
  }

  #end(): void {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#timer = undefined;
    if (this.#containerId) this.#host.results(this.type).remove(this.#containerId);
  }

  /** One probe and its bookkeeping; false when the worker should end. */
  async doProbe(): Promise<boolean> {
    const uid = this.pod.metadata?.uid ?? '';
    const results = this.#host.results(this.type);
    const status = this.#host.podStatus(uid);
    if (!status) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const c = findStatus(status.containerStatuses, this.container.name) ?? findStatus(status.initContainerStatuses, this.container.name);
    if (!c) return true;

    const id = runtimeContainerId(c.containerID!);
    if (id !== this.#containerId) {
      if (this.#containerId) results.remove(this.#containerId);
      this.#containerId = id;
      results.set(id, this.#initial, uid);
      // a new container: probe it, whatever happened to the last one
      this.#onHold = false;
    }
    if (this.#onHold) return true;

    if (!c.state?.running) {
      results.set(id, ProbeResult.Failure, uid);
      // a container that ended for good needs no more probing
      return c.state?.terminated === undefined || this.pod.spec?.restartPolicy !== 'Never';
    }

    if (this.pod.metadata?.deletionTimestamp && (this.type === ProbeType.Liveness || this.type === ProbeType.Startup)) {
      // a pod shutting down is not killed for failing a probe
      results.set(id, ProbeResult.Success, uid);
      return false;
    }

    const startedAt = Date.parse(c.state.running.startedAt ?? '');
    if (Number.isFinite(startedAt) && Math.trunc((this.#host.clock.now() - startedAt) / 1000) < (this.spec.initialDelaySeconds ?? 0)) return true;

    if (c.started) {
      // the startup probe is done once the container started; the worker stays for a restart
      if (this.type === ProbeType.Startup) return true;
    } else if (this.type !== ProbeType.Startup) {
      // liveness and readiness wait for the startup probe
      return true;
    }

    const verdict = await this.#host.prober.probe(this.type, this.pod, status.podIP ?? '', this.container, id);
    if (this.#stopped) return false;
    if (verdict.error) return true;
    const result = verdict.result;
    if (this.#lastResult === result) this.#resultRun++;
    else {
      this.#lastResult = result;
      this.#resultRun = 1;
    }
    if ((result === ProbeResult.Failure && this.#resultRun < (this.spec.failureThreshold || 3))
      || (result === ProbeResult.Success && this.#resultRun < (this.spec.successThreshold || 1))) {
      return true;
    }
    results.set(id, result, uid);
    if ((this.type === ProbeType.Liveness || this.type === ProbeType.Startup) && result === ProbeResult.Failure) {
      // the container gets killed: leave it alone until a new one shows up
      this.#onHold = true;
      this.#resultRun = 0;
    }
    return true;
  }
}
