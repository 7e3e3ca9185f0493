// Runs one probe of a container and says what it means (upstream prober/prober.go): picks the
// handler (exec, httpGet, tcpSocket, grpc), retries a run that errored up to three times, and records
// Unhealthy / ProbeWarning events with upstream's messages.
import type { Container, Pod, Probe } from '../../api/types/core_v1.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import { formatPod } from '../pod_status.ts';
import { podRef } from '../sync_pod.ts';
import { doExecProbe, expandProbeCommand } from './exec_probe.ts';
import { doGrpcProbe } from './grpc_probe.ts';
import { doHttpProbe, newRequestForHttpGet, resolveContainerPort } from './http_probe.ts';
import { doTcpProbe } from './tcp_probe.ts';
import { ProbeOutcome, ProbeResult, ProbeType, type CommandRunner, type ProbeRun } from './types.ts';

/** Attempts of a probe that errored before its result counts as an error (upstream's maxProbeRetries). */
const MAX_PROBE_RETRIES = 3;

/** The probe of that type on a container. */
export function probeSpec(container: Container, type: ProbeType): Probe | undefined {
  switch (type) {
    case ProbeType.Liveness: return container.livenessProbe;
    case ProbeType.Readiness: return container.readinessProbe;
    case ProbeType.Startup: return container.startupProbe;
  }
}

/** What the prober concluded: a result to count, or an error (the run is thrown away). */
export interface ProbeVerdict {
  readonly result: ProbeResult;
  readonly error?: Error;
}

/** Options of Prober. */
export interface ProberOptions {
  readonly runner: CommandRunner;
  readonly recorder: EventRecorder;
  /** Aborted when the kubelet stops: network probes in flight end at once (exec ones end with the runtime's calls). */
  readonly signal?: AbortSignal;
}

/** Probes containers. */
export class Prober {
  readonly #o: ProberOptions;

  constructor(opts: ProberOptions) {
    this.#o = opts;
  }

  /** Probes the container once (with retries of errored runs) and records what upstream records. */
  async probe(type: ProbeType, pod: Pod, podIP: string, container: Container, containerId: string): Promise<ProbeVerdict> {
    const spec = probeSpec(container, type);
    if (!spec) return { result: ProbeResult.Success };
    let run: ProbeRun = { outcome: ProbeOutcome.Unknown, output: '' };
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      run = await this.runProbe(spec, pod, podIP, container, containerId);
      if (!run.error) break;
    }
    const ref = podRef(pod, container);
    if (run.error) {
      this.#o.recorder.event(ref, EventType.Warning, 'Unhealthy', `${type} probe errored and resulted in ${run.outcome} state: ${run.error.message}`);
      return { result: ProbeResult.Failure, error: run.error };
    }
    switch (run.outcome) {
      case ProbeOutcome.Success:
        return { result: ProbeResult.Success };
      case ProbeOutcome.Warning:
        this.#o.recorder.event(ref, EventType.Warning, 'ProbeWarning', `${type} probe warning: ${run.output}`);
        return { result: ProbeResult.Success };
      case ProbeOutcome.Failure:
        this.#o.recorder.event(ref, EventType.Warning, 'Unhealthy', `${type} probe failed: ${run.output}`);
        return { result: ProbeResult.Failure };
      default:
        return { result: ProbeResult.Failure };
    }
  }

  /** One run of the probe's handler. */
  async runProbe(spec: Probe, pod: Pod, podIP: string, container: Container, containerId: string): Promise<ProbeRun> {
    const timeoutSeconds = spec.timeoutSeconds || 1;
    const timeoutMs = timeoutSeconds * 1000;
    const unknown = (err: unknown): ProbeRun => ({ outcome: ProbeOutcome.Unknown, output: '', error: err instanceof Error ? err : new Error(String(err)) });
    if (spec.exec) {
      return doExecProbe(this.#o.runner, containerId, expandProbeCommand(spec.exec.command ?? [], container), timeoutSeconds);
    }
    if (spec.httpGet) {
      let req;
      try {
        req = newRequestForHttpGet(spec.httpGet, container, podIP, 'probe');
      } catch (err) {
        return unknown(err);
      }
      return doHttpProbe(req, timeoutMs, this.#o.signal);
    }
    if (spec.tcpSocket) {
      let port: number;
      try {
        port = resolveContainerPort(spec.tcpSocket.port, container);
      } catch (err) {
        return unknown(err);
      }
      return doTcpProbe(spec.tcpSocket.host || podIP, port, timeoutMs, this.#o.signal);
    }
    if (spec.grpc) {
      return doGrpcProbe(podIP, spec.grpc.port, spec.grpc.service ?? '', timeoutMs, this.#o.signal);
    }
    return unknown(new Error(`missing probe handler for ${formatPod(pod)}:${container.name}`));
  }
}
