// Threads of the scheduler benchmark besides the API server's and the scheduler's: the load
// generator (the "client" that creates pods and watches them bound, as kubectl or a test would from
// another process) and, with --threads, the simulated nodes. Started with workerData, answers
// { ready, tid }; then each command is answered in turn: run a phase, mark the measured phase
// (profiling it when asked), stop.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { parentPort, workerData } from 'node:worker_threads';
import type { Disposable } from '../src/base/disposable.ts';
import { startSimNodes, type SimNodesOptions } from '../src/sim/sim_nodes.ts';
import { defaultStages, StageKind } from '../src/sim/stage.ts';
import { PodLoad, workloadNamed, type PhaseResult } from './scheduler_workloads.ts';

/** What the main thread starts. */
export type WorkerJob =
  | { readonly kind: 'sim'; readonly kubeconfig: string; readonly simPods: boolean; readonly options: Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'stages' | 'clock'> }
  | { readonly kind: 'client'; readonly kubeconfig: string; readonly workload: string; readonly sizes: { nodes?: number; initPods?: number; measurePods?: number }; readonly concurrency: number };

/** Commands after "ready", each answered with a WorkerReply. */
export type WorkerCommand =
  | { readonly cmd: 'stop' }
  | { readonly cmd: 'mark'; readonly cpuProf?: string }
  | { readonly cmd: 'markEnd' }
  | { readonly cmd: 'run'; readonly phase: 'init' | 'measure'; readonly timeoutMs: number };

/** The answer to a command: a phase's result for run, nothing otherwise. */
export interface WorkerReply {
  readonly result?: PhaseResult;
  readonly error?: string;
}

/** CPU time in ms of every thread of this process by Linux thread id (10 ms ticks; empty where /proc is missing). */
export function threadCpuTimes(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

async function start(job: WorkerJob): Promise<Disposable & { load?: PodLoad }> {
  if (job.kind === 'client') {
    const load = await PodLoad.start(job.kubeconfig, workloadNamed(job.workload, job.sizes), job.concurrency);
    return { load, dispose: () => load.dispose() };
  }
  const stages = job.simPods ? defaultStages() : defaultStages().filter((st) => st.kind === StageKind.Node);
  return startSimNodes({ ...job.options, kubeconfig: job.kubeconfig, stages });
}

if (parentPort !== null) {
  const port = parentPort;
  try {
    const job = workerData as WorkerJob;
    const running = await start(job);
    let profiler: { session: Session; path: string } | undefined;
    const handle = async (m: WorkerCommand): Promise<WorkerReply> => {
      switch (m.cmd) {
        case 'stop':
          await running.dispose();
          return {};
        case 'run':
          if (running.load === undefined) throw new Error('this worker runs no load');
          return { result: await running.load.run(m.phase, m.timeoutMs) };
        case 'mark':
          if (m.cpuProf !== undefined) {
            const session = new Session();
            session.connect();
            await session.post('Profiler.enable');
            await session.post('Profiler.start');
            profiler = { session, path: `${m.cpuProf}.${job.kind}.cpuprofile` };
          }
          return {};
        case 'markEnd':
          if (profiler !== undefined) {
            const { profile } = await profiler.session.post('Profiler.stop');
            await writeFile(profiler.path, JSON.stringify(profile));
            profiler.session.disconnect();
            profiler = undefined;
          }
          return {};
      }
    };
    port.on('message', (m: WorkerCommand) => {
      handle(m).then(
        (reply) => {
          port.postMessage(reply);
          if (m.cmd === 'stop') port.close();
        },
        (err: unknown) => port.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
    });
    port.postMessage({ ready: true, tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) });
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
    port.close();
  }
}
