// The simulated nodes of the controllers benchmark in a worker thread of their own (`--sim-thread`),
// as KWOK runs beside the control plane: they reach the API server over HTTPS like remote kubelets.
// Started with workerData, answers { ready, tid }; then "stop", or profile commands, each answered.

import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { startCpuProfile, type CpuProfile } from '../src/base/cpu_profile.ts';
import { startSimNodes, type SimNodesOptions } from '../src/sim/sim_nodes.ts';

/** What the main thread sends at start. */
export interface SimWorkerJob {
  readonly kubeconfig: string;
  readonly options: Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'clock'>;
}

/** Commands after "ready". */
export type SimWorkerCommand = { readonly cmd: 'stop' } | { readonly cmd: 'profile'; readonly path?: string };

/** Replies: the first one says ready (or the error), every command gets one. */
export interface SimWorkerReply {
  readonly ready?: boolean;
  readonly tid?: number;
  readonly error?: string;
}

if (parentPort !== null) {
  const port = parentPort;
  const job = workerData as SimWorkerJob;
  try {
    const sim = await startSimNodes({ ...job.options, kubeconfig: job.kubeconfig });
    let profiler: { profile: CpuProfile; path: string } | undefined;
    const handle = async (m: SimWorkerCommand): Promise<void> => {
      if (m.cmd === 'stop') {
        await sim.dispose();
        return;
      }
      if (m.path !== undefined) {
        profiler = { profile: await startCpuProfile(), path: m.path };
        return;
      }
      if (profiler === undefined) return;
      const { profile, path } = profiler;
      profiler = undefined;
      await profile.stop(path);
    };
    port.on('message', (m: SimWorkerCommand) => {
      handle(m).then(
        () => {
          port.postMessage({} satisfies SimWorkerReply);
          if (m.cmd === 'stop') port.close();
        },
        (err: unknown) => port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies SimWorkerReply),
      );
    });
    port.postMessage({ ready: true, tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) } satisfies SimWorkerReply);
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies SimWorkerReply);
    port.close();
  }
}
