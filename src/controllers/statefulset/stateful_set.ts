// The StatefulSet controller (upstream pkg/controller/statefulset/stateful_set.go): watches sets,
// their pods, claims and revisions, adopts orphaned pods and revisions by selector, and hands each
// set with its pods to the update algorithm in stateful_set_control.ts.
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from '../../api/types/apps_v1.ts';
import type { PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import { labelSelectorAsSelector, matches, type Selector } from '../../api/labels.ts';
import { logger } from '../../base/log.ts';
import { isConflict } from '../../client/api_errors.ts';
import type { Clock } from '../../client/clock.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { deletionHandlingKey, metaNamespaceKey, splitKey, unwrapTombstone, type DeletedFinalStateUnknown } from '../../client/store.ts';
import { ControllerHistory } from '../controller_history.ts';
import { claimObjects, errMessage, isPodReady, ownerRefControllerPatch, recheckDeletionTimestamp, runWorkers, sameOwnerRef } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { realObjectManager, StatefulPodControl, type ObjectManager } from './stateful_pod_control.ts';
import { StatefulSetControl } from './stateful_set_control.ts';
import { isMemberOf, STATEFULSET_KIND } from './stateful_set_utils.ts';

const log = logger('statefulset-controller');

/** Seams for unit tests. */
export interface StatefulSetControllerOptions {
  readonly objectManager?: ObjectManager;
  readonly history?: ControllerHistory;
  readonly updateStatus?: (set: StatefulSet, status: StatefulSetStatus) => Promise<void>;
}

/** Status as upstream serializes it (zero counters omitted except replicas and availableReplicas). */
export function normalizeSetStatus(status: StatefulSetStatus): StatefulSetStatus {
  const s: StatefulSetStatus = { ...status, availableReplicas: status.availableReplicas ?? 0 };
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'observedGeneration'] as const) if (!s[k]) delete s[k];
  return s;
}

/** Runs StatefulSets. */
export class StatefulSetController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  #sets: SharedIndexInformer<StatefulSet>;
  #pods: SharedIndexInformer<Pod>;
  #revisions: SharedIndexInformer<ControllerRevision>;
  #setClient: ResourceClient<StatefulSet>;
  #history: ControllerHistory;
  #mgr: ObjectManager;
  #control: StatefulSetControl;
  #registrations: { dispose(): void }[] = [];
  #workers: Promise<void> | undefined;

  constructor(ctx: ControllerContext, opts: StatefulSetControllerOptions = {}) {
    const clock: Clock = ctx.clock;
    const recorder = ctx.recorder('statefulset-controller');
    this.queue = new RateLimitingQueue<string>({ name: 'statefulset', clock });
    this.#setClient = ctx.client.resource<StatefulSet>(resourceDescriptor('apps/v1', 'statefulsets'));
    this.#sets = ctx.informers.informerFor<StatefulSet>(resourceDescriptor('apps/v1', 'statefulsets'));
    this.#pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    const pvcs = ctx.informers.informerFor<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.#revisions = ctx.informers.informerFor<ControllerRevision>(resourceDescriptor('apps/v1', 'controllerrevisions'));
    this.#history = opts.history ?? new ControllerHistory(ctx.client);
    const mgr = opts.objectManager ?? realObjectManager(ctx.client, this.#pods.lister, pvcs.lister);
    this.#mgr = mgr;
    this.#control = new StatefulSetControl({
      podControl: new StatefulPodControl(mgr, recorder),
      history: this.#history,
      listRevisions: (set) => this.#listRevisions(set),
      updateStatus: opts.updateStatus ?? ((set, status) => this.#updateStatus(set, status)),
      now: () => clock.now(),
    });
    this.#registrations.push(this.#sets.addEventHandler({
      onAdd: (s) => this.queue.add(metaNamespaceKey(s)),
      onUpdate: (_o, n) => this.queue.add(metaNamespaceKey(n)),
      onDelete: (s) => this.queue.add(deletionHandlingKey(s as StatefulSet | DeletedFinalStateUnknown<StatefulSet>)),
    }));
    this.#registrations.push(this.#pods.addEventHandler({
      onAdd: (p) => this.#addPod(p),
      onUpdate: (o, n) => this.#updatePod(o, n),
      onDelete: (p) => this.#deletePod(unwrapTombstone(p)),
    }));
  }

  run(workers: number): void {
    this.#workers = runWorkers(this.queue, workers, (k) => this.sync(k), (key, err) => log.warn('error syncing StatefulSet', { key, err: errMessage(err) }));
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations.splice(0)) r.dispose();
    this.queue.shutDown();
    await this.#workers;
  }

  #resolve(namespace: string, ref: { kind: string; name: string; uid: string }): StatefulSet | undefined {
    if (ref.kind !== 'StatefulSet') return undefined;
    const set = this.#sets.lister.get(namespace, ref.name);
    return set && set.metadata?.uid === ref.uid ? set : undefined;
  }

  #setsSelecting(pod: Pod): StatefulSet[] {
    return this.#sets.lister.listNamespace(pod.metadata?.namespace ?? '').filter((s) => {
      try {
        return matches(labelSelectorAsSelector(s.spec?.selector), pod.metadata?.labels);
      } catch {
        return false;
      }
    });
  }

  #addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const set = this.#resolve(pod.metadata?.namespace ?? '', ref);
      if (set) this.queue.add(metaNamespaceKey(set));
      return;
    }
    for (const s of this.#setsSelecting(pod)) this.queue.add(metaNamespaceKey(s));
  }

  #updatePod(oldPod: Pod, cur: Pod): void {
    if (cur.metadata?.resourceVersion === oldPod.metadata?.resourceVersion) return;
    const ns = cur.metadata?.namespace ?? '';
    const curRef = controllerRefOf(cur), oldRef = controllerRefOf(oldPod);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const s = this.#resolve(ns, oldRef);
      if (s) this.queue.add(metaNamespaceKey(s));
    }
    if (curRef) {
      const s = this.#resolve(ns, curRef);
      if (!s) return;
      this.queue.add(metaNamespaceKey(s));
      // A pod that just became ready turns available after minReadySeconds: look again then.
      const minReady = s.spec?.minReadySeconds ?? 0;
      if (!isPodReady(oldPod) && isPodReady(cur) && minReady > 0) this.queue.addAfter(metaNamespaceKey(s), minReady * 1000 + 1000);
      return;
    }
    const labelsChanged = JSON.stringify(cur.metadata?.labels ?? {}) !== JSON.stringify(oldPod.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const s of this.#setsSelecting(cur)) this.queue.add(metaNamespaceKey(s));
  }

  #deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const s = this.#resolve(pod.metadata?.namespace ?? '', ref);
    if (s) this.queue.add(metaNamespaceKey(s));
  }

  /** Revisions of the set: matching its selector and owned by it or by nobody. */
  #revisionsFor(set: StatefulSet, selector: Selector): ControllerRevision[] {
    return this.#revisions.lister.listNamespace(set.metadata?.namespace ?? '', selector).filter((r) => {
      const ref = controllerRefOf(r);
      return !ref || ref.uid === set.metadata?.uid;
    });
  }

  #listRevisions(set: StatefulSet): ControllerRevision[] {
    return this.#revisionsFor(set, labelSelectorAsSelector(set.spec?.selector)).filter((r) => controllerRefOf(r) !== undefined);
  }

  async #updateStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    let obj = structuredClone(set);
    for (let attempt = 0; ; attempt++) {
      obj.status = normalizeSetStatus(status);
      try {
        await this.#setClient.updateStatus(obj);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        obj = await this.#setClient.inNamespace(set.metadata!.namespace!).get(set.metadata!.name!);
      }
    }
  }

  /** Reconciles one StatefulSet. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = this.#sets.lister.get(namespace, name);
    if (!set) return;
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(set.spec?.selector);
    } catch (err) {
      log.warn('error converting StatefulSet selector', { key, err: errMessage(err) });
      return;
    }
    const canAdopt = recheckDeletionTimestamp(() => this.#setClient.inNamespace(namespace).get(name), set, 'StatefulSet');
    const orphans = this.#revisionsFor(set, selector).filter((r) => !controllerRefOf(r));
    if (orphans.length > 0) {
      try {
        await canAdopt();
      } catch (err) {
        throw new Error(`can't adopt ControllerRevisions: ${errMessage(err)}`, { cause: err });
      }
      for (const r of orphans) await this.#history.patchControllerRevision(r, ownerRefControllerPatch(set, STATEFULSET_KIND, r.metadata?.uid ?? ''));
    }
    const pods = await claimObjects<Pod>(this.#pods.lister.listNamespace(namespace), {
      controller: set,
      controllerKind: STATEFULSET_KIND,
      selector,
      canAdopt,
      patch: (pod, patch) => this.#mgr.patchPod(pod, patch),
      filters: [(p) => isMemberOf(set, p)],
    });
    const status = await this.#control.updateStatefulSet(set, pods);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.availableReplicas !== (set.spec?.replicas ?? 1)) this.queue.addAfter(key, minReady * 1000);
  }
}

registerController('statefulset', (ctx) => new StatefulSetController(ctx), 5);
