// Leader election on a Lease (client-go tools/leaderelection): candidates retry every retryPeriod, the
// leader renews and steps down when it cannot renew within renewDeadline; expiry is judged by when we
// last saw the record change, not by the holder's clock. releaseOnCancel hands over at once on stop.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isConflict, isNotFound } from './api_errors.ts';
import { jitter, realClock, sleep, type Clock } from './clock.ts';
import type { LeaderElectionRecord, ResourceLock } from './lease_lock.ts';

const log = logger('leaderelection');

/** Jitter applied to retryPeriod while acquiring (client-go's JitterFactor). */
export const JITTER_FACTOR = 1.2;

/** What the elector tells its owner. */
export interface LeaderCallbacks {
  /** We became leader; `signal` aborts when leadership ends. Not awaited. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** run() is ending (called even if we never led, as upstream does). */
  onStoppedLeading(): void;
  /** A different holder was observed (including the first one seen, and ourselves). */
  onNewLeader?(identity: string): void;
}

/** Settings of one election. */
export interface LeaderElectionConfig {
  /** Usually a LeaseLock. */
  readonly lock: ResourceLock;
  /** How long non-leaders wait after the last observed change before taking over (default 15 s). */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before giving up (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** Pause between attempts (default 2 s). */
  readonly retryPeriodMs?: number;
  /** On stop, clear the holder so another candidate can take over immediately. */
  readonly releaseOnCancel?: boolean;
  readonly callbacks: LeaderCallbacks;
  /** For logs. */
  readonly name?: string;
  readonly clock?: Clock;
}

/** One candidate. Call run(); stop() or dispose() ends it. */
export class LeaderElector implements Disposable {
  readonly name: string;
  #lock: ResourceLock;
  #leaseMs: number;
  #renewMs: number;
  #retryMs: number;
  #release: boolean;
  #callbacks: LeaderCallbacks;
  #clock: Clock;
  #stop = new AbortController();
  #observed: LeaderElectionRecord = { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: 0, renewTime: 0, leaderTransitions: 0 };
  #observedRaw = '';
  #observedTime = 0;
  #reportedLeader = '';
  #running: Promise<void> | undefined;

  constructor(config: LeaderElectionConfig) {
    const leaseMs = config.leaseDurationMs ?? 15_000;
    const renewMs = config.renewDeadlineMs ?? 10_000;
    const retryMs = config.retryPeriodMs ?? 2_000;
    if (!(leaseMs > renewMs)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(renewMs > JITTER_FACTOR * retryMs)) throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (!(leaseMs >= 1000)) throw new Error(`leaseDuration must be at least 1s (the Lease stores whole seconds), got ${leaseMs}ms`);
    if (!(retryMs > 0)) throw new Error('retryPeriod must be greater than zero');
    if (!config.callbacks || typeof config.callbacks.onStartedLeading !== 'function') throw new Error('OnStartedLeading callback must not be nil');
    if (typeof config.callbacks.onStoppedLeading !== 'function') throw new Error('OnStoppedLeading callback must not be nil');
    this.#lock = config.lock;
    this.#leaseMs = leaseMs;
    this.#renewMs = renewMs;
    this.#retryMs = retryMs;
    this.#release = config.releaseOnCancel === true;
    this.#callbacks = config.callbacks;
    this.#clock = config.clock ?? realClock;
    this.name = config.name ?? config.lock.describe();
  }

  /** Identity of the last observed holder ("" if none yet). */
  getLeader(): string {
    return this.#observed.holderIdentity;
  }

  /** True when the last observed holder is us. */
  isLeader(): boolean {
    return this.#observed.holderIdentity === this.#lock.identity;
  }

  /** Acquires, leads until stopped or renewal fails, then returns. Calling it twice returns the same run. */
  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Ends the election (releasing the lease if configured); run() then resolves. */
  stop(): void {
    this.#stop.abort(new Error('leader election stopped'));
  }

  async dispose(): Promise<void> {
    this.stop();
    await this.#running;
  }

  /** An error when we lead but have not renewed for leaseDuration + `maxTolerableExpiredMs` (a health check). */
  check(maxTolerableExpiredMs: number): Error | undefined {
    if (!this.isLeader()) return undefined;
    if (this.#clock.now() - this.#observedTime > this.#leaseMs + maxTolerableExpiredMs) {
      return new Error(`failed election to renew leadership on lease ${this.name}`);
    }
    return undefined;
  }

  async #run(): Promise<void> {
    try {
      if (!(await this.#acquire())) return;
      const leading = new AbortController();
      try {
        void Promise.resolve()
          .then(() => this.#callbacks.onStartedLeading(leading.signal))
          .catch((err: unknown) => log.error('onStartedLeading failed', { lease: this.name, err: errText(err) }));
        await this.#renew();
      } finally {
        leading.abort(new Error('leadership lost'));
      }
    } finally {
      try {
        this.#callbacks.onStoppedLeading();
      } catch (err) {
        log.error('onStoppedLeading failed', { lease: this.name, err: errText(err) });
      }
    }
  }

  /** Tries every retryPeriod (jittered) until we hold the lease; false if stopped first. */
  async #acquire(): Promise<boolean> {
    const signal = this.#stop.signal;
    log.info('attempting to acquire leader lease', { lease: this.name });
    while (!signal.aborted) {
      const ok = await this.#tryAcquireOrRenew(signal);
      this.#maybeReportTransition();
      if (ok) {
        this.#lock.recordEvent('became leader');
        log.info('successfully acquired lease', { lease: this.name });
        return true;
      }
      try {
        await sleep(this.#clock, jitter(this.#retryMs, JITTER_FACTOR), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Renews every retryPeriod; returns when stopped or when a renewal did not succeed within renewDeadline. */
  async #renew(): Promise<void> {
    const stop = this.#stop.signal;
    try {
      while (!stop.aborted) {
        const renewed = await this.#renewWithinDeadline();
        this.#maybeReportTransition();
        if (!renewed) {
          if (!stop.aborted) log.info('failed to renew lease', { lease: this.name });
          break;
        }
        try {
          await sleep(this.#clock, this.#retryMs, stop);
        } catch {
          break;
        }
      }
    } finally {
      this.#lock.recordEvent('stopped leading');
      if (this.#release) await this.#releaseLease();
    }
  }

  /** Polls tryAcquireOrRenew every retryPeriod until it succeeds or renewDeadline passes. */
  async #renewWithinDeadline(): Promise<boolean> {
    // One controller for "stopped or past the deadline" (not AbortSignal.any: its listeners on the
    // long-lived stop signal would pile up, one per renewal).
    const deadline = new AbortController();
    const signal = deadline.signal;
    const timer = this.#clock.setTimer(() => deadline.abort(new Error('renew deadline exceeded')), this.#renewMs);
    const onStop = (): void => deadline.abort(this.#stop.signal.reason);
    if (this.#stop.signal.aborted) onStop();
    else this.#stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      while (!signal.aborted) {
        if (await this.#tryAcquireOrRenew(signal)) return true;
        try {
          await sleep(this.#clock, this.#retryMs, signal);
        } catch {
          return false;
        }
      }
      return false;
    } finally {
      timer.dispose();
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }

  /** One attempt (client-go tryAcquireOrRenew). */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.#clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: this.#lock.identity,
      leaseDurationSeconds: Math.floor(this.#leaseMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaderTransitions: 0,
    };

    // Fast path: we lead and our view is current, so update optimistically.
    if (this.isLeader() && this.#isLeaseValid(now)) {
      record.acquireTime = this.#observed.acquireTime;
      record.leaderTransitions = this.#observed.leaderTransitions;
      try {
        await this.#lock.update(record, signal);
        this.#setObserved(record);
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        log.debug('failed to update lock optimistically, falling back to slow path', { lease: this.name, err: errText(err) });
      }
    }

    let current: { record: LeaderElectionRecord; raw: string };
    try {
      current = await this.#lock.get(signal);
    } catch (err) {
      if (!isNotFound(err)) {
        if (!signal.aborted) log.warn('error retrieving resource lock', { lease: this.name, err: errText(err) });
        return false;
      }
      try {
        await this.#lock.create(record, signal);
      } catch (createErr) {
        if (!signal.aborted) log.debug('error initially creating leader election record', { lease: this.name, err: errText(createErr) });
        return false;
      }
      this.#setObserved(record);
      return true;
    }

    if (current.raw !== this.#observedRaw) {
      this.#setObserved(current.record);
      this.#observedRaw = current.raw;
    }
    if (current.record.holderIdentity !== '' && this.#isLeaseValid(now) && !this.isLeader()) {
      return false;
    }
    if (this.isLeader()) {
      record.acquireTime = current.record.acquireTime;
      record.leaderTransitions = current.record.leaderTransitions;
    } else {
      record.leaderTransitions = current.record.leaderTransitions + 1;
    }
    try {
      await this.#lock.update(record, signal);
    } catch (err) {
      if (!signal.aborted) log.debug('failed to update lock', { lease: this.name, err: errText(err) });
      return false;
    }
    this.#setObserved(record);
    return true;
  }

  /** Clears the holder (leaseDurationSeconds 1) if we hold the lease. */
  async #releaseLease(): Promise<void> {
    if (!this.isLeader()) return;
    const now = this.#clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: this.#observed.leaderTransitions,
    };
    const signal = AbortSignal.timeout(this.#renewMs);
    try {
      await this.#lock.update(record, signal);
    } catch (err) {
      // An update aborted by stop() may have landed after all, leaving our cached version stale.
      if (!isConflict(err)) {
        log.warn('failed to release lock', { lease: this.name, err: errText(err) });
        return;
      }
      try {
        const cur = await this.#lock.get(signal);
        if (cur.record.holderIdentity !== this.#lock.identity) return;
        await this.#lock.update({ ...record, leaderTransitions: cur.record.leaderTransitions }, signal);
      } catch (err2) {
        log.warn('failed to release lock', { lease: this.name, err: errText(err2) });
        return;
      }
    }
    this.#setObserved(record);
  }

  #isLeaseValid(now: number): boolean {
    return this.#observedTime + this.#observed.leaseDurationSeconds * 1000 > now;
  }

  #setObserved(record: LeaderElectionRecord): void {
    this.#observed = record;
    this.#observedTime = this.#clock.now();
  }

  #maybeReportTransition(): void {
    const holder = this.#observed.holderIdentity;
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    const cb = this.#callbacks.onNewLeader;
    if (cb) {
      queueMicrotask(() => {
        try {
          cb(holder);
        } catch (err) {
          log.error('onNewLeader failed', { lease: this.name, err: errText(err) });
        }
      });
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
