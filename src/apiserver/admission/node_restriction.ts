// NodeRestriction admission: a kubelet (system:node:<name>) may change only its own Node (not its
// taints, nor labels outside the kubelet's set), its own Lease and CSINode, the status of pods bound
// to it, its mirror pods, and tokens for pods on it. Requests from other users pass untouched.
import { nodeIdentity, podConfigMapNames, podSecretNames } from '../authz/node.ts';
import { forbidden, getArr, getFresh, getMap, getObj, getStr, metaOf, type Obj } from './plugin_util.ts';
import { jsonEqual } from '../registry/object_meta.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';
import { newNotFound } from '../errors.ts';

/** Labels a kubelet may set on its Node (kubelet's well-known labels). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
]);
/** Label namespaces (and their subdomains) a kubelet may use. */
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
/** Labels under this namespace are for administrators to steer workloads with; nodes may never set them. */
const NODE_RESTRICTION_NAMESPACE = 'node-restriction.kubernetes.io';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

function labelNamespace(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

function inNamespace(ns: string, base: string): boolean {
  return ns === base || ns.endsWith('.' + base);
}

/** Whether a label is one the kubelet sets (upstream's IsKubeletLabel). */
export function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((allowed) => inNamespace(ns, allowed));
}

/** Keys whose value differs between two label maps. */
function modifiedLabels(a: Record<string, string>, b: Record<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) out.add(k);
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) out.add(k);
  return out;
}

/** The modified labels a node may not set, sorted. */
export function forbiddenLabels(modified: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const label of modified) {
    const ns = labelNamespace(label);
    if (inNamespace(ns, NODE_RESTRICTION_NAMESPACE)) out.add(label);
    const k8s = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
    if (k8s && !isKubeletLabel(label)) out.add(label);
  }
  return [...out].sort();
}

function podNodeName(pod: unknown): string {
  return getStr(getObj(pod, 'spec'), 'nodeName');
}

async function admitPod(node: string, a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
  if (a.operation === 'DELETE') {
    if (podNodeName(a.oldObject) !== node) throw forbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
    return;
  }
  if (a.operation !== 'CREATE') throw forbidden(a, `unexpected operation "${a.operation}", node "${node}" can only create and delete mirror pods`);
  const pod = a.object as Obj;
  if (!(MIRROR_POD_ANNOTATION in getMap(metaOf(pod), 'annotations'))) {
    throw forbidden(a, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
  }
  if (podNodeName(pod) !== node) throw forbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = getArr(metaOf(pod), 'ownerReferences');
  if (owners.length > 1) throw forbidden(a, `node "${node}" can only create pods with a single owner reference set to itself`);
  if (owners.length === 0) throw forbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
  const owner = owners[0]!;
  if (getStr(owner, 'apiVersion') !== 'v1' || getStr(owner, 'kind') !== 'Node' || getStr(owner, 'name') !== node) {
    throw forbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
  }
  if (owner['controller'] !== true) throw forbidden(a, `node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner['blockOwnerDeletion'] === true) throw forbidden(a, `node "${node}" must not set blockOwnerDeletion on an owner reference`);
  const nodeObj = await getFresh(lister, '', 'nodes', '', node);
  if (!nodeObj) throw newNotFound({ group: '', resource: 'nodes' }, node);
  const nodeUID = getStr(metaOf(nodeObj), 'uid');
  if (getStr(owner, 'uid') !== nodeUID) throw forbidden(a, `node ${node} UID mismatch: expected ${getStr(owner, 'uid')} got ${nodeUID}`);
  const spec = getObj(pod, 'spec');
  if (getStr(spec, 'serviceAccountName') !== '') throw forbidden(a, `node "${node}" can not create pods that reference a service account`);
  if (podSecretNames(pod).size > 0) throw forbidden(a, `node "${node}" can not create pods that reference secrets`);
  if (podConfigMapNames(pod).size > 0) throw forbidden(a, `node "${node}" can not create pods that reference configmaps`);
  for (const v of getArr(spec, 'volumes')) {
    if (getArr(getObj(v, 'projected'), 'sources').some((s) => getObj(s, 'clusterTrustBundle'))) {
      throw forbidden(a, `node "${node}" can not create pods that reference clustertrustbundles`);
    }
  }
  if (getArr(spec, 'volumes').some((v) => getObj(v, 'persistentVolumeClaim'))) {
    throw forbidden(a, `node "${node}" can not create pods that reference persistentvolumeclaims`);
  }
}

function admitPodStatus(node: string, a: AdmissionAttributes): void {
  if (a.operation !== 'UPDATE') throw forbidden(a, `unexpected operation "${a.operation}"`);
  if (podNodeName(a.oldObject) !== node) throw forbidden(a, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
  if (!jsonEqual(getMap(metaOf(a.oldObject), 'labels'), getMap(metaOf(a.object), 'labels'))) {
    throw forbidden(a, `node "${node}" cannot update labels through pod status`);
  }
  const claims = (o: unknown): unknown => getArr(getObj(o, 'status'), 'resourceClaimStatuses').map((s) => [getStr(s, 'name'), s['resourceClaimName'] ?? null]);
  if (!jsonEqual(claims(a.oldObject), claims(a.object))) throw forbidden(a, `node "${node}" cannot update resource claim statues`);
}

async function admitPodEviction(node: string, a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
  if (a.operation !== 'CREATE') throw forbidden(a, `unexpected operation ${a.operation}`);
  const name = a.name || getStr(metaOf(a.object), 'name');
  if (name === '') throw forbidden(a, 'could not determine pod from request data');
  const pod = await getFresh(lister, '', 'pods', a.namespace, name);
  if (!pod) throw newNotFound({ group: '', resource: 'pods' }, name);
  if (podNodeName(pod) !== node) throw forbidden(a, `node ${node} can only evict pods with spec.nodeName set to itself`);
}

function admitPvcStatus(node: string, a: AdmissionAttributes): void {
  if (a.operation !== 'UPDATE') throw forbidden(a, `unexpected operation "${a.operation}"`);
  const strip = (o: unknown): Obj => {
    const c = structuredClone(o) as Obj;
    const m = metaOf(c);
    delete m['resourceVersion'];
    delete m['managedFields'];
    const st = getObj(c, 'status');
    if (st) for (const k of ['capacity', 'conditions', 'allocatedResourceStatuses', 'allocatedResources']) delete st[k];
    return c;
  };
  if (!jsonEqual(strip(a.oldObject), strip(a.object))) {
    throw forbidden(a, `node "${node}" is not allowed to update fields other than status.capacity and status.conditions`);
  }
}

function admitNode(node: string, a: AdmissionAttributes): void {
  if (a.name !== node) throw forbidden(a, `node "${node}" is not allowed to modify node "${a.name}"`);
  if (a.operation === 'CREATE') {
    const spec = getObj(a.object, 'spec');
    if (spec && spec['configSource'] !== undefined && spec['configSource'] !== null) {
      throw forbidden(a, `node "${node}" is not allowed to create pods with a non-nil configSource`);
    }
    const bad = forbiddenLabels(modifiedLabels(getMap(metaOf(a.object), 'labels'), {}));
    if (bad.length > 0) throw forbidden(a, `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (a.operation === 'UPDATE') {
    const spec = getObj(a.object, 'spec') ?? {};
    const oldSpec = getObj(a.oldObject, 'spec') ?? {};
    if (spec['configSource'] !== undefined && spec['configSource'] !== null && !jsonEqual(spec['configSource'], oldSpec['configSource'])) {
      throw forbidden(a, `node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    }
    const taints = (s: Obj): unknown => (Array.isArray(s['taints']) && s['taints'].length > 0 ? s['taints'] : []);
    if (!jsonEqual(taints(spec), taints(oldSpec))) throw forbidden(a, `node "${node}" is not allowed to modify taints`);
    const bad = forbiddenLabels(modifiedLabels(getMap(metaOf(a.object), 'labels'), getMap(metaOf(a.oldObject), 'labels')));
    if (bad.length > 0) throw forbidden(a, `is not allowed to modify labels: ${bad.join(', ')}`);
  }
}

async function admitServiceAccountToken(node: string, a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
  if (a.operation !== 'CREATE' || a.subresource !== 'token') return;
  const ref = getObj(getObj(a.object, 'spec'), 'boundObjectRef');
  if (!ref || getStr(ref, 'apiVersion') !== 'v1' || getStr(ref, 'kind') !== 'Pod' || getStr(ref, 'name') === '') {
    throw forbidden(a, 'node requested token not bound to a pod');
  }
  const uid = getStr(ref, 'uid');
  if (uid === '') throw forbidden(a, 'node requested token with a pod binding without a uid');
  const pod = await getFresh(lister, '', 'pods', a.namespace, getStr(ref, 'name'));
  if (!pod) throw newNotFound({ group: '', resource: 'pods' }, getStr(ref, 'name'));
  if (getStr(metaOf(pod), 'uid') !== uid) {
    throw forbidden(a, `the UID in the bound object reference (${uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  if (podNodeName(pod) !== node) throw forbidden(a, 'node requested token bound to a pod scheduled on a different node');
}

function admitNamedToNode(node: string, a: AdmissionAttributes, what: string): void {
  const name = a.operation === 'CREATE' ? getStr(metaOf(a.object), 'name') : a.name;
  if (name !== node) throw forbidden(a, `can only access ${what} with the same name as the requesting node`);
}

function createNodeRestriction(): AdmissionPlugin {
  return {
    name: 'NodeRestriction',
    handles: (a) => (a.operation === 'CREATE' || a.operation === 'UPDATE' || a.operation === 'DELETE') && nodeIdentity(a.user).isNode,
    async validate(a, lister) {
      const { nodeName } = nodeIdentity(a.user);
      if (nodeName === '') throw forbidden(a, `could not determine node from user "${a.user?.name ?? ''}"`);
      switch (`${a.info.group}/${a.info.resource}`) {
        case '/pods':
          switch (a.subresource) {
            case '': return admitPod(nodeName, a, lister);
            case 'status': return admitPodStatus(nodeName, a);
            case 'eviction': return admitPodEviction(nodeName, a, lister);
            default: throw forbidden(a, `unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`);
          }
        case '/nodes': return admitNode(nodeName, a);
        case '/persistentvolumeclaims':
          if (a.subresource === 'status') return admitPvcStatus(nodeName, a);
          throw forbidden(a, 'may only update PVC status');
        case '/serviceaccounts': return admitServiceAccountToken(nodeName, a, lister);
        case 'coordination.k8s.io/leases':
          if (a.namespace !== NODE_LEASE_NAMESPACE) throw forbidden(a, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
          return admitNamedToNode(nodeName, a, 'node lease');
        case 'storage.k8s.io/csinodes': return admitNamedToNode(nodeName, a, 'CSINode');
        default: return;
      }
    },
  };
}

registerAdmissionPlugin('NodeRestriction', createNodeRestriction);
