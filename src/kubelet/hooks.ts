// Container lifecycle hooks (upstream pkg/kubelet/lifecycle/handlers.go and the hook steps of
// kuberuntime_container.go): postStart right after a container starts, preStop before it is stopped
// within its grace period; exec (CRI ExecSync), httpGet (kube-lifecycle/1.32, any answer counts) or sleep.
import type { Container, LifecycleHandler, ObjectReference, Pod } from '../api/types/core_v1.ts';
import { logger } from '../base/log.ts';
import { realClock, sleep, type Clock } from '../client/clock.ts';
import { EventType, type EventRecorder } from '../client/events.ts';
import { formatPod } from './pod_status.ts';
import { httpGet, HttpGetError, newRequestForHttpGet, type ProbeRequest } from './probes/http_probe.ts';
import type { CommandRunner } from './probes/types.ts';
import { CriError } from './cri/types.ts';

const log = logger('kubelet');

/** What hooks need from the kubelet. */
export interface HookDeps {
  readonly runtime: CommandRunner;
  readonly recorder: EventRecorder;
  /** Times sleep actions and the preStop grace period (default: the real clock). */
  readonly clock?: Clock;
  /** Aborted when the kubelet stops: hooks, sleeps and the preStop grace wait end at once. */
  readonly signal?: AbortSignal;
}

/** The container a hook runs for. */
export interface HookTarget {
  readonly pod: Pod;
  readonly container: Container;
  readonly containerId: string;
  /** Events about the pod and about the container. */
  readonly podRef: ObjectReference;
  readonly containerRef: ObjectReference;
  /** The pod's IP, looked up only when an httpGet action names no host. */
  podIP(): Promise<string | undefined>;
}

/** Go's `%v` of a string slice: "[sh -c echo hi]". */
function goSlice(xs: readonly string[]): string {
  return `[${xs.join(' ')}]`;
}

/** The error of a command that exited non-zero, as the CRI client of the kubelet words it. */
function execError(cmd: readonly string[], exitCode: number, stderr: Buffer): string {
  return `command '${cmd.join(' ')}' exited with ${exitCode}: ${stderr.toString('utf8')}`;
}

async function runHttpHandler(deps: HookDeps, t: HookTarget, handler: LifecycleHandler): Promise<void> {
  const action = handler.httpGet!;
  let podIP = action.host ?? '';
  if (podIP === '') {
    const ip = await t.podIP();
    if (!ip) throw new Error('failed to find networking container: the pod has no IP');
    podIP = ip;
  }
  const req = newRequestForHttpGet(action, t.container, podIP, 'lifecycle');
  try {
    // the answer's status does not matter to a hook, only that one came
    await httpGet(req, deps.signal ? { signal: deps.signal } : {});
  } catch (err) {
    if (!(err instanceof HttpGetError) || !err.plainHttpAnswer) throw err;
    // an HTTPS hook answered in plain HTTP: upstream retries it once with http
    const url = new URL(req.url.href);
    url.protocol = 'http:';
    const headers = new Map(req.headers);
    headers.delete('Authorization');
    const plain: ProbeRequest = { url, headers };
    await httpGet(plain, deps.signal ? { signal: deps.signal } : {});
    deps.recorder.event(t.podRef, EventType.Warning, 'LifecycleHTTPFallback', `request to HTTPS lifecycle hook ${url.host} got HTTP response, retry with HTTP succeeded`);
  }
}

/** Runs one handler (upstream's handlerRunner.Run); undefined on success, else the failure message. */
export async function runLifecycleHandler(deps: HookDeps, t: HookTarget, handler: LifecycleHandler): Promise<string | undefined> {
  const where = `for Container ${JSON.stringify(t.container.name)} in Pod ${JSON.stringify(formatPod(t.pod))}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    let error: string;
    let output = '';
    try {
      const r = await deps.runtime.execSync(t.containerId, [...cmd], 0);
      if (r.exitCode === 0) return undefined;
      output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
      error = execError(cmd, r.exitCode, r.stderr);
    } catch (err) {
      error = err instanceof CriError ? `rpc error: code = ${err.code} desc = ${err.details}` : err instanceof Error ? err.message : String(err);
    }
    return `Exec lifecycle hook (${goSlice(cmd)}) ${where} failed - error: ${error}, message: ${JSON.stringify(output)}`;
  }
  if (handler.httpGet) {
    try {
      await runHttpHandler(deps, t, handler);
      return undefined;
    } catch (err) {
      return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (handler.sleep) {
    await sleep(deps.clock ?? realClock, handler.sleep.seconds * 1000, deps.signal);
    return undefined;
  }
  return `Cannot run handler: invalid handler: ${JSON.stringify(handler)}`;
}

/**
 * Runs the container's postStart hook, if any; on failure records FailedPostStartHook (without the
 * message, which may hold secrets) and returns the message for the container's waiting state.
 */
export async function runPostStartHook(deps: HookDeps, t: HookTarget): Promise<string | undefined> {
  const handler = t.container.lifecycle?.postStart;
  if (!handler) return undefined;
  const msg = await runLifecycleHandler(deps, t, handler);
  if (msg === undefined) return undefined;
  log.warn('postStart hook failed', { pod: formatPod(t.pod), container: t.container.name, message: msg });
  deps.recorder.event(t.containerRef, EventType.Warning, 'FailedPostStartHook', 'PostStartHook failed');
  return msg;
}

/**
 * Runs the container's preStop hook for at most `graceSeconds` (it goes on in the background past
 * that, as upstream's goroutine does) and returns the whole seconds it took.
 */
export async function runPreStopHook(deps: HookDeps, t: HookTarget, graceSeconds: number): Promise<number> {
  const handler = t.container.lifecycle?.preStop;
  if (!handler || graceSeconds <= 0) return 0;
  const clock = deps.clock ?? realClock;
  const start = clock.now();
  const hook = runLifecycleHandler(deps, t, handler).then((msg) => {
    if (msg === undefined || deps.signal?.aborted) return;
    log.warn('preStop hook failed', { pod: formatPod(t.pod), container: t.container.name, message: msg });
    deps.recorder.event(t.containerRef, EventType.Warning, 'FailedPreStopHook', 'PreStopHook failed');
  }, (err: unknown) => {
    if (deps.signal?.aborted) return;
    log.warn('preStop hook failed', { pod: formatPod(t.pod), container: t.container.name, err: err instanceof Error ? err.message : String(err) });
  });
  // the grace wait ends with the hook, at its expiry, or when the kubelet stops
  const done = new AbortController();
  const expired = sleep(clock, graceSeconds * 1000, deps.signal ? AbortSignal.any([deps.signal, done.signal]) : done.signal).catch(() => undefined);
  await Promise.race([hook, expired]);
  done.abort();
  return Math.trunc((clock.now() - start) / 1000);
}
