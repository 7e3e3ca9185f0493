// The VolumeBindingApi seam over the API (volumebinding's BindPodVolumes): a statically matched PV
// gets the claim in spec.claimRef, a claim to provision gets the volume.kubernetes.io/selected-node
// annotation; then we wait, bounded by bindTimeoutSeconds, until the PV controller (and provisioner)
// report every claim bound. Progress is judged from the informer caches as they change.

import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import type { Clock } from '../../client/clock.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import type { VolumeBindingApi, VolumeBindingDecision } from '../scheduler.ts';
import type { SchedulerInformers } from './informers.ts';

/** Annotation naming the node a WaitForFirstConsumer claim should be provisioned for. */
export const AnnSelectedNode = 'volume.kubernetes.io/selected-node';
/** Set by the PV controller once a claim's binding is complete. */
export const AnnBindCompleted = 'pv.kubernetes.io/bind-completed';
/** Set on PVs whose claimRef was filled in by a controller (the scheduler counts as one). */
export const AnnBoundByController = 'pv.kubernetes.io/bound-by-controller';

interface Waiter {
  readonly check: () => boolean | Error;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** Options of ApiVolumeBinding. */
export interface ApiVolumeBindingOptions {
  readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  readonly pvs: ResourceClient<PersistentVolume>;
  readonly informers: SchedulerInformers;
  readonly clock: Clock;
  /** How long to wait for the claims to be bound (VolumeBinding's bindTimeoutSeconds). */
  readonly bindTimeoutMs: number;
}

/** Binds pod volumes through the API and waits for the PV controller. */
export class ApiVolumeBinding implements VolumeBindingApi, Disposable {
  readonly #o: ApiVolumeBindingOptions;
  readonly #waiters = new Set<Waiter>();
  readonly #regs: Disposable[];
  #disposed = false;

  constructor(o: ApiVolumeBindingOptions) {
    this.#o = o;
    const recheck = { onAdd: () => this.#recheck(), onUpdate: () => this.#recheck(), onDelete: () => this.#recheck() };
    this.#regs = [o.informers.persistentVolumeClaims.addEventHandler(recheck), o.informers.persistentVolumes.addEventHandler(recheck)];
  }

  async bindPodVolumes(pod: Pod, nodeName: string, decisions: readonly VolumeBindingDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    const { informers } = this.#o;
    for (const d of decisions) {
      const ns = d.claim.metadata?.namespace ?? pod.metadata?.namespace ?? '';
      const name = d.claim.metadata?.name ?? '';
      const claim = informers.persistentVolumeClaims.lister.get(ns, name) ?? d.claim;
      if (d.volume !== null) {
        const pv = informers.persistentVolumes.lister.get('', d.volume.metadata?.name ?? '') ?? d.volume;
        if (pv.spec?.claimRef?.uid !== undefined && pv.spec.claimRef.uid === claim.metadata?.uid) continue;
        const updated: PersistentVolume = structuredClone(pv);
        updated.metadata = { ...updated.metadata, annotations: { ...updated.metadata?.annotations, [AnnBoundByController]: 'yes' } };
        updated.spec = {
          ...updated.spec,
          claimRef: {
            apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name,
            ...(claim.metadata?.uid ? { uid: claim.metadata.uid } : {}),
            ...(claim.metadata?.resourceVersion ? { resourceVersion: claim.metadata.resourceVersion } : {}),
          },
        };
        await this.#o.pvs.update(updated);
      } else {
        if (claim.metadata?.annotations?.[AnnSelectedNode] === nodeName) continue;
        const updated: PersistentVolumeClaim = structuredClone(claim);
        updated.metadata = { ...updated.metadata, annotations: { ...updated.metadata?.annotations, [AnnSelectedNode]: nodeName } };
        await this.#o.pvcs.inNamespace(ns).update(updated);
      }
    }
    await this.#waitFor(() => this.#checkBindings(pod, decisions));
  }

  /** True when every claim is bound, an Error when binding can no longer succeed, false to keep waiting. */
  #checkBindings(pod: Pod, decisions: readonly VolumeBindingDecision[]): boolean | Error {
    const { informers } = this.#o;
    for (const d of decisions) {
      const ns = d.claim.metadata?.namespace ?? pod.metadata?.namespace ?? '';
      const name = d.claim.metadata?.name ?? '';
      const claim = informers.persistentVolumeClaims.lister.get(ns, name);
      if (claim === undefined) return new Error(`failed to get pvc "${ns}/${name}": not found`);
      const bound = (claim.spec?.volumeName ?? '') !== '' &&
        (claim.metadata?.annotations?.[AnnBindCompleted] !== undefined || claim.status?.phase === 'Bound');
      if (bound) continue;
      if (d.volume === null && claim.metadata?.annotations?.[AnnSelectedNode] === undefined) {
        return new Error(`selectedNode annotation reset for PVC "${name}"`);
      }
      if (d.volume !== null) {
        const pv = informers.persistentVolumes.lister.get('', d.volume.metadata?.name ?? '');
        if (pv === undefined) return new Error(`failed to get pv "${d.volume.metadata?.name ?? ''}": not found`);
        const ref = pv.spec?.claimRef;
        if (ref?.uid !== undefined && ref.uid !== claim.metadata?.uid) return new Error(`pv "${pv.metadata?.name ?? ''}" is bound to another claim`);
      }
      return false;
    }
    return true;
  }

  #waitFor(check: () => boolean | Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const first = check();
      if (first === true) return resolve();
      if (first instanceof Error) return reject(new Error(`binding volumes: ${first.message}`));
      if (this.#disposed) return reject(new Error('binding volumes: scheduler is shutting down'));
      const timer = this.#o.clock.setTimer(() => {
        this.#waiters.delete(w);
        reject(new Error('binding volumes: timed out waiting for the condition'));
      }, this.#o.bindTimeoutMs);
      const w: Waiter = {
        check,
        resolve: () => { timer.dispose(); resolve(); },
        reject: (err) => { timer.dispose(); reject(new Error(`binding volumes: ${err.message}`)); },
      };
      this.#waiters.add(w);
    });
  }

  #recheck(): void {
    for (const w of [...this.#waiters]) {
      const r = w.check();
      if (r === false) continue;
      this.#waiters.delete(w);
      if (r === true) w.resolve();
      else w.reject(r);
    }
  }

  /** Removes the handlers and fails pending waits. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const r of this.#regs) void r.dispose();
    for (const w of [...this.#waiters]) w.reject(new Error('scheduler is shutting down'));
    this.#waiters.clear();
  }
}
