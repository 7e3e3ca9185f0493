// PersistentVolumeClaimResize admission: a claim may grow only when it is bound and its
// StorageClass allows volume expansion; shrinking is left to validation.
import { cmpQuantity, parseQuantity } from '../../api/quantity.ts';
import { forbidden, getMap, getObj, getStr, metaOf } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionLister, type AdmissionPlugin } from './types.ts';
import type { KObject } from '../registry/strategy.ts';

function storageRequest(pvc: KObject): string {
  return getMap(getObj(getObj(pvc, 'spec'), 'resources'), 'requests')['storage'] ?? '0';
}

/** The claim's class: spec.storageClassName, else the beta annotation (GetPersistentVolumeClaimClass). */
export function claimClass(pvc: KObject): string {
  const beta = getMap(metaOf(pvc), 'annotations')['volume.beta.kubernetes.io/storage-class'];
  if (beta !== undefined) return beta;
  return getStr(getObj(pvc, 'spec'), 'storageClassName');
}

function allowResize(pvc: KObject, old: KObject, lister: AdmissionLister): boolean {
  const cls = claimClass(pvc), oldCls = claimClass(old);
  if (cls === '' || oldCls === '' || cls !== oldCls) return false;
  const sc = lister.get('storage.k8s.io', 'storageclasses', '', cls);
  return sc?.['allowVolumeExpansion'] === true;
}

function createPersistentVolumeClaimResize(): AdmissionPlugin {
  return {
    name: 'PersistentVolumeClaimResize',
    handles: (a) => a.info.group === '' && a.info.resource === 'persistentvolumeclaims' && a.subresource === '' && a.operation === 'UPDATE',
    validate(a, lister) {
      if (!a.object || !a.oldObject) return;
      let grows: boolean;
      try {
        grows = cmpQuantity(parseQuantity(storageRequest(a.object)), parseQuantity(storageRequest(a.oldObject))) > 0;
      } catch {
        return; // validation reports bad quantities
      }
      if (!grows) return;
      if (getStr(getObj(a.oldObject, 'status'), 'phase') !== 'Bound') {
        throw forbidden(a, 'Only bound persistent volume claims can be expanded');
      }
      if (!allowResize(a.object, a.oldObject, lister)) {
        throw forbidden(a, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
      }
    },
  };
}

registerAdmissionPlugin('PersistentVolumeClaimResize', createPersistentVolumeClaimResize);
