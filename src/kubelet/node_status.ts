// The node's registration and status (pkg/kubelet/kubelet_node_status.go and nodestatus setters):
// create the Node with labels and taints, then report capacity, allocatable, addresses, nodeInfo,
// images, daemon endpoints and the four conditions when they change and at least every minute.
import type { Node, NodeCondition, NodeStatus, Taint } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { formatTime, realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { Image, RuntimeCondition } from './cri/messages.ts';
import type { ImageService, RuntimeService } from './cri/types.ts';
import type { MachineInfo } from './machine_info.ts';
import { DEFAULT_EVICTION_HARD, parseThresholds, thresholdValue } from './eviction/thresholds.ts';

const log = logger('node-status');

/** Pods a node runs at most (the kubelet's --max-pods default). */
export const MAX_PODS = 110;
/** Images listed in node status at most (--node-status-max-images). */
const MAX_IMAGES = 50;
/** Status loop period until the node first reports Ready. */
const FAST_UPDATE_MS = 500;

/** Options of NodeStatusReporter. */
export interface NodeStatusOptions {
  readonly client: RestClient;
  readonly runtime: RuntimeService & ImageService;
  readonly nodeName: string;
  /** The Hostname address. */
  readonly hostname: string;
  readonly nodeIP: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  readonly kubeletPort: number;
  readonly kubeletVersion: string;
  readonly machine: MachineInfo;
  /** --max-pods (default 110). */
  readonly maxPods?: number;
  /** --eviction-hard statements, held back from allocatable (default DEFAULT_EVICTION_HARD). */
  readonly evictionHard?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** How often the status is computed (default 10 s). */
  readonly updateMs?: number;
  /** How often it is written even when unchanged (default 60 s). */
  readonly reportMs?: number;
  /** The pressure conditions the eviction manager reports (MemoryPressure, DiskPressure, PIDPressure). */
  readonly pressure?: () => ReadonlySet<string>;
}

/** Quantity text of a byte count in Ki, as cAdvisor-backed kubelets report memory. */
function ki(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/**
 * What the hard eviction thresholds hold back from allocatable (hardEvictionReservation):
 * memory.available from memory, nodefs.available from ephemeral-storage, in bytes.
 */
function hardEvictionReservation(m: MachineInfo, evictionHard: Readonly<Record<string, string>>): { memory: number; storage: number } {
  let memory = 0;
  let storage = 0;
  for (const t of parseThresholds(evictionHard)) {
    if (t.signal === 'memory.available') memory = thresholdValue(t, m.memoryBytes);
    else if (t.signal === 'nodefs.available') storage = thresholdValue(t, m.filesystemBytes);
  }
  return { memory, storage };
}

/** Capacity and allocatable of the machine: allocatable is capacity less the hard eviction thresholds. */
export function nodeResources(m: MachineInfo, maxPods = MAX_PODS, evictionHard: Readonly<Record<string, string>> = DEFAULT_EVICTION_HARD): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const reserved = hardEvictionReservation(m, evictionHard);
  const capacity = {
    cpu: String(m.cpus),
    'ephemeral-storage': ki(m.filesystemBytes),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: ki(m.memoryBytes),
    pods: String(maxPods),
  };
  const allocatable = {
    ...capacity,
    'ephemeral-storage': String(Math.max(m.filesystemBytes - reserved.storage, 0)),
    memory: ki(Math.max(m.memoryBytes - reserved.memory, 0)),
  };
  return { capacity, allocatable };
}

/** The labels every kubelet sets on its Node. */
export function defaultNodeLabels(nodeName: string, architecture: string): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': architecture,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
  };
}

/** "NetworkReady=false reason:NetworkPluginNotReady message:..." as the kubelet prints a runtime condition. */
function runtimeConditionText(c: RuntimeCondition): string {
  return `${c.type}=${c.status} reason:${c.reason} message:${c.message}`;
}

/** Registers the node and keeps its status current. */
export class NodeStatusReporter implements Disposable {
  readonly #o: NodeStatusOptions;
  readonly #nodes: ResourceClient<Node>;
  readonly #clock: Clock;
  #node: Node | undefined;
  #runtimeVersion = '';
  /** The status last written, without heartbeat times. */
  #lastReported = '';
  #lastReportAt = 0;
  /** Until the node has reported Ready, status is recomputed often (upstream's fast status update at startup). */
  #readyReported = false;
  #timer: ClockTimer | undefined;
  #stopped = false;
  #inFlight: Promise<void> | undefined;
  /** Ends API calls in flight on dispose (an API server that does not answer must not hold up a stop). */
  readonly #abort = new AbortController();
  readonly #listeners = new Set<(node: Node) => void>();

  constructor(opts: NodeStatusOptions) {
    this.#o = opts;
    this.#nodes = opts.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    this.#clock = opts.clock ?? realClock;
  }

  /** The Node as last written or read. */
  get node(): Node | undefined {
    return this.#node;
  }

  /** Calls `fn` with every Node the reporter writes or reads. */
  onNode(fn: (node: Node) => void): Disposable {
    this.#listeners.add(fn);
    return { dispose: () => { this.#listeners.delete(fn); } };
  }

  #setNode(n: Node): void {
    this.#node = n;
    for (const fn of this.#listeners) fn(n);
  }

  /** Creates the Node (or adopts the one registered before) and writes its status. */
  async register(): Promise<Node> {
    const o = this.#o;
    if (!this.#runtimeVersion) {
      const v = await o.runtime.version();
      this.#runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    }
    const labels = { ...defaultNodeLabels(o.nodeName, o.machine.architecture), ...o.labels };
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: o.nodeName,
        labels,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
      spec: o.taints && o.taints.length > 0 ? { taints: o.taints.map((t) => ({ ...t })) } : {},
    };
    try {
      this.#setNode(await this.#nodes.create(node, { signal: this.#abort.signal }));
      log.info('registered the node', { node: o.nodeName });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      let existing = await this.#nodes.get(o.nodeName, { signal: this.#abort.signal });
      // the labels the kubelet owns follow the machine; others stay as users set them
      const defaults = defaultNodeLabels(o.nodeName, o.machine.architecture);
      if (Object.entries(defaults).some(([k, v]) => existing.metadata?.labels?.[k] !== v)) {
        existing = await this.#nodes.patch(o.nodeName, 'merge', { metadata: { labels: defaults } }, { signal: this.#abort.signal });
      }
      this.#setNode(existing);
      log.info('node was registered before; adopting it', { node: o.nodeName });
    }
    this.#lastReported = '';
    await this.updateStatus();
    return this.#node!;
  }

  /** Starts the periodic status loop. */
  start(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#inFlight = this.updateStatus().catch((err: unknown) => {
        if (this.#stopped) return;
        log.warn('updating the node status failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
    }, this.#readyReported ? (this.#o.updateMs ?? 10_000) : Math.min(this.#o.updateMs ?? 10_000, FAST_UPDATE_MS));
  }

  /** Computes the status and writes it if it changed or is due. */
  async updateStatus(force = false): Promise<void> {
    if (!this.#node) {
      await this.register();
      return;
    }
    const now = this.#clock.now();
    const status = await this.#computeStatus(now);
    const key = JSON.stringify(status, (k, v: unknown) => (k === 'lastHeartbeatTime' ? undefined : v));
    const due = now - this.#lastReportAt >= (this.#o.reportMs ?? 60_000);
    if (!force && !due && key === this.#lastReported) return;
    try {
      this.#setNode(await this.#nodes.patchStatus(this.#o.nodeName, 'merge', { status }, { signal: this.#abort.signal }));
      this.#readyReported = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      this.#lastReported = key;
      this.#lastReportAt = now;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      log.warn('the node was deleted; registering it again', { node: this.#o.nodeName });
      this.#node = undefined;
      await this.register();
    }
  }

  async #computeStatus(now: number): Promise<NodeStatus> {
    const o = this.#o;
    const ts = formatTime(now);
    const old = new Map((this.#node?.status?.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, ok: boolean, reason: string, message: string): NodeCondition => {
      const status = ok ? 'True' : 'False';
      const prev = old.get(type);
      return {
        type, status, lastHeartbeatTime: ts,
        lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : ts,
        reason, message,
      };
    };
    let notReady: string | undefined;
    try {
      const rs = await o.runtime.status();
      const conds = rs.status?.conditions ?? [];
      const runtimeReady = conds.find((c) => c.type === 'RuntimeReady');
      const networkReady = conds.find((c) => c.type === 'NetworkReady');
      if (!runtimeReady || !runtimeReady.status) notReady = `container runtime is down: ${runtimeReady ? runtimeConditionText(runtimeReady) : 'RuntimeReady missing'}`;
      else if (!networkReady || !networkReady.status) notReady = `container runtime network not ready: ${networkReady ? runtimeConditionText(networkReady) : 'NetworkReady missing'}`;
    } catch (err) {
      notReady = `container runtime status check may not have completed yet: ${err instanceof Error ? err.message : String(err)}`;
    }
    const pressure = o.pressure?.() ?? new Set<string>();
    const conditions: NodeCondition[] = [
      ...(this.#node?.status?.conditions ?? []).filter((c) => !['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].includes(c.type)),
      pressure.has('MemoryPressure')
        ? cond('MemoryPressure', true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available')
        : cond('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      pressure.has('DiskPressure')
        ? cond('DiskPressure', true, 'KubeletHasDiskPressure', 'kubelet has disk pressure')
        : cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      pressure.has('PIDPressure')
        ? cond('PIDPressure', true, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available')
        : cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      notReady === undefined
        ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
        : cond('Ready', false, 'KubeletNotReady', notReady),
    ];
    let images: Image[] = [];
    try {
      images = await o.runtime.listImages();
    } catch { /* reported next time */ }
    const { capacity, allocatable } = nodeResources(o.machine, o.maxPods, o.evictionHard);
    const m = o.machine;
    return {
      capacity,
      allocatable,
      conditions,
      addresses: [{ type: 'InternalIP', address: o.nodeIP }, { type: 'Hostname', address: o.hostname }],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort } },
      nodeInfo: {
        machineID: m.machineID,
        systemUUID: m.systemUUID,
        bootID: m.bootID,
        kernelVersion: m.kernelVersion,
        osImage: m.osImage,
        containerRuntimeVersion: this.#runtimeVersion,
        kubeletVersion: o.kubeletVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: m.architecture,
      },
      images: images
        .sort((a, b) => b.size - a.size)
        .slice(0, MAX_IMAGES)
        .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size })),
    };
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#abort.abort();
    await this.#inFlight;
  }
}
