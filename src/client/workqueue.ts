// The work queue controllers hand keys through (client-go util/workqueue queue.go): FIFO, an item
// is queued at most once however often it is added (the dirty set), and never handed to two workers
// at once (the processing set): an item added while being processed is queued again on done().
import type { Disposable } from '../base/disposable.ts';

/** Options shared by the queue flavours. */
export interface WorkQueueOptions {
  /** For logs and metrics. */
  readonly name?: string;
}

/** A de-duplicating FIFO with per-item exclusivity. `T` is usually a string key; undefined is not allowed. */
export class WorkQueue<T> implements Disposable {
  readonly name: string;
  #queue: T[] = [];
  #head = 0;
  #dirty = new Set<T>();
  #processing = new Set<T>();
  #waiters: ((item: T | undefined) => void)[] = [];
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? '';
  }

  /** Marks `item` as needing processing. */
  add(item: T): void {
    if (item === undefined) throw new Error('WorkQueue.add: undefined is not a valid item');
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    this.#queue.push(item);
    this.#dispatch();
  }

  /** Items waiting to be handed out (not counting those being processed). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * The next item, waiting for one if needed; undefined once the queue is shut down and empty.
   * The caller owns the item until it calls done(item).
   */
  get(): Promise<T | undefined> {
    if (this.len() > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends processing of `item`; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    this.#processing.delete(item);
    if (this.#dirty.has(item)) {
      this.#queue.push(item);
      this.#dispatch();
    }
    if (this.#processing.size === 0 && this.#drainWaiters.length > 0) {
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /** Stops accepting items; waiting get() calls resolve undefined once the queue is empty. */
  shutDown(): void {
    this.#shuttingDown = true;
    this.onShutDown();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** shutDown(), then waits until every item handed out has been marked done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** True once shutDown() was called. */
  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** True while `item` is handed out and not yet done. */
  isProcessing(item: T): boolean {
    return this.#processing.has(item);
  }

  dispose(): void {
    this.shutDown();
  }

  /** Hook for subclasses to drop timers on shutdown. */
  protected onShutDown(): void {}

  #take(): T {
    const item = this.#queue[this.#head]!;
    this.#head++;
    // Compact now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#processing.add(item);
    this.#dirty.delete(item);
    return item;
  }

  #dispatch(): void {
    while (this.#waiters.length > 0 && this.len() > 0) {
      const w = this.#waiters.shift()!;
      w(this.#take());
    }
  }
}
