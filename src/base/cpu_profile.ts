// A V8 CPU profile of the calling thread (main or worker), written as a .cpuprofile file that
// Chrome DevTools and our profile summaries read: for benchmarks and `--cpu-prof` style flags.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** A profile being recorded; stop() writes it to `path`. */
export interface CpuProfile {
  stop(path: string): Promise<void>;
}

/** Starts recording this thread's CPU profile. */
export async function startCpuProfile(): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(path, JSON.stringify(profile));
    },
  };
}
