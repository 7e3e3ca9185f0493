// The pod lifecycle event generator (upstream's generic PLEG): containerd 1.6 streams no container
// events over CRI, so the runtime is listed every second and each pod whose sandboxes or containers
// changed state is handed to its worker. It also reports every pod UID the runtime holds.
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import type { RuntimeService } from './cri/types.ts';
import { POD_UID_LABEL } from './labels.ts';

const log = logger('pleg');

/** Options of Pleg. */
export interface PlegOptions {
  readonly runtime: RuntimeService;
  /** A pod's runtime state changed. */
  readonly onChange: (uid: string) => void;
  readonly clock?: Clock;
  /** Relist period (default 1 s). */
  readonly periodMs?: number;
}

/** Polls the runtime and reports changed pods. */
export class Pleg implements Disposable {
  readonly #o: PlegOptions;
  readonly #clock: Clock;
  #last = new Map<string, string>();
  #timer: ClockTimer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #healthyAt = 0;

  constructor(opts: PlegOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
  }

  /** UIDs the runtime held at the last relist. */
  uids(): string[] {
    return [...this.#last.keys()];
  }

  /** When the last relist succeeded (ms). */
  get healthyAt(): number {
    return this.#healthyAt;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#running = this.relist().catch((err: unknown) => {
        log.warn('relisting the runtime failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        this.#running = undefined;
        this.#schedule(this.#o.periodMs ?? 1000);
      });
    }, ms);
  }

  /** One relist. */
  async relist(): Promise<void> {
    const [sandboxes, containers] = await Promise.all([this.#o.runtime.listPodSandbox(), this.#o.runtime.listContainers()]);
    const parts = new Map<string, string[]>();
    const add = (uid: string | undefined, s: string): void => {
      if (!uid) return;
      let p = parts.get(uid);
      if (!p) parts.set(uid, (p = []));
      p.push(s);
    };
    for (const sb of sandboxes) add(sb.labels[POD_UID_LABEL], `s:${sb.id}:${sb.state}`);
    for (const c of containers) add(c.labels[POD_UID_LABEL], `c:${c.id}:${c.state}`);
    const next = new Map<string, string>();
    for (const [uid, p] of parts) next.set(uid, p.sort().join(','));
    const changed: string[] = [];
    for (const [uid, sig] of next) if (this.#last.get(uid) !== sig) changed.push(uid);
    for (const uid of this.#last.keys()) if (!next.has(uid)) changed.push(uid);
    this.#last = next;
    this.#healthyAt = this.#clock.now();
    for (const uid of changed) this.#o.onChange(uid);
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    await this.#running;
  }
}
