// The persistentVolumeClaim plugin (and generic ephemeral volumes): follows the claim to its bound PersistentVolume (checking the
// binding both ways, with upstream's messages) and mounts what the volume is: a hostPath (with its
// type checks) or a local path. Other volume sources need drivers this node does not have.
import { statSync } from 'node:fs';
import type { Volume } from '../../api/types/core_v1.ts';
import { checkHostPathType } from './host_path.ts';
import type { MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';

function processError(ns: string, claim: string, why: string): VolumeError {
  return new VolumeError(`error processing PVC ${ns}/${claim}: ${why}`, 'process');
}

/** The persistentVolumeClaim plugin. */
export const persistentVolumeClaimPlugin: VolumePlugin = {
  name: 'kubernetes.io~pvc',
  refreshes: false,
  canSupport: (v: Volume) => v.persistentVolumeClaim !== undefined || v.ephemeral !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const ephemeral = host.volume.ephemeral !== undefined;
    const ns = host.pod.metadata?.namespace ?? '';
    const podName = host.pod.metadata?.name ?? '';
    // a generic ephemeral volume is a claim the ephemeral volume controller names after pod and volume
    const claimName = ephemeral ? `${podName}-${host.volume.name}` : host.volume.persistentVolumeClaim!.claimName;
    let pvc;
    try {
      pvc = await host.objects.persistentVolumeClaim(ns, claimName);
    } catch (err) {
      throw processError(ns, claimName, `failed to fetch PVC from API server: ${(err as Error).message}`);
    }
    if (!pvc) throw processError(ns, claimName, `failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
    if (ephemeral && !(pvc.metadata?.ownerReferences ?? []).some((o) => o.controller === true && o.uid === host.pod.metadata?.uid)) {
      throw processError(ns, claimName, `PVC ${ns}/${claimName} was not created for pod ${ns}/${podName} (pod is not owner)`);
    }
    if (pvc.metadata?.deletionTimestamp) throw processError(ns, claimName, `can't start pod because PVC ${ns}/${claimName} is being deleted`);
    const volumeName = pvc.spec?.volumeName ?? '';
    if (pvc.status?.phase !== 'Bound' || volumeName === '') throw processError(ns, claimName, 'PVC is not bound');
    let pv;
    try {
      pv = await host.objects.persistentVolume(volumeName);
    } catch (err) {
      throw processError(ns, claimName, `failed to fetch PV ${volumeName} from API server: ${(err as Error).message}`);
    }
    if (!pv) throw processError(ns, claimName, `failed to fetch PV ${volumeName} from API server: persistentvolumes "${volumeName}" not found`);
    const ref = pv.spec?.claimRef;
    if (!ref) throw processError(ns, claimName, `found PV object ${volumeName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
    if (ref.uid !== pvc.metadata?.uid) {
      throw processError(ns, claimName, `found PV object ${volumeName} but its pv.Spec.ClaimRef.UID ${ref.uid ?? ''} does not point to claim.UID ${pvc.metadata?.uid ?? ''}`);
    }
    const readOnly = host.volume.persistentVolumeClaim?.readOnly === true;
    if (pv.spec?.hostPath) {
      checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
      return { hostPath: pv.spec.hostPath.path, readOnly, plugin: 'pvc' };
    }
    if (pv.spec?.local) {
      const path = pv.spec.local.path;
      try {
        statSync(path);
      } catch {
        throw new VolumeError(`mount failed: stat ${path}: no such file or directory`);
      }
      return { hostPath: path, readOnly, plugin: 'pvc' };
    }
    throw new VolumeError(`PersistentVolume ${volumeName}: this node mounts only hostPath and local volumes`);
  },
};
