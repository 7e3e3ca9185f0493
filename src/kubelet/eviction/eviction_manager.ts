// The kubelet's eviction manager (pkg/kubelet/eviction/eviction_manager.go): watches the node's
// signals, reports MemoryPressure/DiskPressure/PIDPressure, evicts one pod per pass ranked by usage
// over request and priority once a hard threshold is met or a soft one has been met for its grace
// period (or at once past emptyDir/ephemeral-storage limits), and admits pods.
import type { ObjectReference, Pod, PodCondition } from '../../api/types/core_v1.ts';
import { parseQuantity, quantityString, quantityValue } from '../../api/quantity.ts';
import { computeQOSClass } from '../../api/defaults/qos.ts';
import type { JsonObject } from '../../api/defaults/json.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { realClock, type Clock, type ClockTimer } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import { evictionMessage, EVICTED_REASON, podDiskUsage, rankPods } from './rank.ts';
import { isHardThreshold, mergeThresholds, parseThresholdConfig, signalCondition, signalResource, thresholdsFirstObservedAt, thresholdsMet, thresholdsMetGracePeriod, type ThresholdConfig } from './thresholds.ts';
import { Signal, type Observations, type PodUsage, type StatsSource, type Threshold } from './types.ts';

const log = logger('eviction');

/** Node conditions the eviction manager reports. */
export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** Grace period of hard evictions (immediateEvictionGracePeriodSeconds). */
export const IMMEDIATE_EVICTION_GRACE_SECONDS = 1;

/** Priority at and above which a pod is critical (SystemCriticalPriority). */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/**
 * The grace period a soft eviction kills a pod with: --eviction-max-pod-grace-period capped by the
 * pod's terminationGracePeriodSeconds (v1.32, AllowOverwriteTerminationGracePeriodSeconds off), then
 * as the pod workers apply an override (calculateEffectiveGracePeriod): 0 falls back to the pod's
 * own grace period, and never less than 1 s.
 */
export function softEvictionGraceSeconds(pod: Pod, maxPodGraceSeconds: number): number {
  const own = pod.spec?.terminationGracePeriodSeconds;
  let grace = own !== undefined ? Math.min(maxPodGraceSeconds, own) : maxPodGraceSeconds;
  if (grace === 0 && own !== undefined) grace = own;
  return Math.max(grace, 1);
}

/** Static and mirror pods and system-critical ones are never evicted (IsCriticalPod). */
export function isCriticalPod(pod: Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  const source = a['kubernetes.io/config.source'];
  if ((source !== undefined && source !== 'api') || a['kubernetes.io/config.mirror'] !== undefined) return true;
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

/** How the kubelet stops an evicted pod: kill with the grace period, then report phase Failed with reason and message. */
export type EvictPodFn = (pod: Pod, opts: { graceSeconds: number; reason: string; message: string; condition?: PodCondition }) => Promise<void>;

/** Options of EvictionManager. */
export interface EvictionManagerOptions {
  readonly stats: StatsSource;
  /** The pods that may be evicted (admitted, not terminal). */
  readonly activePods: () => Pod[];
  readonly evictPod: EvictPodFn;
  readonly recorder: EventRecorder;
  readonly nodeRef: ObjectReference;
  /** --eviction-hard statements (default upstream's DEFAULT_EVICTION_HARD; {} turns thresholds off). */
  readonly evictionHard?: Readonly<Record<string, string>>;
  /** --eviction-soft statements; each needs a grace period in evictionSoftGracePeriod. */
  readonly evictionSoft?: Readonly<Record<string, string>>;
  /** --eviction-soft-grace-period: Go durations by signal. */
  readonly evictionSoftGracePeriod?: Readonly<Record<string, string>>;
  /** --eviction-minimum-reclaim by signal. */
  readonly evictionMinimumReclaim?: Readonly<Record<string, string>>;
  /** --eviction-max-pod-grace-period: the most a soft eviction waits for a pod to stop (default 0: the pod's own). */
  readonly maxPodGraceSeconds?: number;
  readonly clock?: Clock;
  /** How often to look (default 10 s). */
  readonly monitoringMs?: number;
  /** How long a pressure condition stays after its threshold stops being met (default 5 min). */
  readonly pressureTransitionMs?: number;
  /** Node-level reclaim tried before evicting for disk pressure (container and image GC). */
  readonly reclaimDisk?: () => Promise<void>;
  /** Whether images sit on their own filesystem (default: no). */
  readonly dedicatedImageFs?: () => Promise<boolean>;
  /** Evict pods over emptyDir sizeLimit / ephemeral-storage limits (default true). */
  readonly localStorageCapacityIsolation?: boolean;
  /** Told when the set of pressure conditions changes (to report node status sooner). */
  readonly onConditionsChanged?: (conditions: ReadonlySet<PressureCondition>) => void;
}

/** Admit's verdict on a new pod. */
export type AdmitResult = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

function bytesOf(v: string | number | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  try {
    return quantityValue(parseQuantity(String(v)));
  } catch {
    return undefined;
  }
}

/** Watches signals and evicts. */
export class EvictionManager implements Disposable {
  readonly #o: EvictionManagerOptions;
  readonly #clock: Clock;
  #thresholds: Threshold[];
  #config: ThresholdConfig;
  #conditions = new Set<PressureCondition>();
  readonly #lastObservedAt = new Map<PressureCondition, number>();
  /** Thresholds met, by when first seen met (thresholdsFirstObservedAt). */
  #firstObservedAt = new Map<Threshold, number>();
  /** Thresholds that drove the last pass: they stay met until their minimum reclaim is available. */
  #thresholdsMet: Threshold[] = [];
  #lastObservations: Observations = new Map();
  #timer: ClockTimer | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(opts: EvictionManagerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#config = {
      ...(opts.evictionHard ? { hard: opts.evictionHard } : {}),
      ...(opts.evictionSoft ? { soft: opts.evictionSoft } : {}),
      ...(opts.evictionSoftGracePeriod ? { softGracePeriod: opts.evictionSoftGracePeriod } : {}),
      ...(opts.evictionMinimumReclaim ? { minimumReclaim: opts.evictionMinimumReclaim } : {}),
    };
    this.#thresholds = parseThresholdConfig(this.#config);
  }

  /** The hard and soft thresholds in force. */
  get thresholds(): readonly Threshold[] {
    return this.#thresholds;
  }

  /** Replaces the hard thresholds (--eviction-hard statements), keeping the soft ones. */
  setThresholds(statements: Readonly<Record<string, string>>): void {
    this.#config = { ...this.#config, hard: statements };
    this.#thresholds = parseThresholdConfig(this.#config);
  }

  /** The pressure conditions now reported. */
  get conditions(): ReadonlySet<PressureCondition> {
    return this.#conditions;
  }

  /** The observations of the last pass. */
  get lastObservations(): Observations {
    return this.#lastObservations;
  }

  /** Starts the monitoring loop. */
  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#running = this.synchronize().catch((err: unknown) => {
        log.warn('eviction manager: synchronize failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        this.#running = undefined;
        this.#schedule(this.#o.monitoringMs ?? 10_000);
      });
    }, ms);
  }

  /** Whether a new pod may run here now (Admit). */
  admit(pod: Pod): AdmitResult {
    if (this.#conditions.size === 0 || isCriticalPod(pod)) return { admit: true };
    const conds = [...this.#conditions];
    if (conds.length === 1 && conds[0] === 'MemoryPressure') {
      const qos = pod.status?.qosClass ?? computeQOSClass(pod as unknown as JsonObject);
      if (qos !== 'BestEffort') return { admit: true };
      const tolerates = (pod.spec?.tolerations ?? []).some((t) => (t.effect === undefined || t.effect === '' || t.effect === 'NoSchedule')
        && ((t.operator === 'Exists' && (t.key === undefined || t.key === '')) || t.key === 'node.kubernetes.io/memory-pressure'));
      if (tolerates) return { admit: true };
    }
    return { admit: false, reason: EVICTED_REASON, message: `The node had condition: [${conds.join(' ')}]. ` };
  }

  /** One pass; resolves to the pods evicted. */
  async synchronize(): Promise<Pod[]> {
    const localStorage = this.#o.localStorageCapacityIsolation ?? true;
    if (this.#thresholds.length === 0 && !localStorage) return [];
    const observations = await this.#o.stats.observe();
    // met regardless of grace periods, plus those of the last pass whose minimum reclaim is not yet available
    let seen = thresholdsMet(this.#thresholds, observations);
    const current = new Set(this.#thresholds);
    const unresolved = thresholdsMet(this.#thresholdsMet.filter((t) => current.has(t)), observations, true);
    seen = mergeThresholds(seen, unresolved);
    const now = this.#clock.now();
    this.#firstObservedAt = thresholdsFirstObservedAt(seen, this.#firstObservedAt, now);
    // pressure conditions follow every met threshold at once, soft ones too
    for (const t of seen) this.#lastObservedAt.set(signalCondition(t.signal), now);
    const transition = this.#o.pressureTransitionMs ?? 5 * 60_000;
    const conditions = new Set<PressureCondition>();
    for (const [c, at] of this.#lastObservedAt) {
      if (now - at < transition || seen.some((t) => signalCondition(t.signal) === c)) conditions.add(c);
      else this.#lastObservedAt.delete(c);
    }
    const changed = conditions.size !== this.#conditions.size || [...conditions].some((c) => !this.#conditions.has(c));
    this.#conditions = conditions;
    this.#lastObservations = observations;
    // eviction waits for each threshold's grace period (none for hard ones)
    const met = thresholdsMetGracePeriod(this.#firstObservedAt, now);
    this.#thresholdsMet = met;
    if (changed) {
      log.info('eviction manager: node conditions changed', { conditions: [...conditions] });
      this.#o.onConditionsChanged?.(conditions);
    }

    const active = this.#o.activePods();
    let usage: ReadonlyMap<string, PodUsage> | undefined;
    const getUsage = async (): Promise<ReadonlyMap<string, PodUsage>> => (usage ??= await this.#o.stats.podUsage(active));
    if (localStorage && active.some((p) => needsLocalStorageCheck(p))) {
      const evicted = await this.#localStorageEviction(active, await getUsage());
      if (evicted.length > 0) return evicted;
    }
    if (met.length === 0) return [];

    // memory first, then the rest in the order configured (byEvictionPriority)
    const ordered = [...met].sort((a, b) => Number(b.signal === Signal.MemoryAvailable) - Number(a.signal === Signal.MemoryAvailable));
    if (met.length < seen.length) log.info('eviction manager: eviction criteria not yet met for soft thresholds', { signals: seen.filter((t) => !met.includes(t)).map((t) => t.signal) });
    const toReclaim = ordered[0]!;
    const resource = signalResource(toReclaim.signal);
    log.info('eviction manager: attempting to reclaim', { resourceName: resource });
    this.#o.recorder.event(this.#o.nodeRef, EventType.Warning, 'EvictionThresholdMet', `Attempting to reclaim ${resource}`);

    if (resource !== 'memory' && resource !== 'pids' && this.#o.reclaimDisk) {
      try {
        await this.#o.reclaimDisk();
      } catch (err) {
        log.warn('eviction manager: reclaiming node-level resources failed', { err: err instanceof Error ? err.message : String(err) });
      }
      const after = thresholdsMet(this.#thresholds, await this.#o.stats.observe(), true);
      if (after.length === 0) {
        log.info('eviction manager: able to reduce resource pressure without evicting pods', { resourceName: resource });
        return [];
      }
    }
    if (active.length === 0) {
      log.warn('eviction manager: eviction thresholds have been met, but no pods are active to evict');
      return [];
    }
    const stats = await getUsage();
    const dedicated = (await this.#o.dedicatedImageFs?.()) ?? false;
    const ranked = rankPods(active, toReclaim.signal, stats, dedicated);
    log.info('eviction manager: pods ranked for eviction', { pods: ranked.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`) });
    for (const pod of ranked) {
      const graceSeconds = isHardThreshold(toReclaim) ? IMMEDIATE_EVICTION_GRACE_SECONDS : softEvictionGraceSeconds(pod, this.#o.maxPodGraceSeconds ?? 0);
      const { message, annotations } = evictionMessage(resource, pod, stats.get(pod.metadata?.uid ?? ''), met, observations);
      const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message };
      if (await this.#evict(pod, message, annotations, condition, graceSeconds)) return [pod];
    }
    log.warn('eviction manager: unable to evict any pods from the node');
    return [];
  }

  async #evict(pod: Pod, message: string, annotations: Record<string, string> | undefined, condition?: PodCondition, graceSeconds = IMMEDIATE_EVICTION_GRACE_SECONDS): Promise<boolean> {
    if (isCriticalPod(pod)) {
      log.warn('eviction manager: cannot evict a critical pod', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
      return false;
    }
    const md = pod.metadata ?? {};
    const ref: ObjectReference = { kind: 'Pod', apiVersion: 'v1', name: md.name ?? '', namespace: md.namespace ?? '', uid: md.uid ?? '' };
    this.#o.recorder.annotatedEventf(ref, annotations ?? {}, EventType.Warning, EVICTED_REASON, '%s', message);
    try {
      await this.#o.evictPod(pod, { graceSeconds, reason: EVICTED_REASON, message, ...(condition ? { condition } : {}) });
      log.info('eviction manager: pod is evicted successfully', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
    } catch (err) {
      log.warn('eviction manager: pod failed to evict', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: err instanceof Error ? err.message : String(err) });
    }
    return true;
  }

  /** emptyDir sizeLimit, pod and container ephemeral-storage limits (localStorageEviction). */
  async #localStorageEviction(pods: readonly Pod[], usage: ReadonlyMap<string, PodUsage>): Promise<Pod[]> {
    const evicted: Pod[] = [];
    for (const pod of pods) {
      const u = usage.get(pod.metadata?.uid ?? '');
      if (!u) continue;
      const message = localStorageViolation(pod, u);
      if (message !== undefined && await this.#evict(pod, message, undefined)) evicted.push(pod);
    }
    return evicted;
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    await this.#running;
  }
}

function needsLocalStorageCheck(pod: Pod): boolean {
  if ((pod.spec?.volumes ?? []).some((v) => v.emptyDir?.sizeLimit !== undefined)) return true;
  return (pod.spec?.containers ?? []).some((c) => (c.resources?.limits as Record<string, string> | undefined)?.['ephemeral-storage'] !== undefined);
}

/** Why the pod breaks a local storage limit (the eviction message), or undefined. */
export function localStorageViolation(pod: Pod, u: PodUsage): string | undefined {
  for (const v of pod.spec?.volumes ?? []) {
    const limit = bytesOf(v.emptyDir?.sizeLimit);
    const used = u.volumes.get(v.name);
    if (limit !== undefined && limit > 0n && used !== undefined && BigInt(used.bytes) > limit) {
      return `Usage of EmptyDir volume "${v.name}" exceeds the limit "${quantityString(parseQuantity(String(v.emptyDir!.sizeLimit)))}". `;
    }
  }
  // the pod's limit is the sum of the limits its app containers set
  const limits = (pod.spec?.containers ?? []).map((c) => bytesOf((c.resources?.limits as Record<string, string> | undefined)?.['ephemeral-storage']));
  if (limits.length > 0 && limits.some((l) => l !== undefined)) {
    const total = limits.reduce<bigint>((a, b) => a + (b ?? 0n), 0n);
    // emptyDirs, writable layers and logs: everything the pod writes to the node's disks
    const used = podDiskUsage(pod, u, { rootfs: true, logs: true, localVolumes: true }, false);
    if (BigInt(used) > total) {
      return `Pod ephemeral local storage usage exceeds the total limit of containers ${quantityString({ unscaled: total, scale: 0, format: 'BinarySI' })}. `;
    }
  }
  for (const c of pod.spec?.containers ?? []) {
    const raw = (c.resources?.limits as Record<string, string> | undefined)?.['ephemeral-storage'];
    const limit = bytesOf(raw);
    if (limit === undefined || limit === 0n) continue;
    const cs = u.containers.find((x) => x.name === c.name);
    if (!cs) continue;
    const used = (cs.logs?.bytes ?? 0) + (cs.rootfs?.bytes ?? 0);
    if (BigInt(used) > limit) return `Container ${c.name} exceeded its local ephemeral storage limit "${quantityString(parseQuantity(String(raw)))}". `;
  }
  return undefined;
}
