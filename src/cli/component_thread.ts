// Runs control-plane components (the scheduler, the controller manager) in a worker thread of the
// `tkube server` process, so the API server keeps the main thread's core to itself: the components
// reach it only over HTTPS (ARCHITECTURE.md), exactly as they would from processes of their own.

import { Worker } from 'node:worker_threads';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { ComponentSpec, FromWorker, ToWorker } from './component_worker.ts';

export type { ComponentSpec } from './component_worker.ts';

const log = logger('server');

/** A message to the worker before it gets its id. */
type Request = ToWorker extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

/** Options of a component thread. */
export interface ComponentThreadOptions {
  /** For logs, e.g. "control-plane". */
  readonly name: string;
  /** Called once if the thread dies on its own (an uncaught error, or exit) before dispose(). */
  readonly onFailure?: (err: Error) => void;
  /** How long dispose() waits for the components to stop before terminating the thread (default 30 s). */
  readonly stopTimeoutMs?: number;
  /** The worker's entry module (default component_worker.ts; tests give their own). */
  readonly entry?: URL;
}

/** A worker thread hosting components; dispose() stops them (newest first) and ends the thread. */
export interface ComponentThread extends Disposable {
  /** Starts a component in the thread; rejects with the component's start error. */
  start(spec: ComponentSpec): Promise<void>;
  /** The thread's Linux thread id (for per-thread CPU accounting), once known; 0 elsewhere. */
  readonly tid: Promise<number>;
  /** Starts (`path` undefined: stops and writes to the path given at start) a CPU profile of the thread. */
  profile(action: 'start', path: string): Promise<void>;
  profile(action: 'stop'): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The code a worker runs first. The CLI runs TypeScript through tsx's loader, whose hooks are per
 * thread, so the worker registers them before importing its TypeScript entry.
 */
function bootCode(entry: string): string {
  if (!entry.endsWith('.ts')) return `import(${JSON.stringify(entry)})`;
  let tsx: string | undefined;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    tsx = undefined;
  }
  if (tsx === undefined) return `import(${JSON.stringify(entry)})`;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
}

/**
 * Spawns the thread at once (it loads the component modules while the caller carries on); start()
 * each component when its settings are ready.
 */
export function startComponentThread(opts: ComponentThreadOptions): ComponentThread {
  if (typeof opts.name !== 'string' || opts.name === '') throw new Error(`startComponentThread: name must be a non-empty string, got ${JSON.stringify(opts.name)}`);
  const stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  const entry = (opts.entry ?? new URL('./component_worker.ts', import.meta.url)).href;
  const worker = new Worker(bootCode(entry), { eval: true, name: opts.name });
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let resolveTid!: (tid: number) => void;
  const tid = new Promise<number>((r) => { resolveTid = r; });
  let disposing = false;
  let exited = false;
  let failed = false;
  const exit = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      exited = true;
      resolveTid(0);
      const err = new Error(`${opts.name} thread exited (code ${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!disposing) fail(err);
      resolve();
    });
  });
  const fail = (err: Error): void => {
    if (failed || disposing) return;
    failed = true;
    log.error(`${opts.name} thread failed`, { err: err.message });
    opts.onFailure?.(err);
  };
  worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'tid') {
      resolveTid(m.tid);
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.type === 'done') p.resolve();
    else p.reject(new Error(m.message));
  });
  const call = (msg: Request): Promise<void> => {
    if (exited) return Promise.reject(new Error(`${opts.name} thread is not running`));
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id } as ToWorker);
    });
  };

  return {
    tid,
    start: (spec) => call({ type: 'start', spec }),
    profile: (action: 'start' | 'stop', path?: string) => call({ type: 'profile', action, ...(path !== undefined ? { path } : {}) }),
    async dispose() {
      if (disposing) return exit;
      disposing = true;
      if (!exited) {
        const timer = setTimeout(() => {
          log.warn(`${opts.name} thread did not stop in time; terminating it`, { ms: stopTimeoutMs });
          void worker.terminate();
        }, stopTimeoutMs);
        try {
          await call({ type: 'stop' });
        } catch {
          // The thread ended meanwhile; nothing left to stop.
        }
        await exit;
        clearTimeout(timer);
      }
    },
  };
}
