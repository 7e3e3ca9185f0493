// A RestClient whose client certificate follows a CertificateManager: after a rotation new
// requests and watches go over connections made with the new certificate, while requests and
// watches already running keep their connection until the old certificate expires (at most
// RETIRE_AFTER_MS later), when it is closed and watchers reconnect with the new one. (Upstream's
// kubelet closes every connection at once; letting them drain is gentler and as safe.)
import type { Clock, ClockTimer } from '../client/clock.ts';
import { realClock } from '../client/clock.ts';
import { RestClient, type Query, type RawReply, type RequestOptions, type RestClientOptions } from '../client/rest_client.ts';
import type { TransportResponse } from '../client/transport.ts';
import type { WatchStream } from '../client/watch_stream.ts';
import type { CertificateManager, CurrentCertificate } from './certificate_manager.ts';

/** Longest an old certificate's connections stay open after a rotation. */
export const RETIRE_AFTER_MS = 10 * 60_000;

/** Options of RotatingRestClient: a RestClient's, without the certificate (it comes from the manager). */
export type RotatingRestClientOptions = Omit<RestClientOptions, 'certPem' | 'keyPem'> & { readonly namespace?: string };

/** A RestClient that sends each new request with the manager's current certificate; disposing it stops the manager. */
export class RotatingRestClient extends RestClient {
  readonly #opts: RotatingRestClientOptions;
  readonly #clock: Clock;
  #inner: RestClient;
  #innerSerial: string;
  #retiring = new Map<RestClient, ClockTimer>();
  #sub: { dispose(): void };
  #manager: CertificateManager;

  constructor(opts: RotatingRestClientOptions, manager: CertificateManager, clock: Clock = realClock) {
    const c = manager.current();
    // The base class's own transport is never used: every call goes to #inner.
    super({ ...opts, certPem: c.certPem, keyPem: c.keyPem });
    this.#opts = opts;
    this.#clock = clock;
    this.#manager = manager;
    this.#inner = this.#make(c);
    this.#innerSerial = c.serial;
    this.#sub = manager.onRotate((next, previous) => this.#swap(next, previous));
  }

  #make(c: CurrentCertificate): RestClient {
    return new RestClient({ ...this.#opts, certPem: c.certPem, keyPem: c.keyPem });
  }

  #swap(next: CurrentCertificate, previous: CurrentCertificate): void {
    if (next.serial === this.#innerSerial) return;
    const old = this.#inner;
    this.#inner = this.#make(next);
    this.#innerSerial = next.serial;
    const timer = this.#clock.setTimer(() => {
      this.#retiring.delete(old);
      void old.dispose();
    }, Math.max(0, Math.min(previous.notAfter - this.#clock.now(), RETIRE_AFTER_MS)));
    this.#retiring.set(old, timer);
  }

  /** The serial number of the certificate new requests use. */
  get certificateSerial(): string {
    return this.#innerSerial;
  }

  /** The manager this client follows. */
  get certificateManager(): CertificateManager {
    return this.#manager;
  }

  override request<T = unknown>(opts: RequestOptions): Promise<T> {
    return this.#inner.request<T>(opts);
  }

  override requestRaw(opts: RequestOptions): Promise<RawReply> {
    return this.#inner.requestRaw(opts);
  }

  override stream(opts: Omit<RequestOptions, 'method' | 'body' | 'contentType'>): Promise<TransportResponse> {
    return this.#inner.stream(opts);
  }

  override watch<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<WatchStream<T>> {
    return this.#inner.watch<T>(path, query, signal);
  }

  override async dispose(): Promise<void> {
    this.#sub.dispose();
    this.#manager.dispose();
    const all = [this.#inner, ...this.#retiring.keys()];
    for (const t of this.#retiring.values()) t.dispose();
    this.#retiring.clear();
    await Promise.all([...all.map((c) => c.dispose()), super.dispose()]);
  }
}
