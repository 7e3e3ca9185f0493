// NamespaceLifecycle admission: nothing is created in a namespace that does not exist or is being
// terminated, and the system namespaces (default, kube-system, kube-public) cannot be deleted.
import { ApiError, newNotFound } from '../errors.ts';
import { forbidden, getFresh, getStr, getObj, metaOf } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';

/** Namespaces that may never be deleted. */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

/** Upstream waits this long for a namespace created a moment ago to reach its informer. */
const MISSING_NAMESPACE_WAIT_MS = 50;

function isNamespace(a: AdmissionAttributes): boolean {
  return a.info.group === '' && a.info.resource === 'namespaces';
}

/** The 403 upstream answers for a create in a terminating namespace. */
export function namespaceTerminatingError(a: AdmissionAttributes): ApiError {
  const err = forbidden(a, `unable to create new content in namespace ${a.namespace} because it is being terminated`);
  const details = err.status.details ?? {};
  details.causes = [...(details.causes ?? []), {
    reason: 'NamespaceTerminating', message: `namespace ${a.namespace} is being terminated`, field: 'metadata.namespace',
  }];
  err.status.details = details;
  return err;
}

function createNamespaceLifecycle(): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    handles(a) {
      if (isNamespace(a)) return a.operation === 'DELETE';
      if (a.namespace === '' || a.operation === 'DELETE' || a.operation === 'CONNECT') return false;
      return !(a.info.group === 'authorization.k8s.io' && a.info.resource === 'localsubjectaccessreviews');
    },
    async admit(a: AdmissionAttributes, lister: AdmissionLister) {
      if (isNamespace(a)) return;
      const ns = await getFresh(lister, '', 'namespaces', '', a.namespace, MISSING_NAMESPACE_WAIT_MS);
      if (!ns) throw newNotFound({ group: '', resource: 'namespaces' }, a.namespace);
      if (a.operation !== 'CREATE') return;
      // The phase is what upstream reads; a deletionTimestamp without it is a namespace whose
      // controller has not caught up yet, and still being terminated.
      if (getStr(getObj(ns, 'status'), 'phase') === 'Terminating' || getStr(metaOf(ns), 'deletionTimestamp') !== '') {
        throw namespaceTerminatingError(a);
      }
    },
    validate(a: AdmissionAttributes) {
      if (isNamespace(a) && a.operation === 'DELETE' && IMMORTAL_NAMESPACES.includes(a.name)) {
        throw forbidden(a, 'this namespace may not be deleted');
      }
    },
  };
}

registerAdmissionPlugin('NamespaceLifecycle', createNamespaceLifecycle);
