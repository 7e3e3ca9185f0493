// Pod workers: every pod's syncs run one at a time, in order, while different pods sync in
// parallel. An update during a sync makes one more sync afterwards; a sync asks for its next run
// (a backoff running out) or gets the periodic resync; a failed sync is retried after a pause.
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
  readonly #workers = new Map<string, Worker>();
  #stopped = false;

  constructor(sync: SyncFn, opts: PodWorkersOptions = {}) {
    this.#sync = sync;
    this.#clock = opts.clock ?? realClock;
    this.#resyncMs = opts.resyncMs ?? 60_000;
    this.#errorMs = opts.errorBackoffMs ?? 10_000;
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

  async dispose(): Promise<void> {
    this.#stopped = true;
    for (const w of this.#workers.values()) {
      w.timer?.dispose();
      w.timer = undefined;
    }
    await Promise.all([...this.#workers.values()].map((w) => w.running));
  }
}
