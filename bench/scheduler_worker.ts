// One component of the scheduler benchmark run in a worker thread (`--threads`): the scheduler or
// the simulated nodes, talking to the API server in the main thread over HTTPS as they would from
// another process. Started with workerData, answers "ready", stops on "stop".

import { parentPort, workerData } from 'node:worker_threads';
import type { Disposable } from '../src/base/disposable.ts';
import { startScheduler } from '../src/scheduler/wiring/start_scheduler.ts';
import { startSimNodes, type SimNodesOptions } from '../src/sim/sim_nodes.ts';
import { defaultStages, StageKind } from '../src/sim/stage.ts';

/** What the main thread sends. */
export type WorkerJob =
  | { readonly kind: 'scheduler'; readonly kubeconfig: string }
  | { readonly kind: 'sim'; readonly kubeconfig: string; readonly simPods: boolean; readonly options: Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'stages' | 'clock'> };

async function start(job: WorkerJob): Promise<Disposable> {
  if (job.kind === 'scheduler') {
    const sched = await startScheduler({ kubeconfig: job.kubeconfig, leaderElection: false, identity: 'bench-scheduler' });
    await sched.started;
    return sched;
  }
  const stages = job.simPods ? defaultStages() : defaultStages().filter((st) => st.kind === StageKind.Node);
  return startSimNodes({ ...job.options, kubeconfig: job.kubeconfig, stages });
}

if (parentPort !== null) {
  const port = parentPort;
  try {
    const running = await start(workerData as WorkerJob);
    port.on('message', (m) => {
      if (m !== 'stop') return;
      void Promise.resolve(running.dispose()).finally(() => {
        port.postMessage('stopped');
        port.close();
      });
    });
    port.postMessage('ready');
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
    port.close();
  }
}
