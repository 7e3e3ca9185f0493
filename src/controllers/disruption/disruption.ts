// The disruption controller (upstream pkg/controller/disruption/disruption.go): keeps each
// PodDisruptionBudget's status current — expectedPods, desiredHealthy, currentHealthy,
// disruptionsAllowed, observedGeneration and the DisruptionAllowed condition — which the API
// server's eviction subresource reads. disruptedPods entries written by evictions are pruned here.
import { isDeepStrictEqual } from 'node:util';
import { logger } from '../../base/log.ts';
import { labelSelectorAsSelector, matches, type LabelSelectorLike } from '../../api/labels.ts';
import { resourceForKind, preferredVersion } from '../../api/resource_table.ts';
import type { IntOrString } from '../../api/types/apimachinery.ts';
import type { Condition, LabelSelector, OwnerReference } from '../../api/types/meta_v1.ts';
import type { Pod, ReplicationController } from '../../api/types/core_v1.ts';
import type { Deployment, ReplicaSet, StatefulSet } from '../../api/types/apps_v1.ts';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from '../../api/types/policy_v1.ts';
import { isConflict, isNotFound } from '../../client/api_errors.ts';
import { formatTime, parseTime, type Clock } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';

const log = logger('disruption-controller');

/** How long an eviction's disruptedPods entry is honoured before the pod should be gone (DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/** How long a DisruptionTarget condition may stay on a pod that is not being deleted (stalePodDisruptionTimeout). */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;

/** Controller and replicas found for a pod's controllerRef. */
interface ControllerAndScale {
  readonly uid: string;
  readonly scale: number;
}

/** Keeps PodDisruptionBudget status in step with the pods it covers. */
export class DisruptionController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  /** Pods whose DisruptionTarget condition may have gone stale. */
  readonly stalePodQueue: RateLimitingQueue<string>;
  readonly pdbs: SharedIndexInformer<PodDisruptionBudget>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly rcs: SharedIndexInformer<ReplicationController>;
  readonly rss: SharedIndexInformer<ReplicaSet>;
  readonly deployments: SharedIndexInformer<Deployment>;
  readonly statefulSets: SharedIndexInformer<StatefulSet>;
  #client: ResourceClient<PodDisruptionBudget>;
  #podClient: ResourceClient<Pod>;
  #rest: RestClient;
  #recorder: EventRecorder;
  #clock: Clock;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.#clock = ctx.clock;
    this.#rest = ctx.client;
    this.queue = new RateLimitingQueue<string>({ name: 'disruption', clock: ctx.clock });
    this.stalePodQueue = new RateLimitingQueue<string>({ name: 'stale_pod_disruption', clock: ctx.clock });
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.pdbs = ctx.informers.informerFor<PodDisruptionBudget>(resourceDescriptor('policy/v1', 'poddisruptionbudgets'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.rcs = ctx.informers.informerFor<ReplicationController>(resourceDescriptor('v1', 'replicationcontrollers'));
    this.rss = ctx.informers.informerFor<ReplicaSet>(resourceDescriptor('apps/v1', 'replicasets'));
    this.deployments = ctx.informers.informerFor<Deployment>(resourceDescriptor('apps/v1', 'deployments'));
    this.statefulSets = ctx.informers.informerFor<StatefulSet>(resourceDescriptor('apps/v1', 'statefulsets'));
    this.#client = ctx.client.resource<PodDisruptionBudget>(resourceDescriptor('policy/v1', 'poddisruptionbudgets'));
    // Upstream's events come from "controllermanager".
    this.#recorder = ctx.recorder('controllermanager');
    this.#handlers.push(this.pdbs.addEventHandler({
      onAdd: (p) => this.queue.add(metaNamespaceKey(p)),
      onUpdate: (_o, p) => this.queue.add(metaNamespaceKey(p)),
      onDelete: (o) => this.queue.add(metaNamespaceKey(unwrapTombstone(o))),
    }));
    this.#handlers.push(this.pods.addEventHandler({
      onAdd: (p) => {
        this.#enqueuePdbsOf(p);
        this.#enqueueStale(p);
      },
      onUpdate: (old, p) => {
        this.#enqueuePdbsOf(p);
        this.#enqueueStale(p);
        if (!isDeepStrictEqual(old.metadata?.labels ?? {}, p.metadata?.labels ?? {})) this.#enqueuePdbsOf(old);
      },
      onDelete: (o) => this.#enqueuePdbsOf(unwrapTombstone(o)),
    }));
    // A changed scale changes expectedPods of percentage and maxUnavailable budgets.
    const scaleChanged = (o: KubeObject): void => {
      for (const pdb of this.pdbs.lister.listNamespace(o.metadata?.namespace ?? '')) this.queue.add(metaNamespaceKey(pdb));
    };
    for (const inf of [this.rcs, this.rss, this.deployments, this.statefulSets] as SharedIndexInformer<KubeObject>[]) {
      this.#handlers.push(inf.addEventHandler({
        onUpdate: (old, o) => {
          if ((old as { spec?: { replicas?: number } }).spec?.replicas !== (o as { spec?: { replicas?: number } }).spec?.replicas) scaleChanged(o);
        },
      }));
    }
  }

  #enqueuePdbsOf(pod: Pod): void {
    for (const pdb of this.pdbs.lister.listNamespace(pod.metadata?.namespace ?? '')) {
      let sel;
      try {
        sel = labelSelectorAsSelector(pdb.spec?.selector as LabelSelectorLike | undefined);
      } catch {
        continue;
      }
      if (matches(sel, pod.metadata?.labels)) this.queue.add(metaNamespaceKey(pdb));
    }
  }

  #enqueueStale(pod: Pod): void {
    const wait = this.#staleConditionWait(pod);
    if (wait !== undefined) this.stalePodQueue.addAfter(metaNamespaceKey(pod), wait);
  }

  /** When a pod's DisruptionTarget condition goes stale (ms from now), if it can. */
  #staleConditionWait(pod: Pod): number | undefined {
    if (pod.metadata?.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    const cond = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    // The kubelet's own condition may legitimately stay long before the pod terminates.
    if (!cond || cond.status !== 'True' || cond.reason === 'TerminationByKubelet') return undefined;
    const since = parseTime(cond.lastTransitionTime) ?? this.#clock.now();
    return Math.max(0, since + STALE_POD_DISRUPTION_TIMEOUT_MS - this.#clock.now());
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
    void this.#staleWorker();
  }

  async #staleWorker(): Promise<void> {
    for (;;) {
      const key = await this.stalePodQueue.get();
      if (key === undefined) return;
      try {
        await this.syncStalePodDisruption(key);
        this.stalePodQueue.forget(key);
      } catch (err) {
        log.warn('stale DisruptionTarget cleanup failed, will retry', { pod: key, err });
        this.stalePodQueue.addRateLimited(key);
      } finally {
        this.stalePodQueue.done(key);
      }
    }
  }

  /** Resets a DisruptionTarget condition nobody acted on within the timeout to False. */
  async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.lister.get(namespace, name);
    if (!pod) return;
    const wait = this.#staleConditionWait(pod);
    if (wait === undefined) return;
    if (wait > 0) {
      this.stalePodQueue.addAfter(key, wait);
      return;
    }
    const next = structuredClone(pod);
    next.status = {
      ...next.status,
      conditions: (next.status?.conditions ?? []).map((c) => (c.type === 'DisruptionTarget'
        ? { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTime(this.#clock.now()) }
        : c)),
    };
    await this.#podClient.inNamespace(namespace).updateStatus(next);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { pdb: key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Recomputes the status of budget `key`; failures still zero disruptionsAllowed (failSafe). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.pdbs.lister.get(namespace, name);
    if (!pdb) return;
    try {
      await this.#trySync(pdb);
    } catch (err) {
      if (isConflict(err)) throw err;
      log.warn('Failed to sync PDB', { pdb: key, err });
      await this.#failSafe(pdb, err instanceof Error ? err.message : String(err));
    }
  }

  async #trySync(pdb: PodDisruptionBudget): Promise<void> {
    let pods: Pod[];
    try {
      pods = this.#podsFor(pdb);
    } catch (err) {
      this.#recorder.eventf(pdb, EventType.Warning, 'NoPods', 'Failed to get pods: %v', err instanceof Error ? err.message : String(err));
      throw err;
    }
    if (pods.length === 0) this.#recorder.event(pdb, EventType.Normal, 'NoPods', 'No matching pods found');
    let expected: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      expected = await this.expectedPodCount(pdb, pods);
    } catch (err) {
      this.#recorder.eventf(pdb, EventType.Warning, 'CalculateExpectedPodCountFailed', 'Failed to calculate the number of expected pods: %v', err instanceof Error ? err.message : String(err));
      throw err;
    }
    if (expected.unmanaged.length > 0) {
      this.#recorder.eventf(pdb, EventType.Warning, 'UnmanagedPods', 'Pods selected by this PodDisruptionBudget (selector: %v) were found '
        + 'to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. '
        + 'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.', goSelectorString(pdb.spec?.selector));
    }
    const now = this.#clock.now();
    const { disrupted, recheckAt } = this.#buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.#updateStatus(pdb, currentHealthy, expected.desiredHealthy, expected.expectedCount, disrupted);
    if (recheckAt !== undefined) this.queue.addAfter(metaNamespaceKey(pdb), recheckAt - now);
  }

  #podsFor(pdb: PodDisruptionBudget): Pod[] {
    const sel = labelSelectorAsSelector(pdb.spec?.selector as LabelSelectorLike | undefined);
    return this.pods.lister.listNamespace(pdb.metadata?.namespace ?? '', sel);
  }

  /** expectedPods and desiredHealthy of a budget (getExpectedPodCount). */
  async expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[]): Promise<{ expectedCount: number; desiredHealthy: number; unmanaged: string[] }> {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expectedCount, unmanaged } = await this.#expectedScale(pods);
      const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanaged };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
      const { expectedCount, unmanaged } = await this.#expectedScale(pods);
      return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount), unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  async #expectedScale(pods: readonly Pod[]): Promise<{ expectedCount: number; unmanaged: string[] }> {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = await this.#findController(ref, pod.metadata?.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod ${JSON.stringify(pod.metadata?.name ?? '')}`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const s of scales.values()) expectedCount += s;
    return { expectedCount, unmanaged };
  }

  /** The finders in upstream's order: RC, Deployment (through its ReplicaSet), ReplicaSet, StatefulSet, any scale subresource. */
  async #findController(ref: OwnerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0]! : '';
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = this.rcs.lister.get(namespace, ref.name);
      return rc && rc.metadata?.uid === ref.uid ? { uid: ref.uid, scale: rc.spec?.replicas ?? 1 } : undefined;
    }
    if (ref.kind === 'ReplicaSet' && group === 'apps') {
      const rs = this.rss.lister.get(namespace, ref.name);
      if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
      const owner = rs.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (owner && owner.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = this.deployments.lister.get(namespace, owner.name);
        return d && d.metadata?.uid === owner.uid ? { uid: owner.uid, scale: d.spec?.replicas ?? 1 } : undefined;
      }
      return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const ss = this.statefulSets.lister.get(namespace, ref.name);
      return ss && ss.metadata?.uid === ref.uid ? { uid: ref.uid, scale: ss.spec?.replicas ?? 1 } : undefined;
    }
    // Anything else that implements the scale subresource (custom resources among them).
    const version = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[1]! : ref.apiVersion;
    const info = resourceForKind(group, version, ref.kind) ?? resourceForKind(group, preferredVersion(group) ?? version, ref.kind);
    if (!info) return undefined;
    try {
      const scale = await this.#rest.resource(info, namespace).getSubresource<{ metadata?: { uid?: string }; spec?: { replicas?: number } }>(ref.name, 'scale');
      if (scale.metadata?.uid && scale.metadata.uid !== ref.uid) return undefined;
      return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #buildDisruptedPodMap(pods: readonly Pod[], pdb: PodDisruptionBudget, now: number): { disrupted: Record<string, string>; recheckAt: number | undefined } {
    const recorded = pdb.status?.disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = recorded[pod.metadata?.name ?? ''];
      if (at === undefined) continue;
      const expectedDeletion = (parseTime(at) ?? now) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now) {
        // Upstream's message names the namespace twice; kept for identical output.
        this.#recorder.eventf(pod, EventType.Warning, 'NotDeleted', 'Pod was expected by PDB %s/%s to be deleted but it wasn\'t', pdb.metadata?.namespace ?? '', pdb.metadata?.namespace ?? '');
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disrupted[pod.metadata?.name ?? ''] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  async #updateStatus(pdb: PodDisruptionBudget, currentHealthy: number, desiredHealthy: number, expectedCount: number, disrupted: Record<string, string>): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const old = pdb.status;
    const generation = pdb.metadata?.generation ?? 0;
    const status: PodDisruptionBudgetStatus = {
      currentHealthy, desiredHealthy, expectedPods: expectedCount, disruptionsAllowed, observedGeneration: generation,
      conditions: [...(old?.conditions ?? [])],
    };
    if (Object.keys(disrupted).length > 0) status.disruptedPods = disrupted;
    status.conditions = setStatusCondition(status.conditions ?? [], {
      type: 'DisruptionAllowed',
      status: disruptionsAllowed > 0 ? 'True' : 'False',
      reason: disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      observedGeneration: generation,
    }, formatTime(this.#clock.now()));
    if (old && isDeepStrictEqual(normalize(old), normalize(status))) return;
    await this.#client.updateStatus({ ...pdb, status });
  }

  /** On any failure the budget must at least stop allowing disruptions (failSafe). */
  async #failSafe(pdb: PodDisruptionBudget, message: string): Promise<void> {
    const status: PodDisruptionBudgetStatus = {
      currentHealthy: pdb.status?.currentHealthy ?? 0,
      desiredHealthy: pdb.status?.desiredHealthy ?? 0,
      expectedPods: pdb.status?.expectedPods ?? 0,
      ...pdb.status,
      disruptionsAllowed: 0,
    };
    status.conditions = setStatusCondition([...(pdb.status?.conditions ?? [])], {
      type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message, observedGeneration: pdb.status?.observedGeneration ?? 0,
    }, formatTime(this.#clock.now()));
    await this.#client.updateStatus({ ...pdb, status });
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
    this.stalePodQueue.shutDown();
  }
}

/** Ready pods not being deleted and not just evicted (countHealthyPods). */
export function countHealthyPods(pods: readonly Pod[], disrupted: Readonly<Record<string, string>>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && (parseTime(at) ?? 0) + DELETION_TIMEOUT_MS > now) continue;
    if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) n++;
  }
  return n;
}

/** intstr.GetScaledValueFromIntOrPercent rounding up; throws for strings that are not percentages. */
export function scaledValue(v: IntOrString, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

/** apimeta.SetStatusCondition: lastTransitionTime changes only with the status. */
export function setStatusCondition(conditions: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const i = conditions.findIndex((x) => x.type === c.type);
  if (i < 0) return [...conditions, { ...c, lastTransitionTime: now }];
  const prev = conditions[i]!;
  const next: Condition = { ...prev, ...c, lastTransitionTime: prev.status === c.status ? prev.lastTransitionTime : now };
  const out = [...conditions];
  out[i] = next;
  return out;
}

function normalize(s: PodDisruptionBudgetStatus): unknown {
  return { ...s, disruptedPods: s.disruptedPods ?? {}, conditions: s.conditions ?? [], observedGeneration: s.observedGeneration ?? 0 };
}

/** The selector as Go's %v prints a *metav1.LabelSelector. */
function goSelectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '<nil>';
  const labels = Object.keys(sel.matchLabels ?? {}).sort().map((k) => `${k}: ${sel.matchLabels![k]},`).join('');
  const exprs = (sel.matchExpressions ?? []).map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

registerController('disruption', (ctx) => new DisruptionController(ctx), 5);
