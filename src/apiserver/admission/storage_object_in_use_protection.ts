// StorageObjectInUseProtection admission: new PersistentVolumes and PersistentVolumeClaims carry the
// protection finalizer, so they outlive the pods still using them.
import { objField } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionPlugin } from './types.ts';

const FINALIZERS: Readonly<Record<string, string>> = {
  persistentvolumes: 'kubernetes.io/pv-protection',
  persistentvolumeclaims: 'kubernetes.io/pvc-protection',
};

function createStorageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: 'StorageObjectInUseProtection',
    handles: (a) => a.info.group === '' && a.info.resource in FINALIZERS && a.subresource === '' && a.operation === 'CREATE',
    admit(a) {
      if (!a.object) return;
      const finalizer = FINALIZERS[a.info.resource] as string;
      const m = objField(a.object, 'metadata');
      const list = Array.isArray(m['finalizers']) ? m['finalizers'] as string[] : [];
      if (list.includes(finalizer)) return;
      m['finalizers'] = [...list, finalizer];
    },
  };
}

registerAdmissionPlugin('StorageObjectInUseProtection', createStorageObjectInUseProtection);
