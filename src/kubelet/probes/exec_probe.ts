// The exec probe (upstream pkg/probe/exec with the kubelet's ExecSync runner): the command runs in
// the container through CRI ExecSync with the probe's timeout; exit 0 is success, another code a
// failure with the combined output, a timeout a failure saying so, anything else an error.
import type { Container } from '../../api/types/core_v1.ts';
import { expand } from '../env.ts';
import { CriError, GrpcCode } from '../cri/types.ts';
import { ProbeOutcome, type CommandRunner, type ProbeRun } from './types.ts';

/** Output an exec probe keeps (upstream's maxReadLength, 10 KiB). */
export const MAX_EXEC_OUTPUT = 10 * 1024;

/** The command with $(VAR) expanded from the container's literal env values only (upstream's ExpandContainerCommandOnlyStatic). */
export function expandProbeCommand(command: readonly string[], container: Container): string[] {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) env.set(e.name, e.value ?? '');
  return command.map((arg) => expand(arg, (name) => env.get(name)));
}

/** Runs the command once. */
export async function doExecProbe(runner: CommandRunner, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ProbeRun> {
  try {
    const r = await runner.execSync(containerId, cmd, timeoutSeconds);
    const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, MAX_EXEC_OUTPUT).toString('utf8');
    return { outcome: r.exitCode === 0 ? ProbeOutcome.Success : ProbeOutcome.Failure, output };
  } catch (err) {
    if (err instanceof CriError && err.code === GrpcCode.DeadlineExceeded) {
      return { outcome: ProbeOutcome.Failure, output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    }
    return { outcome: ProbeOutcome.Unknown, output: '', error: err instanceof Error ? err : new Error(String(err)) };
  }
}
