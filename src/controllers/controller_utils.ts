// Helpers every workload controller shares (pkg/controller/controller_utils.go and
// controller_ref_manager.go): pod control (create from a template, delete, patch), the deletion
// ranking of active pods, readiness/availability, adoption and release by selector, slow start.
import type { Pod, PodCondition, PodTemplateSpec } from '../api/types/core_v1.ts';
import type { ObjectMeta, OwnerReference } from '../api/types/meta_v1.ts';
import { matches, type Selector } from '../api/labels.ts';
import { hasStatusCause, isNotFound } from '../client/api_errors.ts';
import { parseTime } from '../client/clock.ts';
import type { EventRecorder } from '../client/events.ts';
import { controllerRefOf } from '../client/indexer.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { KubeObject } from '../client/resource_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';

export { computeHash } from './deep_hash.ts';

/** Upstream's burst of creations/deletions per sync (BurstReplicas). */
export const BURST_REPLICAS = 500;
/** First batch of a slow start (SlowStartInitialBatchSize). */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

/** Event reasons of pod control. */
export const FailedCreatePodReason = 'FailedCreate';
export const SuccessfulCreatePodReason = 'SuccessfulCreate';
export const FailedDeletePodReason = 'FailedDelete';
export const SuccessfulDeletePodReason = 'SuccessfulDelete';

/** The Status cause the API server sets when a namespace is being terminated. */
export const NamespaceTerminatingCause = 'NamespaceTerminating';

/** A group/version/kind as ownerReferences spell it. */
export interface ControllerKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** What controllers do to pods (controller.PodControlInterface); fakes implement it in unit tests. */
export interface PodControl {
  /** Creates a pod from `template` owned by `controllerRef`; `owner` receives the events. */
  createPods(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Promise<void>;
  /** Same, with an explicit generateName (Jobs use it for indexed pods). */
  createPodsWithGenerateName(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference, generateName: string): Promise<void>;
  deletePod(namespace: string, name: string, owner: KubeObject): Promise<void>;
  /** Strategic merge patch of a pod. */
  patchPod(namespace: string, name: string, patch: unknown): Promise<void>;
}

const PODS = resourceDescriptor('v1', 'pods');

/** PodControl over the API (RealPodControl), recording upstream's events on the owner. */
export class RealPodControl implements PodControl {
  #client: RestClient;
  #recorder: EventRecorder;

  constructor(client: RestClient, recorder: EventRecorder) {
    this.#client = client;
    this.#recorder = recorder;
  }

  createPods(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Promise<void> {
    return this.createPodsWithGenerateName(namespace, template, owner, controllerRef, '');
  }

  async createPodsWithGenerateName(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference, generateName: string): Promise<void> {
    validateControllerRef(controllerRef);
    const pod = getPodFromTemplate(template, owner, controllerRef);
    if (generateName) pod.metadata!.generateName = generateName;
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) throw new Error('unable to create pods, no labels');
    let created: Pod;
    try {
      created = await this.#client.resource<Pod>(PODS, namespace).create(pod);
    } catch (err) {
      // Only report when the namespace is not going away: every create would fail then.
      if (!hasStatusCause(err, NamespaceTerminatingCause)) {
        this.#recorder.eventf(owner, 'Warning', FailedCreatePodReason, 'Error creating: %v', errMessage(err));
      }
      throw err;
    }
    this.#recorder.eventf(owner, 'Normal', SuccessfulCreatePodReason, 'Created pod: %v', created.metadata?.name ?? '');
  }

  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.#client.resource<Pod>(PODS, namespace).delete(name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.#recorder.eventf(owner, 'Warning', FailedDeletePodReason, 'Error deleting: %v', errMessage(err));
      throw new Error(`unable to delete pods: ${errMessage(err)}`, { cause: err });
    }
    this.#recorder.eventf(owner, 'Normal', SuccessfulDeletePodReason, 'Deleted pod: %v', name);
  }

  async patchPod(namespace: string, name: string, patch: unknown): Promise<void> {
    await this.#client.resource<Pod>(PODS, namespace).patch(name, 'strategic', patch);
  }
}

/** Records calls instead of making them (controller.FakePodControl), for unit tests. */
export class FakePodControl implements PodControl {
  readonly templates: PodTemplateSpec[] = [];
  readonly controllerRefs: OwnerReference[] = [];
  readonly deletePodNames: string[] = [];
  readonly patches: { namespace: string; name: string; patch: unknown }[] = [];
  /** When set, every call fails with it (after being counted, as upstream's fake does). */
  err: Error | undefined;
  /** Creations beyond this many fail (CreateLimit); 0 means no limit. */
  createLimit = 0;
  createCallCount = 0;

  async createPods(_ns: string, template: PodTemplateSpec, _owner: KubeObject, controllerRef: OwnerReference): Promise<void> {
    this.createCallCount++;
    if (this.createLimit !== 0 && this.createCallCount > this.createLimit) throw new Error(`not creating pod, limit ${this.createLimit} already reached (create call ${this.createCallCount})`);
    this.templates.push(template);
    this.controllerRefs.push(controllerRef);
    if (this.err) throw this.err;
  }

  createPodsWithGenerateName(ns: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Promise<void> {
    return this.createPods(ns, template, owner, controllerRef);
  }

  async deletePod(_ns: string, name: string): Promise<void> {
    this.deletePodNames.push(name);
    if (this.err) throw this.err;
  }

  async patchPod(namespace: string, name: string, patch: unknown): Promise<void> {
    this.patches.push({ namespace, name, patch });
    if (this.err) throw this.err;
  }

  clear(): void {
    this.templates.length = 0;
    this.controllerRefs.length = 0;
    this.deletePodNames.length = 0;
    this.patches.length = 0;
    this.createCallCount = 0;
  }
}

function validateControllerRef(ref: OwnerReference): void {
  if (!ref.apiVersion) throw new Error('controllerRef has empty APIVersion');
  if (!ref.kind) throw new Error('controllerRef has empty Kind');
  if (ref.controller !== true) throw new Error('controllerRef.Controller is not set to true');
  if (ref.blockOwnerDeletion !== true) throw new Error('controllerRef.BlockOwnerDeletion is not set');
}

/** The pod a controller creates from its template (GetPodFromTemplate). */
export function getPodFromTemplate(template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference | undefined): Pod {
  const tm = template.metadata ?? {};
  const metadata: ObjectMeta = { generateName: podsPrefix(owner.metadata?.name ?? '') };
  if (tm.labels && Object.keys(tm.labels).length > 0) metadata.labels = { ...tm.labels };
  if (tm.annotations && Object.keys(tm.annotations).length > 0) metadata.annotations = { ...tm.annotations };
  if (tm.finalizers && tm.finalizers.length > 0) metadata.finalizers = [...tm.finalizers];
  if (controllerRef) metadata.ownerReferences = [{ ...controllerRef }];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template.spec ?? { containers: [] }) };
}

/** "<name>-", or the bare name when the dash would make an invalid prefix (getPodsPrefix). */
function podsPrefix(controllerName: string): string {
  const prefix = `${controllerName}-`;
  // ValidatePodName with prefix=true masks the trailing dash, then checks a DNS subdomain.
  return prefix.length > 253 ? controllerName : prefix;
}

/** A controller ownerReference to `owner` (metav1.NewControllerRef). */
export function newControllerRef(owner: KubeObject, kind: ControllerKind): OwnerReference {
  return {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** "namespace/name" of a pod (controller.PodKey). */
export function podKey(pod: KubeObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

// ---- Pod readiness (pkg/api/v1/pod).

/** The pod's Ready condition, if any. */
export function getPodReadyCondition(pod: Pod): PodCondition | undefined {
  // A plain loop: ReplicaSet and Deployment syncs ask this of every pod they own.
  const conditions = pod.status?.conditions;
  if (conditions === undefined) return undefined;
  for (let i = 0; i < conditions.length; i++) {
    if (conditions[i]!.type === 'Ready') return conditions[i];
  }
  return undefined;
}

/** True when the Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return getPodReadyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds as of `nowMs` (podutil.IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const ready = getPodReadyCondition(pod);
  return ready !== undefined && ready.status === 'True' && readyConditionAvailable(ready, minReadySeconds, nowMs);
}

/** isPodAvailable for a pod whose Ready condition `ready` is known to be True. */
export function readyConditionAvailable(ready: PodCondition, minReadySeconds: number, nowMs: number): boolean {
  if (!minReadySeconds) return true;
  const since = parseTime(ready.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** Not finished and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The active pods (controller.FilterActivePods). */
export function filterActivePods(pods: readonly Pod[]): Pod[] {
  return pods.filter(isPodActive);
}

// ---- Deletion ranking (ActivePodsWithRanks, with PodDeletionCost and LogarithmicScaleDown on).

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/** Annotation ranking pods for deletion (lower cost goes first). */
export const PodDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[PodDeletionCostAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function podReadyTime(pod: Pod): number | undefined {
  if (!isPodReady(pod)) return undefined;
  return parseTime(getPodReadyCondition(pod)?.lastTransitionTime);
}

function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/** t1 after t2, a missing time counting as earliest-first (afterOrZero). */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (!t1 || !t2) return !t1;
  return t1 > t2;
}

function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  // Durations in nanoseconds, as upstream takes log2 of time.Duration.
  const d1 = (now - t1) * 1e6;
  const d2 = (now - t2) * 1e6;
  const r1 = d1 > 0 ? Math.floor(Math.log2(d1)) : -1;
  const r2 = d2 > 0 ? Math.floor(Math.log2(d2)) : -1;
  return r1 - r2;
}

function compareTimes(a: Pod, b: Pod, ta: number | undefined, tb: number | undefined, now: number): boolean {
  if (!now || !ta || !tb) return afterOrZero(ta, tb);
  const diff = logarithmicRankDiff(ta, tb, now);
  if (diff === 0) return (a.metadata?.uid ?? '') < (b.metadata?.uid ?? '');
  return diff < 0;
}

/**
 * True when `a` should be deleted before `b` (ActivePodsWithRanks.Less): unassigned, then pending
 * < unknown < running, not ready, lower deletion cost, more co-located pods (rank), ready more
 * recently, more restarts, created more recently.
 */
export function lessForDeletion(a: Pod, rankA: number, b: Pod, rankB: number, nowMs: number): boolean {
  const na = a.spec?.nodeName ?? '', nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '';
  const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0, pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa < pb;
  const ra = isPodReady(a), rb = isPodReady(b);
  if (ra !== rb) return !ra;
  const ca = deletionCost(a), cb = deletionCost(b);
  if (ca !== cb) return ca < cb;
  if (rankA !== rankB) return rankA > rankB;
  if (ra && rb) {
    const ta = podReadyTime(a), tb = podReadyTime(b);
    if (ta !== tb) return compareTimes(a, b, ta, tb, nowMs);
  }
  const xa = maxContainerRestarts(a), xb = maxContainerRestarts(b);
  if (xa !== xb) return xa > xb;
  const ctA = parseTime(a.metadata?.creationTimestamp), ctB = parseTime(b.metadata?.creationTimestamp);
  if (ctA !== ctB) return compareTimes(a, b, ctA, ctB, nowMs);
  return false;
}

/** What lessForDeletion reads of a pod, worked out once per pod instead of once per comparison. */
interface DeletionKey {
  readonly pod: Pod;
  readonly rank: number;
  readonly node: string;
  readonly phase: number;
  readonly ready: boolean;
  readonly cost: number;
  readonly readyTime: number | undefined;
  readonly restarts: number;
  readonly created: number | undefined;
  readonly uid: string;
}

function deletionKey(pod: Pod, rank: number): DeletionKey {
  const ready = isPodReady(pod);
  return {
    pod, rank, node: pod.spec?.nodeName ?? '', phase: PHASE_ORDINAL[pod.status?.phase ?? ''] ?? 0, ready,
    cost: deletionCost(pod), readyTime: ready ? parseTime(getPodReadyCondition(pod)?.lastTransitionTime) : undefined,
    restarts: maxContainerRestarts(pod), created: parseTime(pod.metadata?.creationTimestamp), uid: pod.metadata?.uid ?? '',
  };
}

function compareKeyTimes(a: DeletionKey, b: DeletionKey, ta: number | undefined, tb: number | undefined, now: number): boolean {
  if (!now || !ta || !tb) return afterOrZero(ta, tb);
  const diff = logarithmicRankDiff(ta, tb, now);
  if (diff === 0) return a.uid < b.uid;
  return diff < 0;
}

/** lessForDeletion on precomputed keys (the same decisions, in the same order). */
function lessForDeletionKeys(a: DeletionKey, b: DeletionKey, nowMs: number): boolean {
  if (a.node !== b.node && (a.node === '' || b.node === '')) return a.node === '';
  if (a.phase !== b.phase) return a.phase < b.phase;
  if (a.ready !== b.ready) return !a.ready;
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (a.ready && b.ready && a.readyTime !== b.readyTime) return compareKeyTimes(a, b, a.readyTime, b.readyTime, nowMs);
  if (a.restarts !== b.restarts) return a.restarts > b.restarts;
  if (a.created !== b.created) return compareKeyTimes(a, b, a.created, b.created, nowMs);
  return false;
}

/** Sorts pods (with their ranks) so the ones to delete first come first; returns a new array. */
export function sortPodsForDeletion(pods: readonly Pod[], ranks: readonly number[], nowMs: number): Pod[] {
  // A scale-down of a 10,000-pod ReplicaSet compares pods ~130,000 times: parse times and
  // annotations once per pod, not per comparison.
  const keys = pods.map((p, i) => deletionKey(p, ranks[i]!));
  // Array.prototype.sort is stable; a strict weak order from Less gives upstream's order for distinct pods.
  keys.sort((a, b) => {
    if (lessForDeletionKeys(a, b, nowMs)) return -1;
    if (lessForDeletionKeys(b, a, nowMs)) return 1;
    return 0;
  });
  return keys.map((k) => k.pod);
}

/** Ranks each pod by the number of active `related` pods on its node (getPodsRankedByRelatedPodsOnSameNode). */
export function ranksByRelatedPodsOnSameNode(pods: readonly Pod[], related: readonly Pod[]): number[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  return pods.map((p) => onNode.get(p.spec?.nodeName ?? '') ?? 0);
}

// ---- Slow start.

/**
 * Most pod writes one sync keeps in flight. Upstream starts a goroutine per pod, but its client's
 * QPS limit (kube-controller-manager: 20/s, burst 30) spaces the requests out; ours has none, so a
 * burst of 500 would sit in the API server's queue ahead of every other component's requests.
 */
export const MAX_CONCURRENT_POD_WRITES = 64;

/**
 * Calls `fn(i)` for i in [0, count) with at most `limit` calls in flight, and settles like
 * Promise.allSettled (results in index order, never rejects).
 */
export async function settleLimited<T>(count: number, limit: number, fn: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results = new Array<PromiseSettledResult<T>>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), count) }, lane));
  return results;
}

/**
 * Calls `fn` `count` times in batches of 1, 2, 4 … (concurrently within a batch, at most
 * MAX_CONCURRENT_POD_WRITES at a time); stops after the first batch with a failure. Returns the
 * number of successes and the first error (slowStartBatch).
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await settleLimited(batch, MAX_CONCURRENT_POD_WRITES, () => fn());
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length > 0) return { successes, error: failures[0]!.reason };
    remaining -= batch;
  }
  return { successes };
}

// ---- Adoption and release (ControllerRefManager).

/** How a controller claims dependents of one kind. */
export interface ClaimOptions<T extends KubeObject> {
  /** The owner (needs metadata.uid, name, namespace, deletionTimestamp). */
  readonly controller: KubeObject;
  readonly controllerKind: ControllerKind;
  readonly selector: Selector;
  /** Throws when the owner may not adopt (e.g. it has just been deleted); called at most once. */
  readonly canAdopt: () => Promise<void>;
  /** Strategic merge patch of a dependent. */
  readonly patch: (obj: T, patch: unknown) => Promise<void>;
  /** Extra conditions a dependent must meet to be claimed (besides the selector). */
  readonly filters?: readonly ((obj: T) => boolean)[];
}

/** Equal owner references (reflect.DeepEqual on the pointers upstream compares), absent ones alike. */
export function sameOwnerRef(a: OwnerReference | undefined, b: OwnerReference | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion &&
    a.controller === b.controller && a.blockOwnerDeletion === b.blockOwnerDeletion;
}

/** Adoption patch: make `controller` the controller owner of the dependent `uid`. */
export function ownerRefControllerPatch(controller: KubeObject, kind: ControllerKind, uid: string): unknown {
  return { metadata: { ownerReferences: [newControllerRef(controller, kind)], uid } };
}

/** Release patch: drop the ownerReferences with these owner UIDs from the dependent `uid`. */
export function deleteOwnerRefPatch(dependentUid: string, ...ownerUids: string[]): unknown {
  return { metadata: { ownerReferences: ownerUids.map((u) => ({ $patch: 'delete', uid: u })), uid: dependentUid } };
}

/**
 * Adopts orphans matching the selector, releases owned objects that no longer match, and
 * returns the objects the controller owns afterwards (ClaimPods / ClaimReplicaSets). Throws an
 * AggregateError (after trying all) when some adoption or release failed.
 */
export async function claimObjects<T extends KubeObject>(objs: readonly T[], opts: ClaimOptions<T>): Promise<T[]> {
  const uid = opts.controller.metadata?.uid;
  const ownerDeleting = Boolean(opts.controller.metadata?.deletionTimestamp);
  let canAdoptResult: Promise<void> | undefined;
  const selector = opts.selector;
  const filters = opts.filters ?? [];
  const match = (o: T): boolean => matches(selector, o.metadata?.labels) && (filters.length === 0 || filters.every((f) => f(o)));
  // Most objects are ours and still match: decide those synchronously (no promise per object, as a
  // sync runs over every pod of a large ReplicaSet) and only go async for adoptions and releases.
  const owned: T[] = [];
  let adopted: Set<T> | undefined;
  const errors: unknown[] = [];
  const pending: Array<Promise<void>> = [];
  const guarded = (p: Promise<void>): Promise<void> => p.catch((err: unknown) => {
    if (!isNotFound(err)) errors.push(err);
  });
  for (const obj of objs) {
    const ref = controllerRefOf(obj);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (match(obj)) {
        owned.push(obj);
        continue;
      }
      if (ownerDeleting) continue;
      pending.push(guarded(opts.patch(obj, deleteOwnerRefPatch(obj.metadata?.uid ?? '', uid ?? ''))));
      continue;
    }
    if (ownerDeleting || !match(obj) || obj.metadata?.deletionTimestamp) continue;
    const ns = opts.controller.metadata?.namespace;
    if (ns && ns !== obj.metadata?.namespace) continue;
    pending.push(guarded((async () => {
      canAdoptResult ??= opts.canAdopt();
      await canAdoptResult;
      await opts.patch(obj, ownerRefControllerPatch(opts.controller, opts.controllerKind, obj.metadata?.uid ?? ''));
      (adopted ??= new Set()).add(obj);
    })()));
  }
  if (pending.length > 0) await Promise.all(pending);
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map(errMessage).join(', '));
  if (adopted === undefined) return owned;
  // Keep the input order (adoptions finish in any order).
  const claimed = new Set<T>(owned);
  for (const o of adopted) claimed.add(o);
  return objs.filter((o) => claimed.has(o));
}

/**
 * canAdopt for claimObjects (RecheckDeletionTimestamp): re-reads the owner uncached and refuses
 * when it is gone, replaced (another UID) or being deleted.
 */
export function recheckDeletionTimestamp(getFresh: () => Promise<KubeObject>, owner: KubeObject, kind: string): () => Promise<void> {
  return async () => {
    const fresh = await getFresh();
    const m = owner.metadata ?? {};
    if (fresh.metadata?.uid !== m.uid) {
      throw new Error(`original ${kind} ${m.namespace ?? ''}/${m.name ?? ''} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${m.uid ?? ''}`);
    }
    if (fresh.metadata?.deletionTimestamp) {
      throw new Error(`${m.namespace ?? ''}/${m.name ?? ''} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  };
}

/** Message of any thrown value. */
export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- Workers.

/** What a worker needs from its queue (a RateLimitingQueue of keys). */
export interface WorkerQueue {
  get(): Promise<string | undefined>;
  done(key: string): void;
  forget(key: string): void;
  addRateLimited(key: string): void;
}

/**
 * Runs `workers` loops that take a key, sync it, forget it on success and requeue it rate-limited
 * on error, until the queue shuts down; resolves when every loop has stopped.
 */
export function runWorkers(queue: WorkerQueue, workers: number, sync: (key: string) => Promise<void>, onError: (key: string, err: unknown) => void): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        onError(key, err);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: Math.max(1, workers) }, worker)).then(() => undefined);
}
