// A work queue that can add an item later (client-go util/workqueue delaying_queue.go): waiting
// items sit in a min-heap by ready time behind one clock timer; adding an item that already waits
// keeps the earlier of the two times.
import { realClock, type Clock, type ClockTimer } from './clock.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/** Options of a delaying queue. */
export interface DelayingQueueOptions extends WorkQueueOptions {
  readonly clock?: Clock;
}

interface Waiting<T> {
  readonly item: T;
  readonly readyAt: number;
  readonly seq: number;
  stale: boolean;
}

/** WorkQueue plus addAfter(). */
export class DelayingQueue<T> extends WorkQueue<T> {
  protected readonly clock: Clock;
  #heap: Waiting<T>[] = [];
  #waiting = new Map<T, Waiting<T>>();
  #seq = 0;
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;

  constructor(opts: DelayingQueueOptions = {}) {
    super(opts);
    this.clock = opts.clock ?? realClock;
  }

  /** Adds `item` after `delayMs` (at once when <= 0). */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (!(delayMs > 0)) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const cur = this.#waiting.get(item);
    if (cur && cur.readyAt <= readyAt) return;
    if (cur) cur.stale = true;
    const entry: Waiting<T> = { item, readyAt, seq: this.#seq++, stale: false };
    this.#waiting.set(item, entry);
    this.#push(entry);
    this.#arm();
  }

  /** Items waiting for their time (not yet in the queue). */
  waitingLen(): number {
    return this.#waiting.size;
  }

  protected override onShutDown(): void {
    this.#timer?.dispose();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#heap = [];
    this.#waiting.clear();
  }

  #arm(): void {
    this.#dropStale();
    const top = this.#heap[0];
    if (!top) return;
    if (this.#timer && this.#timerAt <= top.readyAt) return;
    this.#timer?.dispose();
    this.#timerAt = top.readyAt;
    this.#timer = this.clock.setTimer(() => this.#fire(), top.readyAt - this.clock.now());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      this.#dropStale();
      const top = this.#heap[0];
      if (!top || top.readyAt > now) break;
      this.#pop();
      this.#waiting.delete(top.item);
      this.add(top.item);
    }
    this.#arm();
  }

  #dropStale(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.stale) this.#pop();
  }

  #less(a: Waiting<T>, b: Waiting<T>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #push(e: Waiting<T>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Waiting<T> | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
