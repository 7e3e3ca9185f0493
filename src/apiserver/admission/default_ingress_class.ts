// DefaultIngressClass admission: an Ingress that names no class (neither spec.ingressClassName nor
// the legacy kubernetes.io/ingress.class annotation) gets the default IngressClass, newest first.
import { getMap, getObj, metaOf, objField } from './plugin_util.ts';
import { newestFirst } from './default_storage_class.ts';
import { registerAdmissionPlugin, type AdmissionPlugin } from './types.ts';

const DEFAULT_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

function createDefaultIngressClass(): AdmissionPlugin {
  return {
    name: 'DefaultIngressClass',
    handles: (a) => a.info.group === 'networking.k8s.io' && a.info.resource === 'ingresses' && a.subresource === '' && a.operation === 'CREATE',
    admit(a, lister) {
      if (!a.object) return;
      const spec = getObj(a.object, 'spec');
      if (spec && spec['ingressClassName'] !== undefined && spec['ingressClassName'] !== null) return;
      if (LEGACY_CLASS_ANNOTATION in getMap(metaOf(a.object), 'annotations')) return;
      const def = lister.list('networking.k8s.io', 'ingressclasses')
        .filter((c) => getMap(metaOf(c), 'annotations')[DEFAULT_ANNOTATION] === 'true')
        .sort(newestFirst)[0];
      if (!def) return;
      objField(a.object, 'spec')['ingressClassName'] = metaOf(def)['name'];
    },
  };
}

registerAdmissionPlugin('DefaultIngressClass', createDefaultIngressClass);
