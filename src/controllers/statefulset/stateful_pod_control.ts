// Pod and PVC writes of the StatefulSet controller (upstream stateful_pod_control.go): claims are
// created before their pod, identity and storage are repaired in place, PVC ownerReferences follow
// the retention policy, and every write is reported with upstream's event wording
// ("create Pod web-0 in StatefulSet web successful").
import type { StatefulSet } from '../../api/types/apps_v1.ts';
import type { PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/api_errors.ts';
import type { EventRecorder } from '../../client/events.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { Lister } from '../../client/lister.ts';
import { errMessage } from '../controller_utils.ts';
import {
  getOrdinal, getPersistentVolumeClaimName, getPersistentVolumeClaims, identityMatches, isClaimOwnerUpToDate, retentionPolicy, storageMatches,
  updateClaimOwnerRefForSetAndPod, updateIdentity, updateStorage,
} from './stateful_set_utils.ts';

/** Raw object access (upstream's StatefulPodControlObjectManager); listers for reads. */
export interface ObjectManager {
  createPod(pod: Pod): Promise<Pod>;
  getPod(namespace: string, name: string): Pod | undefined;
  updatePod(pod: Pod): Promise<Pod>;
  deletePod(pod: Pod): Promise<void>;
  /** Strategic-merge patch (adoption and release). */
  patchPod(pod: Pod, patch: unknown): Promise<void>;
  createClaim(claim: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  getClaim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  updateClaim(claim: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
}

/** ObjectManager over the API with informer listers for reads. */
export function realObjectManager(client: RestClient, pods: Lister<Pod>, claims: Lister<PersistentVolumeClaim>): ObjectManager {
  const podClient = client.resource<Pod>(resourceDescriptor('v1', 'pods'));
  const pvcClient = client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
  return {
    createPod: (pod) => podClient.inNamespace(pod.metadata!.namespace!).create(pod),
    getPod: (ns, name) => pods.get(ns, name),
    updatePod: (pod) => podClient.inNamespace(pod.metadata!.namespace!).update(pod),
    deletePod: async (pod) => {
      await podClient.inNamespace(pod.metadata!.namespace!).delete(pod.metadata!.name!);
    },
    patchPod: async (pod, patch) => {
      await podClient.inNamespace(pod.metadata!.namespace!).patch(pod.metadata!.name!, 'strategic', patch);
    },
    createClaim: (claim) => pvcClient.inNamespace(claim.metadata!.namespace!).create(claim),
    getClaim: (ns, name) => claims.get(ns, name),
    updateClaim: (claim) => pvcClient.inNamespace(claim.metadata!.namespace!).update(claim),
  };
}

function title(verb: string): string {
  return verb.charAt(0).toUpperCase() + verb.slice(1);
}

/** The StatefulSet's pod and claim operations. */
export class StatefulPodControl {
  #mgr: ObjectManager;
  #recorder: EventRecorder;

  constructor(mgr: ObjectManager, recorder: EventRecorder) {
    this.#mgr = mgr;
    this.#recorder = recorder;
  }

  /** Creates the pod's claims, then the pod. */
  async createStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.#createPersistentVolumeClaims(set, pod);
    } catch (err) {
      this.#recordPodEvent('create', set, pod, err);
      throw err;
    }
    let err: unknown;
    try {
      await this.#mgr.createPod(pod);
    } catch (e) {
      // Someone (or an earlier sync) already created it: no event, just retry later.
      if (isAlreadyExists(e)) throw e;
      err = e;
    }
    if (err === undefined) {
      try {
        await this.updatePodClaimForRetentionPolicy(set, pod);
      } catch (e) {
        this.#recordPodEvent('update', set, pod, e);
        throw e;
      }
    }
    this.#recordPodEvent('create', set, pod, err);
    if (err !== undefined) throw err;
  }

  /** Repairs identity, storage and claim ownership; writes the pod only when it changed. */
  async updateStatefulPod(set: StatefulSet, podIn: Pod): Promise<void> {
    let pod = structuredClone(podIn);
    let attempted = false;
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      let consistent = true;
      if (!identityMatches(set, pod)) {
        updateIdentity(set, pod);
        consistent = false;
      }
      try {
        if (!storageMatches(set, pod)) {
          updateStorage(set, pod);
          consistent = false;
          await this.#createPersistentVolumeClaims(set, pod);
        }
        if (!this.claimsMatchRetentionPolicy(set, pod)) {
          await this.updatePodClaimForRetentionPolicy(set, pod);
          consistent = false;
        }
      } catch (err) {
        this.#recordPodEvent('update', set, pod, err);
        throw err;
      }
      if (consistent) return;
      attempted = true;
      try {
        await this.#mgr.updatePod(pod);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        const fresh = this.#mgr.getPod(set.metadata!.namespace!, pod.metadata!.name!);
        if (fresh) pod = structuredClone(fresh);
        if (!isConflict(err)) break;
      }
    }
    if (attempted) this.#recordPodEvent('update', set, pod, lastErr);
    if (lastErr !== undefined) throw lastErr;
  }

  async deleteStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    let err: unknown;
    try {
      await this.#mgr.deletePod(pod);
    } catch (e) {
      err = e;
    }
    this.#recordPodEvent('delete', set, pod, err);
    if (err !== undefined) throw err;
  }

  /** Every existing claim of the pod has the ownerReferences the policy wants. */
  claimsMatchRetentionPolicy(set: StatefulSet, pod: Pod): boolean {
    const ordinal = getOrdinal(pod);
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const claim = this.#mgr.getClaim(set.metadata!.namespace!, getPersistentVolumeClaimName(set, t, ordinal));
      if (claim && !isClaimOwnerUpToDate(claim, set, pod)) return false;
    }
    return true;
  }

  /** Rewrites claim ownerReferences to follow the retention policy. */
  async updatePodClaimForRetentionPolicy(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = getOrdinal(pod);
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const name = getPersistentVolumeClaimName(set, t, ordinal);
      const claim = this.#mgr.getClaim(set.metadata!.namespace!, name);
      if (!claim || isClaimOwnerUpToDate(claim, set, pod)) continue;
      const copy = structuredClone(claim);
      updateClaimOwnerRefForSetAndPod(copy, set, pod);
      try {
        await this.#mgr.updateClaim(copy);
      } catch (err) {
        throw new Error(`could not update claim ${name} for delete policy ownerRefs: ${errMessage(err)}`, { cause: err });
      }
    }
  }

  /** A claim of the pod still owned by an earlier pod of the same name (PodClaimIsStale). */
  podClaimIsStale(set: StatefulSet, pod: Pod): boolean {
    if (retentionPolicy(set).whenScaled === 'Retain') return false;
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const pvc = this.#mgr.getClaim(claim.metadata!.namespace!, claim.metadata!.name!);
      if (!pvc) continue;
      for (const r of pvc.metadata?.ownerReferences ?? []) {
        if (r.apiVersion === 'v1' && r.kind === 'Pod' && r.name === pod.metadata?.name) {
          if (r.uid !== (pod.metadata?.uid ?? '')) return true;
          break;
        }
      }
    }
    return false;
  }

  /** Creates claims a pending pod still misses, then fixes their ownership. */
  async createMissingPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    await this.#createPersistentVolumeClaims(set, pod);
    try {
      await this.updatePodClaimForRetentionPolicy(set, pod);
    } catch (err) {
      this.#recordPodEvent('update', set, pod, err);
      throw err;
    }
  }

  async #createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errs: string[] = [];
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const existing = this.#mgr.getClaim(claim.metadata!.namespace!, claim.metadata!.name!);
      if (existing) {
        if (existing.metadata?.deletionTimestamp) errs.push(`pvc ${claim.metadata!.name} is being deleted`);
        continue;
      }
      updateClaimOwnerRefForSetAndPod(claim, set, pod);
      try {
        await this.#mgr.createClaim(claim);
        this.#recordClaimEvent('create', set, pod, claim, undefined);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        errs.push(`failed to create PVC ${claim.metadata!.name}: ${errMessage(err)}`);
        this.#recordClaimEvent('create', set, pod, claim, err);
      }
    }
    if (errs.length > 0) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  }

  #recordPodEvent(verb: string, set: StatefulSet, pod: Pod, err: unknown): void {
    const podName = pod.metadata?.name ?? '';
    const setName = set.metadata?.name ?? '';
    if (err === undefined) {
      this.#recorder.event(set, 'Normal', `Successful${title(verb)}`, `${verb} Pod ${podName} in StatefulSet ${setName} successful`);
    } else if (!isNotFound(err) || verb !== 'delete') {
      this.#recorder.event(set, 'Warning', `Failed${title(verb)}`, `${verb} Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(err)}`);
    }
  }

  #recordClaimEvent(verb: string, set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim, err: unknown): void {
    const setName = set.metadata?.name ?? '';
    if (err === undefined) {
      this.#recorder.event(set, 'Normal', `Successful${title(verb)}`, `${verb} Claim ${claim.metadata?.name ?? ''} Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} success`);
    } else {
      this.#recorder.event(set, 'Warning', `Failed${title(verb)}`, `${verb} Claim ${claim.metadata?.name ?? ''} for Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} failed error: ${errMessage(err)}`);
    }
  }
}
