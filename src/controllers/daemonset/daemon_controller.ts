// The DaemonSet controller (upstream pkg/controller/daemon): one pod per node that should run it,
// pinned through node affinity so the scheduler binds it; failed pods replaced with backoff; pods on
// nodes that no longer qualify removed; RollingUpdate or OnDelete across ControllerRevisions; and
// the desired/current/ready/updated/available counts in status.
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from '../../api/types/apps_v1.ts';
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { labelSelectorAsSelector, matches, type Selector } from '../../api/labels.ts';
import { logger } from '../../base/log.ts';
import { hasStatusCause, isAlreadyExists, isNotFound } from '../../client/api_errors.ts';
import type { Clock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import { ControllerExpectations } from '../../client/expectations.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { deletionHandlingKey, metaNamespaceKey, splitKey, unwrapTombstone, type DeletedFinalStateUnknown } from '../../client/store.ts';
import { goJson, templatePatch } from '../controller_history.ts';
import {
  BURST_REPLICAS, claimObjects, computeHash, errMessage, isPodAvailable, isPodReady, newControllerRef,
  RealPodControl, recheckDeletionTimestamp, runWorkers, sameOwnerRef, SLOW_START_INITIAL_BATCH_SIZE, type PodControl,
} from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { planRollingUpdate } from './update.ts';
import {
  allowsSurge, compareByCreationTimestampAndPhase, createPodTemplate, DAEMONSET_KIND, DAEMONSET_UNIQUE_LABEL, FailedPodsBackoff,
  isPodUpdated, nodeShouldRunDaemonPod, replaceDaemonSetPodNodeNameNodeAffinity, targetNodeName, templateGeneration,
} from './util.ts';

const log = logger('daemonset-controller');
const STATUS_UPDATE_RETRIES = 1;

/** Seams for unit tests. */
export interface DaemonSetControllerOptions {
  readonly podControl?: PodControl;
  /** Revision writes (default: the API). */
  readonly revisions?: RevisionControl;
  readonly updateStatus?: (ds: DaemonSet) => Promise<DaemonSet>;
}

/** ControllerRevision writes of the DaemonSet controller. */
export interface RevisionControl {
  create(rev: ControllerRevision): Promise<ControllerRevision>;
  get(namespace: string, name: string): Promise<ControllerRevision>;
  update(rev: ControllerRevision): Promise<ControllerRevision>;
  delete(namespace: string, name: string): Promise<void>;
  patch(rev: ControllerRevision, patch: unknown): Promise<void>;
}

/** Runs DaemonSets. */
export class DaemonSetsController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  #dss: SharedIndexInformer<DaemonSet>;
  #pods: SharedIndexInformer<Pod>;
  #nodes: SharedIndexInformer<Node>;
  #histories: SharedIndexInformer<ControllerRevision>;
  #dsClient: ResourceClient<DaemonSet>;
  #podClient: ResourceClient<Pod>;
  #podControl: PodControl;
  #revisions: RevisionControl;
  #updateStatus: (ds: DaemonSet) => Promise<DaemonSet>;
  #recorder: EventRecorder;
  #clock: Clock;
  #failedPodsBackoff = new FailedPodsBackoff();
  #registrations: { dispose(): void }[] = [];
  #workers: Promise<void> | undefined;

  constructor(ctx: ControllerContext, opts: DaemonSetControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#recorder = ctx.recorder('daemonset-controller');
    this.queue = new RateLimitingQueue<string>({ name: 'daemonset', clock: ctx.clock });
    this.expectations = new ControllerExpectations(ctx.clock);
    this.#dsClient = ctx.client.resource<DaemonSet>(resourceDescriptor('apps/v1', 'daemonsets'));
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    const revClient = ctx.client.resource<ControllerRevision>(resourceDescriptor('apps/v1', 'controllerrevisions'));
    this.#podControl = opts.podControl ?? new RealPodControl(ctx.client, this.#recorder);
    this.#revisions = opts.revisions ?? {
      create: (r) => revClient.inNamespace(r.metadata!.namespace!).create(r),
      get: (ns, name) => revClient.inNamespace(ns).get(name),
      update: (r) => revClient.inNamespace(r.metadata!.namespace!).update(r),
      delete: async (ns, name) => {
        await revClient.inNamespace(ns).delete(name);
      },
      patch: async (r, p) => {
        await revClient.inNamespace(r.metadata!.namespace!).patch(r.metadata!.name!, 'strategic', p);
      },
    };
    this.#updateStatus = opts.updateStatus ?? ((ds) => this.#dsClient.updateStatus(ds));
    this.#dss = ctx.informers.informerFor<DaemonSet>(resourceDescriptor('apps/v1', 'daemonsets'));
    this.#pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.#nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.#histories = ctx.informers.informerFor<ControllerRevision>(resourceDescriptor('apps/v1', 'controllerrevisions'));
    this.#registrations.push(this.#dss.addEventHandler({
      onAdd: (ds) => this.queue.add(metaNamespaceKey(ds)),
      onUpdate: (_o, n) => this.queue.add(metaNamespaceKey(n)),
      onDelete: (ds) => this.queue.add(deletionHandlingKey(ds as DaemonSet | DeletedFinalStateUnknown<DaemonSet>)),
    }));
    this.#registrations.push(this.#histories.addEventHandler({
      onAdd: (h) => this.#enqueueOwnerOf(h),
      onUpdate: (_o, n) => this.#enqueueOwnerOf(n),
      onDelete: (h) => this.#enqueueOwnerOf(unwrapTombstone(h)),
    }));
    this.#registrations.push(this.#pods.addEventHandler({
      onAdd: (p) => this.#addPod(p),
      onUpdate: (o, n) => this.#updatePod(o, n),
      onDelete: (p) => this.#deletePod(unwrapTombstone(p)),
    }));
    this.#registrations.push(this.#nodes.addEventHandler({
      onAdd: (n) => this.#addNode(n),
      onUpdate: (o, n) => this.#updateNode(o, n),
      onDelete: () => {
        for (const ds of this.#dss.lister.list()) this.queue.add(metaNamespaceKey(ds));
      },
    }));
  }

  run(workers: number): void {
    this.#workers = runWorkers(this.queue, workers, (k) => this.sync(k), (key, err) => log.warn('error syncing DaemonSet', { key, err: errMessage(err) }));
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations.splice(0)) r.dispose();
    this.queue.shutDown();
    await this.#workers;
  }

  // ---- handlers

  #resolve(namespace: string, ref: { kind: string; name: string; uid: string }): DaemonSet | undefined {
    if (ref.kind !== 'DaemonSet') return undefined;
    const ds = this.#dss.lister.get(namespace, ref.name);
    return ds && ds.metadata?.uid === ref.uid ? ds : undefined;
  }

  #selecting(obj: Pod | ControllerRevision): DaemonSet[] {
    return this.#dss.lister.listNamespace(obj.metadata?.namespace ?? '').filter((ds) => {
      try {
        return matches(labelSelectorAsSelector(ds.spec?.selector), obj.metadata?.labels);
      } catch {
        return false;
      }
    });
  }

  #enqueueOwnerOf(h: ControllerRevision): void {
    const ref = controllerRefOf(h);
    if (ref) {
      const ds = this.#resolve(h.metadata?.namespace ?? '', ref);
      if (ds) this.queue.add(metaNamespaceKey(ds));
      return;
    }
    for (const ds of this.#selecting(h)) this.queue.add(metaNamespaceKey(ds));
  }

  #addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const ds = this.#resolve(pod.metadata?.namespace ?? '', ref);
      if (!ds) return;
      const key = metaNamespaceKey(ds);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const ds of this.#selecting(pod)) this.queue.add(metaNamespaceKey(ds));
  }

  #updatePod(oldPod: Pod, cur: Pod): void {
    if (cur.metadata?.resourceVersion === oldPod.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      this.#deletePod(cur);
      return;
    }
    const ns = cur.metadata?.namespace ?? '';
    const curRef = controllerRefOf(cur), oldRef = controllerRefOf(oldPod);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const ds = this.#resolve(ns, oldRef);
      if (ds) this.queue.add(metaNamespaceKey(ds));
    }
    if (curRef) {
      const ds = this.#resolve(ns, curRef);
      if (!ds) return;
      this.queue.add(metaNamespaceKey(ds));
      // A pod that just became ready turns available after minReadySeconds: look again then.
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (!isPodReady(oldPod) && isPodReady(cur) && minReady > 0) this.queue.addAfter(metaNamespaceKey(ds), minReady * 1000 + 1000);
      return;
    }
    const labelsChanged = JSON.stringify(cur.metadata?.labels ?? {}) !== JSON.stringify(oldPod.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const ds of this.#selecting(cur)) this.queue.add(metaNamespaceKey(ds));
  }

  #deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const ds = this.#resolve(pod.metadata?.namespace ?? '', ref);
    if (!ds) return;
    const key = metaNamespaceKey(ds);
    this.expectations.deletionObserved(key);
    this.queue.add(key);
  }

  #addNode(node: Node): void {
    for (const ds of this.#dss.lister.list()) {
      if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.queue.add(metaNamespaceKey(ds));
    }
  }

  #updateNode(oldNode: Node, cur: Node): void {
    if (shouldIgnoreNodeUpdate(oldNode, cur)) return;
    for (const ds of this.#dss.lister.list()) {
      const a = nodeShouldRunDaemonPod(oldNode, ds), b = nodeShouldRunDaemonPod(cur, ds);
      if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.queue.add(metaNamespaceKey(ds));
    }
  }

  // ---- sync

  /** Reconciles one DaemonSet. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.#dss.lister.get(namespace, name);
    if (!ds) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const nodes = this.#nodes.lister.list();
    const sel = ds.spec?.selector;
    if (!sel || ((sel.matchLabels === undefined || Object.keys(sel.matchLabels).length === 0) && (sel.matchExpressions ?? []).length === 0)) {
      this.#recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Revisions may be gone or orphaned while the DaemonSet is being deleted: do nothing then.
    if (ds.metadata?.deletionTimestamp) return;
    const { cur, old } = await this.#constructHistory(ds);
    const hash = cur.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL] ?? '';
    if (!this.expectations.satisfiedExpectations(key)) {
      await this.#updateDaemonSetStatus(ds, nodes, hash, false);
      return;
    }
    let err: unknown;
    try {
      await this.#manage(ds, nodes, hash);
      if (this.expectations.satisfiedExpectations(key) && ds.spec?.updateStrategy?.type === 'RollingUpdate') {
        const nodeToDaemonPods = await this.#getNodesToDaemonPods(ds, false);
        const plan = planRollingUpdate(ds, nodes, nodeToDaemonPods, hash, this.#clock.now());
        await this.#syncNodes(ds, plan.podsToDelete, plan.nodesToCreate, hash);
      }
      await this.#cleanupHistory(ds, old);
    } catch (e) {
      err = e;
    }
    await this.#updateDaemonSetStatus(ds, nodes, hash, true);
    if (err !== undefined) throw err;
  }

  /** Claimed daemon pods grouped by target node (getNodesToDaemonPods). */
  async #getNodesToDaemonPods(ds: DaemonSet, includeDeletedTerminal: boolean): Promise<Map<string, Pod[]>> {
    const ns = ds.metadata!.namespace!;
    const pods = await claimObjects<Pod>(this.#pods.lister.listNamespace(ns), {
      controller: ds,
      controllerKind: DAEMONSET_KIND,
      selector: labelSelectorAsSelector(ds.spec?.selector),
      canAdopt: recheckDeletionTimestamp(() => this.#dsClient.inNamespace(ns).get(ds.metadata!.name!), ds, 'DaemonSet'),
      patch: (pod, patch) => this.#podControl.patchPod(ns, pod.metadata!.name!, patch),
    });
    const out = new Map<string, Pod[]>();
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (!includeDeletedTerminal && (phase === 'Succeeded' || phase === 'Failed') && pod.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      out.set(node, [...(out.get(node) ?? []), pod]);
    }
    return out;
  }

  async #manage(ds: DaemonSet, nodes: readonly Node[], hash: string): Promise<void> {
    const nodeToDaemonPods = await this.#getNodesToDaemonPods(ds, false);
    const needing: string[] = [];
    const toDelete: string[] = [];
    for (const node of nodes) {
      const r = this.#podsShouldBeOnNode(node, nodeToDaemonPods, ds, hash);
      needing.push(...r.needing);
      toDelete.push(...r.toDelete);
    }
    // Unscheduled pods aimed at nodes that no longer exist would never be scheduled or GC'd.
    const names = new Set(nodes.map((n) => n.metadata?.name));
    for (const [nodeName, pods] of nodeToDaemonPods) {
      if (names.has(nodeName)) continue;
      for (const p of pods) if (!p.spec?.nodeName) toDelete.push(p.metadata!.name!);
    }
    await this.#syncNodes(ds, toDelete, needing, hash);
  }

  #podsShouldBeOnNode(node: Node, nodeToDaemonPods: Map<string, Pod[]>, ds: DaemonSet, hash: string): { needing: string[]; toDelete: string[] } {
    const needing: string[] = [];
    const toDelete: string[] = [];
    const nodeName = node.metadata!.name!;
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const daemonPods = nodeToDaemonPods.get(nodeName);
    if (shouldRun && !daemonPods) {
      needing.push(nodeName);
    } else if (shouldContinueRunning && daemonPods) {
      const running: Pod[] = [];
      const now = this.#clock.now();
      for (const pod of daemonPods) {
        if (pod.metadata?.deletionTimestamp) continue;
        const phase = pod.status?.phase;
        if (phase === 'Failed' || phase === 'Succeeded') {
          // Kubelets may keep rejecting the pod: back off instead of hot-looping.
          const bkey = `${ds.metadata?.uid}/${nodeName}`;
          if (this.#failedPodsBackoff.isInBackOffSinceUpdate(bkey, now)) {
            this.queue.addAfter(metaNamespaceKey(ds), this.#failedPodsBackoff.get(bkey));
            continue;
          }
          this.#failedPodsBackoff.next(bkey, now);
          const ns = pod.metadata?.namespace ?? '', pn = pod.metadata?.name ?? '';
          if (phase === 'Failed') this.#recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${pn} on node ${nodeName}, will try to kill it`);
          else this.#recorder.event(ds, 'Normal', 'SucceededDaemonPod', `Found succeeded daemon pod ${ns}/${pn} on node ${nodeName}, will try to delete it`);
          toDelete.push(pn);
        } else {
          running.push(pod);
        }
      }
      if (!allowsSurge(ds)) {
        if (running.length > 1) {
          running.sort(compareByCreationTimestampAndPhase);
          for (const p of running.slice(1)) toDelete.push(p.metadata!.name!);
        }
      } else if (running.length <= 1) {
        if (running.length === 0 && shouldRun) needing.push(nodeName);
      } else {
        // Two pods only while the new one is not yet available and the old one still serves.
        running.sort(compareByCreationTimestampAndPhase);
        let oldestNew: Pod | undefined, oldestOld: Pod | undefined;
        for (const pod of running) {
          if (pod.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL] === hash) {
            if (!oldestNew) {
              oldestNew = pod;
              continue;
            }
          } else if (!oldestOld) {
            oldestOld = pod;
            continue;
          }
          toDelete.push(pod.metadata!.name!);
        }
        if (oldestNew && oldestOld) {
          if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.#clock.now())) toDelete.push(oldestOld.metadata!.name!);
        }
      }
    } else if (!shouldContinueRunning && daemonPods) {
      for (const pod of daemonPods) if (!pod.metadata?.deletionTimestamp) toDelete.push(pod.metadata!.name!);
    }
    return { needing, toDelete };
  }

  /** Creates daemon pods on `nodesNeeding` (slow start) and deletes `podsToDelete`, with expectations. */
  async #syncNodes(ds: DaemonSet, podsToDelete: readonly string[], nodesNeeding: readonly string[], hash: string): Promise<void> {
    const key = metaNamespaceKey(ds);
    const createDiff = Math.min(nodesNeeding.length, BURST_REPLICAS);
    const deleteDiff = Math.min(podsToDelete.length, BURST_REPLICAS);
    this.expectations.setExpectations(key, createDiff, deleteDiff);
    const errors: unknown[] = [];
    const template = createPodTemplate(ds.spec!.template, templateGeneration(ds), hash);
    const ref = newControllerRef(ds, DAEMONSET_KIND);
    let pos = 0;
    for (let batch = Math.min(createDiff, SLOW_START_INITIAL_BATCH_SIZE); createDiff > pos; ) {
      const before = errors.length;
      await Promise.all(nodesNeeding.slice(pos, pos + batch).map(async (nodeName) => {
        const t = structuredClone(template);
        t.spec!.affinity = replaceDaemonSetPodNodeNameNodeAffinity(t.spec!.affinity, nodeName);
        try {
          await this.#podControl.createPods(ds.metadata!.namespace!, t, ds, ref);
        } catch (err) {
          if (hasStatusCause(err, 'NamespaceTerminating')) return;
          this.expectations.creationObserved(key);
          errors.push(err);
        }
      }));
      const skipped = createDiff - (pos + batch);
      if (errors.length > before && skipped > 0) {
        this.expectations.lowerExpectations(key, skipped, 0);
        break;
      }
      pos += batch;
      batch = Math.min(2 * batch, createDiff - pos);
    }
    await Promise.all(podsToDelete.slice(0, deleteDiff).map(async (name) => {
      try {
        await this.#podControl.deletePod(ds.metadata!.namespace!, name, ds);
      } catch (err) {
        this.expectations.deletionObserved(key);
        if (!isNotFound(err)) errors.push(err);
      }
    }));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(errMessage).join(', '));
  }

  async #updateDaemonSetStatus(ds: DaemonSet, nodes: readonly Node[], hash: string, updateObservedGen: boolean): Promise<void> {
    const nodeToDaemonPods = await this.#getNodesToDaemonPods(ds, false);
    let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
    const now = this.#clock.now();
    const gen = templateGeneration(ds);
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = nodeToDaemonPods.get(node.metadata!.name!) ?? [];
      const scheduled = pods.length > 0;
      if (!shouldRun) {
        if (scheduled) misscheduled++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = [...pods].sort(compareByCreationTimestampAndPhase)[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, now)) available++;
      }
      if (isPodUpdated(pod, hash, gen)) updated++;
    }
    await this.#storeDaemonSetStatus(ds, { desired, current, misscheduled, ready, updated, available, unavailable: desired - available }, updateObservedGen);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && ready !== available) this.queue.addAfter(metaNamespaceKey(ds), minReady * 1000);
  }

  async #storeDaemonSetStatus(ds: DaemonSet, n: { desired: number; current: number; misscheduled: number; ready: number; updated: number; available: number; unavailable: number }, updateObservedGen: boolean): Promise<void> {
    const s = ds.status;
    if (s && s.desiredNumberScheduled === n.desired && s.currentNumberScheduled === n.current && s.numberMisscheduled === n.misscheduled &&
      s.numberReady === n.ready && (s.updatedNumberScheduled ?? 0) === n.updated && (s.numberAvailable ?? 0) === n.available &&
      (s.numberUnavailable ?? 0) === n.unavailable && (s.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0)) return;
    let toUpdate = structuredClone(ds);
    for (let i = 0; ; i++) {
      const status: DaemonSetStatus = {
        ...(toUpdate.status ?? {}),
        currentNumberScheduled: n.current,
        numberMisscheduled: n.misscheduled,
        desiredNumberScheduled: n.desired,
        numberReady: n.ready,
      };
      if (updateObservedGen) status.observedGeneration = ds.metadata?.generation ?? 0;
      const optional = { updatedNumberScheduled: n.updated, numberAvailable: n.available, numberUnavailable: n.unavailable } as const;
      for (const [k, v] of Object.entries(optional) as [keyof typeof optional, number][]) {
        if (v) status[k] = v;
        else delete status[k];
      }
      toUpdate.status = status;
      try {
        await this.#updateStatus(toUpdate);
        return;
      } catch (err) {
        if (i >= STATUS_UPDATE_RETRIES) throw err;
        toUpdate = await this.#dsClient.inNamespace(ds.metadata!.namespace!).get(ds.metadata!.name!);
      }
    }
  }

  // ---- history (controllerrevisions)

  /** Revisions of the DaemonSet, adopting matching orphans and releasing non-matching ones. */
  async #controlledHistories(ds: DaemonSet): Promise<ControllerRevision[]> {
    const ns = ds.metadata!.namespace!;
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(ds.spec?.selector);
    } catch {
      return [];
    }
    return claimObjects<ControllerRevision>(this.#histories.lister.listNamespace(ns), {
      controller: ds,
      controllerKind: DAEMONSET_KIND,
      selector,
      canAdopt: recheckDeletionTimestamp(() => this.#dsClient.inNamespace(ns).get(ds.metadata!.name!), ds, 'DaemonSet'),
      patch: (rev, patch) => this.#revisions.patch(rev, patch),
    });
  }

  /** The revision matching the current template (created if missing) and the others (constructHistory). */
  async #constructHistory(ds: DaemonSet): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const patch = goJson(templatePatch(ds));
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let h of await this.#controlledHistories(ds)) {
      if (!h.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL]) {
        const toUpdate = structuredClone(h);
        toUpdate.metadata!.labels = { ...toUpdate.metadata?.labels, [DAEMONSET_UNIQUE_LABEL]: toUpdate.metadata!.name! };
        h = await this.#revisions.update(toUpdate);
      }
      if (goJson(h.data) === patch) current.push(h);
      else old.push(h);
    }
    const currRevision = Math.max(0, ...old.map((h) => h.revision)) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) {
      cur = await this.#snapshot(ds, currRevision);
    } else {
      cur = await this.#dedupCurHistories(ds, current);
      if (cur.revision < currRevision) {
        const toUpdate = structuredClone(cur);
        toUpdate.revision = currRevision;
        cur = await this.#revisions.update(toUpdate);
      }
    }
    return { cur, old };
  }

  async #snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision> {
    const data = templatePatch(ds);
    const hash = computeHash(ds.spec!.template, ds.status?.collisionCount);
    const name = `${ds.metadata!.name}-${hash}`;
    const history: ControllerRevision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: ds.metadata!.namespace!,
        labels: { ...(ds.spec!.template.metadata?.labels ?? {}), [DAEMONSET_UNIQUE_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds, DAEMONSET_KIND)],
      },
      data: data as ControllerRevision['data'],
      revision,
    };
    try {
      return await this.#revisions.create(history);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.#revisions.get(ds.metadata!.namespace!, name);
      if (goJson(existing.data) === goJson(data)) return existing;
      // A hash collision with a different template: bump collisionCount so the next hash differs.
      const fresh = await this.#dsClient.inNamespace(ds.metadata!.namespace!).get(ds.metadata!.name!);
      if ((fresh.status?.collisionCount ?? null) !== (ds.status?.collisionCount ?? null)) {
        throw new Error(`found a stale collision count (${ds.status?.collisionCount}, expected ${fresh.status?.collisionCount}) of DaemonSet ${JSON.stringify(ds.metadata!.name)} while processing; will retry until it is updated`);
      }
      fresh.status = { ...(fresh.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 }), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 };
      await this.#updateStatus(fresh);
      throw err;
    }
  }

  /** Keeps the highest-revision duplicate, relabels pods of the others to it, deletes them (dedupCurHistories). */
  async #dedupCurHistories(ds: DaemonSet, current: ControllerRevision[]): Promise<ControllerRevision> {
    if (current.length === 1) return current[0]!;
    const keep = current.reduce((a, b) => (b.revision > a.revision ? b : a));
    const keepHash = keep.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL] ?? '';
    for (const h of current) {
      if (h === keep) continue;
      const dupHash = h.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL];
      for (const pod of this.#pods.lister.listNamespace(ds.metadata!.namespace!)) {
        if (controllerRefOf(pod)?.uid !== ds.metadata?.uid || pod.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL] !== dupHash) continue;
        const p = structuredClone(pod);
        p.metadata!.labels = { ...p.metadata!.labels, [DAEMONSET_UNIQUE_LABEL]: keepHash };
        await this.#podClient.inNamespace(p.metadata!.namespace!).update(p);
      }
      await this.#revisions.delete(h.metadata!.namespace!, h.metadata!.name!);
    }
    return keep;
  }

  /** Deletes the oldest unused revisions beyond revisionHistoryLimit (cleanupHistory). */
  async #cleanupHistory(ds: DaemonSet, old: ControllerRevision[]): Promise<void> {
    const toKeep = ds.spec?.revisionHistoryLimit ?? 10;
    let toKill = old.length - toKeep;
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.#getNodesToDaemonPods(ds, true)).values()) {
      for (const p of pods) {
        const h = p.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL];
        if (h) live.add(h);
      }
    }
    for (const h of [...old].sort((a, b) => a.revision - b.revision)) {
      if (toKill <= 0) break;
      if (live.has(h.metadata?.labels?.[DAEMONSET_UNIQUE_LABEL] ?? '')) continue;
      try {
        await this.#revisions.delete(h.metadata!.namespace!, h.metadata!.name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      toKill--;
    }
  }
}

/**
 * Node updates that cannot change where daemon pods belong (shouldIgnoreNodeUpdate). Upstream
 * compares the whole node minus heartbeats; eligibility here reads only labels, name and spec.
 */
function shouldIgnoreNodeUpdate(oldNode: Node, cur: Node): boolean {
  if (JSON.stringify(oldNode.spec ?? {}) !== JSON.stringify(cur.spec ?? {})) return false;
  if (JSON.stringify(oldNode.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {})) return false;
  return true;
}

registerController('daemonset', (ctx) => new DaemonSetsController(ctx), 2);


