// Periodic compaction of history older than a time window, used by every driver: it samples
// (time, current revision) every few seconds and compacts to the newest revision sampled at least
// `window` ago, as the apiserver's etcd compactor does, so watches can resume within the window.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';

const log = logger('storage');

/** Default history window: upstream's --etcd-compaction-interval. */
export const DEFAULT_COMPACTION_WINDOW_MS = 5 * 60 * 1000;

/** The part of a Store the compactor drives. */
export interface Compactable {
  currentRevision(): Promise<number>;
  compactedRevision(): Promise<number>;
  compact(revision: number): Promise<void>;
}

/** Options of a compactor. */
export interface CompactorOptions {
  /** History older than this is compacted (default 5 minutes). */
  readonly windowMs?: number;
  /** How often to sample the revision (default: window / 10, between 100 ms and 5 s). */
  readonly intervalMs?: number;
  /** Clock in ms (default Date.now); tests inject a fake one. */
  readonly now?: () => number;
  /** When false, no timer is started and the owner calls tick() itself (tests). Default true. */
  readonly autoStart?: boolean;
}

/** Samples revisions and compacts history that has left the window. */
export class Compactor implements Disposable {
  readonly #target: Compactable;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  #samples: Array<{ readonly at: number; readonly revision: number }> = [];
  #running: Promise<void> | undefined;
  #disposed = false;

  constructor(target: Compactable, opts: CompactorOptions = {}) {
    const windowMs = opts.windowMs ?? DEFAULT_COMPACTION_WINDOW_MS;
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`compaction windowMs must be a positive number, got ${windowMs}`);
    }
    const intervalMs = opts.intervalMs ?? Math.min(5000, Math.max(100, windowMs / 10));
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`compaction intervalMs must be a positive number, got ${intervalMs}`);
    }
    this.#target = target;
    this.#windowMs = windowMs;
    this.#now = opts.now ?? Date.now;
    if (opts.autoStart !== false) {
      this.#timer = setInterval(() => void this.tick(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Takes one sample and compacts if a sample has left the window; never overlaps itself. */
  tick(): Promise<void> {
    if (this.#disposed) return Promise.resolve();
    if (!this.#running) {
      this.#running = this.#step()
        .catch((err: unknown) => {
          if (!this.#disposed) log.warn('compaction failed', { err });
        })
        .finally(() => {
          this.#running = undefined;
        });
    }
    return this.#running;
  }

  async #step(): Promise<void> {
    const now = this.#now();
    const revision = await this.#target.currentRevision();
    this.#samples.push({ at: now, revision });
    let target = -1;
    while (this.#samples.length > 0 && this.#samples[0]!.at <= now - this.#windowMs) {
      target = this.#samples.shift()!.revision;
    }
    if (target < 0 || this.#disposed) return;
    const compacted = await this.#target.compactedRevision();
    if (target <= compacted) return;
    await this.#target.compact(target);
    log.debug('compacted', { revision: target });
  }

  /** Stops sampling; waits for a compaction in progress. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}

/**
 * Starts a compactor for a driver from its open options: undefined window = the default,
 * 0 or less = no compaction (history kept forever; tests use this).
 */
export function startCompactor(target: Compactable, windowMs: number | undefined): Compactor | undefined {
  if (windowMs !== undefined && windowMs <= 0) return undefined;
  return new Compactor(target, { windowMs: windowMs ?? DEFAULT_COMPACTION_WINDOW_MS });
}
