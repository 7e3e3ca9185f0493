// The entry of a component thread (component_thread.ts): starts the components the main thread
// asks for, stops them newest first on "stop", then lets the thread end. Also answers CPU-profile
// requests, so benchmarks can see where the thread's time goes.

import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { startCpuProfile, type CpuProfile } from '../base/cpu_profile.ts';
import type { Disposable } from '../base/disposable.ts';
import type { ControllerManagerOptions } from '../controllers/manager.ts';
import type { StartSchedulerOptions } from '../scheduler/wiring/start_scheduler.ts';

/** A component and its (structured-clonable) settings. */
export type ComponentSpec =
  | { readonly kind: 'scheduler'; readonly options: Omit<StartSchedulerOptions, 'client' | 'clock'> }
  | { readonly kind: 'controller-manager'; readonly options: Omit<ControllerManagerOptions, 'client' | 'clock'> };

/** Messages from the main thread; each with an id is answered by a done or error message. */
export type ToWorker =
  | { readonly type: 'start'; readonly id: number; readonly spec: ComponentSpec }
  | { readonly type: 'stop'; readonly id: number }
  | { readonly type: 'profile'; readonly id: number; readonly action: 'start' | 'stop'; readonly path?: string };

/** Messages to the main thread. */
export type FromWorker =
  | { readonly type: 'tid'; readonly tid: number }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

// Loaded at once, while the main thread still prepares the API server, not on the first start.
const modules = Promise.all([import('../scheduler/wiring/start_scheduler.ts'), import('../controllers/manager.ts')]);
// A load failure surfaces as the first start's error, not as an unhandled rejection.
modules.catch(() => undefined);

async function startComponent(spec: ComponentSpec): Promise<Disposable> {
  const [{ startScheduler }, { startControllerManager }] = await modules;
  if (spec.kind === 'scheduler') return startScheduler(spec.options);
  if (spec.kind === 'controller-manager') return startControllerManager(spec.options);
  throw new Error(`unknown component ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
}

/** This thread's Linux thread id (0 where /proc is not there). */
function threadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return 0;
  }
}

if (parentPort !== null) {
  const port = parentPort;
  const running: Disposable[] = [];
  let profiler: { profile: CpuProfile; path: string } | undefined;
  let stopping = false;
  const reply = (m: FromWorker): void => port.postMessage(m);
  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.type) {
      case 'start': {
        if (stopping) throw new Error('the component thread is stopping');
        running.push(await startComponent(m.spec));
        return;
      }
      case 'stop': {
        stopping = true;
        for (const d of running.reverse()) await d.dispose();
        running.length = 0;
        return;
      }
      case 'profile': {
        if (m.action === 'start') {
          if (profiler !== undefined || m.path === undefined) throw new Error('a profile is running, or no path was given');
          profiler = { profile: await startCpuProfile(), path: m.path };
          return;
        }
        if (profiler === undefined) throw new Error('no profile is running');
        const { profile, path } = profiler;
        profiler = undefined;
        await profile.stop(path);
        return;
      }
    }
  };
  // One message at a time, so a stop never overtakes a start still in progress.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    queue = queue.then(() => handle(m)).then(
      () => {
        reply({ type: 'done', id: m.id });
        if (m.type === 'stop') {
          port.close();
          // Whatever a component left behind (a stray timer) must not keep the thread alive.
          setTimeout(() => process.exit(0), 1000).unref();
        }
      },
      (err: unknown) => reply({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  reply({ type: 'tid', tid: threadId() });
}
