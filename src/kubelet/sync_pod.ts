// One pass of making the runtime match a pod (upstream's kuberuntime SyncPod and KillPod): compute
// the actions (new sandbox, next init container, containers to start or kill), then run them with
// crash-loop backoff, image pulls and upstream's events. The status is computed afterwards, elsewhere.
import { readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, ObjectReference, Pod, Service } from '../api/types/core_v1.ts';
import { EventType, type EventRecorder } from '../client/events.ts';
import { logger } from '../base/log.ts';
import type { DNSConfig, PodSandboxConfig } from './cri/messages.ts';
import { CriError, isNotFound, type RuntimeService } from './cri/types.ts';
import type { Backoff } from './backoff.ts';
import { formatGoDuration } from './backoff.ts';
import {
  containerConfig, hostsFileContent, podDirs, podSandboxConfig, verifyRunAsNonRoot, type PodDirs,
} from './container_config.ts';
import { EnvError, makeEnvironment, type EnvObjectSource } from './env.ts';
import { ContainerType, hashContainer, intAnnotation, POD_DELETION_GRACE_PERIOD_ANNOTATION, POD_TERMINATION_GRACE_PERIOD_ANNOTATION } from './labels.ts';
import { formatPod, podIPsOf, shouldContainerBeRestarted, type StartFailure } from './pod_status.ts';
import { grpcErrorText, ImageError, type ImageManager } from './pull.ts';
import { runPostStartHook, runPreStopHook, type HookTarget } from './hooks.ts';
import type { ContainerHealth } from './probes/types.ts';
import { findContainer, type PodRuntimeStatus, type RuntimeContainer, type RuntimeStateReader } from './runtime_state.ts';
import { makeMounts } from './volumes/mounts.ts';
import type { MountedVolume, PodVolumes } from './volumes/types.ts';

const log = logger('kubelet');

/** Shortest grace period a container gets (upstream's minimumGracePeriodInSeconds). */
export const MIN_GRACE_SECONDS = 2;

/** A container to stop, and why. */
export interface ContainerToKill {
  readonly id: string;
  readonly name: string;
  readonly container: Container | undefined;
  readonly message: string;
  /** A probe's own terminationGracePeriodSeconds, when a failed liveness/startup probe kills it. */
  readonly graceSeconds?: number;
}

/** What a sync must do (upstream's podActions). */
export interface PodActions {
  killPod: boolean;
  createSandbox: boolean;
  /** The current sandbox (when kept) or the one being replaced. */
  sandboxId: string;
  attempt: number;
  nextInitContainer: Container | undefined;
  containersToStart: Container[];
  containersToKill: ContainerToKill[];
  /** Ephemeral containers never started (they never restart). */
  ephemeralContainersToStart: Container[];
}

function restartOnFailure(pod: Pod): boolean {
  return (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

/** upstream's PodSandboxChanged: whether a (new) sandbox is needed, with which attempt. */
export function podSandboxChanged(pod: Pod, status: PodRuntimeStatus): { create: boolean; attempt: number; sandboxId: string } {
  const sbs = status.sandboxes;
  if (sbs.length === 0) return { create: true, attempt: 0, sandboxId: '' };
  const latest = sbs[0]!;
  const next = { create: true, attempt: latest.attempt + 1, sandboxId: latest.id };
  if (sbs.filter((s) => s.state === 'SANDBOX_READY').length > 1) return next;
  if (latest.state !== 'SANDBOX_READY') return next;
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (latest.hostNetwork !== hostNetwork) return next;
  if (!hostNetwork && latest.ips.length === 0) return next;
  return { create: false, attempt: latest.attempt, sandboxId: latest.id };
}

function isInitFailed(c: RuntimeContainer): boolean {
  return (c.state === 'CONTAINER_EXITED' && c.exitCode !== 0) || c.state === 'CONTAINER_UNKNOWN';
}

/** upstream's findNextInitContainerToRun: the last failed status, the next init container, and whether init is done. */
export function findNextInitContainer(pod: Pod, status: PodRuntimeStatus): { failed: RuntimeContainer | undefined; next: Container | undefined; done: boolean } {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return { failed: undefined, next: undefined, done: true };
  for (const c of pod.spec?.containers ?? []) {
    if (findContainer(status, c.name)?.state === 'CONTAINER_RUNNING') return { failed: undefined, next: undefined, done: true };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = findContainer(status, inits[i]!.name);
    if (s && isInitFailed(s)) return { failed: s, next: inits[i], done: false };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = findContainer(status, inits[i]!.name);
    if (!s) continue;
    if (s.state === 'CONTAINER_RUNNING') return { failed: undefined, next: undefined, done: false };
    if (s.state === 'CONTAINER_EXITED') {
      if (i === inits.length - 1) return { failed: undefined, next: undefined, done: true };
      return { failed: undefined, next: inits[i + 1], done: false };
    }
  }
  return { failed: undefined, next: inits[0], done: false };
}

/** upstream's computePodActions (without sidecars and in-place resize); `health` says which containers failed liveness/startup. */
export function computePodActions(pod: Pod, status: PodRuntimeStatus, health?: ContainerHealth): PodActions {
  const sb = podSandboxChanged(pod, status);
  const actions: PodActions = {
    killPod: sb.create, createSandbox: sb.create, sandboxId: sb.sandboxId, attempt: sb.attempt,
    nextInitContainer: undefined, containersToStart: [], containersToKill: [], ephemeralContainersToStart: [],
  };
  const containers = pod.spec?.containers ?? [];
  if (sb.create) {
    if (!restartOnFailure(pod) && sb.attempt !== 0 && status.containers.length > 0) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart = containers.filter((c) => !(pod.spec?.restartPolicy === 'OnFailure' && succeeded(c, status)));
    if (toStart.length === 0 && findNextInitContainer(pod, status).done) {
      actions.createSandbox = false;
      return actions;
    }
    if ((pod.spec?.initContainers ?? []).length > 0) {
      actions.nextInitContainer = pod.spec!.initContainers![0];
      return actions;
    }
    actions.containersToStart = toStart;
    return actions;
  }

  // ephemeral containers start once, even before initialization is complete
  for (const ec of pod.spec?.ephemeralContainers ?? []) {
    if (!findContainer(status, ec.name)) actions.ephemeralContainersToStart.push(ec as Container);
  }

  const init = findNextInitContainer(pod, status);
  if (!init.done) {
    if (init.next) {
      if (init.failed && !restartOnFailure(pod)) {
        actions.killPod = true;
      } else {
        if (init.failed?.state === 'CONTAINER_UNKNOWN') {
          actions.containersToKill.push({ id: init.failed.id, name: init.next.name, container: init.next, message: `Init container is in "Unknown" state, try killing it before restart` });
        }
        actions.nextInitContainer = init.next;
      }
    }
    return actions;
  }

  let keep = 0;
  for (const c of containers) {
    const s = findContainer(status, c.name);
    if (!s || s.state !== 'CONTAINER_RUNNING') {
      if (shouldContainerBeRestarted(c, pod, status)) {
        actions.containersToStart.push(c);
        if (s?.state === 'CONTAINER_UNKNOWN') {
          actions.containersToKill.push({ id: s.id, name: c.name, container: c, message: `Container is in "Unknown" state, try killing it before restart` });
        }
      }
      continue;
    }
    if (s.hash !== '' && s.hash !== hashContainer(c)) {
      // a changed spec (the image, on a running pod) restarts the container whatever the policy
      actions.containersToKill.push({ id: s.id, name: c.name, container: c, message: `Container ${c.name} definition changed, will be restarted` });
      actions.containersToStart.push(c);
      continue;
    }
    const failedProbe = health?.failure(s.id);
    if (failedProbe) {
      const restart = restartOnFailure(pod);
      const probe = failedProbe === 'liveness' ? c.livenessProbe : c.startupProbe;
      const probeGrace = pod.metadata?.deletionGracePeriodSeconds === undefined ? probe?.terminationGracePeriodSeconds : undefined;
      const graceSeconds = probeGrace === undefined ? undefined : Math.max(probeGrace, MIN_GRACE_SECONDS);
      actions.containersToKill.push({
        id: s.id, name: c.name, container: c,
        message: `Container ${c.name} failed ${failedProbe} probe${restart ? ', will be restarted' : ''}`,
        ...(graceSeconds !== undefined ? { graceSeconds } : {}),
      });
      if (restart) actions.containersToStart.push(c);
      continue;
    }
    keep++;
  }
  if (keep === 0 && actions.containersToStart.length === 0) actions.killPod = true;
  return actions;
}

function succeeded(c: Container, status: PodRuntimeStatus): boolean {
  const s = findContainer(status, c.name);
  return s !== undefined && s.state === 'CONTAINER_EXITED' && s.exitCode === 0;
}

/** The ObjectReference events about a pod, or one of its containers, point at. */
export function podRef(pod: Pod, container?: Container): ObjectReference {
  const md = pod.metadata ?? {};
  const ref: ObjectReference = { kind: 'Pod', apiVersion: 'v1', name: md.name ?? '', namespace: md.namespace ?? '', uid: md.uid ?? '' };
  if (md.resourceVersion) ref.resourceVersion = md.resourceVersion;
  if (container) {
    const isInit = (pod.spec?.initContainers ?? []).some((c) => c.name === container.name);
    ref.fieldPath = isInit ? `spec.initContainers{${container.name}}` : `spec.containers{${container.name}}`;
  }
  return ref;
}

/** The grace period to stop a pod's containers with. */
export function podGracePeriodSeconds(pod: Pod): number {
  const g = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionGracePeriodSeconds !== undefined
    ? pod.metadata.deletionGracePeriodSeconds
    : pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(g, MIN_GRACE_SECONDS);
}

/** The backoff key of a container (upstream's getStableKey). */
export function crashBackoffKey(pod: Pod, container: Container): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}_${pod.metadata?.uid ?? ''}_${container.name}_${hashContainer(container)}`;
}

/** The next restart count of a container with no runtime record: one past the newest log file. */
function restartCountFromLogs(dirs: PodDirs, name: string): number {
  try {
    let max = -1;
    for (const f of readdirSync(join(dirs.logDir, name))) {
      const m = /^(\d+)\.log$/.exec(f);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max + 1;
  } catch {
    return 0;
  }
}

/** What a sync needs from the rest of the kubelet. */
export interface SyncContext {
  readonly runtime: RuntimeService;
  readonly images: ImageManager;
  readonly state: RuntimeStateReader;
  readonly recorder: EventRecorder;
  readonly crashBackoff: Backoff;
  /** Last start failure per pod UID and container name (the reason cache). */
  readonly failures: Map<string, Map<string, StartFailure>>;
  /** The kubelet's root (DATA/agent/kubelet). */
  readonly root: string;
  readonly clusterDomain: string;
  /** The pod's DNS config (and any warning events recorded on the way). */
  dnsConfig(pod: Pod): DNSConfig;
  hostIPs(): string[];
  services(): Service[];
  nodeAllocatable(): Record<string, string>;
  readonly objects?: EnvObjectSource;
  readonly memoryCapacity: number;
  /** The pod's volumes, set up before its sandbox and containers start (none: no volume support). */
  readonly volumes?: PodVolumes;
  /** Liveness/startup probe results: failed containers are killed and restarted per policy. */
  readonly health?: ContainerHealth;
  /** Aborted when the kubelet stops: hooks and their grace waits end (CRI calls end through the runtime). */
  readonly signal?: AbortSignal;
}

/** The outcome of a sync. */
export interface SyncResult {
  /** The runtime state after the sync. */
  readonly runtime: PodRuntimeStatus;
  /** Sync again after this long (a backoff running out, an error to retry). */
  readonly requeueAfterMs?: number;
}

function setFailure(ctx: SyncContext, pod: Pod, name: string, f: StartFailure | undefined): void {
  const uid = pod.metadata?.uid ?? '';
  let m = ctx.failures.get(uid);
  if (!f) {
    m?.delete(name);
    return;
  }
  if (!m) ctx.failures.set(uid, (m = new Map()));
  m.set(name, f);
}

/** The target of a hook run in the container `id` of the pod. */
function hookTarget(ctx: SyncContext, pod: Pod, container: Container, id: string, podIPs?: readonly string[]): HookTarget {
  return {
    pod, container, containerId: id, podRef: podRef(pod), containerRef: podRef(pod, container),
    podIP: async () => podIPs?.[0] ?? podIPsOf(pod, await ctx.state.podStatus(pod.metadata?.uid ?? ''), ctx.hostIPs())[0],
  };
}

/** Stops one container with a grace period, recording Killing; its preStop hook runs first, within the grace period. */
export async function killContainer(ctx: SyncContext, pod: Pod | undefined, id: string, container: Container | undefined, message: string, graceSeconds: number): Promise<void> {
  if (pod && container) ctx.recorder.event(podRef(pod, container), EventType.Normal, 'Killing', message || `Stopping container ${container.name}`);
  if (pod && container?.lifecycle?.preStop && graceSeconds > 0) {
    graceSeconds = Math.max(graceSeconds - await runPreStopHook(ctx, hookTarget(ctx, pod, container, id), graceSeconds), MIN_GRACE_SECONDS);
  }
  try {
    await ctx.runtime.stopContainer(id, graceSeconds);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Stops every running container (in parallel, each with the grace period) and then the sandboxes. */
export async function killPod(ctx: SyncContext, pod: Pod | undefined, status: PodRuntimeStatus, graceOverrideSeconds?: number): Promise<void> {
  const specs = new Map([...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c) => [c.name, c]));
  const running = status.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN' || c.state === 'CONTAINER_CREATED');
  await Promise.all(running.map((c) => {
    let grace = graceOverrideSeconds;
    if (grace === undefined) {
      grace = pod
        ? podGracePeriodSeconds(pod)
        : Math.max(intAnnotation(c.annotations, POD_DELETION_GRACE_PERIOD_ANNOTATION, intAnnotation(c.annotations, POD_TERMINATION_GRACE_PERIOD_ANNOTATION, 30)), MIN_GRACE_SECONDS);
    }
    const spec = specs.get(c.name);
    return killContainer(ctx, pod, c.id, spec, spec ? `Stopping container ${spec.name}` : '', grace);
  }));
  for (const sb of status.sandboxes) {
    if (sb.state !== 'SANDBOX_READY') continue;
    try {
      await ctx.runtime.stopPodSandbox(sb.id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Makes the runtime match the pod's spec once. */
export async function syncPod(ctx: SyncContext, pod: Pod): Promise<SyncResult> {
  const uid = pod.metadata?.uid ?? '';
  let status = await ctx.state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
  // as upstream: nothing is created or killed until every volume is mounted (the pod stays ContainerCreating)
  let volumes: ReadonlyMap<string, MountedVolume> = new Map();
  if (ctx.volumes) {
    const mounted = await ctx.volumes.mountPod(pod);
    if (!mounted.ok) return { runtime: status, requeueAfterMs: mounted.retryAfterMs };
    volumes = mounted.volumes;
  }
  const actions = computePodActions(pod, status, ctx.health);
  const dirs = podDirs(ctx.root, pod);
  let requeueAt = Infinity;
  const requeue = (ms: number): void => { requeueAt = Math.min(requeueAt, ms); };
  let changed = false;

  if (actions.killPod) {
    if (actions.createSandbox && actions.sandboxId !== '') {
      ctx.recorder.event(podRef(pod), EventType.Normal, 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    }
    await killPod(ctx, pod, status);
    changed = true;
    if (actions.createSandbox) {
      // a new sandbox runs the init containers again
      const inits = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
      for (const c of status.containers) {
        if (!inits.has(c.name)) continue;
        try {
          await ctx.runtime.removeContainer(c.id);
          ctx.state.forget(c.id);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  } else {
    for (const k of actions.containersToKill) {
      await killContainer(ctx, pod, k.id, k.container, k.message, k.graceSeconds ?? podGracePeriodSeconds(pod));
      changed = true;
    }
  }

  let sandboxId = actions.sandboxId;
  let podIPs = podIPsOf(pod, status, ctx.hostIPs());
  let sandboxConfig: PodSandboxConfig | undefined;
  const makeSandboxConfig = (): PodSandboxConfig => (sandboxConfig ??= podSandboxConfig(pod, actions.attempt, { logDir: dirs.logDir, dns: ctx.dnsConfig(pod) }));

  if (actions.createSandbox) {
    try {
      await mkdir(dirs.logDir, { recursive: true, mode: 0o755 });
      await mkdir(dirs.podDir, { recursive: true, mode: 0o750 });
      sandboxId = await ctx.runtime.runPodSandbox(makeSandboxConfig());
      changed = true;
    } catch (err) {
      const message = `Failed to create pod sandbox: ${grpcErrorText(err)}`;
      ctx.recorder.event(podRef(pod), EventType.Warning, 'FailedCreatePodSandBox', message);
      log.warn('creating the pod sandbox failed', { pod: formatPod(pod), err: grpcErrorText(err) });
      return { runtime: await ctx.state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace), requeueAfterMs: 5000 };
    }
    // only the new sandbox's IPs are needed now; the full state is read again after the starts
    if (pod.spec?.hostNetwork) {
      podIPs = ctx.hostIPs();
    } else {
      const net = (await ctx.runtime.podSandboxStatus(sandboxId)).status?.network;
      podIPs = [net?.ip ?? '', ...(net?.additionalIps ?? []).map((a) => a.ip)].filter((ip) => ip !== '');
    }
  }

  const needsStart = actions.nextInitContainer !== undefined || actions.containersToStart.length > 0 || actions.ephemeralContainersToStart.length > 0;
  if (needsStart && sandboxId !== '') {
    let hostsFile: string | undefined;
    if (podIPs.length > 0) {
      hostsFile = join(dirs.podDir, 'etc-hosts');
      await mkdir(dirs.podDir, { recursive: true, mode: 0o750 });
      await writeFile(hostsFile, hostsFileContent(pod, podIPs, { clusterDomain: ctx.clusterDomain }), { mode: 0o644 });
    }
    const start = async (c: Container, type: ContainerType): Promise<boolean> => {
      const r = await startContainer(ctx, pod, c, type, { status, sandboxId, sandboxConfig: makeSandboxConfig(), podIPs, dirs, hostsFile, volumes });
      if (r.requeueAt !== undefined) requeue(r.requeueAt);
      if (r.started) changed = true;
      return r.started;
    };
    for (const ec of actions.ephemeralContainersToStart) {
      // a target container shares its process namespace with the debugger (getTargetID)
      const target = (ec as { targetContainerName?: string }).targetContainerName;
      const t = target ? findContainer(status, target) : undefined;
      if (target && t?.state !== 'CONTAINER_RUNNING') {
        setFailure(ctx, pod, ec.name, { reason: 'CreateContainerConfigError', message: `unable to find target container ${target}` });
        continue;
      }
      const r = await startContainer(ctx, pod, ec, ContainerType.Ephemeral, { status, sandboxId, sandboxConfig: makeSandboxConfig(), podIPs, dirs, hostsFile, volumes, ...(t ? { targetContainerId: t.id } : {}) });
      if (r.started) changed = true;
    }
    if (actions.nextInitContainer) {
      await start(actions.nextInitContainer, ContainerType.Init);
    } else {
      for (const c of actions.containersToStart) await start(c, ContainerType.Container);
    }
  }
  if (changed) status = await ctx.state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
  const now = ctx.crashBackoff.now();
  return requeueAt === Infinity ? { runtime: status } : { runtime: status, requeueAfterMs: Math.max(requeueAt - now, 100) };
}

interface StartInput {
  readonly status: PodRuntimeStatus;
  readonly sandboxId: string;
  readonly sandboxConfig: PodSandboxConfig;
  readonly podIPs: readonly string[];
  readonly dirs: PodDirs;
  readonly hostsFile: string | undefined;
  readonly volumes?: ReadonlyMap<string, MountedVolume>;
  /** The container whose PID namespace an ephemeral container joins. */
  readonly targetContainerId?: string;
}

/** The runtime's own words of a CRI failure (gRPC status.Message). */
function criMessage(err: unknown): string {
  return err instanceof CriError ? err.details : err instanceof Error ? err.message : String(err);
}

/** Starts one container (upstream's startContainer, with doBackOff before it). */
async function startContainer(ctx: SyncContext, pod: Pod, c: Container, type: ContainerType, input: StartInput): Promise<{ started: boolean; requeueAt?: number }> {
  const ref = podRef(pod, c);
  const fail = (reason: string, message: string): void => {
    setFailure(ctx, pod, c.name, { reason, message });
    ctx.recorder.event(ref, EventType.Warning, 'Failed', `Error: ${message}`);
  };
  // crash-loop backoff, counted from the last exit
  const latest = findContainer(input.status, c.name);
  if (latest && latest.state === 'CONTAINER_EXITED') {
    const key = crashBackoffKey(pod, c);
    const finished = latest.finishedAt || latest.createdAt;
    if (ctx.crashBackoff.isInBackOffSince(key, finished)) {
      ctx.recorder.event(ref, EventType.Warning, 'BackOff', `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`);
      setFailure(ctx, pod, c.name, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${formatGoDuration(ctx.crashBackoff.get(key))} restarting failed container=${c.name} pod=${formatPod(pod)}`,
      });
      return { started: false, requeueAt: ctx.crashBackoff.expiresAt(key, finished) };
    }
    ctx.crashBackoff.next(key, finished);
  }

  const image = await ctx.images.ensureImageExists(pod, c, ref, input.sandboxConfig, ctx.objects);
  if (!image.ok) {
    setFailure(ctx, pod, c.name, { reason: image.reason, message: image.message });
    ctx.recorder.event(ref, EventType.Warning, 'Failed', `Error: ${image.reason}`);
    const retry = image.reason === ImageError.ErrImagePull || image.reason === ImageError.ImagePullBackOff;
    // a missing image under policy Never comes back when someone imports it: look again now and then
    return { started: false, requeueAt: ctx.crashBackoff.now() + (retry ? 10_000 : 20_000) };
  }

  const restartCount = latest ? latest.restartCount + 1 : restartCountFromLogs(input.dirs, c.name);
  let config;
  try {
    const nonRoot = verifyRunAsNonRoot(pod, c, { uid: image.image?.uid?.value, username: image.image?.username });
    if (nonRoot) throw new EnvError(nonRoot);
    const env = await makeEnvironment(pod, c, {
      podIPs: input.podIPs, hostIPs: ctx.hostIPs(), services: ctx.services(), nodeAllocatable: ctx.nodeAllocatable(),
      ...(ctx.objects ? { objects: ctx.objects } : {}),
      warn: (reason, message) => ctx.recorder.event(podRef(pod), EventType.Warning, reason, message),
    });
    config = containerConfig(pod, c, {
      type, restartCount, imageRef: image.imageRef, env, dirs: input.dirs, memoryCapacity: ctx.memoryCapacity,
      volumeMounts: makeMounts(pod, c, input.volumes ?? new Map(), env),
      ...(input.hostsFile ? { hostsFile: input.hostsFile } : {}),
      ...(input.targetContainerId ? { targetContainerId: input.targetContainerId } : {}),
    });
  } catch (err) {
    fail('CreateContainerConfigError', err instanceof Error ? err.message : String(err));
    return { started: false, requeueAt: ctx.crashBackoff.now() + 10_000 };
  }
  let id: string;
  try {
    id = await ctx.runtime.createContainer(input.sandboxId, config, input.sandboxConfig);
  } catch (err) {
    fail('CreateContainerError', criMessage(err));
    return { started: false, requeueAt: ctx.crashBackoff.now() + 10_000 };
  }
  ctx.recorder.event(ref, EventType.Normal, 'Created', `Created container ${c.name}`);
  try {
    await ctx.runtime.startContainer(id);
  } catch (err) {
    fail('RunContainerError', criMessage(err));
    return { started: true, requeueAt: ctx.crashBackoff.now() + 1000 };
  }
  ctx.recorder.event(ref, EventType.Normal, 'Started', `Started container ${c.name}`);
  const hookFailure = await runPostStartHook(ctx, hookTarget(ctx, pod, c, id, input.podIPs));
  if (hookFailure !== undefined) {
    await killContainer(ctx, pod, id, c, 'FailedPostStartHook', podGracePeriodSeconds(pod));
    setFailure(ctx, pod, c.name, { reason: 'PostStartHookError', message: hookFailure });
    return { started: true };
  }
  setFailure(ctx, pod, c.name, undefined);
  return { started: true };
}
