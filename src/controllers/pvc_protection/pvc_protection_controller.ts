// The PVC protection controller (upstream pkg/controller/volume/pvcprotection): removes the
// kubernetes.io/pvc-protection finalizer from a deleted claim once no scheduled pod uses it (cache
// first, then a live pod list shared by the claims of one namespace), and adds it to claims lacking it.
import type { PersistentVolumeClaim, Pod, Volume } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { DeletedFinalStateUnknown, joinKey, metaNamespaceKey, splitKey } from '../../client/store.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { errMessage } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';

const log = logger('pvc-protection-controller');

/** The finalizer StorageObjectInUseProtection admission puts on every claim. */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
/** Pod index: the namespace/name keys of the claims a pod's volumes reference (upstream's name). */
export const POD_PVC_INDEX = 'pod-pvc-index';

/** The claim a generic ephemeral volume of `pod` is backed by: <pod>-<volume>. */
export function ephemeralClaimName(pod: Pod, volume: Volume): string {
  return `${pod.metadata?.name ?? ''}-${volume.name}`;
}

/** Keys of every claim `pod` references, through claim volumes or generic ephemeral volumes. */
export function podPvcIndexFunc(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? '';
  const keys: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim ? v.persistentVolumeClaim.claimName : v.ephemeral ? ephemeralClaimName(pod, v) : '';
    if (claim) keys.push(joinKey(ns, claim));
  }
  return keys;
}

/** Being deleted and still holding `finalizer`: the controller has a decision to make. */
export function isDeletionCandidate(obj: KubeObject, finalizer: string): boolean {
  return !!obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(finalizer);
}

/** Alive but without `finalizer` (created before admission added it). */
export function needToAddFinalizer(obj: KubeObject, finalizer: string): boolean {
  return !obj.metadata?.deletionTimestamp && !(obj.metadata?.finalizers ?? []).includes(finalizer);
}

/** Failed or Succeeded, or deleted with no container running (upstream volumeutil.IsPodTerminated). */
export function isPodTerminated(pod: Pod): boolean {
  const s = pod.status;
  if (s?.phase === 'Failed' || s?.phase === 'Succeeded') return true;
  const notRunning = (list: readonly { state?: { terminated?: unknown; waiting?: unknown } }[] | undefined): boolean =>
    (list ?? []).every((c) => !!c.state?.terminated || !!c.state?.waiting);
  return !!pod.metadata?.deletionTimestamp && notRunning(s?.initContainerStatuses) && notRunning(s?.containerStatuses) && notRunning(s?.ephemeralContainerStatuses);
}

/**
 * Done with by the kubelet, or force-deleted: deleted with a zero grace period. Such a pod no
 * longer holds its ephemeral claims, which breaks a cycle with a pod finalizer waiting for them.
 */
export function podIsShutDown(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0;
}

/** Whether `pod` keeps `pvc` in use: only scheduled pods count (the kubelet refuses deleted claims). */
export function podUsesPvc(pod: Pod, pvc: PersistentVolumeClaim): boolean {
  if (!pod.spec?.nodeName) return false;
  const name = pvc.metadata?.name;
  for (const v of pod.spec.volumes ?? []) {
    if (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === name) return true;
    if (v.ephemeral && !podIsShutDown(pod) && ephemeralClaimName(pod, v) === name && isControlledBy(pvc, pod)) return true;
  }
  return false;
}

function isControlledBy(pvc: PersistentVolumeClaim, pod: Pod): boolean {
  const ref = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return ref !== undefined && ref.uid === pod.metadata?.uid;
}

/** One live list of a namespace's pods, fetched on first need and shared by a batch of claims. */
export interface LazyLivePodList {
  pods?: Pod[];
}

/** Removes the protection finalizer from claims no pod uses any more. */
export class PvcProtectionController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly pvcs: SharedIndexInformer<PersistentVolumeClaim>;
  readonly pods: SharedIndexInformer<Pod>;
  /** Namespaces with dequeued claim keys waiting for a namespace worker. */
  readonly namespaceQueue = new WorkQueue<string>({ name: 'pvcprotection_namespaces' });
  #pending = new Map<string, string[]>();
  #pvcClient: ResourceClient<PersistentVolumeClaim>;
  #podClient: ResourceClient<Pod>;
  #registrations: { dispose(): void }[];
  #loops: Promise<unknown> | undefined;

  constructor(ctx: ControllerContext) {
    this.queue = new RateLimitingQueue<string>({ name: 'pvcprotection', clock: ctx.clock });
    this.#pvcClient = ctx.client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.pvcs = ctx.informers.informerFor<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'), { indexers: { [POD_PVC_INDEX]: podPvcIndexFunc } });
    const pvcChanged = (pvc: PersistentVolumeClaim): void => {
      if (needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER) || isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER)) this.queue.add(metaNamespaceKey(pvc));
    };
    this.#registrations = [
      this.pvcs.addEventHandler({ onAdd: pvcChanged, onUpdate: (_o, n) => pvcChanged(n) }),
      this.pods.addEventHandler({
        onAdd: (p) => this.enqueuePvcs(p, false),
        onUpdate: (o, n) => {
          this.enqueuePvcs(n, false);
          // A delete and re-create under the same name can arrive as one update: the old pod's claims are free.
          if (o.metadata?.uid !== n.metadata?.uid) this.enqueuePvcs(o, true);
        },
        onDelete: (p) => this.enqueuePvcs(p instanceof DeletedFinalStateUnknown ? p.obj : p, true),
      }),
    ];
  }

  run(workers: number): void {
    this.#loops = Promise.all([
      this.#batchLoop(),
      ...Array.from({ length: Math.max(1, workers) }, () => this.#namespaceWorker()),
    ]);
  }

  async dispose(): Promise<void> {
    for (const r of this.#registrations) r.dispose();
    this.queue.shutDown();
    this.namespaceQueue.shutDown();
    await this.#loops;
  }

  /** Queues the claims of `pod` when the pod can no longer be what keeps them. */
  enqueuePvcs(pod: Pod, deleted: boolean): void {
    if (!deleted && !isPodTerminated(pod) && pod.spec?.nodeName) return;
    for (const key of podPvcIndexFunc(pod)) this.queue.add(key);
  }

  /** Moves dequeued claim keys into per-namespace batches; keys stay in process until their batch ran. */
  async #batchLoop(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const { namespace } = splitKey(key);
      const batch = this.#pending.get(namespace);
      if (batch) batch.push(key);
      else {
        this.#pending.set(namespace, [key]);
        this.namespaceQueue.add(namespace);
      }
    }
  }

  async #namespaceWorker(): Promise<void> {
    for (;;) {
      const namespace = await this.namespaceQueue.get();
      if (namespace === undefined) return;
      const keys = this.#pending.get(namespace) ?? [];
      this.#pending.delete(namespace);
      this.namespaceQueue.done(namespace);
      await this.processBatch(keys);
    }
  }

  /** Processes claim keys of one namespace with one shared live pod list, then releases each key. */
  async processBatch(keys: readonly string[]): Promise<void> {
    const live: LazyLivePodList = {};
    for (const key of keys) {
      try {
        await this.processPvc(key, live);
        this.queue.forget(key);
      } catch (err) {
        log.warn('PVC failed', { pvc: key, err: errMessage(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Decides about one claim: drop the finalizer when deleted and unused, add it when missing. */
  async processPvc(key: string, live: LazyLivePodList = {}): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pvc = this.pvcs.lister.get(namespace, name);
    if (!pvc) return;
    if (isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER)) {
      if (!(await this.isBeingUsed(pvc, live))) {
        await this.#setFinalizers(pvc, (pvc.metadata?.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER));
        log.info('Removed protection finalizer from PVC', { pvc: key });
        return;
      }
      log.info('Keeping PVC because it is being used', { pvc: key });
    }
    if (needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER)) {
      await this.#setFinalizers(pvc, [...(pvc.metadata?.finalizers ?? []), PVC_PROTECTION_FINALIZER]);
      log.info('Added protection finalizer to PVC', { pvc: key });
    }
  }

  /** True when a pod uses the claim: a hit in the cache settles it; a miss is confirmed by a live list. */
  async isBeingUsed(pvc: PersistentVolumeClaim, live: LazyLivePodList): Promise<boolean> {
    const key = metaNamespaceKey(pvc);
    if (this.pods.indexer.byIndex(POD_PVC_INDEX, key).some((p) => podUsesPvc(p, pvc))) return true;
    // The cache may not have seen a new pod yet: only the server can say the claim is unused.
    if (live.pods === undefined) {
      try {
        live.pods = (await this.#podClient.inNamespace(pvc.metadata?.namespace ?? '').list()).items ?? [];
      } catch (err) {
        throw new Error(`live list of pods failed: ${errMessage(err)}`);
      }
    }
    if (live.pods.some((p) => podUsesPvc(p, pvc))) return true;
    log.info('PVC is unused', { pvc: key });
    return false;
  }

  async #setFinalizers(pvc: PersistentVolumeClaim, finalizers: string[]): Promise<void> {
    const updated = structuredClone(pvc);
    updated.metadata = { ...updated.metadata, finalizers };
    try {
      await this.#pvcClient.inNamespace(pvc.metadata?.namespace ?? '').update(updated);
    } catch (err) {
      // Gone already: nothing left to protect or release.
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

registerController('pvc-protection', (ctx) => new PvcProtectionController(ctx), 1);
