// The Deployment controller (pkg/controller/deployment/deployment_controller.go): handlers enqueue
// Deployments touched by Deployment, ReplicaSet and pod events; syncDeployment claims ReplicaSets
// and dispatches to pause/scale, rollback, Recreate or RollingUpdate.
import { labelSelectorAsSelector, matches, type Selector } from '../../api/labels.ts';
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { logger } from '../../base/log.ts';
import { isConflict } from '../../client/api_errors.ts';
import type { Clock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import { CONTROLLER_UID_INDEX, controllerRefOf, controllerUidIndexFunc, type Indexer } from '../../client/indexer.ts';
import type { Lister } from '../../client/lister.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { HandlerRegistration } from '../../client/shared_informer.ts';
import { DeletedFinalStateUnknown, metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { claimObjects, errMessage, recheckDeletionTimestamp, runWorkers, sameOwnerRef } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { restDeploymentClient, type DeploymentClient } from './deployment_client.ts';
import { rolloutRecreate } from './recreate.ts';
import { rollback } from './rollback.ts';
import { rolloutRolling } from './rolling.ts';
import { CONTROLLER_KIND, checkPausedConditions, getRollbackTo, isScalingEvent, sync, syncStatusOnly } from './sync.ts';

const DEPLOYMENTS = resourceDescriptor('apps/v1', 'deployments');
const REPLICASETS = resourceDescriptor('apps/v1', 'replicasets');
const PODS = resourceDescriptor('v1', 'pods');

/** Optional seams for tests. */
export interface DeploymentControllerOptions {
  readonly client?: DeploymentClient;
}

/** Runs Deployments. */
export class DeploymentController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly client: DeploymentClient;
  readonly recorder: EventRecorder;
  readonly clock: Clock;
  readonly dLister: Lister<Deployment>;
  readonly rsLister: Lister<ReplicaSet>;
  readonly podLister: Lister<Pod>;
  #podIndexer: Indexer<Pod>;
  /** The sync function (replaceable in tests). */
  syncHandler: (key: string) => Promise<void>;
  #registrations: HandlerRegistration[] = [];
  #running: Promise<void> | undefined;
  #log = logger('deployment-controller');

  constructor(ctx: ControllerContext, opts: DeploymentControllerOptions = {}) {
    this.clock = ctx.clock;
    this.recorder = ctx.recorder('deployment-controller');
    this.client = opts.client ?? restDeploymentClient(ctx.client);
    this.queue = new RateLimitingQueue<string>({ name: 'deployment', clock: ctx.clock });
    const dInformer = ctx.informers.informerFor<Deployment>(DEPLOYMENTS);
    const rsInformer = ctx.informers.informerFor<ReplicaSet>(REPLICASETS, { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc } });
    const podInformer = ctx.informers.informerFor<Pod>(PODS, { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc } });
    this.dLister = dInformer.lister;
    this.rsLister = rsInformer.lister;
    this.podLister = podInformer.lister;
    this.#podIndexer = podInformer.indexer;
    this.#registrations.push(dInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (d) => this.queue.add(d instanceof DeletedFinalStateUnknown ? d.key : metaNamespaceKey(d)),
    }));
    this.#registrations.push(rsInformer.addEventHandler({
      onAdd: (rs) => this.#addReplicaSet(rs),
      onUpdate: (old, cur) => this.#updateReplicaSet(old, cur),
      onDelete: (rs) => this.#deleteReplicaSet(unwrapTombstone(rs)),
    }));
    this.#registrations.push(podInformer.addEventHandler({
      onDelete: (pod) => this.#deletePod(unwrapTombstone(pod)),
    }));
    this.syncHandler = (key) => this.syncDeployment(key);
  }

  run(workers: number): void {
    this.#running ??= runWorkers(this.queue, workers, (key) => this.syncHandler(key), (key, err) => {
      // Conflicts are stale caches catching up: retried, not worth a warning.
      const fields = { key, err: errMessage(err) };
      if (isConflict(err)) this.#log.debug('sync failed', fields);
      else this.#log.warn('sync failed', fields);
    });
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations.splice(0)) r.dispose();
    this.queue.shutDown();
    await this.#running;
  }

  enqueue(d: Deployment): void {
    this.queue.add(metaNamespaceKey(d));
  }

  enqueueRateLimited(d: Deployment): void {
    this.queue.addRateLimited(metaNamespaceKey(d));
  }

  enqueueAfter(d: Deployment, ms: number): void {
    this.queue.addAfter(metaNamespaceKey(d), ms);
  }

  // ---- Handlers.

  #resolveControllerRef(namespace: string, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== CONTROLLER_KIND.kind) return undefined;
    const d = this.dLister.get(namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose selector matches an orphan ReplicaSet's labels. */
  #deploymentsForReplicaSet(rs: ReplicaSet): Deployment[] {
    return this.dLister.listNamespace(rs.metadata?.namespace ?? '').filter((d) => {
      const sel = safeSelector(d);
      return sel !== undefined && sel.requirements.length > 0 && matches(sel, rs.metadata?.labels);
    });
  }

  #addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp) {
      this.#deleteReplicaSet(rs);
      return;
    }
    const ref = controllerRefOf(rs);
    if (ref) {
      const d = this.#resolveControllerRef(rs.metadata?.namespace ?? '', ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.#deploymentsForReplicaSet(rs)) this.enqueue(d);
  }

  #updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (cur.metadata?.resourceVersion === old.metadata?.resourceVersion) return;
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const d = this.#resolveControllerRef(old.metadata?.namespace ?? '', oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.#resolveControllerRef(cur.metadata?.namespace ?? '', curRef);
      if (d) this.enqueue(d);
      return;
    }
    const labelChanged = JSON.stringify(cur.metadata?.labels ?? {}) !== JSON.stringify(old.metadata?.labels ?? {});
    if (labelChanged || refChanged) for (const d of this.#deploymentsForReplicaSet(cur)) this.enqueue(d);
  }

  #deleteReplicaSet(rs: ReplicaSet): void {
    const ref = controllerRefOf(rs);
    if (!ref) return;
    const d = this.#resolveControllerRef(rs.metadata?.namespace ?? '', ref);
    if (d) this.enqueue(d);
  }

  /** Recreate waits for old pods to be gone: wake it when the last one goes. */
  #deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const ns = pod.metadata?.namespace ?? '';
    const rs = this.rsLister.get(ns, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const dRef = controllerRefOf(rs);
    if (!dRef) return;
    const d = this.#resolveControllerRef(ns, dRef);
    if (!d || d.spec?.strategy?.type !== 'Recreate') return;
    const rsList = this.rsLister.listNamespace(ns).filter((r) => controllerRefOf(r)?.uid === d.metadata?.uid);
    let pods = 0;
    for (const list of this.getPodMapForDeployment(d, rsList).values()) pods += list.length;
    if (pods === 0) this.enqueue(d);
  }

  // ---- Sync.

  async syncDeployment(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dLister.get(namespace, name);
    if (!cached) return;
    const d = structuredClone(cached);
    d.apiVersion ??= CONTROLLER_KIND.apiVersion;
    d.kind ??= CONTROLLER_KIND.kind;
    const sel = d.spec?.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      this.recorder.eventf(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata?.generation ?? 0 };
        await this.client.updateDeploymentStatus(d);
      }
      return;
    }
    const rsList = await this.getReplicaSetsForDeployment(d);
    // Only Recreate reads the pod map, and building it walks every pod of the Deployment: skip it
    // for other strategies (the strategy of this copy cannot change during the sync).
    const podMap = d.spec?.strategy?.type === 'Recreate' ? this.getPodMapForDeployment(d, rsList) : undefined;
    if (d.metadata?.deletionTimestamp) {
      await syncStatusOnly(this, d, rsList);
      return;
    }
    await checkPausedConditions(this, d);
    if (d.spec?.paused) {
      await sync(this, d, rsList);
      return;
    }
    if (getRollbackTo(d)) {
      await rollback(this, d, rsList);
      return;
    }
    if (await isScalingEvent(this, d, rsList)) {
      await sync(this, d, rsList);
      return;
    }
    switch (d.spec?.strategy?.type) {
      case 'Recreate':
        await rolloutRecreate(this, d, rsList, podMap!);
        return;
      case 'RollingUpdate':
        await rolloutRolling(this, d, rsList);
        return;
    }
    throw new Error(`unexpected deployment strategy type: ${d.spec?.strategy?.type ?? ''}`);
  }

  /** ReplicaSets the Deployment owns after adopting matching orphans and releasing non-matching ones. */
  async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const ns = d.metadata?.namespace ?? '';
    const all = this.rsLister.listNamespace(ns);
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(d.spec?.selector);
    } catch (err) {
      throw new Error(`deployment ${ns}/${d.metadata?.name ?? ''} has invalid label selector: ${errMessage(err)}`);
    }
    return claimObjects<ReplicaSet>(all, {
      controller: d,
      controllerKind: CONTROLLER_KIND,
      selector,
      canAdopt: recheckDeletionTimestamp(() => this.client.getDeployment(ns, d.metadata?.name ?? ''), d, 'Deployment'),
      patch: (rs, patch) => this.client.patchReplicaSet(ns, rs.metadata?.name ?? '', patch),
    });
  }

  /** Pods of the Deployment grouped by the UID of their ReplicaSet (terminated pods included). */
  getPodMapForDeployment(d: Deployment, rsList: readonly ReplicaSet[]): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const rs of rsList) map.set(rs.metadata?.uid ?? '', []);
    const sel = safeSelector(d);
    if (!sel) return map;
    // Pods matching the selector whose controller is one of rsList: read per ReplicaSet from the
    // controller-UID index rather than filtering the whole namespace.
    const ns = d.metadata?.namespace ?? '';
    for (const [uid, pods] of map) {
      this.#podIndexer.forEachByIndex(CONTROLLER_UID_INDEX, uid, (pod) => {
        if ((pod.metadata?.namespace ?? '') === ns && matches(sel, pod.metadata?.labels)) pods.push(pod);
      });
    }
    return map;
  }
}

function safeSelector(d: Deployment): Selector | undefined {
  try {
    return labelSelectorAsSelector(d.spec?.selector);
  } catch {
    return undefined;
  }
}

registerController('deployment', (ctx) => new DeploymentController(ctx), 5);
