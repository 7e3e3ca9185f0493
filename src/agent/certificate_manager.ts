// Rotation of a node's certificates while it runs (client-go's util/certificate manager): each
// certificate gets a rotation deadline at a jittered 70-90% of its lifetime; then a new key and
// CSR are made, the signed certificate is awaited, and it replaces the current one in memory
// (listeners swap it into their TLS settings) and on disk. Failed attempts back off 2 s doubling
// to 32 s and keep trying, as upstream does.
import { X509Certificate } from 'node:crypto';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import type { RestClient } from '../client/rest_client.ts';
import { requestCertificate, type CertificateRequest, type RequestCertificateOptions } from './bootstrap.ts';

const log = logger('agent');

/** The longest single timer: Node fires longer setTimeout delays at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A certificate with its key and the facts rotation needs. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A parsed current certificate. */
export interface CurrentCertificate extends KeyPair {
  /** Serial number, upper-case hex as Node prints it. */
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Options of CertificateManager. */
export interface CertificateManagerOptions {
  /** For logs: "kubelet-client" or "kubelet-serving". */
  readonly name: string;
  /** What the CSRs ask for (signer, usages, subject, SANs). */
  readonly template: CertificateRequest;
  /** The certificate in use now. */
  readonly initial: KeyPair;
  /** The client CSRs are made with (for the client certificate: the node's own, rotating client). */
  readonly client: () => RestClient;
  /** Persists a new certificate before it is used, so a restart picks it up. */
  readonly store?: (pair: KeyPair) => void | Promise<void>;
  /** spec.expirationSeconds of the CSRs (client-go's RequestedCertificateLifetime); default: the signer's. */
  readonly requestedLifetimeSeconds?: number;
  /** Time and timers of the rotation schedule (tests: a FakeClock). */
  readonly clock?: Clock;
  /** A number in [0, 1) that places the deadline within 70-90% of the lifetime (default Math.random). */
  readonly jitter?: () => number;
  /** Waiting for each CSR to be signed. */
  readonly request?: Omit<RequestCertificateOptions, 'generateName' | 'expirationSeconds' | 'signal'>;
}

/** Parses a PEM certificate into the facts rotation needs. */
export function describeCertificate(pair: KeyPair): CurrentCertificate {
  const x = new X509Certificate(pair.certPem);
  return { ...pair, serial: x.serialNumber, notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) };
}

/** The rotation deadline: notBefore + (70% + jitter x 20%) of the lifetime (upstream's jitteryDuration). */
export function rotationDeadline(notBefore: number, notAfter: number, jitter: number): number {
  const total = notAfter - notBefore;
  return notBefore + total * (0.7 + 0.2 * Math.min(Math.max(jitter, 0), 1));
}

/** Upstream's backoff between failed rotations: 2 s doubling for 5 steps, then every 32 s. */
function retryDelayMs(attempt: number): number {
  return attempt < 5 ? 2000 * 2 ** attempt : 32_000;
}

/** Keeps one certificate fresh. */
export class CertificateManager implements Disposable {
  readonly #o: CertificateManagerOptions;
  readonly #clock: Clock;
  #current: CurrentCertificate;
  #deadline = 0;
  #timer: ClockTimer | undefined;
  #listeners = new Set<(c: CurrentCertificate, previous: CurrentCertificate) => void>();
  #rotating: Promise<boolean> | undefined;
  #abort = new AbortController();
  #disposed = false;

  constructor(o: CertificateManagerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#current = describeCertificate(o.initial);
  }

  /** The certificate to use for new connections. */
  current(): CurrentCertificate {
    return this.#current;
  }

  /** When the current certificate is due for rotation (ms since the epoch). */
  deadline(): number {
    return this.#deadline;
  }

  /** Calls `fn` after each rotation with the new and the previous certificate. */
  onRotate(fn: (c: CurrentCertificate, previous: CurrentCertificate) => void): Disposable {
    this.#listeners.add(fn);
    return { dispose: () => { this.#listeners.delete(fn); } };
  }

  /** Schedules rotation of the current certificate. */
  start(): void {
    this.#schedule(0);
  }

  #schedule(attempt: number): void {
    if (this.#disposed) return;
    this.#timer?.dispose();
    let wait: number;
    if (attempt === 0) {
      const c = this.#current;
      this.#deadline = rotationDeadline(c.notBefore, c.notAfter, (this.#o.jitter ?? Math.random)());
      wait = this.#deadline - this.#clock.now();
      log.info('certificate rotation deadline', { certificate: this.#o.name, deadline: new Date(this.#deadline).toISOString(), expiration: new Date(c.notAfter).toISOString(), waitMs: Math.max(0, Math.round(wait)) });
    } else {
      wait = retryDelayMs(attempt - 1);
    }
    this.#wait(wait, () => void this.rotate().then((ok) => this.#schedule(ok ? 0 : attempt + 1)));
  }

  /** Runs `fn` after `ms`, in steps a timer can hold (setTimeout fires at once past about 24.8 days). */
  #wait(ms: number, fn: () => void): void {
    const due = this.#clock.now() + ms;
    const step = (): void => {
      const left = due - this.#clock.now();
      this.#timer = this.#clock.setTimer(() => {
        this.#timer = undefined;
        if (this.#disposed) return;
        if (due - this.#clock.now() > 0) step();
        else fn();
      }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    };
    step();
  }

  /**
   * Requests a new certificate now and swaps it in; resolves false when the attempt failed (the
   * schedule retries). Concurrent calls share one attempt.
   */
  rotate(): Promise<boolean> {
    this.#rotating ??= this.#rotateOnce().finally(() => { this.#rotating = undefined; });
    return this.#rotating;
  }

  async #rotateOnce(): Promise<boolean> {
    if (this.#disposed) return false;
    try {
      const issued = await requestCertificate(this.#o.client(), this.#o.template, {
        ...this.#o.request, generateName: true, signal: this.#abort.signal,
        ...(this.#o.requestedLifetimeSeconds !== undefined ? { expirationSeconds: this.#o.requestedLifetimeSeconds } : {}),
      });
      if (this.#disposed) return false;
      const next = describeCertificate(issued);
      await this.#o.store?.(issued);
      const previous = this.#current;
      this.#current = next;
      log.info('certificate rotated', { certificate: this.#o.name, serial: next.serial, expiration: new Date(next.notAfter).toISOString() });
      for (const fn of this.#listeners) {
        try {
          fn(next, previous);
        } catch (err) {
          log.warn('certificate rotation listener failed', { certificate: this.#o.name, err: (err as Error).message });
        }
      }
      return true;
    } catch (err) {
      if (!this.#disposed) log.warn('certificate rotation failed; retrying', { certificate: this.#o.name, err: (err as Error).message });
      return false;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#abort.abort();
    this.#timer?.dispose();
    this.#timer = undefined;
    this.#listeners.clear();
  }
}
