// The reflector (client-go tools/cache reflector.go): lists a resource, then watches from the list's
// resourceVersion and feeds every change into a store; re-watches when a watch ends, relists after
// errors (410 Expired included), and paces failures with a jittered exponential backoff.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import {
  ApiStatusError, isConnectionError, isExpiredOrGone, isTooLargeResourceVersion, isTooManyRequests,
} from './api_errors.ts';
import { BackoffManager } from './backoff.ts';
import { realClock, sleep, type Clock } from './clock.ts';
import type { KubeList, KubeObject, ListOptions, WatchOptions } from './resource_client.ts';
import type { WatchStream } from './watch_stream.ts';

const log = logger('reflector');

/** What a reflector lists and watches (a ResourceClient satisfies it). */
export interface ListerWatcher<T> {
  list(opts: ListOptions): Promise<KubeList<T>>;
  watch(opts: WatchOptions): Promise<WatchStream<T>>;
}

/** Where a reflector puts what it sees. */
export interface ReflectorStore<T> {
  /** The complete current state after a (re)list. */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

/** Options of a reflector. */
export interface ReflectorOptions {
  /** For logs, e.g. "pods". */
  readonly name?: string;
  /** Fills apiVersion/kind of objects that lack them (list items usually do). */
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly clock?: Clock;
  /** Page size of paginated lists (client-go: 500). */
  readonly pageSize?: number;
  /** Watches ask the server to end after this many seconds times 1..2 (client-go: 300). */
  readonly minWatchTimeoutSeconds?: number;
  /** Backoff between failed attempts (client-go: 800 ms doubling to 30 s, reset after 2 min). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

/** Lists and watches one resource into a store until disposed. */
export class Reflector<T extends KubeObject> implements Disposable {
  #lw: ListerWatcher<T>;
  #store: ReflectorStore<T>;
  #name: string;
  #apiVersion: string | undefined;
  #kind: string | undefined;
  #clock: Clock;
  #pageSize: number;
  #minWatchTimeout: number;
  #backoff: BackoffManager;
  #abort = new AbortController();
  #watch: WatchStream<T> | undefined;
  #loop: Promise<void> | undefined;
  #lastSyncRV = '';
  #rvUnavailable = false;
  #paginatedResult = false;
  #lastError: unknown;

  constructor(lw: ListerWatcher<T>, store: ReflectorStore<T>, opts: ReflectorOptions = {}) {
    this.#lw = lw;
    this.#store = store;
    this.#name = opts.name ?? 'reflector';
    this.#apiVersion = opts.apiVersion;
    this.#kind = opts.kind;
    this.#clock = opts.clock ?? realClock;
    this.#pageSize = opts.pageSize ?? 500;
    this.#minWatchTimeout = opts.minWatchTimeoutSeconds ?? 300;
    this.#backoff = new BackoffManager({
      initialMs: opts.backoffInitialMs ?? 800, maxMs: opts.backoffMaxMs ?? 30_000, resetMs: 120_000, factor: 2, jitter: 1, clock: this.#clock,
    });
  }

  /** The resourceVersion of the last list or event applied. */
  get lastSyncResourceVersion(): string {
    return this.#lastSyncRV;
  }

  /** The last list or watch failure (for diagnostics). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Starts the list/watch loop (once). */
  run(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#runLoop();
  }

  /** Stops the loop and closes the watch; resolves when the loop has ended. */
  async dispose(): Promise<void> {
    this.#abort.abort(new Error(`${this.#name}: reflector stopped`));
    this.#watch?.stop();
    await this.#loop;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #runLoop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#listAndWatch();
      } catch (err) {
        if (this.#stopped) break;
        this.#lastError = err;
        // A 410 is routine (the watch fell behind the server's history): upstream logs it at V(4).
        if (isExpiredOrGone(err)) log.debug('watch expired, relisting', { reflector: this.#name, err: describe(err) });
        else log.warn('list/watch failed', { reflector: this.#name, err: describe(err) });
      }
      if (this.#stopped) break;
      // As client-go's BackoffUntil: every round, failed or not, waits a (usually short) backoff.
      try {
        await sleep(this.#clock, this.#backoff.next(), this.#abort.signal);
      } catch {
        break;
      }
    }
  }

  /** One list followed by watches until one fails in a way that needs a relist. */
  async #listAndWatch(): Promise<void> {
    await this.#list();
    while (!this.#stopped) {
      let w: WatchStream<T>;
      try {
        w = await this.#lw.watch({
          resourceVersion: this.#lastSyncRV,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.floor(this.#minWatchTimeout * (1 + Math.random())),
          signal: this.#abort.signal,
        });
      } catch (err) {
        if (this.#stopped) return;
        if (isConnectionError(err) || isTooManyRequests(err)) {
          log.debug('watch refused: backing off', { reflector: this.#name, err: describe(err) });
          await sleep(this.#clock, this.#backoff.next(), this.#abort.signal).catch(() => undefined);
          continue;
        }
        if (isExpiredOrGone(err) || isTooLargeResourceVersion(err)) this.#rvUnavailable = isExpiredOrGone(err) || this.#rvUnavailable;
        throw err;
      }
      if (this.#stopped) {
        w.stop();
        return;
      }
      this.#watch = w;
      try {
        await this.#handleWatch(w);
      } finally {
        w.stop();
        this.#watch = undefined;
      }
    }
  }

  /** The resourceVersion to relist at (client-go relistResourceVersion). */
  #relistRV(): string {
    if (this.#rvUnavailable) return '';
    return this.#lastSyncRV === '' ? '0' : this.#lastSyncRV;
  }

  async #list(): Promise<void> {
    let rv = this.#relistRV();
    let list: { items: T[]; resourceVersion: string };
    try {
      list = await this.#listAll(rv);
    } catch (err) {
      if (!(isExpiredOrGone(err) || isTooLargeResourceVersion(err))) throw err;
      // The version we asked for is gone (or not reached): ask for the latest, consistently.
      this.#rvUnavailable = true;
      rv = '';
      list = await this.#listAll(rv);
    }
    this.#rvUnavailable = false;
    for (const item of list.items) this.#fillTypeMeta(item);
    this.#store.replace(list.items, list.resourceVersion);
    this.#lastSyncRV = list.resourceVersion;
  }

  /** Lists every page. RV "0" and non-empty RVs are served whole from the watch cache, as in client-go. */
  async #listAll(rv: string): Promise<{ items: T[]; resourceVersion: string }> {
    const paginate = rv === '' || rv === '0' || this.#paginatedResult;
    const limit = paginate ? this.#pageSize : undefined;
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    let first = true;
    for (;;) {
      let page: KubeList<T>;
      try {
        page = await this.#lw.list({
          ...(cont === undefined ? { resourceVersion: rv } : { continue: cont }),
          ...(limit !== undefined ? { limit } : {}),
          signal: this.#abort.signal,
        });
      } catch (err) {
        if (cont !== undefined && isExpiredOrGone(err)) {
          // The continue token expired mid-list: fall back to one full list (client-go's pager does).
          const full = await this.#lw.list({ resourceVersion: rv, signal: this.#abort.signal });
          return { items: full.items ?? [], resourceVersion: full.metadata?.resourceVersion ?? '' };
        }
        throw err;
      }
      if (first) {
        this.#learnKind(page);
        if (rv === '0' && page.metadata?.continue) this.#paginatedResult = true;
        first = false;
      }
      for (const it of page.items ?? []) items.push(it);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
      if (cont === undefined) return { items, resourceVersion };
    }
  }

  async #handleWatch(w: WatchStream<T>): Promise<void> {
    const start = this.#clock.now();
    let events = 0;
    try {
      for await (const ev of w) {
        if (ev.type === 'ERROR') throw new ApiStatusError(ev.object);
        const obj = ev.object;
        this.#fillTypeMeta(obj);
        switch (ev.type) {
          case 'ADDED': this.#store.add(obj); break;
          case 'MODIFIED': this.#store.update(obj); break;
          case 'DELETED': this.#store.delete(obj); break;
          case 'BOOKMARK': break;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.#lastSyncRV = rv;
        events++;
      }
    } catch (err) {
      if (this.#stopped) return;
      if (err instanceof ApiStatusError) throw err;
      // A broken stream is a watch that ended: re-watch from where we are.
      log.debug('watch stream ended with an error', { reflector: this.#name, err: describe(err) });
    }
    if (!this.#stopped && events === 0 && this.#clock.now() - start < 1000) {
      throw new Error('very short watch: Unexpected watch close - watch lasted less than a second and no items received');
    }
  }

  #learnKind(list: KubeList<T>): void {
    if (this.#apiVersion === undefined && list.apiVersion) this.#apiVersion = list.apiVersion;
    if (this.#kind === undefined && list.kind?.endsWith('List')) this.#kind = list.kind.slice(0, -4);
  }

  #fillTypeMeta(obj: T): void {
    if (obj.apiVersion === undefined && this.#apiVersion !== undefined) obj.apiVersion = this.#apiVersion;
    if (obj.kind === undefined && this.#kind !== undefined) obj.kind = this.#kind;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
