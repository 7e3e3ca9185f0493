// The ReplicaSet controller (pkg/controller/replicaset/replica_set.go), parametrised by kind so the
// same code also runs ReplicationControllers (upstream converts RCs to ReplicaSets the same way):
// keeps the number of active pods matching the selector at spec.replicas, adopting and releasing.
import { labelSelectorAsSelector, selectorFromSet, matches, type Selector } from '../../api/labels.ts';
import type { ReplicaSet } from '../../api/types/apps_v1.ts';
import type { Pod, ReplicationController } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { logger } from '../../base/log.ts';
import { hasStatusCause, isConflict, isNotFound } from '../../client/api_errors.ts';
import type { EventRecorder } from '../../client/events.ts';
import { UIDTrackingControllerExpectations } from '../../client/expectations.ts';
import { CONTROLLER_UID_INDEX, controllerRefOf, controllerUidIndexFunc, ORPHAN_INDEX_KEY } from '../../client/indexer.ts';
import type { Lister } from '../../client/lister.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { resourceDescriptor, type ResourceDescriptor } from '../../client/resource_descriptor.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../../client/shared_informer.ts';
import { DeletedFinalStateUnknown, metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import {
  BURST_REPLICAS, MAX_CONCURRENT_POD_WRITES, NamespaceTerminatingCause, RealPodControl, SLOW_START_INITIAL_BATCH_SIZE, claimObjects, errMessage,
  isPodActive, isPodReady, newControllerRef, podKey, ranksByRelatedPodsOnSameNode, recheckDeletionTimestamp,
  runWorkers, sameOwnerRef, settleLimited, slowStartBatch, sortPodsForDeletion, type ControllerKind, type PodControl,
} from '../controller_utils.ts';
import { ControlledPods, type PodGroup } from './controlled_pods.ts';
import { addCounts, countPodGroups, countPods, statusFromCounts, updateReplicaSetStatus, type StatusClient } from './replica_set_utils.ts';

/** The two kinds this controller runs. */
export interface ReplicaSetKind {
  readonly gvk: ControllerKind;
  readonly desc: ResourceDescriptor;
  /** Event source component. */
  readonly component: string;
}

export const REPLICA_SET_KIND: ReplicaSetKind = {
  gvk: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  desc: resourceDescriptor('apps/v1', 'replicasets'),
  component: 'replicaset-controller',
};

export const REPLICATION_CONTROLLER_KIND: ReplicaSetKind = {
  gvk: { apiVersion: 'v1', kind: 'ReplicationController' },
  desc: resourceDescriptor('v1', 'replicationcontrollers'),
  component: 'replication-controller',
};

const PODS = resourceDescriptor('v1', 'pods');

/** The pods a sync claimed: how many, and which (built only when needed), in upstream's order. */
export interface ClaimedPods {
  readonly count: number;
  list(): readonly Pod[];
}

/** Optional seams for tests. */
export interface ReplicaSetControllerOptions {
  readonly podControl?: PodControl;
  readonly statusClient?: StatusClient;
  readonly burstReplicas?: number;
}

/** The ReplicaSet view of a ReplicaSet or ReplicationController (RC selectors become matchLabels). */
export function asReplicaSet(obj: ReplicaSet | ReplicationController, kind: ReplicaSetKind): ReplicaSet {
  if (kind.gvk.kind === 'ReplicaSet') return obj as ReplicaSet;
  const rc = obj as ReplicationController;
  const spec = rc.spec ?? {};
  return {
    ...rc,
    spec: {
      ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
      ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      selector: { matchLabels: { ...(spec.selector ?? {}) } },
      ...(spec.template ? { template: spec.template } : {}),
    },
    ...(rc.status ? { status: rc.status } : {}),
  } as ReplicaSet;
}

/** Runs one kind of replica controller. */
export class ReplicaSetController implements Controller {
  readonly kind: ReplicaSetKind;
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: UIDTrackingControllerExpectations;
  /** The sync function (replaceable in tests). */
  syncHandler: (key: string) => Promise<void>;
  podControl: PodControl;
  readonly rsLister: Lister<KubeObject>;
  readonly podLister: Lister<Pod>;
  readonly rsInformer: SharedIndexInformer<KubeObject>;
  readonly podInformer: SharedIndexInformer<Pod>;
  readonly recorder: EventRecorder;
  #ctx: ControllerContext;
  #statusClient: StatusClient;
  #burstReplicas: number;
  #registrations: HandlerRegistration[] = [];
  #controlledPods: ControlledPods;
  #running: Promise<void> | undefined;
  #log;

  constructor(ctx: ControllerContext, kind: ReplicaSetKind, opts: ReplicaSetControllerOptions = {}) {
    this.kind = kind;
    this.#ctx = ctx;
    this.#log = logger(kind.component);
    this.recorder = ctx.recorder(kind.component);
    this.queue = new RateLimitingQueue<string>({ name: kind.component, clock: ctx.clock });
    this.expectations = new UIDTrackingControllerExpectations(ctx.clock);
    this.podControl = opts.podControl ?? new RealPodControl(ctx.client, this.recorder);
    this.#burstReplicas = opts.burstReplicas ?? BURST_REPLICAS;
    const rc = ctx.client.resource<KubeObject>(kind.desc);
    this.#statusClient = opts.statusClient ?? {
      get: (ns, name) => rc.inNamespace(ns).get(name),
      updateStatus: (obj) => rc.updateStatus(obj),
    };
    this.rsInformer = ctx.informers.informerFor<KubeObject>(kind.desc, { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc } });
    this.podInformer = ctx.informers.informerFor<Pod>(PODS, { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc } });
    this.rsLister = this.rsInformer.lister;
    this.podLister = this.podInformer.lister;
    this.#controlledPods = new ControlledPods(this.podInformer.indexer);
    this.#registrations.push(this.rsInformer.addEventHandler({
      onAdd: (obj) => this.enqueue(obj),
      onUpdate: (oldObj, cur) => this.#updateRS(oldObj, cur),
      onDelete: (obj) => this.#deleteRS(obj),
    }));
    this.#registrations.push(this.podInformer.addEventHandler({
      onAdd: (pod) => this.#addPod(pod),
      onUpdate: (oldPod, cur) => this.#updatePod(oldPod, cur),
      onDelete: (pod) => this.#deletePod(pod),
    }));
    this.syncHandler = (key) => this.syncReplicaSet(key);
  }

  run(workers: number): void {
    this.#running ??= runWorkers(this.queue, workers, (key) => this.syncHandler(key), (key, err) => {
      // Conflicts are stale caches catching up: retried, not worth a warning.
      const fields = { kind: this.kind.gvk.kind, key, err: errMessage(err) };
      if (isConflict(err)) this.#log.debug('sync failed', fields);
      else this.#log.warn('sync failed', fields);
    });
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations.splice(0)) r.dispose();
    this.#controlledPods.dispose();
    this.queue.shutDown();
    await this.#running;
  }

  enqueue(obj: KubeObject): void {
    this.queue.add(metaNamespaceKey(obj));
  }

  // ---- Event handlers: compute keys, adjust expectations, enqueue.

  #updateRS(oldObj: KubeObject, cur: KubeObject): void {
    if (oldObj.metadata?.uid !== cur.metadata?.uid) {
      // The old object was deleted and recreated under the same name.
      this.#deleteRS(new DeletedFinalStateUnknown(metaNamespaceKey(oldObj), oldObj));
    }
    this.enqueue(cur);
  }

  #deleteRS(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    const rs = unwrapTombstone(obj);
    const key = obj instanceof DeletedFinalStateUnknown ? obj.key : metaNamespaceKey(rs);
    this.expectations.deleteExpectations(key);
    this.queue.add(key);
  }

  /** The live owner a controllerRef points to, if it is of our kind and the UID matches. */
  resolveControllerRef(namespace: string, ref: OwnerReference): KubeObject | undefined {
    if (ref.kind !== this.kind.gvk.kind) return undefined;
    const rs = this.rsLister.get(namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** Objects of our kind whose selector matches the pod (getPodReplicaSets). */
  getPodReplicaSets(pod: Pod): KubeObject[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.rsLister.listNamespace(ns).filter((obj) => {
      const sel = selectorOf(asReplicaSet(obj, this.kind));
      return sel !== undefined && !(sel.requirements.length === 0 && !sel.nothing) && matches(sel, pod.metadata?.labels);
    });
  }

  #addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // A pod already being deleted must not count as an observed creation.
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
      if (!rs) return;
      const key = metaNamespaceKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.getPodReplicaSets(pod)) this.enqueue(rs);
  }

  #updatePod(oldPod: Pod, cur: Pod): void {
    if (cur.metadata?.resourceVersion === oldPod.metadata?.resourceVersion) return;
    const labelChanged = !sameMap(cur.metadata?.labels, oldPod.metadata?.labels);
    if (cur.metadata?.deletionTimestamp) {
      this.#deletePod(cur);
      if (labelChanged) this.#deletePod(oldPod);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(oldPod);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(oldPod.metadata?.namespace ?? '', oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata?.namespace ?? '', curRef);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = asReplicaSet(rs, this.kind).spec?.minReadySeconds ?? 0;
      if (!isPodReady(oldPod) && isPodReady(cur) && minReady > 0) {
        // One extra second so the pod is surely available when we look again.
        this.queue.addAfter(metaNamespaceKey(rs), minReady * 1000 + 1000);
      }
      return;
    }
    if (labelChanged || refChanged) {
      for (const rs of this.getPodReplicaSets(cur)) this.enqueue(rs);
    }
  }

  #deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = unwrapTombstone(obj);
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!rs) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObservedOf(key, podKey(pod));
    this.queue.add(key);
  }

  // ---- Sync.

  /** Reconciles one object: claim pods, create or delete the difference, write status. */
  async syncReplicaSet(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const obj = this.rsLister.get(namespace, name);
    if (!obj) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const rs = asReplicaSet(obj, this.kind);
    const needsSync = this.expectations.satisfiedExpectations(key);
    const selector = selectorOf(rs);
    if (!selector) return;

    // Pods controlled by us (so those that stopped matching are released) and orphans (candidates
    // for adoption), as upstream's getRSPods reads them from the controller-UID index. Our active pods
    // come in groups sharing their labels (ControlledPods), so the selector is checked per group and
    // only pods that no longer match, and orphans, go through claimObjects one by one.
    const uid = obj.metadata?.uid ?? '';
    const matched: PodGroup[] = [];
    const rest: Pod[] = [];
    let owned = 0;
    for (const g of this.#controlledPods.groups(uid)) {
      if (g.namespace !== namespace) continue;
      if (matches(selector, g.labels)) {
        matched.push(g);
        owned += g.pods.size;
      } else {
        for (const pod of g.pods.values()) rest.push(pod);
      }
    }
    this.podInformer.indexer.forEachByIndex(CONTROLLER_UID_INDEX, ORPHAN_INDEX_KEY, (pod) => {
      if (pod.metadata?.namespace === namespace && isPodActive(pod)) rest.push(pod);
    });
    // Upstream works on the pod list it claimed while its own writes are in flight: take what the
    // rest of the sync reads before the first await (the groups change as events arrive).
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const mayDelete = needsSync && !obj.metadata?.deletionTimestamp && owned + rest.length > (rs.spec?.replicas ?? 1);
    const ownedPods = mayDelete || minReady > 0 ? this.#ownedPodsInIndexOrder(uid, namespace, new Set(matched)) : undefined;
    const groupCounts = minReady > 0 ? undefined : countPodGroups(rs, matched, [], 0);
    const adopted = rest.length > 0 ? await this.#claimPods(obj, selector, rest) : [];
    const claimed: ClaimedPods = {
      count: owned + adopted.length,
      list: () => [...(ownedPods ?? this.#ownedPodsInIndexOrder(uid, namespace, new Set(matched))), ...adopted],
    };

    let manageErr: unknown;
    if (needsSync && !obj.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(claimed, rs, obj);
      } catch (err) {
        manageErr = err;
      }
    }
    const now = this.#ctx.clock.now();
    const counts = groupCounts ? addCounts(groupCounts, countPods(rs, adopted, now)) : countPods(rs, claimed.list(), now);
    const status = statusFromCounts(rs, counts, manageErr, now);
    const updated = await updateReplicaSetStatus(this.#statusClient, obj, rs, status, this.kind);
    const u = asReplicaSet(updated, this.kind);
    const replicas = u.spec?.replicas ?? 1;
    const minReadyNow = u.spec?.minReadySeconds ?? 0;
    if (manageErr === undefined && minReadyNow > 0 && (u.status?.readyReplicas ?? 0) === replicas && (u.status?.availableReplicas ?? 0) !== replicas) {
      this.queue.addAfter(key, minReadyNow * 1000);
    }
    if (manageErr !== undefined) throw manageErr;
  }

  /** Our active pods in `matched` groups, in the controller-UID index's order (the order upstream claims them in). */
  #ownedPodsInIndexOrder(uid: string, namespace: string, matched: ReadonlySet<PodGroup>): Pod[] {
    const out: Pod[] = [];
    this.podInformer.indexer.forEachByIndex(CONTROLLER_UID_INDEX, uid, (pod, key) => {
      const g = this.#controlledPods.groupOf(key);
      if (g !== undefined && matched.has(g) && pod.metadata?.namespace === namespace) out.push(pod);
    });
    return out;
  }

  async #claimPods(obj: KubeObject, selector: Selector, pods: Pod[]): Promise<Pod[]> {
    const ns = obj.metadata?.namespace ?? '';
    const rc = this.#statusClient;
    return claimObjects<Pod>(pods, {
      controller: obj,
      controllerKind: this.kind.gvk,
      selector,
      canAdopt: recheckDeletionTimestamp(() => rc.get(ns, obj.metadata?.name ?? ''), obj, this.kind.gvk.kind),
      patch: (pod, patch) => this.podControl.patchPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', patch),
    });
  }

  /** Creates or deletes pods to reach spec.replicas, at most burstReplicas per call. */
  async manageReplicas(claimed: ClaimedPods, rs: ReplicaSet, owner: KubeObject): Promise<void> {
    const key = metaNamespaceKey(owner);
    const wanted = rs.spec?.replicas ?? 1;
    let diff = claimed.count - wanted;
    const ns = owner.metadata?.namespace ?? '';
    const eventObj = withTypeMeta(owner, this.kind.gvk);
    if (diff < 0) {
      diff = Math.min(-diff, this.#burstReplicas);
      this.expectations.expectCreations(key, diff);
      const template = rs.spec?.template ?? {};
      const ref = newControllerRef(owner, this.kind.gvk);
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPods(ns, template, eventObj, ref);
        } catch (err) {
          // Every create fails while the namespace terminates: nothing to do.
          if (hasStatusCause(err, NamespaceTerminatingCause)) return;
          throw err;
        }
      });
      // Creations never attempted or failed will not be observed.
      for (let i = 0; i < diff - successes; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.#burstReplicas);
      const filtered = claimed.list();
      const related = this.#indirectlyRelatedPods(owner);
      const toDelete = diff < filtered.length
        ? sortPodsForDeletion(filtered, ranksByRelatedPodsOnSameNode(filtered, related), this.#ctx.clock.now()).slice(0, diff)
        : filtered.slice(0, diff);
      this.expectations.expectDeletionsOf(key, toDelete.map(podKey));
      const results = await settleLimited(toDelete.length, MAX_CONCURRENT_POD_WRITES, (i) => this.podControl.deletePod(ns, toDelete[i]!.metadata?.name ?? '', eventObj));
      let firstErr: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        this.expectations.deletionObservedOf(key, podKey(toDelete[i]!));
        if (!isNotFound(r.reason)) firstErr ??= r.reason;
      });
      if (firstErr !== undefined) throw firstErr;
    }
  }

  /** Pods of every object of our kind that shares this one's controller (a Deployment's other ReplicaSets). */
  #indirectlyRelatedPods(owner: KubeObject): Pod[] {
    const ref = controllerRefOf(owner);
    if (!ref) return [];
    const seen = new Set<string>();
    const out: Pod[] = [];
    const siblings = this.rsInformer.indexer.byIndex(CONTROLLER_UID_INDEX, ref.uid)
      .filter((o) => o.metadata?.namespace === owner.metadata?.namespace);
    for (const sib of siblings) {
      const sel = selectorOf(asReplicaSet(sib, this.kind));
      if (!sel) continue;
      for (const pod of this.podLister.listNamespace(sib.metadata?.namespace ?? '', sel)) {
        const uid = pod.metadata?.uid ?? '';
        if (seen.has(uid)) continue;
        seen.add(uid);
        out.push(pod);
      }
    }
    return out;
  }
}

/** The selector of a ReplicaSet, or undefined when it is invalid (it then matches nothing). */
export function selectorOf(rs: ReplicaSet): Selector | undefined {
  try {
    return rs.spec?.selector ? labelSelectorAsSelector(rs.spec.selector) : selectorFromSet({});
  } catch {
    return undefined;
  }
}

function withTypeMeta(obj: KubeObject, gvk: ControllerKind): KubeObject {
  return obj.kind && obj.apiVersion ? obj : { ...obj, apiVersion: gvk.apiVersion, kind: gvk.kind };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}), kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}


registerController('replicaset', (ctx) => new ReplicaSetController(ctx, REPLICA_SET_KIND), 5);
