// The API status of a pod from what the runtime reports (upstream's generateAPIPodStatus, getPhase,
// convertToAPIContainerStatuses and status/generate.go): container states with lastState and the
// last start failure (CrashLoopBackOff, ErrImagePull, ...), phase, conditions, IPs. Pure.
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types/core_v1.ts';
import { formatTime } from '../client/clock.ts';
import { findContainer, type PodRuntimeStatus, type RuntimeContainer } from './runtime_state.ts';

/** Why a container's last start failed (the kubelet's reason cache): e.g. CrashLoopBackOff and its message. */
export interface StartFailure {
  readonly reason: string;
  readonly message: string;
}

/** Inputs of generatePodStatus. */
export interface PodStatusInput {
  readonly pod: Pod;
  readonly runtime: PodRuntimeStatus;
  /** Last start failure per container name. */
  readonly failures: ReadonlyMap<string, StartFailure>;
  readonly hostIPs: readonly string[];
  /** The pod is done for good (terminated, or deleted and stopped): phase may be Succeeded/Failed even with restartPolicy Always. */
  readonly podIsTerminal: boolean;
  /** Readiness of a running container (the probe seam, issue 8); default: running means ready. */
  readonly isReady?: (container: Container, status: RuntimeContainer) => boolean;
  /** Whether a running container has started (its startup probe succeeded); default: running means started. */
  readonly isStarted?: (container: Container, status: RuntimeContainer) => boolean;
}

/** Condition types the kubelet owns; others (DisruptionTarget, ...) are kept as they are. */
export const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/** upstream's ShouldContainerBeRestarted. */
export function shouldContainerBeRestarted(container: Container, pod: Pod, runtime: PodRuntimeStatus): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const s = findContainer(runtime, container.name);
  if (!s) return true;
  if (s.state === 'CONTAINER_RUNNING') return false;
  if (s.state === 'CONTAINER_UNKNOWN' || s.state === 'CONTAINER_CREATED') return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' && s.exitCode === 0) return false;
  return true;
}

/** "name_namespace(uid)", the kubelet's format.Pod. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

const CONTAINER_ID_PREFIX = 'containerd://';

function toApiState(c: RuntimeContainer, old: ContainerStatus | undefined): ContainerState {
  const cid = CONTAINER_ID_PREFIX + c.id;
  switch (c.state) {
    case 'CONTAINER_RUNNING':
      return { running: { startedAt: formatTime(c.startedAt || c.createdAt) } };
    case 'CONTAINER_CREATED':
      return { waiting: {} };
    case 'CONTAINER_EXITED':
      return {
        terminated: {
          exitCode: c.exitCode,
          ...(c.reason ? { reason: c.reason } : {}),
          ...(c.message ? { message: c.message } : {}),
          // a container that never started reports the Unix epoch, as upstream's time.Unix(0, 0)
          startedAt: formatTime(c.startedAt),
          finishedAt: formatTime(c.finishedAt),
          containerID: cid,
        },
      };
    default:
      if (old?.state?.running) {
        return { terminated: { reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', exitCode: 137 } };
      }
      return { waiting: {} };
  }
}

function convertStatus(c: RuntimeContainer, spec: Container, old: ContainerStatus | undefined): ContainerStatus {
  const status: ContainerStatus = {
    name: c.name,
    state: toApiState(c, old),
    ready: false,
    restartCount: c.restartCount,
    image: c.image || spec.image || '',
    imageID: c.imageRef,
    containerID: CONTAINER_ID_PREFIX + c.id,
  };
  return status;
}

/** upstream's convertToAPIContainerStatuses, for init containers or regular ones. */
function containerStatuses(input: PodStatusInput, specs: readonly Container[], isInit: boolean, oldList: readonly ContainerStatus[]): ContainerStatus[] {
  const { pod, runtime } = input;
  const old = new Map(oldList.map((s) => [s.name, s]));
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  const statuses = new Map<string, ContainerStatus>();
  for (const spec of specs) {
    let status: ContainerStatus = {
      name: spec.name, image: spec.image ?? '', imageID: '', ready: false, restartCount: 0,
      state: { waiting: { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' } },
    };
    const o = old.get(spec.name);
    if (o) {
      if (o.state?.terminated) status = structuredClone(o);
      else {
        status.restartCount = o.restartCount;
        if (o.lastState) status.lastState = structuredClone(o.lastState);
      }
    }
    statuses.set(spec.name, status);
  }
  // A container that was running and vanished from the runtime did terminate, though we cannot say how.
  for (const spec of specs) {
    if (findContainer(runtime, spec.name)) continue;
    const o = old.get(spec.name);
    if (!o || o.state?.terminated || !o.state?.running) continue;
    const status = statuses.get(spec.name)!;
    status.lastState = {
      terminated: {
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was deleted.  The container used to be Running',
        exitCode: 137,
      },
    };
    if (!pod.metadata?.deletionTimestamp) status.restartCount += 1;
  }
  const seen = new Map<string, number>();
  const specByName = new Map(specs.map((s) => [s.name, s]));
  for (const c of runtime.containers) {
    const spec = specByName.get(c.name);
    if (!spec) continue;
    const n = seen.get(c.name) ?? 0;
    if (n >= 2) continue;
    const converted = convertStatus(c, spec, old.get(c.name));
    if (n === 0) statuses.set(c.name, converted);
    else statuses.get(c.name)!.lastState = converted.state!;
    seen.set(c.name, n + 1);
  }
  // Containers that failed to start, or wait for a restart: their last failure is their state.
  for (const spec of specs) {
    const latest = findContainer(runtime, spec.name);
    if (isInit && latest?.state === 'CONTAINER_EXITED' && latest.exitCode === 0) continue;
    if (!shouldContainerBeRestarted(spec, pod, runtime)) continue;
    const failure = input.failures.get(spec.name);
    if (!failure) continue;
    const status = statuses.get(spec.name)!;
    if (status.state?.terminated) status.lastState = status.state;
    status.state = { waiting: { reason: failure.reason, message: failure.message } };
  }
  // Readiness and started (the probe seam).
  for (const spec of specs) {
    const status = statuses.get(spec.name)!;
    const latest = findContainer(runtime, spec.name);
    const running = status.state?.running !== undefined && latest?.state === 'CONTAINER_RUNNING';
    if (isInit) {
      status.ready = status.state?.terminated !== undefined && status.state.terminated.exitCode === 0;
      status.started = running;
    } else {
      status.started = running && latest !== undefined && (input.isStarted ? input.isStarted(spec, latest) : true);
      status.ready = running && latest !== undefined && (input.isReady ? input.isReady(spec, latest) : true);
    }
  }
  const list = specs.map((s) => statuses.get(s.name)!);
  // upstream orders regular containers by name and init containers in spec order
  if (!isInit) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list;
}

/** upstream's getPhase. */
export function podPhase(pod: Pod, init: readonly ContainerStatus[], regular: readonly ContainerStatus[], podIsTerminal: boolean): string {
  const spec = pod.spec;
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const s of init) {
    if (s.state?.running) pendingInitialization++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) failedInitialization++;
      else pendingInitialization++;
    } else {
      pendingInitialization++;
    }
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of regular) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = spec?.restartPolicy ?? 'Always';
  if (failedInitialization > 0 && policy === 'Never') return 'Failed';
  if (pendingInitialization > 0 && !podIsTerminal) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always' && !podIsTerminal) return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never' || podIsTerminal) return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? 'True' : 'False', ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function containersReadyCondition(pod: Pod, statuses: readonly ContainerStatus[], phase: string): PodCondition {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return condition('ContainersReady', false, 'PodCompleted');
  if (phase === 'Failed') return condition('ContainersReady', false, 'PodFailed');
  const msgs: string[] = [];
  if (unknown.length > 0) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length > 0) msgs.push(`containers with unready status: [${unready.join(' ')}]`);
  if (msgs.length > 0) return condition('ContainersReady', false, 'ContainersNotReady', msgs.join(', '));
  return condition('ContainersReady', true);
}

function initializedCondition(pod: Pod, init: readonly ContainerStatus[], phase: string): PodCondition {
  const specs = pod.spec?.initContainers ?? [];
  if (specs.length === 0) return condition('Initialized', true);
  const byName = new Map(init.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of specs) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return condition('Initialized', false, 'PodCompleted');
  const msgs: string[] = [];
  if (unknown.length > 0) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (incomplete.length > 0) msgs.push(`containers with incomplete status: [${incomplete.join(' ')}]`);
  if (msgs.length > 0) return condition('Initialized', false, 'ContainersNotInitialized', msgs.join(', '));
  return condition('Initialized', true);
}

/** The pod's IPs from its newest ready sandbox (the node's for hostNetwork pods). */
export function podIPsOf(pod: Pod, runtime: PodRuntimeStatus, hostIPs: readonly string[]): string[] {
  if (pod.spec?.hostNetwork) return [...hostIPs];
  const sb = runtime.sandboxes[0];
  return sb && sb.state === 'SANDBOX_READY' ? [...sb.ips] : [];
}

/**
 * The status the kubelet reports (without lastTransitionTime bookkeeping, which the status manager
 * does against what the API server has).
 */
export function generatePodStatus(input: PodStatusInput): PodStatus {
  const { pod, runtime } = input;
  const oldStatus = pod.status ?? {};
  const init = containerStatuses(input, pod.spec?.initContainers ?? [], true, oldStatus.initContainerStatuses ?? []);
  const regular = containerStatuses(input, pod.spec?.containers ?? [], false, oldStatus.containerStatuses ?? []);
  // ephemeral containers have no probes: never ready, and no say in phase or conditions
  const ephemeral = containerStatuses(input, (pod.spec?.ephemeralContainers ?? []) as Container[], false, oldStatus.ephemeralContainerStatuses ?? [])
    .map((s) => { const { started: _started, ...rest } = s; return { ...rest, ready: false }; });
  let phase = podPhase(pod, init, regular, input.podIsTerminal);
  // a pod never leaves a terminal phase
  if (oldStatus.phase === 'Succeeded' || oldStatus.phase === 'Failed') phase = oldStatus.phase;

  const sb = runtime.sandboxes[0];
  const sandboxReady = sb !== undefined && sb.state === 'SANDBOX_READY' && (pod.spec?.hostNetwork === true || sb.ips.length > 0);
  const containersReady = containersReadyCondition(pod, regular, phase);
  const ready: PodCondition = { ...containersReady, type: 'Ready' };
  const conditions: PodCondition[] = [
    ...(oldStatus.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
    condition('PodReadyToStartContainers', sandboxReady),
    initializedCondition(pod, init, phase),
    ready,
    containersReady,
    condition('PodScheduled', true),
  ];
  const podIPs = podIPsOf(pod, runtime, input.hostIPs);
  const status: PodStatus = {
    ...oldStatus,
    phase,
    conditions,
    hostIP: input.hostIPs[0],
    hostIPs: input.hostIPs.map((ip) => ({ ip })),
    containerStatuses: regular,
  };
  if (init.length > 0) status.initContainerStatuses = init;
  else delete status.initContainerStatuses;
  if (ephemeral.length > 0) status.ephemeralContainerStatuses = ephemeral;
  else delete status.ephemeralContainerStatuses;
  if (podIPs.length > 0) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map((ip) => ({ ip }));
  } else if (!oldStatus.podIP) {
    delete status.podIP;
    delete status.podIPs;
  }
  // a pod that stayed terminal keeps why it ended (Evicted, rejected at admission)
  if (phase !== oldStatus.phase || (phase !== 'Failed' && phase !== 'Succeeded')) {
    delete status.reason;
    delete status.message;
  }
  return status;
}
