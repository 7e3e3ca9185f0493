// What the runtime knows about one pod (upstream's kubecontainer.PodStatus): its sandboxes and
// containers found through the kubelet's CRI labels, newest first, with exit codes, times, images and
// termination messages. Exited containers never change, so their statuses are cached by ID.
import { readFileSync } from 'node:fs';
import type { ContainerState, ContainerStatus as CriContainerStatus, NamespaceMode, PodSandboxState, StringMap } from './cri/messages.ts';
import { isNotFound, type RuntimeService } from './cri/types.ts';
import {
  CONTAINER_HASH_ANNOTATION, CONTAINER_NAME_LABEL, CONTAINER_RESTART_COUNT_ANNOTATION,
  CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION, CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION,
  CONTAINER_TYPE_ANNOTATION, intAnnotation, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL,
} from './labels.ts';

/** One container of a pod as the runtime reports it; times in ms since the epoch (0: unset). */
export interface RuntimeContainer {
  readonly id: string;
  readonly sandboxId: string;
  readonly name: string;
  readonly state: ContainerState;
  readonly createdAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly exitCode: number;
  readonly reason: string;
  /** The runtime's message, or the termination message the container left. */
  readonly message: string;
  /** Image as the runtime names it, and its resolved reference (imageRef: imageId is empty on containerd 1.6). */
  readonly image: string;
  readonly imageRef: string;
  readonly restartCount: number;
  readonly hash: string;
  /** "init" or "container" (CONTAINER_TYPE_ANNOTATION). */
  readonly type: string;
  readonly annotations: StringMap;
  readonly labels: StringMap;
}

/** One sandbox of a pod. */
export interface RuntimeSandbox {
  readonly id: string;
  readonly attempt: number;
  readonly state: PodSandboxState;
  readonly createdAt: number;
  readonly ips: readonly string[];
  readonly hostNetwork: boolean;
}

/** Everything the runtime has of one pod, newest first. */
export interface PodRuntimeStatus {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly sandboxes: readonly RuntimeSandbox[];
  readonly containers: readonly RuntimeContainer[];
}

/** The newest container of that name, if any. */
export function findContainer(status: PodRuntimeStatus, name: string): RuntimeContainer | undefined {
  return status.containers.find((c) => c.name === name);
}

const nsToMs = (ns: number): number => (ns > 0 ? Math.floor(ns / 1e6) : 0);

/** Bytes and lines of log kept as a fallback termination message (upstream: 2048 bytes, 80 lines). */
const MAX_LOG_MESSAGE_BYTES = 2048;
const MAX_LOG_MESSAGE_LINES = 80;

/** The last lines of a CRI log file, without the CRI prefixes. */
export function tailCriLog(path: string, maxLines = MAX_LOG_MESSAGE_LINES, maxBytes = MAX_LOG_MESSAGE_BYTES): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  const out: string[] = [];
  let partial = '';
  for (const line of text.split('\n')) {
    // "<time> <stream> <P|F> <content>"
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    partial += m[2];
    if (m[1] === 'F') {
      out.push(partial);
      partial = '';
    }
  }
  let msg = out.slice(-maxLines).join('\n');
  if (out.length > 0) msg += '\n';
  if (Buffer.byteLength(msg) > maxBytes) msg = Buffer.from(msg).subarray(-maxBytes).toString('utf8');
  return msg;
}

/** The message of an exited container: its termination-log file, else (policy permitting) its log. */
function terminationMessage(s: CriContainerStatus): string {
  const path = s.annotations[CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION];
  const policy = s.annotations[CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION];
  let message = '';
  if (path) {
    const mount = s.mounts.find((m) => m.containerPath === path);
    if (mount?.hostPath) {
      try {
        message = readFileSync(mount.hostPath, 'utf8').slice(0, 4096);
      } catch (err) {
        message = `Error on reading termination message from logs: ${(err as Error).message}`;
      }
    }
  }
  if (message === '' && policy === 'FallbackToLogsOnError' && s.exitCode !== 0 && s.logPath) message = tailCriLog(s.logPath);
  return message || s.message;
}

function toRuntimeContainer(s: CriContainerStatus, sandboxId: string): RuntimeContainer {
  const exited = s.state === 'CONTAINER_EXITED';
  return {
    id: s.id,
    sandboxId,
    name: s.labels[CONTAINER_NAME_LABEL] ?? s.metadata?.name ?? '',
    state: s.state,
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    exitCode: s.exitCode,
    reason: s.reason,
    message: exited ? terminationMessage(s) : s.message,
    image: s.image?.userSpecifiedImage || s.image?.image || '',
    imageRef: s.imageRef || s.imageId,
    restartCount: intAnnotation(s.annotations, CONTAINER_RESTART_COUNT_ANNOTATION),
    hash: s.annotations[CONTAINER_HASH_ANNOTATION] ?? '',
    type: s.annotations[CONTAINER_TYPE_ANNOTATION] ?? '',
    annotations: s.annotations,
    labels: s.labels,
  };
}

/** Reads pods' runtime state over CRI. */
export class RuntimeStateReader {
  readonly #runtime: RuntimeService;
  /** Exited containers: their status is final. */
  readonly #exited = new Map<string, RuntimeContainer>();

  constructor(runtime: RuntimeService) {
    this.#runtime = runtime;
  }

  /** The runtime state of the pod with this UID. */
  async podStatus(uid: string, name = '', namespace = ''): Promise<PodRuntimeStatus> {
    const selector = { labelSelector: { [POD_UID_LABEL]: uid } };
    const [sandboxList, containerList] = await Promise.all([
      this.#runtime.listPodSandbox(selector),
      this.#runtime.listContainers(selector),
    ]);
    const sandboxes: RuntimeSandbox[] = [];
    for (const sb of sandboxList) {
      let ips: string[] = [];
      let hostNetwork = false;
      let state = sb.state;
      if (sb.state === 'SANDBOX_READY') {
        try {
          const st = (await this.#runtime.podSandboxStatus(sb.id)).status;
          if (st) {
            state = st.state;
            ips = [st.network?.ip ?? '', ...(st.network?.additionalIps ?? []).map((a) => a.ip)].filter((ip) => ip !== '');
            hostNetwork = (st.linux?.namespaces?.options?.network as NamespaceMode | undefined) === 'NODE';
          }
        } catch (err) {
          if (!isNotFound(err)) throw err;
          continue;
        }
      }
      sandboxes.push({ id: sb.id, attempt: sb.metadata?.attempt ?? 0, state, createdAt: nsToMs(sb.createdAt), ips, hostNetwork });
      name ||= sb.labels[POD_NAME_LABEL] ?? '';
      namespace ||= sb.labels[POD_NAMESPACE_LABEL] ?? '';
    }
    sandboxes.sort((a, b) => b.createdAt - a.createdAt);

    const live = new Set(containerList.map((c) => c.id));
    for (const id of this.#exited.keys()) {
      if (!live.has(id) && this.#exited.get(id)?.labels[POD_UID_LABEL] === uid) this.#exited.delete(id);
    }
    const containers = (await Promise.all(containerList.map(async (c): Promise<RuntimeContainer | undefined> => {
      const cached = this.#exited.get(c.id);
      if (cached) return cached;
      let s: CriContainerStatus | undefined;
      try {
        s = (await this.#runtime.containerStatus(c.id)).status;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (!s) return undefined;
      const rc = toRuntimeContainer(s, c.podSandboxId);
      if (rc.state === 'CONTAINER_EXITED') this.#exited.set(c.id, rc);
      return rc;
    }))).filter((c): c is RuntimeContainer => c !== undefined);
    containers.sort((a, b) => b.createdAt - a.createdAt);
    return { uid, name, namespace, sandboxes, containers };
  }

  /** Forgets cached statuses of removed containers. */
  forget(containerId: string): void {
    this.#exited.delete(containerId);
  }
}
