// The contracts of the kubelet's prober (upstream pkg/kubelet/prober and pkg/probe): probe kinds,
// the outcome of one probe run, the cached result per container, and what the pod sync asks of it
// (which running containers failed liveness or startup and must be killed).

/** Which probe of a container (upstream's probeType; String() gives the capitalised name). */
export const ProbeType = { Liveness: 'Liveness', Readiness: 'Readiness', Startup: 'Startup' } as const;
export type ProbeType = (typeof ProbeType)[keyof typeof ProbeType];

/** The outcome of one probe run (upstream pkg/probe Result). */
export const ProbeOutcome = { Success: 'success', Warning: 'warning', Failure: 'failure', Unknown: 'unknown' } as const;
export type ProbeOutcome = (typeof ProbeOutcome)[keyof typeof ProbeOutcome];

/** One probe run: the outcome and its output (the body, the command's output, or why it failed). */
export interface ProbeRun {
  readonly outcome: ProbeOutcome;
  readonly output: string;
  /** The probe could not run at all (a bad port name, the runtime failing): the result is thrown away. */
  readonly error?: Error;
}

/** The cached result of a probe for a container (upstream prober/results.Result). */
export const ProbeResult = { Success: 'Success', Failure: 'Failure', Unknown: 'Unknown' } as const;
export type ProbeResult = (typeof ProbeResult)[keyof typeof ProbeResult];

/** Why a running container must be killed, from its liveness or startup probe (the pod sync's view). */
export interface ContainerHealth {
  /** "liveness" or "startup" when that probe's result for the container is Failure. */
  failure(containerId: string): 'liveness' | 'startup' | undefined;
}

/** Runs a command in a container (CRI ExecSync), as exec probes and hooks need. */
export interface CommandRunner {
  execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }>;
}
