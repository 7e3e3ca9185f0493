// Pod workers: every pod's syncs run one at a time, in order, while different pods sync in
// parallel. An update during a sync makes one more sync afterwards; a sync asks for its next run
// (a backoff running out) or gets the periodic resync; a failed sync is retried after a pause.
// Stopping waits only briefly for syncs in flight: the owner cancels their work first.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { jitter, realClock, type Clock, type ClockTimer } from '../client/clock.ts';

const log = logger('pod-workers');

/** What one sync of a pod asks for next. */
export interface WorkerResult {
  /** Sync again after this long (default: the resync period). */
  readonly requeueAfterMs?: number;
  /** The pod is gone and cleaned up: drop its worker. */
  readonly done?: boolean;
}

/** Syncs one pod by UID. */
export type SyncFn = (uid: string) => Promise<WorkerResult | void>;

/** Options of PodWorkers. */
export interface PodWorkersOptions {
  readonly clock?: Clock;
  /** Periodic resync (default 60 s, jittered). */
  readonly resyncMs?: number;
  /** Pause after a failed sync (default 10 s, jittered). */
  readonly errorBackoffMs?: number;
  /** How long dispose() waits for syncs in flight before abandoning them (default 1 s). */
  readonly abandonAfterMs?: number;
  /** Aborted when the owner begins to stop: no sync starts or is retried after it. */
  readonly signal?: AbortSignal;
}

interface Worker {
  running: Promise<void> | undefined;
  pending: boolean;
  timer: ClockTimer | undefined;
}

/** Runs syncs per pod. */
export class PodWorkers implements Disposable {
  readonly #sync: SyncFn;
  readonly #clock: Clock;
  readonly #resyncMs: number;
  readonly #errorMs: number;
  readonly #abandonMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #workers = new Map<string, Worker>();
  #disposed = false;

  get #stopped(): boolean {
    return this.#disposed || this.#signal?.aborted === true;
  }

  constructor(sync: SyncFn, opts: PodWorkersOptions = {}) {
    this.#sync = sync;
    this.#clock = opts.clock ?? realClock;
    this.#resyncMs = opts.resyncMs ?? 60_000;
    this.#errorMs = opts.errorBackoffMs ?? 10_000;
    this.#abandonMs = opts.abandonAfterMs ?? 1000;
    this.#signal = opts.signal;
  }

  /** UIDs with a worker. */
  uids(): string[] {
    return [...this.#workers.keys()];
  }

  /** Syncs the pod as soon as its worker is free. */
  update(uid: string): void {
    if (this.#stopped) return;
    let w = this.#workers.get(uid);
    if (!w) {
      w = { running: undefined, pending: false, timer: undefined };
      this.#workers.set(uid, w);
    }
    if (w.running) {
      w.pending = true;
      return;
    }
    w.timer?.dispose();
    w.timer = undefined;
    w.running = this.#run(uid, w);
  }

  async #run(uid: string, w: Worker): Promise<void> {
    let next: number | undefined;
    let done = false;
    do {
      w.pending = false;
      try {
        const r = await this.#sync(uid);
        next = r?.requeueAfterMs;
        done = r?.done === true;
      } catch (err) {
        if (this.#stopped) {
          log.debug('pod sync ended by shutdown', { uid, err: err instanceof Error ? err.message : String(err) });
          break;
        }
        log.warn('pod sync failed; retrying', { uid, err: err instanceof Error ? err.message : String(err) });
        next = jitter(this.#errorMs, 0.5);
      }
    } while (w.pending && !done && !this.#stopped);
    w.running = undefined;
    if (this.#stopped) return;
    if (done && !w.pending) {
      this.#workers.delete(uid);
      return;
    }
    if (w.pending) {
      this.update(uid);
      return;
    }
    w.timer = this.#clock.setTimer(() => {
      w.timer = undefined;
      this.update(uid);
    }, next ?? jitter(this.#resyncMs, 0.5));
  }

  /** Resolves when no sync is running (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#workers.values()].map((w) => w.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops syncing. Syncs in flight get a moment to end (their runtime calls should be cancelled
   * before this); one still running after that is abandoned, as a kubelet that exits abandons it,
   * and the next start finishes what it was doing.
   */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const w of this.#workers.values()) {
      w.timer?.dispose();
      w.timer = undefined;
    }
    const running = [...this.#workers].filter(([, w]) => w.running !== undefined);
    if (running.length === 0) return;
    let timer: ClockTimer | undefined;
    const ended = await Promise.race([
      Promise.all(running.map(([, w]) => w.running)).then(() => true),
      new Promise<false>((resolve) => { timer = this.#clock.setTimer(() => resolve(false), this.#abandonMs); }),
    ]);
    timer?.dispose();
    if (!ended) log.warn('abandoning pod syncs still running', { uids: running.filter(([, w]) => w.running !== undefined).map(([uid]) => uid) });
  }
}
