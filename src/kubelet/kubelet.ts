// The kubelet: registers the node, keeps its status and Lease, watches the pods bound to it, and
// makes containerd run them through per-pod workers (sync, graceful termination, removal), fed by
// the pod informer, a 1 s runtime relist and a periodic resync; adopts what runs at start.
import { setMaxListeners } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { ConfigMap, Container, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount, Taint } from '../api/types/core_v1.ts';
import { parseQuantity, quantityValue } from '../api/quantity.ts';
import { DisposableStore, type Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { KUBERNETES_VERSION } from '../base/version.ts';
import { podDnsConfig } from '../dns/resolv_conf.ts';
import { isNotFound } from '../client/api_errors.ts';
import { realClock, type Clock } from '../client/clock.ts';
import { EventBroadcaster, EventType, type EventRecorder } from '../client/events.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import type { DNSConfig } from './cri/messages.ts';
import { cancellableRuntime } from './cri/cancellable.ts';
import { isNotFound as isCriNotFound, type ImageService, type RuntimeService } from './cri/types.ts';
import { Backoff } from './backoff.ts';
import { podDirs } from './container_config.ts';
import { garbageCollect } from './container_gc.ts';
import type { EnvObjectSource } from './env.ts';
import { machineInfo, type MachineInfo } from './machine_info.ts';
import { NodeLease } from './node_lease.ts';
import { nodeResources, NodeStatusReporter } from './node_status.ts';
import { Pleg } from './pleg.ts';
import { KubeletPodLocator } from './pod_locator.ts';
import { PodManager } from './pod_manager.ts';
import { generatePodStatus, type StartFailure } from './pod_status.ts';
import { PodWorkers, type WorkerResult } from './pod_workers.ts';
import { ProbeManager } from './probes/probe_manager.ts';
import { ImageManager } from './pull.ts';
import { EvictionManager } from './eviction/eviction_manager.ts';
import { NodeStatsSource } from './eviction/signals.ts';
import { neverStarted, PodTerminations, terminatedStatus, type PodTermination } from './eviction/terminations.ts';
import type { StatsSource } from './eviction/types.ts';
import { ImageGCManager, type ImageGCPolicy } from './image_gc.ts';
import { isMirrorPodOf, isStaticPod, StaticPodSource } from './static_pods.ts';
import { admitPredicates } from './predicate_admission.ts';
import { MirrorPods } from './static_pods_mirror.ts';
import { RuntimeStateReader, type RuntimeContainer } from './runtime_state.ts';
import type { PodLocator } from './server/types.ts';
import { StatusManager } from './status_manager.ts';
import { VolumeManager } from './volumes/volume_manager.ts';
import { killPod, MIN_GRACE_SECONDS, podRef, syncPod, type SyncContext } from './sync_pod.ts';

const log = logger('kubelet');

/** Delay of the first garbage collection pass after start (upstream's housekeeping period). */
const HOUSEKEEPING_MS = 2000;

/** What the kubelet reports as its version. */
export const KUBELET_VERSION = `${KUBERNETES_VERSION}+tkube`;

/** Readiness of running containers (the probe manager's seam, issue 8); without one, running means ready. */
export interface ReadinessSource {
  isReady(pod: Pod, container: Container, status: RuntimeContainer): boolean;
  /** Whether a running container has started (startup probe); default: running means started. */
  isStarted?(pod: Pod, container: Container, status: RuntimeContainer): boolean;
}

/** Options of Kubelet. */
export interface KubeletOptions {
  /** The API server, as this node's identity. */
  readonly client: RestClient;
  readonly runtime: RuntimeService & ImageService;
  readonly nodeName: string;
  /** The kubelet's own files: pods/<uid> and logs/<ns>_<name>_<uid> (e.g. DATA/agent/kubelet). */
  readonly rootDir: string;
  /** InternalIP of the node (status.hostIP of its pods). */
  readonly nodeIP: string;
  /** The Hostname address (default: the machine's host name). */
  readonly hostname?: string;
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /** Taints registered with the node (--node-taints). */
  readonly nodeTaints?: readonly Taint[];
  /** The port the kubelet API listens on, as published in the node's daemonEndpoints. */
  readonly kubeletPort: number;
  /** Default ["10.43.0.10"]. */
  readonly clusterDNS?: readonly string[];
  /** Default "cluster.local". */
  readonly clusterDomain?: string;
  /** The resolv.conf "Default" DNS comes from (default /etc/resolv.conf; "" for none). */
  readonly resolvConf?: string;
  readonly clock?: Clock;
  /** Crash-loop backoff (default 10 s doubling to 5 min). */
  readonly crashBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Image pull backoff (default 10 s doubling to 5 min). */
  readonly imageBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Runtime relist period (default 1 s). */
  readonly relistMs?: number;
  /** Per-pod resync period (default 60 s). */
  readonly resyncMs?: number;
  /** How often ConfigMap, Secret, Downward API and projected volume files are refreshed (default 30 s). */
  readonly volumeRefreshMs?: number;
  /** Container GC period (default 30 s). */
  readonly gcMs?: number;
  /** Node status computation period (default 10 s) and forced report period (default 60 s). */
  readonly nodeStatusUpdateMs?: number;
  readonly nodeStatusReportMs?: number;
  /** Node lease renewal (default 10 s). */
  readonly leaseRenewMs?: number;
  /** How long start() waits for the first pod list (default 60 s). */
  readonly syncTimeoutMs?: number;
  /** Hard eviction thresholds (--eviction-hard; default upstream's, {} for none). */
  readonly evictionHard?: Readonly<Record<string, string>>;
  /** Soft eviction thresholds (--eviction-soft), their grace periods (--eviction-soft-grace-period, Go durations) and minimum reclaims. */
  readonly evictionSoft?: Readonly<Record<string, string>>;
  readonly evictionSoftGracePeriod?: Readonly<Record<string, string>>;
  readonly evictionMinimumReclaim?: Readonly<Record<string, string>>;
  /** --eviction-max-pod-grace-period in seconds (default 0: the pod's own grace period). */
  readonly evictionMaxPodGracePeriodSeconds?: number;
  /** Pods this node runs at most (--max-pods; default 110). */
  readonly maxPods?: number;
  /** Eviction monitoring period (default 10 s) and pressure transition period (default 5 min). */
  readonly evictionMonitoringMs?: number;
  readonly evictionPressureTransitionMs?: number;
  /** Where eviction signals come from (default: this machine and the runtime). */
  readonly evictionStats?: StatsSource;
  /** Image garbage collection thresholds (default 85%/80%) and period (default 5 min). */
  readonly imageGC?: Partial<ImageGCPolicy>;
  readonly imageGCMs?: number;
  /** Directory of static pod manifests (--pod-manifest-path; none when unset) and its rescan period (default 20 s). */
  readonly podManifestPath?: string;
  readonly staticPodRescanMs?: number;
  /** Container readiness in place of the kubelet's own probe manager; call Kubelet.resync(uid) when a result changes. */
  readonly readiness?: ReadinessSource;
}

/** One node's kubelet. */
export class Kubelet implements Disposable {
  readonly #o: KubeletOptions;
  readonly #clock: Clock;
  /** Aborted first on dispose: cancels every CRI call, hook and wait of the pod workers. */
  readonly #shutdown = new AbortController();
  /** The runtime as every part of the kubelet sees it: cancelled by #shutdown. */
  readonly #runtime: RuntimeService & ImageService;
  readonly #owner = new DisposableStore();
  readonly #machine: MachineInfo;
  readonly #state: RuntimeStateReader;
  readonly #failures = new Map<string, Map<string, StartFailure>>();
  readonly #crashBackoff: Backoff;
  readonly #imageBackoff: Backoff;
  readonly #broadcaster: EventBroadcaster;
  readonly #recorder: EventRecorder;
  readonly #nodeStatus: NodeStatusReporter;
  readonly #lease: NodeLease;
  readonly #factory: SharedInformerFactory;
  readonly #pods: PodManager;
  readonly #services: SharedIndexInformer<Service>;
  readonly #nodes: SharedIndexInformer<Node>;
  readonly #statusManager: StatusManager;
  readonly #workers: PodWorkers;
  readonly #pleg: Pleg;
  readonly #probes: ProbeManager;
  readonly #volumes: VolumeManager;
  readonly #ctx: SyncContext;
  /** The PodLocator of the kubelet API. */
  readonly locator: PodLocator;
  /** Node-pressure eviction. */
  readonly eviction: EvictionManager;
  readonly imageGC: ImageGCManager;
  readonly #terminations: PodTerminations;
  /** Pods admitted here (#admit), so they count against what the next pods may use. */
  readonly #admitted = new Set<string>();
  readonly #mirrors: MirrorPods;
  readonly #staticPods: StaticPodSource | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #gcRunning: Promise<void> | undefined;
  #started = false;

  constructor(opts: KubeletOptions) {
    if (!opts.nodeName) throw new Error('KubeletOptions.nodeName: required');
    if (!opts.rootDir.startsWith('/')) throw new Error(`KubeletOptions.rootDir: want an absolute path, got ${JSON.stringify(opts.rootDir)}`);
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    // every probe, hook and wait in flight listens to it: as many as the pods make, not a leak
    setMaxListeners(0, this.#shutdown.signal);
    const runtime = this.#runtime = cancellableRuntime(opts.runtime, this.#shutdown.signal);
    mkdirSync(opts.rootDir, { recursive: true, mode: 0o750 });
    this.#machine = machineInfo(opts.rootDir);
    this.#state = new RuntimeStateReader(runtime);
    this.#crashBackoff = new Backoff({ ...opts.crashBackoff, clock: this.#clock });
    this.#imageBackoff = new Backoff({ ...opts.imageBackoff, clock: this.#clock });
    this.#broadcaster = new EventBroadcaster({ client: opts.client, clock: this.#clock });
    this.#recorder = this.#broadcaster.newRecorder({ component: 'kubelet', host: opts.nodeName });

    this.#nodeStatus = new NodeStatusReporter({
      client: opts.client, runtime, nodeName: opts.nodeName,
      hostname: opts.hostname ?? osHostname().toLowerCase(), nodeIP: opts.nodeIP,
      ...(opts.nodeLabels ? { labels: opts.nodeLabels } : {}),
      ...(opts.nodeTaints ? { taints: opts.nodeTaints } : {}),
      kubeletPort: opts.kubeletPort, kubeletVersion: KUBELET_VERSION, machine: this.#machine, clock: this.#clock,
      pressure: () => this.eviction.conditions,
      ...(opts.maxPods !== undefined ? { maxPods: opts.maxPods } : {}),
      ...(opts.evictionHard !== undefined ? { evictionHard: opts.evictionHard } : {}),
      ...(opts.nodeStatusUpdateMs !== undefined ? { updateMs: opts.nodeStatusUpdateMs } : {}),
      ...(opts.nodeStatusReportMs !== undefined ? { reportMs: opts.nodeStatusReportMs } : {}),
    });
    this.#lease = new NodeLease({
      client: opts.client, nodeName: opts.nodeName, clock: this.#clock,
      nodeUid: () => this.#nodeStatus.node?.metadata?.uid,
      ...(opts.leaseRenewMs !== undefined ? { renewMs: opts.leaseRenewMs } : {}),
    });

    this.#factory = new SharedInformerFactory(opts.client, { clock: this.#clock });
    this.#workers = new PodWorkers((uid) => this.#syncUid(uid), { clock: this.#clock, signal: this.#shutdown.signal, ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}) });
    this.#pods = new PodManager(this.#factory, opts.nodeName, (uid) => this.#workers.update(uid));
    this.#services = this.#factory.informerFor<Service>(resourceDescriptor('v1', 'services'));
    this.#nodes = this.#factory.informerFor<Node>(resourceDescriptor('v1', 'nodes'), { fieldSelector: `metadata.name=${opts.nodeName}` });
    this.#statusManager = new StatusManager({
      pods: opts.client.resource<Pod>(resourceDescriptor('v1', 'pods')), clock: this.#clock,
      // a static pod's status goes to its mirror
      apiUid: (pod) => {
        if (!isStaticPod(pod)) return pod.metadata?.uid;
        const mirror = this.#pods.mirrorPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
        return mirror && isMirrorPodOf(mirror, pod) ? mirror.metadata?.uid : undefined;
      },
    });
    this.#mirrors = new MirrorPods({
      pods: opts.client.resource<Pod>(resourceDescriptor('v1', 'pods')), nodeName: opts.nodeName,
      node: () => {
        const n = this.node;
        return n?.metadata?.uid ? { uid: n.metadata.uid, deleting: n.metadata.deletionTimestamp !== undefined } : undefined;
      },
      mirrorOf: (ns, name) => this.#pods.mirrorPod(ns, name),
      onCreated: (pod) => this.#statusManager.rewrite(pod.metadata?.uid ?? ''),
    });
    this.#staticPods = opts.podManifestPath
      ? new StaticPodSource({
        dir: opts.podManifestPath, nodeName: opts.nodeName, clock: this.#clock,
        onChange: (pods) => this.#pods.setStaticPods(pods),
        ...(opts.staticPodRescanMs !== undefined ? { rescanMs: opts.staticPodRescanMs } : {}),
      })
      : undefined;
    this.#pleg = new Pleg({
      runtime, clock: this.#clock, onChange: (uid) => this.#workers.update(uid),
      ...(opts.relistMs !== undefined ? { periodMs: opts.relistMs } : {}),
    });

    this.#probes = new ProbeManager({
      runner: runtime, recorder: this.#recorder, clock: this.#clock, signal: this.#shutdown.signal,
      podStatus: (uid) => this.#statusManager.latest(uid),
      onChange: (uid) => this.#workers.update(uid),
    });

    const configMaps = opts.client.resource<ConfigMap>(resourceDescriptor('v1', 'configmaps'));
    const secrets = opts.client.resource<Secret>(resourceDescriptor('v1', 'secrets'));
    const getOrUndefined = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await get();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    const objects: EnvObjectSource = {
      configMap: (ns, name) => getOrUndefined(() => configMaps.inNamespace(ns).get(name)),
      secret: (ns, name) => getOrUndefined(() => secrets.inNamespace(ns).get(name)),
    };
    const images = new ImageManager({ images: runtime, recorder: this.#recorder, backoff: this.#imageBackoff });
    const { allocatable } = nodeResources(this.#machine, opts.maxPods, opts.evictionHard);
    const claims = opts.client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    const volumes = opts.client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    const accounts = opts.client.resource<ServiceAccount>(resourceDescriptor('v1', 'serviceaccounts'));
    this.#volumes = new VolumeManager({
      root: opts.rootDir, recorder: this.#recorder, clock: this.#clock,
      allocatableMemory: Number(quantityValue(parseQuantity(String(allocatable['memory'] ?? '0')))),
      nodeAllocatable: allocatable,
      objects: {
        ...objects,
        persistentVolumeClaim: (ns, name) => getOrUndefined(() => claims.inNamespace(ns).get(name)),
        persistentVolume: (name) => getOrUndefined(() => volumes.get(name)),
      },
      issueToken: async (spec) => {
        const request = {
          apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
          spec: {
            audiences: [...spec.audiences], expirationSeconds: spec.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: spec.podName, uid: spec.podUID },
          },
        };
        const tr = await accounts.inNamespace(spec.namespace).createSubresource<{ status?: { token?: string; expirationTimestamp?: string } }>(spec.serviceAccount, 'token', request);
        return { token: tr.status?.token ?? '', expiresAt: Date.parse(tr.status?.expirationTimestamp ?? '') || this.#clock.now() + spec.expirationSeconds * 1000 };
      },
      onRefreshDue: (uid) => this.#workers.update(uid),
      ...(opts.volumeRefreshMs !== undefined ? { refreshMs: opts.volumeRefreshMs } : {}),
    });
    this.#ctx = {
      runtime,
      images,
      state: this.#state,
      recorder: this.#recorder,
      crashBackoff: this.#crashBackoff,
      failures: this.#failures,
      root: opts.rootDir,
      clusterDomain: opts.clusterDomain ?? 'cluster.local',
      dnsConfig: (pod) => this.#dnsConfig(pod),
      hostIPs: () => [opts.nodeIP],
      services: () => this.#services.lister.list(),
      nodeAllocatable: () => allocatable,
      objects,
      memoryCapacity: this.#machine.memoryBytes,
      health: this.#probes,
      volumes: this.#volumes,
      signal: this.#shutdown.signal,
    };
    this.locator = new KubeletPodLocator({
      getByName: (ns, name) => this.#pods.getByName(ns, name),
      status: (uid) => this.#statusManager.latest(uid),
      state: this.#state,
    });

    const nodeRef = { kind: 'Node', apiVersion: 'v1', name: opts.nodeName, uid: opts.nodeName };
    const nodeStats = new NodeStatsSource({ runtime, rootDir: opts.rootDir });
    this.imageGC = new ImageGCManager({
      images: runtime, runtime, recorder: this.#recorder, nodeRef, clock: this.#clock,
      fsStats: async () => {
        const fs = await nodeStats.imageFs();
        return fs && { capacityBytes: fs.capacity, availableBytes: fs.available };
      },
      ...(opts.imageGC ? { policy: opts.imageGC } : {}),
      ...(opts.imageGCMs !== undefined ? { periodMs: opts.imageGCMs } : {}),
    });
    this.#terminations = new PodTerminations((uid) => this.#workers.update(uid));
    this.eviction = new EvictionManager({
      stats: opts.evictionStats ?? nodeStats, recorder: this.#recorder, nodeRef, clock: this.#clock,
      activePods: () => this.#pods.all().filter((p) => {
        const phase = this.#statusManager.latest(p.metadata?.uid ?? '')?.phase ?? p.status?.phase;
        return !p.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed' && !this.#terminations.has(p.metadata?.uid ?? '');
      }),
      evictPod: (pod, t) => this.#terminations.request(pod, t),
      reclaimDisk: async () => {
        await this.collectGarbage();
        await this.imageGC.deleteUnusedImages();
      },
      dedicatedImageFs: () => nodeStats.dedicatedImageFs(),
      onConditionsChanged: () => { void this.#nodeStatus.updateStatus().catch(() => undefined); },
      ...(opts.evictionHard ? { evictionHard: opts.evictionHard } : {}),
      ...(opts.evictionSoft ? { evictionSoft: opts.evictionSoft } : {}),
      ...(opts.evictionSoftGracePeriod ? { evictionSoftGracePeriod: opts.evictionSoftGracePeriod } : {}),
      ...(opts.evictionMinimumReclaim ? { evictionMinimumReclaim: opts.evictionMinimumReclaim } : {}),
      ...(opts.evictionMaxPodGracePeriodSeconds !== undefined ? { maxPodGraceSeconds: opts.evictionMaxPodGracePeriodSeconds } : {}),
      ...(opts.evictionMonitoringMs !== undefined ? { monitoringMs: opts.evictionMonitoringMs } : {}),
      ...(opts.evictionPressureTransitionMs !== undefined ? { pressureTransitionMs: opts.evictionPressureTransitionMs } : {}),
    });
  }

  /** The Node as last written or read. */
  get node(): Node | undefined {
    return this.#nodes.lister.get('', this.#o.nodeName) ?? this.#nodeStatus.node;
  }

  /** Calls `fn` whenever the Node object changes (e.g. node IPAM setting spec.podCIDR). */
  onNodeChange(fn: (node: Node) => void): Disposable {
    const reg = this.#nodes.addEventHandler({ onAdd: (n) => fn(n), onUpdate: (_o, n) => fn(n) });
    const reg2 = this.#nodeStatus.onNode(fn);
    return { dispose: () => { reg.dispose(); reg2.dispose(); } };
  }

  /** Registers the node, starts watching pods, and adopts what the runtime already runs. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('Kubelet: already started');
    this.#started = true;
    await this.#nodeStatus.register();
    this.#owner.add(this.#broadcaster);
    this.#owner.add(this.#factory);
    this.#owner.add(this.#pods);
    this.#owner.add(this.#statusManager);
    this.#owner.add(this.#nodeStatus);
    this.#owner.add(this.#lease);
    this.#owner.add(this.#workers);
    this.#owner.add(this.#pleg);
    this.#owner.add(this.#terminations);
    this.#owner.add(this.eviction);
    this.#owner.add(this.imageGC);
    this.#owner.add(this.#probes);
    this.#owner.add(this.#volumes);
    this.#owner.defer(async () => {
      if (this.#gcTimer) clearTimeout(this.#gcTimer);
      this.#gcTimer = undefined;
      await this.#gcRunning;
    });
    this.#factory.start();
    if (this.#staticPods) {
      this.#owner.add(this.#staticPods);
      await this.#staticPods.start();
    }
    if (!(await this.#factory.waitForCacheSync(this.#o.syncTimeoutMs ?? 60_000))) {
      log.warn('pods did not sync in time; running pods are adopted once they do');
    }
    this.#nodeStatus.start();
    this.#lease.start();
    this.#pleg.start();
    this.eviction.start();
    this.imageGC.start();
    this.#volumes.start();
    // the first pass comes early (upstream's housekeeping is every 2 s): it removes what pods
    // deleted while this kubelet was down, or abandoned by its last stop, left mounted
    this.#scheduleGc(Math.min(HOUSEKEEPING_MS, this.#o.gcMs ?? 30_000));
    log.info('kubelet started', { node: this.#o.nodeName, pods: this.#pods.all().length });
  }

  #scheduleGc(delayMs = this.#o.gcMs ?? 30_000): void {
    if (this.#owner.disposed) return;
    this.#gcTimer = setTimeout(() => {
      this.#gcRunning = this.collectGarbage().catch((err: unknown) => {
        log.warn('container garbage collection failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        this.#gcRunning = undefined;
        this.#scheduleGc();
      });
    }, delayMs);
  }

  /** One garbage collection pass (dead containers, old sandboxes, orphans, stale directories). */
  async collectGarbage(): Promise<void> {
    // unmount first what pods gone while we were away left mounted, so their directories can go;
    // a pod still held by a worker or by the runtime is being removed, and unmounts its own volumes
    if (this.#pods.hasSynced()) for (const m of this.#pods.orphanedMirrorPods()) await this.#mirrors.deleteOrphan(m);
    if (this.#pods.hasSynced() && this.#pleg.healthyAt > 0) {
      const held = new Set([...this.#workers.uids(), ...this.#pleg.uids()]);
      await this.#volumes.cleanupOrphans((uid) => this.#pods.get(uid) !== undefined || held.has(uid));
    }
    return garbageCollect({
      runtime: this.#runtime,
      root: this.#o.rootDir,
      isKnownPod: (uid) => this.#pods.get(uid) !== undefined,
      podsSynced: () => this.#pods.hasSynced(),
      onOrphan: (uid) => this.#workers.update(uid),
      forgetContainer: (id) => this.#state.forget(id),
    });
  }

  /** Syncs the pod with this UID soon (e.g. a probe result changed). */
  resync(uid: string): void {
    this.#workers.update(uid);
  }

  /** Resolves when no pod sync is running (tests). */
  idle(): Promise<void> {
    return this.#workers.idle();
  }

  #dnsConfig(pod: Pod): DNSConfig {
    const path = this.#o.resolvConf ?? '/etc/resolv.conf';
    let hostResolvConf: string | undefined;
    if (path !== '') {
      try {
        hostResolvConf = readFileSync(path, 'utf8');
      } catch {
        hostResolvConf = '';
      }
    }
    const { config, events } = podDnsConfig(pod, {
      clusterDNS: this.#o.clusterDNS ?? ['10.43.0.10'],
      clusterDomain: this.#o.clusterDomain ?? 'cluster.local',
      hostResolvConf,
      nodeIPs: [this.#o.nodeIP],
    });
    for (const e of events) {
      const ref = e.on === 'pod' ? podRef(pod) : { kind: 'Node', apiVersion: 'v1', name: this.#o.nodeName, uid: this.#o.nodeName };
      this.#recorder.event(ref, EventType.Warning, e.reason, e.message);
    }
    return { servers: [...config.servers], searches: [...config.searches], options: [...config.options] };
  }

  /** One sync of the pod with this UID, whatever state it is in. */
  async #syncUid(uid: string): Promise<WorkerResult> {
    const pod = this.#pods.get(uid);
    if (!pod) {
      // never call a pod gone before the API server said which pods are here
      if (!this.#pods.hasSynced()) return { requeueAfterMs: 1000 };
      return this.#removePod(uid);
    }
    if (isStaticPod(pod)) void this.#mirrors.sync(pod);
    const withStatus: Pod = { ...pod, status: this.#statusManager.latest(uid) ?? pod.status ?? {} };
    const failures = this.#failures.get(uid) ?? new Map<string, StartFailure>();
    const hostIPs = [this.#o.nodeIP];

    if (pod.metadata?.deletionTimestamp) {
      this.#probes.stopLivenessAndStartup(pod);
      const before = await this.#state.podStatus(uid, pod.metadata.name, pod.metadata.namespace);
      await killPod(this.#ctx, pod, before);
      const after = await this.#state.podStatus(uid, pod.metadata.name, pod.metadata.namespace);
      const status = generatePodStatus({ pod: withStatus, runtime: after, failures, hostIPs, podIsTerminal: true, ...this.#readinessFor(pod) });
      await this.#statusManager.setPodStatus(pod, status);
      await this.#statusManager.deletePod(pod);
      // the informer's delete event ends this pod's life; look again if it does not come
      return { requeueAfterMs: 5000 };
    }

    const phase = withStatus.status?.phase;
    const termination = phase === 'Succeeded' || phase === 'Failed' ? undefined : this.#terminations.pending(uid) ?? this.#admit(pod, withStatus);
    if (termination) {
      // evicted, or refused at admission: stop it for good and say why
      this.#probes.removePod(uid);
      const rt = await this.#state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
      await killPod(this.#ctx, pod, rt, termination.graceSeconds);
      const after = await this.#state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
      const status = generatePodStatus({ pod: withStatus, runtime: after, failures, hostIPs, podIsTerminal: true, ...this.#readinessFor(pod) });
      await this.#statusManager.setPodStatus(pod, terminatedStatus(status, termination, this.#clock.now()));
      this.#terminations.finish(uid);
      return {};
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.#probes.removePod(uid);
      const rt = await this.#state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
      if (rt.containers.some((c) => c.state === 'CONTAINER_RUNNING') || rt.sandboxes.some((s) => s.state === 'SANDBOX_READY')) {
        await killPod(this.#ctx, pod, rt);
      }
      const after = await this.#state.podStatus(uid, pod.metadata?.name, pod.metadata?.namespace);
      void this.#statusManager.setPodStatus(pod, generatePodStatus({ pod: withStatus, runtime: after, failures, hostIPs, podIsTerminal: true, ...this.#readinessFor(pod) }));
      return {};
    }

    this.#probes.addPod(pod);
    const result = await syncPod(this.#ctx, withStatus);
    const status = generatePodStatus({ pod: withStatus, runtime: result.runtime, failures: this.#failures.get(uid) ?? failures, hostIPs, podIsTerminal: false, ...this.#readinessFor(pod) });
    void this.#statusManager.setPodStatus(pod, status);
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : {};
  }

  /**
   * Admission of a pod that never ran here (canAdmitPod): the eviction manager's verdict, then the
   * predicates (resources next to the pods admitted before it, node affinity, host ports, NoExecute
   * taints). A rejection ends the pod.
   */
  #admit(pod: Pod, withStatus: Pod): PodTermination | undefined {
    const uid = pod.metadata?.uid ?? '';
    if (this.#admitted.has(uid) || !neverStarted(withStatus.status)) return undefined;
    let r: { admit: true } | { admit: false; reason: string; message: string } = this.eviction.admit(pod);
    const node = this.node;
    if (r.admit && node !== undefined) r = admitPredicates(pod, node, this.#admittedPods(uid), isStaticPod(pod));
    if (r.admit) {
      this.#admitted.add(uid);
      return undefined;
    }
    this.#recorder.event(podRef(pod), EventType.Warning, r.reason, r.message);
    return { graceSeconds: 0, reason: r.reason, message: `Pod was rejected: ${r.message}` };
  }

  /** The pods that hold this node's resources: admitted (or already running) and not finished. */
  #admittedPods(except: string): Pod[] {
    return this.#pods.all().filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (uid === except) return false;
      const status = this.#statusManager.latest(uid) ?? p.status;
      if (status?.phase === 'Succeeded' || status?.phase === 'Failed') return false;
      return this.#admitted.has(uid) || !neverStarted(status);
    });
  }

  /** generatePodStatus's readiness hook for this pod, when a ReadinessSource is configured. */
  #readinessFor(pod: Pod): { isReady: (c: Container, s: RuntimeContainer) => boolean; isStarted?: (c: Container, s: RuntimeContainer) => boolean } {
    const src: ReadinessSource = this.#o.readiness ?? this.#probes;
    const isStarted = src.isStarted?.bind(src);
    return { isReady: (c, s) => src.isReady(pod, c, s), ...(isStarted ? { isStarted: (c: Container, s: RuntimeContainer) => isStarted(pod, c, s) } : {}) };
  }

  /** A pod no longer bound here: stop and remove whatever the runtime still has of it. */
  async #removePod(uid: string): Promise<WorkerResult> {
    const rt = await this.#state.podStatus(uid);
    const last = this.#pods.removed(uid);
    if (last && isStaticPod(last)) await this.#mirrors.delete(last);
    if (rt.containers.length > 0 || rt.sandboxes.length > 0) {
      log.info('removing a pod that is no longer bound here', { uid, pod: `${rt.namespace}/${rt.name}` });
      // upstream's calculateEffectiveGracePeriod: the deletion grace period, else the pod's own, at least 1 s;
      // a pod this kubelet never saw (deleted while it was down) is an orphan, stopped at once (HandlePodCleanups)
      const grace = last ? Math.max(last.metadata?.deletionGracePeriodSeconds || (last.spec?.terminationGracePeriodSeconds ?? 30), 1) : MIN_GRACE_SECONDS;
      await killPod(this.#ctx, last, rt, grace);
      for (const c of rt.containers) {
        try {
          await this.#runtime.removeContainer(c.id);
        } catch (err) {
          if (!isCriNotFound(err)) throw err;
        }
        this.#state.forget(c.id);
      }
      for (const sb of rt.sandboxes) {
        try {
          await this.#runtime.removePodSandbox(sb.id);
        } catch (err) {
          if (!isCriNotFound(err)) throw err;
        }
      }
    }
    const unmounted = await this.#volumes.unmountPod(uid);
    if (rt.name) {
      const dirs = podDirs(this.#o.rootDir, { metadata: { uid, name: rt.name, namespace: rt.namespace } });
      // never remove through a mount that would not come off; garbage collection tries again
      if (unmounted) await rm(dirs.podDir, { recursive: true, force: true });
      await rm(dirs.logDir, { recursive: true, force: true });
    }
    this.#pods.forgetRemoved(uid);
    this.#admitted.delete(uid);
    this.#terminations.finish(uid);
    this.#probes.removePod(uid);
    this.#failures.delete(uid);
    this.#crashBackoff.resetContaining(`_${uid}_`);
    this.#imageBackoff.resetContaining(uid);
    this.#statusManager.forget(uid);
    return { done: true };
  }

  /**
   * Stops the kubelet as upstream's exits: work in flight (container stops waiting out a grace
   * period, pulls, hooks) is cancelled, not waited for; containers keep running, and the next
   * start adopts them and finishes terminations and clean-ups left undone.
   */
  async dispose(): Promise<void> {
    this.#shutdown.abort();
    await this.#owner.dispose();
  }
}
