// The PersistentVolume binder (upstream pkg/controller/volume/persistentvolume/pv_controller.go):
// binds Pending claims to matching volumes (both sides, with the bind-completed and
// bound-by-controller annotations), keeps volume phases (Available, Bound, Released, Failed) and
// claim phases (Pending, Bound, Lost) current, and reclaims volumes whose claim is gone: Retain
// keeps them Released; Delete of a dynamically provisioned volume is left to its provisioner, as
// upstream leaves it to external provisioners; claims needing a new volume are annotated for one.
import { logger } from '../../base/log.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import type { StorageClass } from '../../api/types/storage_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { formatTime, type Clock, type ClockTimer } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { joinKey, metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { Ann, checkVolumeSatisfyClaim, claimClass, findBestMatchForClaim, isVolumeBoundToClaim, volumeModeMismatch } from './volume_matching.ts';

const log = logger('persistentvolume-binder');

const IS_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

/** Tunables. */
export interface PvControllerOptions {
  /** --pvclaimbinder-sync-period (15 s). */
  readonly resyncPeriodMs?: number;
}

/** Binds claims to volumes and keeps both phases current. */
export class PersistentVolumeController implements Controller {
  /** Keys "volume/<name>" and "claim/<namespace>/<name>". */
  readonly queue: RateLimitingQueue<string>;
  readonly volumes: SharedIndexInformer<PersistentVolume>;
  readonly claims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly classes: SharedIndexInformer<StorageClass>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly pods: SharedIndexInformer<Pod>;
  #pvClient: ResourceClient<PersistentVolume>;
  #pvcClient: ResourceClient<PersistentVolumeClaim>;
  #recorder: EventRecorder;
  #clock: Clock;
  #resyncMs: number;
  #timer: ClockTimer | undefined;
  #handlers: HandlerRegistration[] = [];
  /** Objects this controller wrote, newer than the cache may be yet (upstream's local store). */
  #writtenVolumes = new Map<string, PersistentVolume>();
  #writtenClaims = new Map<string, PersistentVolumeClaim>();

  constructor(ctx: ControllerContext, opts: PvControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#resyncMs = opts.resyncPeriodMs ?? 15_000;
    this.queue = new RateLimitingQueue<string>({ name: 'persistentvolume', clock: ctx.clock });
    this.volumes = ctx.informers.informerFor<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    this.claims = ctx.informers.informerFor<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.classes = ctx.informers.informerFor<StorageClass>(resourceDescriptor('storage.k8s.io/v1', 'storageclasses'));
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.#pvClient = ctx.client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    this.#pvcClient = ctx.client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.#recorder = ctx.recorder('persistentvolume-controller');
    this.#handlers.push(this.volumes.addEventHandler({
      onAdd: (v) => this.queue.add(`volume/${v.metadata?.name ?? ''}`),
      onUpdate: (_o, v) => this.queue.add(`volume/${v.metadata?.name ?? ''}`),
      onDelete: (o) => {
        const v = unwrapTombstone(o);
        this.#writtenVolumes.delete(v.metadata?.name ?? '');
        const ref = v.spec?.claimRef;
        // A bound claim whose volume vanished must go Lost.
        if (ref?.name) this.queue.add(`claim/${ref.namespace ?? ''}/${ref.name}`);
      },
    }));
    this.#handlers.push(this.claims.addEventHandler({
      onAdd: (c) => this.queue.add(`claim/${metaNamespaceKey(c)}`),
      onUpdate: (_o, c) => this.queue.add(`claim/${metaNamespaceKey(c)}`),
      onDelete: (o) => {
        const c = unwrapTombstone(o);
        this.#writtenClaims.delete(metaNamespaceKey(c));
        // Its volume is released now.
        if (c.spec?.volumeName) this.queue.add(`volume/${c.spec.volumeName}`);
      },
    }));
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
    this.#scheduleResync();
  }

  #scheduleResync(): void {
    this.#timer = this.#clock.setTimer(() => {
      for (const v of this.volumes.lister.list()) this.queue.add(`volume/${v.metadata?.name ?? ''}`);
      for (const c of this.claims.lister.list()) this.queue.add(`claim/${metaNamespaceKey(c)}`);
      this.#scheduleResync();
    }, this.#resyncMs);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        if (key.startsWith('volume/')) await this.syncVolumeKey(key.slice(7));
        else await this.syncClaimKey(key.slice(6));
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** The freshest known state of a volume: the cache, or our own later write. */
  #volume(name: string): PersistentVolume | undefined {
    return fresher(this.volumes.lister.get('', name), this.#writtenVolumes.get(name));
  }

  #claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return fresher(this.claims.lister.get(namespace, name), this.#writtenClaims.get(joinKey(namespace, name)));
  }

  async syncClaimKey(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const claim = this.#claim(namespace, name);
    if (!claim) return;
    await this.syncClaim(claim);
  }

  async syncVolumeKey(name: string): Promise<void> {
    const volume = this.#volume(name);
    if (!volume) return;
    await this.syncVolume(volume);
  }

  /** syncClaim: bound claims are checked, pending ones bound if possible. */
  async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.annotations?.[Ann.BindCompleted] === undefined) await this.#syncUnboundClaim(claim);
    else await this.#syncBoundClaim(claim);
  }

  async #syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      const cls = claimClass(claim);
      const sc = cls === '' ? undefined : this.classes.lister.get('', cls);
      const delayBinding = sc?.volumeBindingMode === 'WaitForFirstConsumer';
      const selectedNode = claim.metadata?.annotations?.[Ann.SelectedNode];
      // Deliberate extension: once a node is selected, static volumes are matched against it here,
      // since our scheduler only records the node choice.
      const node = delayBinding && selectedNode ? this.nodes.lister.get('', selectedNode) : undefined;
      const volume = findBestMatchForClaim(claim, this.volumes.lister.list().map((v) => this.#volume(v.metadata?.name ?? '') ?? v), delayBinding, node);
      if (volume) {
        await this.#bind(volume, claim);
        return;
      }
      if (await this.#assignDefaultClass(claim)) return;
      if (delayBinding && !selectedNode) {
        this.#emitWaitForFirstConsumer(claim);
      } else if (cls !== '') {
        await this.#provisionClaim(claim, cls);
        return;
      } else {
        this.#recorder.event(claim, EventType.Normal, 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await this.#updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const volume = this.#volume(volumeName);
    if (!volume) {
      // The user asked for a volume that does not exist (yet): stay Pending.
      await this.#updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = checkVolumeSatisfyClaim(volume, claim);
      if (why !== undefined) {
        this.#recorder.event(claim, EventType.Warning, 'VolumeMismatch', `Cannot bind to requested volume ${JSON.stringify(volume.metadata?.name ?? '')}: ${why}`);
        await this.#updateClaimStatus(claim, 'Pending', undefined);
        return;
      }
      await this.#bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.#bind(volume, claim);
      return;
    }
    const msg = `volume ${JSON.stringify(volume.metadata?.name ?? '')} already bound to a different claim.`;
    this.#recorder.event(claim, EventType.Warning, 'FailedBinding', msg);
    if (claim.metadata?.annotations?.[Ann.BoundByController] === undefined) {
      await this.#updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const ref = volume.spec.claimRef;
    throw new Error(`invalid binding of claim ${JSON.stringify(metaNamespaceKey(claim))} to volume ${JSON.stringify(volumeName)}: volume already claimed by ${JSON.stringify(`${ref.namespace ?? ''}/${ref.name ?? ''}`)}`);
  }

  async #syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      await this.#updateClaimStatus(claim, 'Lost', undefined, ['ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!']);
      return;
    }
    const volume = this.#volume(volumeName);
    if (!volume) {
      await this.#updateClaimStatus(claim, 'Lost', undefined, ['ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref || ref.uid === claim.metadata?.uid) {
      await this.#bind(volume, claim);
      return;
    }
    await this.#updateClaimStatus(claim, 'Lost', undefined, ['ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly']);
  }

  /** syncVolume: phases from the claim it points to; reclaim when that claim is gone. */
  async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref || !ref.uid) {
      // Unused, or reserved for a claim that has not bound yet.
      await this.#updateVolumePhase(volume, 'Available', undefined);
      return;
    }
    let claim = this.#claim(ref.namespace ?? '', ref.name ?? '');
    if (!claim && volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
      // The cache may not have a just-created claim yet: ask the server before releasing anything.
      try {
        claim = await this.#pvcClient.inNamespace(ref.namespace ?? '').get(ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined;
    if (!claim) {
      let v = volume;
      if (v.status?.phase !== 'Released' && v.status?.phase !== 'Failed') v = await this.#updateVolumePhase(v, 'Released', undefined);
      await this.#reclaimVolume(v);
      return;
    }
    const claimVolume = claim.spec?.volumeName ?? '';
    if (claimVolume === '') {
      if (volumeModeMismatch(claim, volume)) {
        this.#recorder.event(volume, EventType.Warning, 'VolumeMismatch', `Cannot bind PersistentVolume to requested PersistentVolumeClaim ${JSON.stringify(claim.metadata?.name ?? '')} due to incompatible volumeMode.`);
        this.#recorder.event(claim, EventType.Warning, 'VolumeMismatch', `Cannot bind PersistentVolume ${JSON.stringify(volume.metadata?.name ?? '')} to requested PersistentVolumeClaim due to incompatible volumeMode.`);
        return;
      }
      // Half-bound (e.g. by a provisioner): the claim's sync finishes it.
      this.queue.add(`claim/${metaNamespaceKey(claim)}`);
      return;
    }
    if (claimVolume === volume.metadata?.name) {
      await this.#updateVolumePhase(volume, 'Bound', undefined);
      return;
    }
    // The claim went to another volume.
    if (volume.metadata?.annotations?.[Ann.DynamicallyProvisioned] !== undefined && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      let v = volume;
      if (v.status?.phase !== 'Released' && v.status?.phase !== 'Failed') v = await this.#updateVolumePhase(v, 'Released', undefined);
      await this.#reclaimVolume(v);
      return;
    }
    await this.#unbindVolume(volume);
  }

  /** Reclaim by policy (reclaimVolume). */
  async #reclaimVolume(volume: PersistentVolume): Promise<void> {
    const name = volume.metadata?.name ?? '';
    switch (volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
      case 'Retain':
        return;
      case 'Recycle':
        // No recycler plugin exists here (upstream deprecated recycling).
        await this.#updateVolumePhase(volume, 'Failed', ['VolumeFailedRecycle', 'No recycler plugin found for the volume!']);
        return;
      case 'Delete': {
        const provisioner = volume.metadata?.annotations?.[Ann.DynamicallyProvisioned];
        // The provisioner that made the volume deletes it (and its storage), as external ones do upstream.
        if (provisioner !== undefined && provisioner !== '' && !provisioner.startsWith('kubernetes.io/')) return;
        await this.#updateVolumePhase(volume, 'Failed', ['VolumeFailedDelete', `error getting deleter volume plugin for volume ${JSON.stringify(name)}: no deletable volume plugin matched`]);
        return;
      }
      default:
        await this.#updateVolumePhase(volume, 'Failed', ['VolumeUnknownReclaimPolicy', 'Volume has unrecognized PersistentVolumeReclaimPolicy']);
    }
  }

  /** Binds both sides: volume claimRef, volume phase, claim volumeName and annotations, claim status. */
  async #bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    let v = await this.#bindVolumeToClaim(volume, claim);
    v = await this.#updateVolumePhase(v, 'Bound', undefined);
    const c = await this.#bindClaimToVolume(claim, v);
    await this.#updateClaimStatus(c, 'Bound', v);
  }

  async #bindVolumeToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<PersistentVolume> {
    const ref = volume.spec?.claimRef;
    const wantRef = {
      kind: 'PersistentVolumeClaim', namespace: claim.metadata?.namespace ?? '', name: claim.metadata?.name ?? '',
      uid: claim.metadata?.uid ?? '', apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion ?? '',
    };
    const preBound = isVolumeBoundToClaim(volume, claim);
    if (ref && ref.uid === wantRef.uid && ref.name === wantRef.name && ref.namespace === wantRef.namespace) return volume;
    const next = structuredClone(volume);
    next.spec = { ...next.spec, claimRef: wantRef };
    if (!preBound) next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, [Ann.BoundByController]: 'yes' } };
    return this.#saveVolume(await this.#pvClient.update(next));
  }

  async #bindClaimToVolume(claim: PersistentVolumeClaim, volume: PersistentVolume): Promise<PersistentVolumeClaim> {
    const name = volume.metadata?.name ?? '';
    const annotations = { ...claim.metadata?.annotations };
    let dirty = false;
    const byController = (claim.spec?.volumeName ?? '') === '';
    if (claim.spec?.volumeName !== name) dirty = true;
    if (byController && annotations[Ann.BoundByController] !== 'yes') {
      annotations[Ann.BoundByController] = 'yes';
      dirty = true;
    }
    if (annotations[Ann.BindCompleted] !== 'yes') {
      annotations[Ann.BindCompleted] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    const next = structuredClone(claim);
    next.spec = { ...next.spec, volumeName: name };
    next.metadata = { ...next.metadata, annotations };
    return this.#saveClaim(await this.#pvcClient.update(next));
  }

  /** Clears the claim UID (user pre-bound) or the whole claimRef (our own binding) (unbindVolume). */
  async #unbindVolume(volume: PersistentVolume): Promise<void> {
    const next = structuredClone(volume);
    if (next.metadata?.annotations?.[Ann.BoundByController] !== undefined) {
      delete next.spec!.claimRef;
      delete next.metadata.annotations[Ann.BoundByController];
    } else if (next.spec?.claimRef) {
      delete next.spec.claimRef.uid;
    }
    const written = this.#saveVolume(await this.#pvClient.update(next));
    await this.#updateVolumePhase(written, 'Available', undefined);
  }

  async #updateVolumePhase(volume: PersistentVolume, phase: string, event: [string, string] | undefined): Promise<PersistentVolume> {
    const message = event?.[1];
    if (volume.status?.phase === phase && (message === undefined || volume.status.message === message)) return volume;
    if (event) this.#recorder.event(volume, EventType.Warning, event[0], event[1]);
    const next = structuredClone(volume);
    const changed = volume.status?.phase !== phase;
    next.status = { ...next.status, phase };
    if (message !== undefined) next.status.message = message;
    else delete next.status.message;
    if (changed) next.status.lastPhaseTransitionTime = formatTime(this.#clock.now());
    return this.#saveVolume(await this.#pvClient.updateStatus(next));
  }

  async #updateClaimStatus(claim: PersistentVolumeClaim, phase: string, volume: PersistentVolume | undefined, event?: [string, string]): Promise<void> {
    const next = structuredClone(claim);
    const status = { ...next.status };
    let dirty = status.phase !== phase;
    status.phase = phase;
    if (!volume) {
      if (status.accessModes !== undefined) {
        delete status.accessModes;
        dirty = true;
      }
      if (status.capacity !== undefined) {
        delete status.capacity;
        dirty = true;
      }
    } else {
      if (JSON.stringify(status.accessModes) !== JSON.stringify(volume.spec?.accessModes)) {
        if (volume.spec?.accessModes) status.accessModes = volume.spec.accessModes;
        dirty = true;
      }
      // Capacity is taken when the claim becomes Bound, never overwritten later (a resize may differ).
      if (claim.status?.phase !== phase) {
        const cap = volume.spec?.capacity?.['storage'];
        if (cap === undefined) throw new Error(`PersistentVolume ${JSON.stringify(volume.metadata?.name ?? '')} is without a storage capacity`);
        if (String(status.capacity?.['storage']) !== String(cap)) {
          status.capacity = volume.spec!.capacity!;
          dirty = true;
        }
      }
    }
    if (!dirty) return;
    next.status = status;
    if (event && claim.status?.phase !== phase) this.#recorder.event(claim, EventType.Warning, event[0], event[1]);
    this.#saveClaim(await this.#pvcClient.updateStatus(next));
  }

  /** Retroactive default class: a claim created before any default class existed gets it now. */
  async #assignDefaultClass(claim: PersistentVolumeClaim): Promise<boolean> {
    if (claim.spec?.storageClassName !== undefined && claim.spec.storageClassName !== null) return false;
    if (claim.metadata?.annotations?.[Ann.BetaStorageClass] !== undefined) return false;
    const defaults = this.classes.lister.list().filter((c) => c.metadata?.annotations?.[IS_DEFAULT_CLASS] === 'true')
      .sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const def = defaults[0];
    if (!def) return false;
    const next = structuredClone(claim);
    next.spec = { ...next.spec, storageClassName: def.metadata?.name ?? '' };
    this.#saveClaim(await this.#pvcClient.update(next));
    return true;
  }

  /** Asks the class's provisioner for a volume by annotating the claim (provisionClaim). */
  async #provisionClaim(claim: PersistentVolumeClaim, cls: string): Promise<void> {
    const sc = this.classes.lister.get('', cls);
    if (!sc) {
      this.#recorder.event(claim, EventType.Warning, 'ProvisioningFailed', `storageclass.storage.k8s.io ${JSON.stringify(cls)} not found`);
      await this.#updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    let c = claim;
    const annotations = claim.metadata?.annotations ?? {};
    if (annotations[Ann.StorageProvisioner] !== sc.provisioner || annotations[Ann.BetaStorageProvisioner] !== sc.provisioner) {
      const next = structuredClone(claim);
      next.metadata = { ...next.metadata, annotations: { ...annotations, [Ann.StorageProvisioner]: sc.provisioner, [Ann.BetaStorageProvisioner]: sc.provisioner } };
      c = this.#saveClaim(await this.#pvcClient.update(next));
    }
    this.#recorder.event(c, EventType.Normal, 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
    await this.#updateClaimStatus(c, 'Pending', undefined);
  }

  #emitWaitForFirstConsumer(claim: PersistentVolumeClaim): void {
    const name = claim.metadata?.name ?? '';
    const pods = this.pods.lister.listNamespace(claim.metadata?.namespace ?? '')
      .filter((p) => !p.spec?.nodeName && (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name))
      .map((p) => p.metadata?.name ?? '');
    if (pods.length === 0) {
      this.#recorder.event(claim, EventType.Normal, 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    } else if (pods.length === 1) {
      this.#recorder.event(claim, EventType.Normal, 'WaitForPodScheduled', `waiting for pod ${pods[0]} to be scheduled`);
    } else {
      this.#recorder.event(claim, EventType.Normal, 'WaitForPodScheduled', `waiting for pods ${pods.join(',')} to be scheduled`);
    }
  }

  #saveVolume(v: PersistentVolume): PersistentVolume {
    this.#writtenVolumes.set(v.metadata?.name ?? '', v);
    return v;
  }

  #saveClaim(c: PersistentVolumeClaim): PersistentVolumeClaim {
    this.#writtenClaims.set(metaNamespaceKey(c), c);
    return c;
  }

  async dispose(): Promise<void> {
    this.#timer?.dispose();
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

/** The newer of two versions of an object (by resourceVersion), either possibly absent. */
function fresher<T extends KubeObject>(cached: T | undefined, written: T | undefined): T | undefined {
  if (!cached) return undefined;
  if (!written || written.metadata?.uid !== cached.metadata?.uid) return cached;
  const a = cached.metadata?.resourceVersion ?? '', b = written.metadata?.resourceVersion ?? '';
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(b) > BigInt(a) ? written : cached;
  return cached;
}

registerController('persistentvolume-binder', (ctx) => new PersistentVolumeController(ctx), 1);
