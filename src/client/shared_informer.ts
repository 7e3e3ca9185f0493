// The shared informer (client-go tools/cache shared_informer.go): one reflector per resource feeds an
// indexed cache and any number of handlers (add, update(old, new), delete(obj or tombstone)). The
// cache is updated before handlers run; handlers run synchronously and should only enqueue keys.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock, type ClockTimer } from './clock.ts';
import { Indexer, type Indexers } from './indexer.ts';
import { Lister } from './lister.ts';
import { Reflector, type ListerWatcher, type ReflectorOptions, type ReflectorStore } from './reflector.ts';
import type { KubeObject } from './resource_client.ts';
import { DeletedFinalStateUnknown } from './store.ts';

const log = logger('informer');

/** Smallest resync period honoured (client-go's minimumResyncPeriod). */
const MIN_RESYNC_MS = 1000;

/** Callbacks of one consumer; all optional. */
export interface ResourceEventHandler<T> {
  /** `isInInitialList` is true for objects delivered by the first list (or replayed to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called with old === new-ish copies on resync and relist; compare resourceVersions to skip. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** The final state, or a tombstone when the delete was only noticed by a relist. */
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

/** A registered handler; dispose to remove it. */
export interface HandlerRegistration extends Disposable {
  /** True once this handler has been told about the initial list. */
  hasSynced(): boolean;
  dispose(): void;
}

/** Options of a shared informer. */
export interface SharedInformerOptions<T> extends ReflectorOptions {
  readonly indexers?: Indexers<T>;
  /** Default resync period of handlers added without one; 0 (default) means never. */
  readonly resyncPeriodMs?: number;
  /** Applied to each object before it is cached (e.g. dropping managedFields to save memory). */
  readonly transform?: (obj: T) => T;
}

interface Listener<T> {
  readonly handler: ResourceEventHandler<T>;
  synced: boolean;
  timer: ClockTimer | undefined;
}

/** One list+watch of a resource shared by many handlers. */
export class SharedIndexInformer<T extends KubeObject = KubeObject> implements Disposable {
  readonly indexer: Indexer<T>;
  readonly lister: Lister<T>;
  readonly name: string;
  #reflector: Reflector<T>;
  #listeners = new Set<Listener<T>>();
  #clock: Clock;
  #defaultResyncMs: number;
  #transform: ((obj: T) => T) | undefined;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #started = false;
  #stopped = false;

  constructor(lw: ListerWatcher<T>, opts: SharedInformerOptions<T> = {}) {
    this.name = opts.name ?? 'informer';
    this.indexer = new Indexer<T>(opts.indexers ?? {});
    this.lister = new Lister<T>(this.indexer);
    this.#clock = opts.clock ?? realClock;
    this.#defaultResyncMs = opts.resyncPeriodMs ?? 0;
    this.#transform = opts.transform;
    const sink: ReflectorStore<T> = {
      replace: (items) => this.#onReplace(items),
      add: (obj) => this.#onAddOrUpdate(obj),
      update: (obj) => this.#onAddOrUpdate(obj),
      delete: (obj) => this.#onDelete(obj),
    };
    this.#reflector = new Reflector<T>(lw, sink, opts);
  }

  /** Adds a handler; if the informer already synced, it first gets onAdd for every cached object. */
  addEventHandler(handler: ResourceEventHandler<T>, resyncPeriodMs: number = this.#defaultResyncMs): HandlerRegistration {
    if (this.#stopped) throw new Error(`${this.name}: informer has stopped`);
    const listener: Listener<T> = { handler, synced: false, timer: undefined };
    this.#listeners.add(listener);
    if (this.#synced) {
      for (const obj of this.indexer.list()) call(this.name, () => handler.onAdd?.(obj, true));
      listener.synced = true;
    }
    if (resyncPeriodMs > 0) this.#scheduleResync(listener, Math.max(resyncPeriodMs, MIN_RESYNC_MS));
    return {
      hasSynced: () => listener.synced,
      dispose: () => {
        listener.timer?.dispose();
        this.#listeners.delete(listener);
      },
    };
  }

  /** Adds indexes (allowed before or after start; existing objects are indexed at once). */
  addIndexers(indexers: Indexers<T>): void {
    this.indexer.addIndexers(indexers);
  }

  /** True once the first list has been applied and delivered to handlers. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when synced (never rejects; pair with a timeout, see waitForCacheSync). */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** The resourceVersion of the last list or event applied. */
  get lastSyncResourceVersion(): string {
    return this.#reflector.lastSyncResourceVersion;
  }

  /** Starts listing and watching (idempotent). */
  run(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#reflector.run();
  }

  get started(): boolean {
    return this.#started;
  }

  /** Stops the reflector and every resync timer. */
  async dispose(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const l of this.#listeners) l.timer?.dispose();
    this.#listeners.clear();
    await this.#reflector.dispose();
    // Wake waiters so nobody hangs on an informer that will never sync.
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #onReplace(items: T[]): void {
    const objs = this.#transform ? items.map(this.#transform) : items;
    const previous = new Map<string, T>();
    for (const key of this.indexer.listKeys()) previous.set(key, this.indexer.getByKey(key)!);
    this.indexer.replace(objs);
    const initial = !this.#synced;
    for (const obj of objs) {
      const key = this.indexer.keyOf(obj);
      const old = previous.get(key);
      if (old !== undefined) {
        previous.delete(key);
        this.#notify((h) => h.onUpdate?.(old, obj));
      } else {
        this.#notify((h) => h.onAdd?.(obj, initial));
      }
    }
    for (const [key, old] of previous) {
      const tomb = new DeletedFinalStateUnknown<T>(key, old);
      this.#notify((h) => h.onDelete?.(tomb));
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const l of this.#listeners) l.synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  #onAddOrUpdate(raw: T): void {
    const obj = this.#transform ? this.#transform(raw) : raw;
    const old = this.indexer.add(obj);
    // Plain loops rather than #notify: every watch event of every resource passes here.
    if (old !== undefined) {
      for (const l of this.#listeners) {
        try {
          l.handler.onUpdate?.(old, obj);
        } catch (err) {
          handlerFailed(this.name, err);
        }
      }
    } else {
      for (const l of this.#listeners) {
        try {
          l.handler.onAdd?.(obj, false);
        } catch (err) {
          handlerFailed(this.name, err);
        }
      }
    }
  }

  #onDelete(raw: T): void {
    const obj = this.#transform ? this.#transform(raw) : raw;
    this.indexer.delete(obj);
    for (const l of this.#listeners) {
      try {
        l.handler.onDelete?.(obj);
      } catch (err) {
        handlerFailed(this.name, err);
      }
    }
  }

  #notify(fn: (h: ResourceEventHandler<T>) => void): void {
    for (const l of this.#listeners) call(this.name, () => fn(l.handler));
  }

  #scheduleResync(listener: Listener<T>, periodMs: number): void {
    listener.timer = this.#clock.setTimer(() => {
      if (!this.#listeners.has(listener)) return;
      if (this.#synced) {
        for (const obj of this.indexer.list()) call(this.name, () => listener.handler.onUpdate?.(obj, obj));
      }
      this.#scheduleResync(listener, periodMs);
    }, periodMs);
  }
}

function call(name: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    handlerFailed(name, err);
  }
}

function handlerFailed(name: string, err: unknown): void {
  log.error('event handler failed', { informer: name, err: err instanceof Error ? err.stack ?? err.message : String(err) });
}

/** Waits until every informer has synced; false if `timeoutMs` passes (or `signal` aborts) first. */
export async function waitForCacheSync(
  informers: readonly Pick<SharedIndexInformer<KubeObject>, 'hasSynced' | 'whenSynced' | 'name'>[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (informers.every((i) => i.hasSynced())) return true;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    if (signal) {
      onAbort = () => resolve();
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    await Promise.race([Promise.all(informers.map((i) => i.whenSynced())), gaveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  const pending = informers.filter((i) => !i.hasSynced()).map((i) => i.name);
  if (pending.length > 0) log.warn('caches did not sync in time', { pending, timeoutMs });
  return pending.length === 0;
}
