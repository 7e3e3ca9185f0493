// Defaulters of the core/v1 kinds (upstream pkg/apis/core/v1 defaults and the declarative +default
// markers of k8s.io/api), plus the field normalisation the v1 -> internal -> v1 round trip causes.

import {
  at, child, clone, defaultNil, defaultZero, eachIn, ensure, ensurePath, isEmptyLen, isNil, isObject, isZero,
  type Defaulter, type JsonObject,
} from './json.ts';
import { defaultPod, defaultPodTemplateSpec } from './pod_spec.ts';
import { roundResourceList } from './resource_list.ts';
import { defaultPersistentVolume, defaultPersistentVolumeClaim } from './volumes.ts';

/** Seconds of ClientIP session affinity when a Service asks for it without a timeout. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/** Label every named Namespace carries, with the namespace's name as its value. */
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

function defaultService(svc: JsonObject): void {
  const spec = ensure(svc, 'spec');
  if (spec === undefined) return;
  defaultZero(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'None') delete spec['sessionAffinityConfig'];
  if (spec['sessionAffinity'] === 'ClientIP' && isNil(at(spec, 'sessionAffinityConfig.clientIP')?.['timeoutSeconds'])) {
    spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  defaultZero(spec, 'type', 'ClusterIP');
  const type = spec['type'];
  eachIn(spec, 'ports', (port) => {
    defaultZero(port, 'protocol', 'TCP');
    if (isZero(port['targetPort']) && typeof port['port'] === 'number') port['targetPort'] = port['port'];
  });
  const externallyAccessible = type === 'LoadBalancer' || type === 'NodePort' ||
    (type === 'ClusterIP' && !isEmptyLen(spec['externalIPs']));
  if (externallyAccessible) defaultZero(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') {
    defaultNil(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (type === 'LoadBalancer') {
    defaultNil(spec, 'allocateLoadBalancerNodePorts', true);
    eachIn(child(child(svc, 'status'), 'loadBalancer'), 'ingress', (ingress) => {
      if (!isZero(ingress['ip'])) defaultNil(ingress, 'ipMode', 'VIP');
    });
  }
}

function defaultReplicationController(rc: JsonObject): void {
  const spec = ensure(rc, 'spec');
  if (spec === undefined) return;
  const labels = at(spec, 'template.metadata.labels');
  if (labels !== undefined && Object.keys(labels).length > 0) {
    if (isEmptyLen(spec['selector'])) spec['selector'] = clone(labels);
    const metadata = ensure(rc, 'metadata');
    if (metadata && isEmptyLen(metadata['labels'])) metadata['labels'] = clone(labels);
  }
  defaultNil(spec, 'replicas', 1);
  const template = child(spec, 'template');
  if (template) defaultPodTemplateSpec(template);
}

// stringData is write-only: upstream folds it into data (base64) and never returns it.
function defaultSecret(secret: JsonObject): void {
  defaultZero(secret, 'type', 'Opaque');
  const stringData = secret['stringData'];
  if (stringData === null) delete secret['stringData'];
  if (!isObject(stringData)) return;
  if (Object.keys(stringData).length > 0) {
    const data = ensure(secret, 'data');
    if (data === undefined) return;
    for (const [k, v] of Object.entries(stringData)) {
      data[k] = Buffer.from(typeof v === 'string' ? v : String(v ?? ''), 'utf8').toString('base64');
    }
  }
  delete secret['stringData'];
}

function defaultNamespace(ns: JsonObject): void {
  const name = child(ns, 'metadata')?.['name'];
  if (typeof name === 'string' && name !== '') {
    const labels = ensurePath(ns, 'metadata.labels');
    if (labels) labels[LABEL_METADATA_NAME] = name;
  }
  const status = ensure(ns, 'status');
  if (status) defaultZero(status, 'phase', 'Active');
}

function defaultNode(node: JsonObject): void {
  const status = child(node, 'status');
  if (status) {
    if (isNil(status['allocatable']) && isObject(status['capacity'])) status['allocatable'] = clone(status['capacity']);
    roundResourceList(status['capacity']);
    roundResourceList(status['allocatable']);
  }
  // spec.podCIDR is the first entry of podCIDRs; the singular field wins when they disagree.
  const spec = child(node, 'spec');
  if (spec) {
    const cidr = spec['podCIDR'];
    const cidrs = spec['podCIDRs'];
    const first = Array.isArray(cidrs) ? cidrs[0] : undefined;
    if (typeof cidr === 'string' && cidr !== '' && first !== cidr) spec['podCIDRs'] = [cidr];
    else if (typeof first === 'string' && isZero(cidr)) spec['podCIDR'] = first;
  }
}

function defaultEndpoints(ep: JsonObject): void {
  eachIn(ep, 'subsets', (subset) => eachIn(subset, 'ports', (port) => defaultZero(port, 'protocol', 'TCP')));
}

// Container limits in a LimitRange default from max; default requests from the default limits,
// then from min. Maps that stay empty are left out, as Go omits them.
function defaultLimitRange(lr: JsonObject): void {
  eachIn(child(lr, 'spec'), 'limits', (item) => {
    if (item['type'] === 'Container') {
      const def = isObject(item['default']) ? item['default'] : {};
      const defReq = isObject(item['defaultRequest']) ? item['defaultRequest'] : {};
      fillMissing(def, item['max']);
      fillMissing(defReq, def);
      fillMissing(defReq, item['min']);
      if (Object.keys(def).length > 0) item['default'] = def;
      if (Object.keys(defReq).length > 0) item['defaultRequest'] = defReq;
    }
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) roundResourceList(item[key]);
  });
}

function fillMissing(target: JsonObject, from: unknown): void {
  if (!isObject(from)) return;
  for (const [k, v] of Object.entries(from)) if (!(k in target)) target[k] = v;
}

function defaultResourceQuota(rq: JsonObject): void {
  roundResourceList(child(rq, 'spec')?.['hard']);
  const status = child(rq, 'status');
  roundResourceList(status?.['hard']);
  roundResourceList(status?.['used']);
}

/** core/v1 kinds with defaults. */
export const coreV1Defaulters: Readonly<Record<string, Defaulter>> = {
  Pod: defaultPod,
  PodTemplate: (obj) => {
    const template = ensure(obj, 'template');
    if (template) defaultPodTemplateSpec(template);
  },
  ReplicationController: defaultReplicationController,
  Service: defaultService,
  Endpoints: defaultEndpoints,
  Secret: defaultSecret,
  Namespace: defaultNamespace,
  Node: defaultNode,
  PersistentVolume: defaultPersistentVolume,
  PersistentVolumeClaim: defaultPersistentVolumeClaim,
  LimitRange: defaultLimitRange,
  ResourceQuota: defaultResourceQuota,
};
