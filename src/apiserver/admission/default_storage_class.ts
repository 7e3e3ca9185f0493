// DefaultStorageClass admission: a PersistentVolumeClaim that names no class gets the cluster's
// default StorageClass; when several are marked default, the newest wins (as upstream since 1.28).
import type { KObject } from '../registry/strategy.ts';
import { createdAt, getMap, getObj, metaOf, objField } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionLister, type AdmissionPlugin } from './types.ts';

const DEFAULT_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];
const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** Newest first, then by name: the order upstream picks a default from several candidates. */
export function newestFirst(a: KObject, b: KObject): number {
  const d = createdAt(b) - createdAt(a);
  if (d !== 0) return d;
  const an = String(metaOf(a)['name'] ?? ''), bn = String(metaOf(b)['name'] ?? '');
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** The default StorageClass, if any. */
export function defaultStorageClass(lister: AdmissionLister): KObject | undefined {
  const defaults = lister.list('storage.k8s.io', 'storageclasses')
    .filter((sc) => DEFAULT_ANNOTATIONS.some((k) => getMap(metaOf(sc), 'annotations')[k] === 'true'));
  return defaults.sort(newestFirst)[0];
}

function createDefaultStorageClass(): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    handles: (a) => a.info.group === '' && a.info.resource === 'persistentvolumeclaims' && a.subresource === '' && a.operation === 'CREATE',
    admit(a, lister) {
      if (!a.object) return;
      const spec = getObj(a.object, 'spec');
      if (spec && spec['storageClassName'] !== undefined && spec['storageClassName'] !== null) return;
      if (BETA_CLASS_ANNOTATION in getMap(metaOf(a.object), 'annotations')) return;
      const def = defaultStorageClass(lister);
      if (!def) return;
      objField(a.object, 'spec')['storageClassName'] = metaOf(def)['name'];
    },
  };
}

registerAdmissionPlugin('DefaultStorageClass', createDefaultStorageClass);
