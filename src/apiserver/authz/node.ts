// The Node authorizer (upstream's plugin/pkg/auth/authorizer/node) and the authorizer chain it sits
// in (system:masters, Node, RBAC). A kubelet (user system:node:<name>, group system:nodes) may read
// only the Secrets, ConfigMaps, PVCs, PVs and ServiceAccount tokens its pods use, and its own Lease
// and CSINode; everything else a node may do comes from the static system:node rules.
import type { Disposable } from '../../base/disposable.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { PolicyRule } from '../../api/types/rbac_v1.ts';
import { followCache } from '../authn/cache_follow.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import type { Attributes, Authorizer, Decision, NonResourceRule, ResourceRule } from './authorizer.ts';
import { bootstrapPolicy } from './bootstrap_policy.ts';
import { rulesAllow } from './rbac_rules.ts';
import { selectsField } from './selectors.ts';

/** The group of kubelets. */
export const NODES_GROUP = 'system:nodes';
/** Kubelet user names are this plus the node name. */
export const NODE_USER_PREFIX = 'system:node:';
/** The namespace of node Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Authorization attributes with the request's field selector (AuthorizeNodeWithSelectors, on by default in v1.32). */
export interface SelectorAttributes extends Attributes {
  /** The raw fieldSelector of a list or watch (access reviews give fieldSelectorRequirements instead). */
  readonly fieldSelector?: string;
}

/** The node a user is, if it is one (upstream's default NodeIdentifier). */
export function nodeIdentity(user: UserInfo | undefined): { isNode: boolean; nodeName: string } {
  if (!user || !user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice(NODE_USER_PREFIX.length) };
}

/** What the Node authorizer needs to know about the cluster: pods by node and the objects they lead to. */
export interface NodeGraphSource {
  /** Pods bound to the node (spec.nodeName). */
  podsOnNode(node: string): readonly KObject[];
  /** A PersistentVolumeClaim, to follow pod → PVC → PV. */
  pvc(namespace: string, name: string): KObject | undefined;
  /** A PersistentVolume, to follow PV → Secrets. */
  pv(name: string): KObject | undefined;
  /** VolumeAttachments whose spec.nodeName is the node. */
  volumeAttachmentsOnNode(node: string): readonly KObject[];
}

type Obj = Record<string, unknown>;

function obj(o: unknown, key: string): Obj | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const v = (o as Obj)[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function arr(o: unknown, key: string): Obj[] {
  if (typeof o !== 'object' || o === null) return [];
  const v = (o as Obj)[key];
  return Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Obj[]) : [];
}

function str(o: unknown, key: string): string {
  if (typeof o !== 'object' || o === null) return '';
  const v = (o as Obj)[key];
  return typeof v === 'string' ? v : '';
}

function metaName(o: KObject): string {
  return str(obj(o, 'metadata'), 'name');
}

function metaNamespace(o: KObject): string {
  return str(obj(o, 'metadata'), 'namespace');
}

function containersOf(spec: Obj | undefined): Obj[] {
  return [...arr(spec, 'initContainers'), ...arr(spec, 'containers'), ...arr(spec, 'ephemeralContainers')];
}

/** Names of the Secrets a pod references (upstream's VisitPodSecretNames over all containers). */
export function podSecretNames(pod: KObject): Set<string> {
  const spec = obj(pod, 'spec');
  const names = new Set<string>();
  const add = (n: string): void => { if (n !== '') names.add(n); };
  for (const s of arr(spec, 'imagePullSecrets')) add(str(s, 'name'));
  for (const c of containersOf(spec)) {
    for (const e of arr(c, 'envFrom')) add(str(obj(e, 'secretRef'), 'name'));
    for (const e of arr(c, 'env')) add(str(obj(obj(e, 'valueFrom'), 'secretKeyRef'), 'name'));
  }
  for (const v of arr(spec, 'volumes')) {
    add(str(obj(v, 'secret'), 'secretName'));
    for (const p of arr(obj(v, 'projected'), 'sources')) add(str(obj(p, 'secret'), 'name'));
    add(str(obj(v, 'azureFile'), 'secretName'));
    for (const src of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']) add(str(obj(obj(v, src), 'secretRef'), 'name'));
    add(str(obj(obj(v, 'csi'), 'nodePublishSecretRef'), 'name'));
  }
  return names;
}

/** Names of the ConfigMaps a pod references (VisitPodConfigmapNames). */
export function podConfigMapNames(pod: KObject): Set<string> {
  const spec = obj(pod, 'spec');
  const names = new Set<string>();
  const add = (n: string): void => { if (n !== '') names.add(n); };
  for (const c of containersOf(spec)) {
    for (const e of arr(c, 'envFrom')) add(str(obj(e, 'configMapRef'), 'name'));
    for (const e of arr(c, 'env')) add(str(obj(obj(e, 'valueFrom'), 'configMapKeyRef'), 'name'));
  }
  for (const v of arr(spec, 'volumes')) {
    add(str(obj(v, 'configMap'), 'name'));
    for (const p of arr(obj(v, 'projected'), 'sources')) add(str(obj(p, 'configMap'), 'name'));
  }
  return names;
}

/** Names of the PVCs a pod uses, generic ephemeral volumes included (`<pod>-<volume>`). */
export function podPvcNames(pod: KObject): Set<string> {
  const names = new Set<string>();
  for (const v of arr(obj(pod, 'spec'), 'volumes')) {
    const claim = str(obj(v, 'persistentVolumeClaim'), 'claimName');
    if (claim !== '') names.add(claim);
    if (obj(v, 'ephemeral')) names.add(`${metaName(pod)}-${str(v, 'name')}`);
  }
  return names;
}

/** Names of the ResourceClaims a pod uses. */
function podResourceClaimNames(pod: KObject): Set<string> {
  const names = new Set<string>();
  for (const c of arr(obj(pod, 'spec'), 'resourceClaims')) if (str(c, 'resourceClaimName') !== '') names.add(str(c, 'resourceClaimName'));
  for (const s of arr(obj(pod, 'status'), 'resourceClaimStatuses')) if (str(s, 'resourceClaimName') !== '') names.add(str(s, 'resourceClaimName'));
  return names;
}

/** [namespace, name] of the Secrets a PersistentVolume references (VisitPVSecretNames). */
export function pvSecretRefs(pv: KObject, claimNamespace: string): Array<[string, string]> {
  const spec = obj(pv, 'spec');
  const out: Array<[string, string]> = [];
  const ref = (r: Obj | undefined, defaultNs: string): void => {
    if (r && str(r, 'name') !== '') out.push([str(r, 'namespace') || defaultNs, str(r, 'name')]);
  };
  const az = obj(spec, 'azureFile');
  if (az && str(az, 'secretName') !== '') out.push([str(az, 'secretNamespace') || claimNamespace, str(az, 'secretName')]);
  ref(obj(obj(spec, 'cephfs'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'cinder'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'flexVolume'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'rbd'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'scaleIO'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'iscsi'), 'secretRef'), claimNamespace);
  ref(obj(obj(spec, 'storageos'), 'secretRef'), claimNamespace);
  const csi = obj(spec, 'csi');
  for (const k of ['controllerPublishSecretRef', 'nodeStageSecretRef', 'nodePublishSecretRef', 'controllerExpandSecretRef', 'nodeExpandSecretRef']) {
    ref(obj(csi, k), claimNamespace);
  }
  return out;
}

/** The object types whose access follows the pod graph. */
type VertexType = 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount' | 'pod' | 'resourceclaim' | 'volumeattachment';

/** Whether an object is reachable from the node: node ← pod ← object, node ← pod ← pvc ← pv (← secret). */
export function hasPathFrom(graph: NodeGraphSource, node: string, type: VertexType, namespace: string, name: string): boolean {
  if (type === 'volumeattachment') return graph.volumeAttachmentsOnNode(node).some((va) => metaName(va) === name);
  const pods = graph.podsOnNode(node);
  for (const pod of pods) {
    const ns = metaNamespace(pod);
    switch (type) {
      case 'pod':
        if (ns === namespace && metaName(pod) === name) return true;
        break;
      case 'serviceaccount':
        if (ns === namespace && str(obj(pod, 'spec'), 'serviceAccountName') === name) return true;
        break;
      case 'secret':
        if (ns === namespace && podSecretNames(pod).has(name)) return true;
        break;
      case 'configmap':
        if (ns === namespace && podConfigMapNames(pod).has(name)) return true;
        break;
      case 'pvc':
        if (ns === namespace && podPvcNames(pod).has(name)) return true;
        break;
      case 'resourceclaim':
        if (ns === namespace && podResourceClaimNames(pod).has(name)) return true;
        break;
      default:
        break;
    }
    if (type === 'pv' || type === 'secret') {
      // Through the pod's bound PVCs to their PVs (and the Secrets those PVs name).
      for (const claim of podPvcNames(pod)) {
        const pvcObj = graph.pvc(ns, claim);
        const volumeName = str(obj(pvcObj, 'spec'), 'volumeName');
        if (!pvcObj || volumeName === '') continue;
        if (type === 'pv') {
          if (volumeName === name) return true;
          continue;
        }
        const pvObj = graph.pv(volumeName);
        if (pvObj && pvSecretRefs(pvObj, ns).some(([sns, sname]) => sns === namespace && sname === name)) return true;
      }
    }
  }
  return false;
}

const NO_OPINION: Decision = { decision: 'noopinion', reason: '' };
const ALLOW: Decision = { decision: 'allow', reason: '' };

function noOpinion(reason: string): Decision {
  return { decision: 'noopinion', reason };
}

/** The static rules every node gets: upstream's NodeRules, i.e. the system:node ClusterRole. */
export function defaultNodeRules(): PolicyRule[] {
  const role = bootstrapPolicy().clusterRoles.find((r) => r.metadata?.name === 'system:node');
  return [...(role?.rules ?? [])] as PolicyRule[];
}

/** The Node authorizer. */
export class NodeAuthorizer implements Authorizer {
  readonly #graph: NodeGraphSource;
  readonly #rules: readonly PolicyRule[];

  constructor(graph: NodeGraphSource, rules: readonly PolicyRule[] = defaultNodeRules()) {
    this.#graph = graph;
    this.#rules = rules;
  }

  authorize(attrs: Attributes): Decision {
    const { isNode, nodeName } = nodeIdentity(attrs.user);
    if (!isNode) return NO_OPINION;
    if (nodeName === '') return noOpinion(`unknown node for user "${attrs.user.name}"`);
    if (attrs.isResourceRequest) {
      const gr = `${attrs.apiGroup}/${attrs.resource}`;
      switch (gr) {
        case '/secrets': return this.#readNamespaced(nodeName, 'secret', attrs);
        case '/configmaps': return this.#readNamespaced(nodeName, 'configmap', attrs);
        case '/persistentvolumeclaims':
          if (attrs.subresource === 'status') return this.#statusUpdate(nodeName, 'pvc', attrs);
          return this.#get(nodeName, 'pvc', attrs);
        case '/persistentvolumes': return this.#get(nodeName, 'pv', attrs);
        case 'resource.k8s.io/resourceclaims': return this.#get(nodeName, 'resourceclaim', attrs);
        case 'storage.k8s.io/volumeattachments': return this.#get(nodeName, 'volumeattachment', attrs);
        case '/serviceaccounts': return this.#createToken(nodeName, attrs);
        case 'coordination.k8s.io/leases': return this.#lease(nodeName, attrs);
        case 'storage.k8s.io/csinodes': return this.#csiNode(nodeName, attrs);
        case '/nodes': {
          const d = this.#node(nodeName, attrs as SelectorAttributes);
          if (d) return d;
          break;
        }
        case '/pods': {
          const d = this.#pod(nodeName, attrs as SelectorAttributes);
          if (d) return d;
          break;
        }
        default: break;
      }
    }
    return rulesAllow(attrs, this.#rules) ? ALLOW : NO_OPINION;
  }

  rulesFor(user: UserInfo): { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean; evaluationError?: string } {
    if (nodeIdentity(user).isNode) {
      return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' };
    }
    return { resourceRules: [], nonResourceRules: [], incomplete: false };
  }

  #path(nodeName: string, type: VertexType, attrs: Attributes): Decision {
    if (attrs.name === '') return noOpinion('No Object name found');
    if (!hasPathFrom(this.#graph, nodeName, type, attrs.namespace, attrs.name)) {
      return noOpinion(`no relationship found between node '${nodeName}' and this object`);
    }
    return ALLOW;
  }

  #statusUpdate(nodeName: string, type: VertexType, attrs: Attributes): Decision {
    if (attrs.verb !== 'update' && attrs.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (attrs.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.#path(nodeName, type, attrs);
  }

  #get(nodeName: string, type: VertexType, attrs: Attributes): Decision {
    if (attrs.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (attrs.subresource !== '') return noOpinion('cannot get subresource');
    return this.#path(nodeName, type, attrs);
  }

  #readNamespaced(nodeName: string, type: VertexType, attrs: Attributes): Decision {
    if (attrs.verb !== 'get' && attrs.verb !== 'list' && attrs.verb !== 'watch') return noOpinion('can only read resources of this type');
    if (attrs.subresource !== '') return noOpinion('cannot read subresource');
    if (attrs.namespace === '') return noOpinion('can only read namespaced object of this type');
    return this.#path(nodeName, type, attrs);
  }

  #createToken(nodeName: string, attrs: Attributes): Decision {
    if (attrs.verb !== 'create' || attrs.name === '') return noOpinion('can only create tokens for individual service accounts');
    if (attrs.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    if (!hasPathFrom(this.#graph, nodeName, 'serviceaccount', attrs.namespace, attrs.name)) {
      return noOpinion(`no relationship found between node '${nodeName}' and this object`);
    }
    return ALLOW;
  }

  #lease(nodeName: string, attrs: Attributes): Decision {
    const v = attrs.verb;
    if (v !== 'get' && v !== 'create' && v !== 'update' && v !== 'patch' && v !== 'delete') {
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    }
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // The name is unknown on create; NodeRestriction checks it then.
    if (v !== 'create' && attrs.name !== nodeName) return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }

  #csiNode(nodeName: string, attrs: Attributes): Decision {
    const v = attrs.verb;
    if (v !== 'get' && v !== 'create' && v !== 'update' && v !== 'patch' && v !== 'delete') {
      return noOpinion('can only get, create, update, patch, or delete a CSINode');
    }
    if (attrs.subresource !== '') return noOpinion('cannot authorize CSINode subresources');
    if (v !== 'create' && attrs.name !== nodeName) return noOpinion('can only access CSINode with the same name as the requesting node');
    return ALLOW;
  }

  /** Nodes with selector-aware authorization: a node reads only its own Node object. */
  #node(nodeName: string, attrs: SelectorAttributes): Decision | undefined {
    if (attrs.subresource === '') {
      switch (attrs.verb) {
        case 'create': case 'update': case 'patch': return ALLOW;
        case 'get': case 'list': case 'watch': {
          const name = attrs.name !== '' ? attrs.name : selectsField(attrs, 'metadata.name', nodeName) ? nodeName : '';
          if (name === nodeName) return ALLOW;
          if (name === '') return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
          return noOpinion(`node '${nodeName}' cannot read '${name}', only its own Node object`);
        }
        default: break;
      }
    } else if (attrs.subresource === 'status' && (attrs.verb === 'update' || attrs.verb === 'patch')) {
      return ALLOW;
    }
    return NO_OPINION;
  }

  /** Pods with selector-aware authorization: a node lists and watches only the pods bound to it. */
  #pod(nodeName: string, attrs: SelectorAttributes): Decision | undefined {
    switch (attrs.subresource) {
      case '':
        if (attrs.verb === 'get') return this.#get(nodeName, 'pod', attrs);
        if (attrs.verb === 'list' || attrs.verb === 'watch') {
          if (selectsField(attrs, 'spec.nodeName', nodeName)) return ALLOW;
          if (attrs.name !== '') return this.#path(nodeName, 'pod', attrs);
          return noOpinion('can only list/watch pods with spec.nodeName field selector');
        }
        if (attrs.verb === 'create' || attrs.verb === 'delete') return ALLOW;
        break;
      case 'status':
        if (attrs.verb === 'update' || attrs.verb === 'patch') return ALLOW;
        break;
      case 'eviction':
        if (attrs.verb === 'create') return ALLOW;
        break;
      default: break;
    }
    return NO_OPINION;
  }
}

/** Authorizers asked in order; the first allow or deny decides (upstream's union authorizer). */
export class ChainAuthorizer implements Authorizer {
  readonly #members: readonly Authorizer[];

  constructor(members: readonly Authorizer[]) {
    this.#members = members;
  }

  async authorize(attrs: Attributes): Promise<Decision> {
    const reasons: string[] = [];
    for (const m of this.#members) {
      const d = await m.authorize(attrs);
      if (d.decision !== 'noopinion') return d;
      if (d.reason !== '') reasons.push(d.reason);
    }
    return { decision: 'noopinion', reason: reasons.join('\n') };
  }

  async rulesFor(user: UserInfo, namespace: string): Promise<{ resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean; evaluationError?: string }> {
    const resourceRules: ResourceRule[] = [];
    const nonResourceRules: NonResourceRule[] = [];
    let incomplete = false;
    const errors: string[] = [];
    for (const m of this.#members) {
      const r = await m.rulesFor(user, namespace);
      resourceRules.push(...r.resourceRules);
      nonResourceRules.push(...r.nonResourceRules);
      if (r.incomplete) incomplete = true;
      const e = (r as { evaluationError?: string }).evaluationError;
      if (e) errors.push(e);
    }
    const out: { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean; evaluationError?: string } = { resourceRules, nonResourceRules, incomplete };
    if (errors.length > 0) out.evaluationError = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
    return out;
  }
}

/** The node graph over the API server's watch caches: pods and VolumeAttachments indexed by node. */
export class WatchCacheNodeGraph implements NodeGraphSource, Disposable {
  readonly #storeFor: (info: ResourceInfo) => GenericStore;
  readonly #pods = new NodeIndex((o) => str(obj(o, 'spec'), 'nodeName'));
  readonly #attachments = new NodeIndex((o) => str(obj(o, 'spec'), 'nodeName'));
  #subs: Disposable[] = [];

  constructor(storeFor: (info: ResourceInfo) => GenericStore) {
    this.#storeFor = storeFor;
  }

  /** Fills the indexes from the caches and follows them. */
  async start(): Promise<void> {
    const follow = async (info: ResourceInfo | undefined, index: NodeIndex): Promise<void> => {
      if (!info) return;
      const cache = this.#storeFor(info).cache;
      await cache.start();
      this.#subs.push(followCache(cache, (e) => {
        if (e.type === 'DELETED') index.remove(e.object.key);
        else index.set(e.object.key, e.object.obj);
      }, () => index.clear()));
    };
    await follow(resourceFor('', 'v1', 'pods'), this.#pods);
    await follow(resourceFor('storage.k8s.io', 'v1', 'volumeattachments'), this.#attachments);
  }

  podsOnNode(node: string): readonly KObject[] {
    return this.#pods.on(node);
  }

  volumeAttachmentsOnNode(node: string): readonly KObject[] {
    return this.#attachments.on(node);
  }

  pvc(namespace: string, name: string): KObject | undefined {
    const store = this.#storeFor(resourceFor('', 'v1', 'persistentvolumeclaims')!);
    return store.cache.get(store.key(namespace, name))?.obj;
  }

  pv(name: string): KObject | undefined {
    const store = this.#storeFor(resourceFor('', 'v1', 'persistentvolumes')!);
    return store.cache.get(store.key('', name))?.obj;
  }

  dispose(): void {
    for (const s of this.#subs) s.dispose();
    this.#subs = [];
  }
}

/** Objects by the node they name; an object moving between nodes is re-indexed. */
class NodeIndex {
  readonly #nodeOf: (o: KObject) => string;
  readonly #byNode = new Map<string, Map<string, KObject>>();
  readonly #nodeByKey = new Map<string, string>();

  constructor(nodeOf: (o: KObject) => string) {
    this.#nodeOf = nodeOf;
  }

  set(key: string, o: KObject): void {
    this.remove(key);
    const node = this.#nodeOf(o);
    if (node === '') return;
    let m = this.#byNode.get(node);
    if (!m) this.#byNode.set(node, (m = new Map()));
    m.set(key, o);
    this.#nodeByKey.set(key, node);
  }

  remove(key: string): void {
    const node = this.#nodeByKey.get(key);
    if (node === undefined) return;
    this.#nodeByKey.delete(key);
    const m = this.#byNode.get(node);
    m?.delete(key);
    if (m && m.size === 0) this.#byNode.delete(node);
  }

  clear(): void {
    this.#byNode.clear();
    this.#nodeByKey.clear();
  }

  on(node: string): KObject[] {
    return [...(this.#byNode.get(node)?.values() ?? [])];
  }
}
