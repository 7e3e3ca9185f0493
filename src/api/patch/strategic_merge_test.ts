// Table-driven tests of strategic merge patch: the patches kubectl sends (apply, edit, set, patch,
// taint, cordon, rollout) and the directive behaviours upstream's strategicpatch tests pin down,
// expressed on real kinds so the merge keys come from the vendored OpenAPI schema.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch, StrategicMergePatchError } from './strategic_merge.ts';

type Obj = Record<string, unknown>;

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const POD = 'io.k8s.api.core.v1.Pod';
const SERVICE = 'io.k8s.api.core.v1.Service';
const NODE = 'io.k8s.api.core.v1.Node';
const CONFIGMAP = 'io.k8s.api.core.v1.ConfigMap';

/** A Deployment whose pod template spec is `podSpec`. */
function deploy(podSpec: Obj, extraSpec: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec },
      ...extraSpec,
    },
  };
}

/** A patch of the Deployment's pod template spec. */
function tpl(podSpecPatch: Obj): Obj {
  return { spec: { template: { spec: podSpecPatch } } };
}

function pod(spec: Obj, metadata: Obj = {}): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...metadata }, spec };
}

function ctr(name: string, extra: Obj = {}): Obj {
  return { name, image: `${name}:1`, ...extra };
}

/** Containers with only names, to test ordering. */
function named(...names: (string | number)[]): Obj[] {
  return names.map((n) => ({ name: String(n) }));
}

function service(ports: Obj[], extra: Obj = {}): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'web' }, ports, ...extra } };
}

function node(spec: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec };
}

function withFinalizers(finalizers: unknown[] | undefined): Obj {
  const cm: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } };
  if (finalizers) (cm.metadata as Obj).finalizers = finalizers;
  return cm;
}

interface Case {
  name: string;
  definition: string;
  original: Obj;
  patch: Obj;
  want: Obj;
}

const cases: Case[] = [
  // ---- maps, nulls and scalars ----
  {
    name: 'adds a label',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: { metadata: { labels: { tier: 'front' } } },
    want: { ...deploy({ containers: [ctr('c')] }), metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' } } },
  },
  {
    name: 'null removes a label',
    definition: DEPLOYMENT,
    original: { metadata: { name: 'web', labels: { app: 'web', tier: 'front' } } },
    patch: { metadata: { labels: { tier: null } } },
    want: { metadata: { name: 'web', labels: { app: 'web' } } },
  },
  {
    name: 'null for a key the object lacks changes nothing',
    definition: DEPLOYMENT,
    original: { metadata: { name: 'web', labels: { app: 'web' } } },
    patch: { metadata: { labels: { gone: null }, annotations: null } },
    want: { metadata: { name: 'web', labels: { app: 'web' } } },
  },
  {
    name: 'null removes a whole map',
    definition: DEPLOYMENT,
    original: { metadata: { name: 'web', annotations: { a: 'b' } } },
    patch: { metadata: { annotations: null } },
    want: { metadata: { name: 'web' } },
  },
  {
    name: 'scale replaces a scalar (kubectl scale via patch)',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: { spec: { replicas: 3 } },
    want: deploy({ containers: [ctr('c')] }, { replicas: 3 }),
  },
  {
    name: 'rollout restart adds the restartedAt annotation to the template',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } },
    want: {
      ...deploy({ containers: [ctr('c')] }),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } },
          spec: { containers: [ctr('c')] },
        },
      },
    },
  },
  {
    name: 'rollout pause sets spec.paused',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: { spec: { paused: true } },
    want: deploy({ containers: [ctr('c')] }, { paused: true }),
  },
  {
    name: 'cordon sets spec.unschedulable on a node',
    definition: NODE,
    original: node({ podCIDR: '10.42.0.0/24' }),
    patch: { spec: { unschedulable: true } },
    want: node({ podCIDR: '10.42.0.0/24', unschedulable: true }),
  },
  {
    name: 'uncordon removes spec.unschedulable with null',
    definition: NODE,
    original: node({ podCIDR: '10.42.0.0/24', unschedulable: true }),
    patch: { spec: { unschedulable: null } },
    want: node({ podCIDR: '10.42.0.0/24' }),
  },
  {
    name: 'an empty patch changes nothing',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: {},
    want: deploy({ containers: [ctr('c')] }),
  },
  {
    name: 'configmap data keys merge and null removes one',
    definition: CONFIGMAP,
    original: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1', b: '2' } },
    patch: { data: { b: null, c: '3' } },
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1', c: '3' } },
  },
  {
    name: 'nodeSelector merges (map-type atomic is a server-side apply notion)',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')], nodeSelector: { disk: 'ssd' } }),
    patch: tpl({ nodeSelector: { zone: 'a' } }),
    want: deploy({ containers: [ctr('c')], nodeSelector: { disk: 'ssd', zone: 'a' } }),
  },
  {
    name: 'kubectl set resources merges limits and requests',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { resources: { limits: { cpu: '1' }, requests: { cpu: '100m' } } })] }),
    patch: tpl({ containers: [{ name: 'c', resources: { limits: { memory: '512Mi' }, requests: { cpu: '200m' } } }] }),
    want: deploy({ containers: [ctr('c', { resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '200m' } } })] }),
  },
  {
    name: 'a value of another type replaces the original',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1, unknownThing: 'text' } },
    patch: { spec: { unknownThing: { a: 1 } } },
    want: { spec: { replicas: 1, unknownThing: { a: 1 } } },
  },
  {
    name: 'fields the schema does not know merge as plain maps',
    definition: DEPLOYMENT,
    original: { spec: { extra: { a: 1, nested: { x: 1 } } } },
    patch: { spec: { extra: { b: 2, nested: { y: 2 } } } },
    want: { spec: { extra: { a: 1, b: 2, nested: { x: 1, y: 2 } } } },
  },
  {
    name: 'lists the schema does not know are replaced',
    definition: DEPLOYMENT,
    original: { spec: { extraList: [{ name: 'a' }, { name: 'b' }] } },
    patch: { spec: { extraList: [{ name: 'c' }] } },
    want: { spec: { extraList: [{ name: 'c' }] } },
  },
  {
    name: 'a new subtree loses its nulls and directives',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1 } },
    patch: {
      spec: {
        template: {
          metadata: { labels: { app: 'web', old: null } },
          spec: { '$setElementOrder/containers': [{ name: 'c' }], containers: [{ name: 'c', image: 'x', args: null }] },
        },
      },
    },
    want: { spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } },
  },
  {
    name: '$patch: delete on a map leaves it empty',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { rollingUpdate: { $patch: 'delete' } } } },
    want: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: {} } } },
  },
  {
    name: '$patch: replace on a map replaces it',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')], securityContext: { runAsUser: 1000, fsGroup: 2000 } }),
    patch: tpl({ securityContext: { $patch: 'replace', runAsNonRoot: true } }),
    want: deploy({ containers: [ctr('c')], securityContext: { runAsNonRoot: true } }),
  },
  {
    name: '$patch: replace at the top replaces the whole object',
    definition: CONFIGMAP,
    original: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } },
    patch: { $patch: 'replace', apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { b: '2' } },
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { b: '2' } },
  },
  {
    name: 'a map inside a new subtree carrying $patch is dropped',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1 } },
    patch: { spec: { strategy: { type: 'Recreate', rollingUpdate: { $patch: 'delete' } } } },
    want: { spec: { replicas: 1, strategy: { type: 'Recreate' } } },
  },
  {
    name: 'managedFields (no strategy) are replaced whole',
    definition: DEPLOYMENT,
    original: { metadata: { name: 'web', managedFields: [{ manager: 'a' }, { manager: 'b' }] } },
    patch: { metadata: { managedFields: [{ manager: 'c' }] } },
    want: { metadata: { name: 'web', managedFields: [{ manager: 'c' }] } },
  },
  {
    name: 'a ConfigMap key named __proto__ is a plain field',
    definition: CONFIGMAP,
    original: { data: { a: '1' } },
    patch: JSON.parse('{"data":{"__proto__":"x"}}') as Obj,
    want: JSON.parse('{"data":{"a":"1","__proto__":"x"}}') as Obj,
  },

  // ---- containers: merge by name ----
  {
    name: 'apply changes a container image (kubectl apply patch)',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { ports: [{ containerPort: 80, protocol: 'TCP' }] }), ctr('side')] }),
    patch: tpl({ '$setElementOrder/containers': [{ name: 'c' }, { name: 'side' }], containers: [{ image: 'nginx:2', name: 'c' }] }),
    want: deploy({ containers: [ctr('c', { image: 'nginx:2', ports: [{ containerPort: 80, protocol: 'TCP' }] }), ctr('side')] }),
  },
  {
    name: 'kubectl set image merges into the named container',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('a'), ctr('b')] }),
    patch: tpl({ containers: [{ name: 'b', image: 'b:2' }] }),
    want: deploy({ containers: [ctr('a'), ctr('b', { image: 'b:2' })] }),
  },
  {
    name: 'a new container without $setElementOrder goes before the live ones, as upstream does',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('app')] }),
    patch: tpl({ containers: [ctr('sidecar')] }),
    want: deploy({ containers: [ctr('sidecar'), ctr('app')] }),
  },
  {
    name: 'a new container lands where $setElementOrder puts it',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('app')] }),
    patch: tpl({ '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }], containers: [ctr('sidecar')] }),
    want: deploy({ containers: [ctr('app'), ctr('sidecar')] }),
  },
  {
    name: 'several new items keep the $setElementOrder positions among live ones',
    definition: POD,
    original: pod({ containers: named(1, 2) }),
    patch: { spec: { '$setElementOrder/containers': named(1, 4, 2, 3), containers: [{ name: '4', image: 'x' }, { name: '3', image: 'y' }] } },
    want: pod({ containers: [{ name: '1' }, { name: '4', image: 'x' }, { name: '2' }, { name: '3', image: 'y' }] }),
  },
  {
    name: 'apply merges with fields only the server has',
    definition: POD,
    original: pod({ containers: [{ name: '1', tty: true }, { name: '2', image: 'two', stdin: true }] }),
    patch: { spec: { '$setElementOrder/containers': named(4, 1, 2, 3), containers: [{ name: '4', image: 'four' }, { name: '3', image: 'three' }] } },
    want: pod({
      containers: [{ name: '4', image: 'four' }, { name: '1', tty: true }, { name: '2', image: 'two', stdin: true }, { name: '3', image: 'three' }],
    }),
  },
  {
    name: '$patch: delete removes a container',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c'), ctr('x')] }),
    patch: tpl({ '$setElementOrder/containers': [{ name: 'c' }], containers: [{ $patch: 'delete', name: 'x' }] }),
    want: deploy({ containers: [ctr('c')] }),
  },
  {
    name: '$patch: delete removes every item with that key',
    definition: POD,
    original: pod({ containers: [{ name: '1' }, { name: '1' }, { name: '2', image: 'a' }, { name: '3' }, { name: '3' }] }),
    patch: { spec: { containers: [{ name: '1', $patch: 'delete' }, { name: '3', $patch: 'delete' }] } },
    want: pod({ containers: [{ name: '2', image: 'a' }] }),
  },
  {
    name: '$patch: delete of a missing item changes nothing',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { containers: [{ name: 'zzz', $patch: 'delete' }] } },
    want: pod({ containers: [ctr('a')] }),
  },
  {
    name: 'add and delete in one list',
    definition: POD,
    original: pod({ containers: [ctr('a'), ctr('b')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'c' }], containers: [ctr('c'), { name: 'b', $patch: 'delete' }] } },
    want: pod({ containers: [ctr('a'), ctr('c')] }),
  },
  {
    name: 'without $setElementOrder the patch order wins for items it names',
    definition: POD,
    original: pod({ containers: [{ name: '1' }, { name: '2', image: 'b' }, { name: '3' }] }),
    patch: { spec: { containers: [{ name: '3', image: 'c' }, { name: '1', image: 'a' }, { name: '2', tty: true }] } },
    want: pod({ containers: [{ name: '3', image: 'c' }, { name: '1', image: 'a' }, { name: '2', image: 'b', tty: true }] }),
  },
  {
    name: 'server-only items are interleaved by their live position',
    definition: POD,
    original: pod({ containers: [{ name: '1' }, { name: '2', image: 'b' }, { name: '3' }] }),
    patch: { spec: { containers: [{ name: '3', image: 'c' }, { name: '1', image: 'a' }] } },
    want: pod({ containers: [{ name: '2', image: 'b' }, { name: '3', image: 'c' }, { name: '1', image: 'a' }] }),
  },
  {
    name: '$setElementOrder alone reorders a list',
    definition: POD,
    original: pod({ containers: [ctr('a'), ctr('b'), ctr('c')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }] } },
    want: pod({ containers: [ctr('c'), ctr('a'), ctr('b')] }),
  },
  {
    name: '$setElementOrder keeps a trailing server-only item last',
    definition: POD,
    original: pod({ containers: [{ name: '1', tty: true }, { name: '3' }, { name: '4' }, { name: '2' }, { name: '9' }] }),
    patch: { spec: { '$setElementOrder/containers': named(4, 2, 3, 1) } },
    want: pod({ containers: [{ name: '4' }, { name: '2' }, { name: '3' }, { name: '1', tty: true }, { name: '9' }] }),
  },
  {
    name: '$setElementOrder keeps a server-only item after its live predecessor',
    definition: POD,
    original: pod({ containers: named(1, 2, 9, 3, 4) }),
    patch: { spec: { '$setElementOrder/containers': named(2, 1, 4, 3) } },
    want: pod({ containers: named(2, 1, 9, 4, 3) }),
  },
  {
    name: '$setElementOrder keeps a run of server-only items together',
    definition: POD,
    original: pod({ containers: named(1, 2, 7, 9, 8, 3, 4) }),
    patch: { spec: { '$setElementOrder/containers': named(2, 1, 4, 3) } },
    want: pod({ containers: named(2, 1, 7, 9, 8, 4, 3) }),
  },
  {
    name: '$setElementOrder with duplicate keys groups the duplicates',
    definition: POD,
    original: pod({ containers: [{ name: '1' }, { name: '2', image: 'dup1' }, { name: '3' }, { name: '2', image: 'dup2' }, { name: '4' }] }),
    patch: { spec: { '$setElementOrder/containers': named(2, 1, 4, 3, 2) } },
    want: pod({ containers: [{ name: '2', image: 'dup1' }, { name: '2', image: 'dup2' }, { name: '1' }, { name: '4' }, { name: '3' }] }),
  },
  {
    name: '$setElementOrder on two lists at once, with a deletion in one',
    definition: POD,
    original: pod({ containers: [ctr('a'), ctr('b')], initContainers: [ctr('c'), ctr('d')] }),
    patch: {
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }],
        '$setElementOrder/initContainers': [{ name: 'd' }, { name: 'c' }],
        containers: [{ $patch: 'delete', name: 'a' }],
      },
    },
    want: pod({ containers: [ctr('b')], initContainers: [ctr('d'), ctr('c')] }),
  },
  {
    name: 'a list the object lacks is added, without its directives',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { '$setElementOrder/initContainers': [{ name: 'init' }], initContainers: [ctr('init')] } },
    want: pod({ containers: [ctr('a')], initContainers: [ctr('init')] }),
  },
  {
    name: '$patch: replace makes the other items the whole list',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('a'), ctr('b')] }),
    patch: tpl({ containers: [ctr('z'), { $patch: 'replace' }] }),
    want: deploy({ containers: [ctr('z')] }),
  },
  {
    name: '$patch: replace alone empties a list',
    definition: POD,
    original: pod({ containers: [ctr('a')], initContainers: [ctr('i'), ctr('j')] }),
    patch: { spec: { initContainers: [{ $patch: 'replace' }] } },
    want: pod({ containers: [ctr('a')], initContainers: [] }),
  },
  {
    name: 'an empty merge list patch keeps the list',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { containers: [] } },
    want: pod({ containers: [ctr('a')] }),
  },
  {
    name: 'merging into an empty list adds the items',
    definition: POD,
    original: pod({ containers: [ctr('a')], initContainers: [] }),
    patch: { spec: { initContainers: [ctr('i')] } },
    want: pod({ containers: [ctr('a')], initContainers: [ctr('i')] }),
  },
  {
    name: 'a CronJob job template merges containers through nested references',
    definition: 'io.k8s.api.batch.v1.CronJob',
    original: { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [ctr('a'), ctr('b')] } } } } } },
    patch: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'a:2' }] } } } } } },
    want: { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [ctr('a', { image: 'a:2' }), ctr('b')] } } } } } },
  },

  // ---- env: merge by name ----
  {
    name: 'kubectl set env adds a variable',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { env: [{ name: 'A', value: '1' }] })] }),
    patch: tpl({ containers: [{ name: 'c', env: [{ name: 'B', value: '2' }] }] }),
    want: deploy({ containers: [ctr('c', { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] })] }),
  },
  {
    name: 'apply changes one env var and keeps the order (nested $setElementOrder)',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    patch: tpl({
      '$setElementOrder/containers': [{ name: 'c' }],
      containers: [{ '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }, { name: 'C' }], env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }], name: 'c' }],
    }),
    want: deploy({ containers: [ctr('c', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }] })] }),
  },
  {
    name: 'an env var switches from value to valueFrom',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { env: [{ name: 'A', value: '1' }] })] }),
    patch: tpl({ containers: [{ name: 'c', env: [{ name: 'A', value: null, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] }),
    want: deploy({ containers: [ctr('c', { env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] })] }),
  },
  {
    name: 'kubectl set env A- deletes a variable',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    patch: tpl({ containers: [{ name: 'c', env: [{ $patch: 'delete', name: 'A' }] }] }),
    want: deploy({ containers: [ctr('c', { env: [{ name: 'B', value: '2' }] })] }),
  },
  {
    name: 'envFrom (no strategy) is replaced',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { envFrom: [{ configMapRef: { name: 'one' } }] })] }),
    patch: tpl({ containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'two' } }] }] }),
    want: deploy({ containers: [ctr('c', { envFrom: [{ secretRef: { name: 'two' } }] })] }),
  },

  // ---- volumeMounts (mountPath), volumes (name, retainKeys), ports (containerPort) ----
  {
    name: 'volumeMounts merge by mountPath',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/cfg' }] })] }),
    patch: tpl({ containers: [{ name: 'c', volumeMounts: [{ mountPath: '/data', readOnly: true, name: 'data' }] }] }),
    want: deploy({ containers: [ctr('c', { volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'cfg', mountPath: '/etc/cfg' }] })] }),
  },
  {
    name: 'a mount of the same volume at another path is another item',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })] }),
    patch: tpl({ containers: [{ name: 'c', volumeMounts: [{ name: 'data', mountPath: '/backup', subPath: 'b' }] }] }),
    want: deploy({ containers: [ctr('c', { volumeMounts: [{ name: 'data', mountPath: '/backup', subPath: 'b' }, { name: 'data', mountPath: '/data' }] })] }),
  },
  {
    name: 'volumes merge by name and $retainKeys switches the volume source',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')], volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', secret: { secretName: 's' } }] }),
    patch: tpl({ volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' }, name: 'v' }] }),
    want: deploy({ containers: [ctr('c')], volumes: [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', secret: { secretName: 's' } }] }),
  },
  {
    name: 'volume items without $retainKeys merge their fields',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')], volumes: [{ name: 'v', configMap: { name: 'cm' } }] }),
    patch: tpl({ volumes: [{ name: 'v', configMap: { defaultMode: 420 } }] }),
    want: deploy({ containers: [ctr('c')], volumes: [{ name: 'v', configMap: { name: 'cm', defaultMode: 420 } }] }),
  },
  {
    name: 'container ports merge by containerPort, so a protocol lands on the same item',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { ports: [{ containerPort: 53, protocol: 'TCP' }] })] }),
    patch: tpl({ containers: [{ name: 'c', ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }] }] }),
    want: deploy({ containers: [ctr('c', { ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }] })] }),
  },
  {
    name: 'a container port with another number is added',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { ports: [{ containerPort: 80 }] })] }),
    patch: tpl({ containers: [{ name: 'c', '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 443 }], ports: [{ containerPort: 443 }] }] }),
    want: deploy({ containers: [ctr('c', { ports: [{ containerPort: 80 }, { containerPort: 443 }] })] }),
  },

  {
    name: 'apply changes a container port (delete the old key, add the new one)',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { ports: [{ containerPort: 80, protocol: 'TCP' }] })] }),
    patch: tpl({
      '$setElementOrder/containers': [{ name: 'c' }],
      containers: [{ '$setElementOrder/ports': [{ containerPort: 8080 }], name: 'c', ports: [{ containerPort: 8080 }, { $patch: 'delete', containerPort: 80 }] }],
    }),
    want: deploy({ containers: [ctr('c', { ports: [{ containerPort: 8080 }] })] }),
  },
  {
    name: 'apply removes a field of a container with null',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { resources: { limits: { cpu: '1' } }, command: ['sh'] })] }),
    patch: tpl({ '$setElementOrder/containers': [{ name: 'c' }], containers: [{ name: 'c', resources: null, command: null }] }),
    want: deploy({ containers: [ctr('c')] }),
  },

  // ---- services ----
  {
    name: 'apply changes the only service port',
    definition: SERVICE,
    original: service([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }], { type: 'ClusterIP' }),
    patch: { spec: { '$setElementOrder/ports': [{ port: 8080 }], ports: [{ port: 8080, targetPort: 8080, name: 'http' }, { $patch: 'delete', port: 80 }] } },
    want: service([{ name: 'http', port: 8080, targetPort: 8080 }], { type: 'ClusterIP' }),
  },
  {
    name: 'a Service patched with only port 8080 keeps port 80 (two ports)',
    definition: SERVICE,
    original: service([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }]),
    patch: { spec: { ports: [{ name: 'alt', port: 8080, targetPort: 8080 }] } },
    want: service([
      { name: 'alt', port: 8080, targetPort: 8080 },
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 80 },
    ]),
  },
  {
    name: 'service ports merge by port',
    definition: SERVICE,
    original: service([{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, protocol: 'TCP', targetPort: 443 }]),
    patch: { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
    want: service([{ port: 80, protocol: 'TCP', targetPort: 8080 }, { port: 443, protocol: 'TCP', targetPort: 443 }]),
  },
  {
    name: 'apply removes a service port and changes the selector',
    definition: SERVICE,
    original: service([{ port: 80 }, { port: 443 }], { clusterIP: '10.43.0.5' }),
    patch: { spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ $patch: 'delete', port: 443 }], selector: { app: 'api' } } },
    want: service([{ port: 80 }], { clusterIP: '10.43.0.5', selector: { app: 'api' } }),
  },

  // ---- atomic lists ----
  {
    name: 'tolerations are replaced whole',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')], tolerations: [{ key: 'a', operator: 'Exists' }] }),
    patch: tpl({ tolerations: [{ key: 'b', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }),
    want: deploy({ containers: [ctr('c')], tolerations: [{ key: 'b', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }),
  },
  {
    name: 'kubectl taint replaces the node taints',
    definition: NODE,
    original: node({ taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }] }),
    patch: { spec: { taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] } },
    want: node({ taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] }),
  },
  {
    name: 'container args are replaced whole',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c', { args: ['a', 'b'] })] }),
    patch: tpl({ containers: [{ name: 'c', args: ['c'] }] }),
    want: deploy({ containers: [ctr('c', { args: ['c'] })] }),
  },

  // ---- primitive merge lists ----
  {
    name: 'finalizers are a set: patch items are added once',
    definition: CONFIGMAP,
    original: withFinalizers(['a', 'b']),
    patch: { metadata: { finalizers: ['b', 'c'] } },
    want: withFinalizers(['a', 'b', 'c']),
  },
  {
    name: '$deleteFromPrimitiveList/finalizers removes finalizers',
    definition: CONFIGMAP,
    original: withFinalizers(['a', 'b', 'c']),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'c'] } },
    want: withFinalizers(['a']),
  },
  {
    name: '$deleteFromPrimitiveList removes duplicates too',
    definition: CONFIGMAP,
    original: withFinalizers(['a', 'b', 'a']),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: withFinalizers(['b']),
  },
  {
    name: '$deleteFromPrimitiveList of a missing item changes nothing',
    definition: CONFIGMAP,
    original: withFinalizers(['a', 'b']),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['z'] } },
    want: withFinalizers(['a', 'b']),
  },
  {
    name: '$deleteFromPrimitiveList on a missing list adds nothing',
    definition: CONFIGMAP,
    original: withFinalizers(undefined),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: withFinalizers(undefined),
  },
  {
    name: 'finalizers with $setElementOrder and a deletion (apply)',
    definition: CONFIGMAP,
    original: withFinalizers(['a', 'b', 'c']),
    patch: { metadata: { '$setElementOrder/finalizers': ['b', 'a'], '$deleteFromPrimitiveList/finalizers': ['c'] } },
    want: withFinalizers(['b', 'a']),
  },
  {
    name: 'a new finalizer lands where $setElementOrder puts it, server-only ones stay',
    definition: CONFIGMAP,
    original: withFinalizers(['one', 'four', 'two']),
    patch: { metadata: { '$setElementOrder/finalizers': ['three', 'one', 'two'], finalizers: ['three'] } },
    want: withFinalizers(['three', 'one', 'four', 'two']),
  },
  {
    name: 'primitive lists follow the patch order for the items it names',
    definition: CONFIGMAP,
    original: withFinalizers(['1', '2', '3']),
    patch: { metadata: { finalizers: ['3', '1'] } },
    want: withFinalizers(['2', '3', '1']),
  },
  {
    name: 'node podCIDRs (merge, no key) union',
    definition: NODE,
    original: node({ podCIDRs: ['10.42.0.0/24'] }),
    patch: { spec: { podCIDRs: ['fd00::/64'] } },
    want: node({ podCIDRs: ['fd00::/64', '10.42.0.0/24'] }),
  },

  // ---- other merge keys from the schema ----
  {
    name: 'ownerReferences merge by uid',
    definition: DEPLOYMENT,
    original: { metadata: { name: 'web', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'a', uid: 'u1' }] } },
    patch: { metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { apiVersion: 'v1', kind: 'Y', name: 'b', uid: 'u2' }] } },
    want: {
      metadata: {
        name: 'web',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'u1', controller: true },
          { apiVersion: 'v1', kind: 'Y', name: 'b', uid: 'u2' },
        ],
      },
    },
  },
  {
    name: 'imagePullSecrets merge by name',
    definition: POD,
    original: pod({ containers: [ctr('a')], imagePullSecrets: [{ name: 'one' }] }),
    patch: { spec: { imagePullSecrets: [{ name: 'two' }, { name: 'one' }] } },
    want: pod({ containers: [ctr('a')], imagePullSecrets: [{ name: 'two' }, { name: 'one' }] }),
  },
  {
    name: 'pod status conditions merge by type',
    definition: POD,
    original: { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] } },
    patch: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
    want: { status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] } },
  },

  // ---- retainKeys on maps ----
  {
    name: '$retainKeys switches the strategy to Recreate',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } },
    want: deploy({ containers: [ctr('c')] }, { strategy: { type: 'Recreate' } }),
  },
  {
    name: '$retainKeys clears fields the patch does not mention',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: { spec: { strategy: { type: 'Recreate' } } },
  },
  {
    name: '$retainKeys keeps listed fields and merges the patch into them',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ['rollingUpdate', 'type'], rollingUpdate: { maxUnavailable: 0 } } } },
    want: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } },
  },
  {
    name: 'a retainKeys field without the directive merges normally',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { rollingUpdate: { maxSurge: 2 } } } },
    want: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2 } } } },
  },
  {
    name: '$retainKeys on a strategy the object lacks adds the patch fields only',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1 } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: { spec: { replicas: 1, strategy: { type: 'Recreate' } } },
  },
  {
    name: 'PodDisruptionBudget selector (replace strategy) is replaced',
    definition: 'io.k8s.api.policy.v1.PodDisruptionBudget',
    original: { spec: { minAvailable: 1, selector: { matchLabels: { app: 'a', tier: 'x' } } } },
    patch: { spec: { selector: { matchLabels: { app: 'b' } } } },
    want: { spec: { minAvailable: 1, selector: { matchLabels: { app: 'b' } } } },
  },
  {
    name: 'StatefulSet volumeClaimTemplates (no strategy) are replaced',
    definition: 'io.k8s.api.apps.v1.StatefulSet',
    original: { spec: { volumeClaimTemplates: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] } },
    patch: { spec: { volumeClaimTemplates: [{ metadata: { name: 'c' } }] } },
    want: { spec: { volumeClaimTemplates: [{ metadata: { name: 'c' } }] } },
  },
];

interface ErrorCase {
  name: string;
  definition: string;
  original: Obj;
  patch: Obj;
  message: string | RegExp;
  status: 400 | 422 | 500;
}

const errorCases: ErrorCase[] = [
  {
    name: 'a list item without its merge key',
    definition: DEPLOYMENT,
    original: deploy({ containers: [ctr('c')] }),
    patch: tpl({ containers: [{ image: 'httpd' }] }),
    message: 'map: map[image:httpd] does not contain declared merge key: name',
    status: 500,
  },
  {
    name: 'a delete directive without the merge key',
    definition: SERVICE,
    original: service([{ port: 80 }]),
    patch: { spec: { ports: [{ $patch: 'delete', name: 'http' }] } },
    message: 'map: map[$patch:delete name:http] does not contain declared merge key: port',
    status: 500,
  },
  {
    name: '$patch: merge in a list item',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { containers: [{ name: 'a', $patch: 'merge' }] } },
    message: 'merging lists cannot yet be specified in the patch',
    status: 500,
  },
  {
    name: 'an unknown $patch in a list item',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { containers: [{ name: 'a', $patch: 'frobnicate' }] } },
    message: 'unknown patch type: frobnicate in map: map[$patch:frobnicate name:a]',
    status: 500,
  },
  {
    name: '$patch: merge on a map (only struct tags may say merge)',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1 } },
    patch: { spec: { $patch: 'merge', replicas: 2 } },
    message: 'unknown patch type: merge in map: map[$patch:merge replicas:2]',
    status: 500,
  },
  {
    name: 'a non-string $patch on a map',
    definition: DEPLOYMENT,
    original: { spec: { replicas: 1 } },
    patch: { spec: { $patch: 1 } },
    message: 'unknown patch type: %!s(int64=1) in map: map[$patch:1]',
    status: 500,
  },
  {
    name: '$setElementOrder contradicting the patch order',
    definition: CONFIGMAP,
    original: withFinalizers(['1']),
    patch: { metadata: { '$setElementOrder/finalizers': ['1', '2', '3'], finalizers: ['3', '1'] } },
    message: "The order in patch list:\n[3 1]\n doesn't match $setElementOrder list:\n[1 2 3]\n",
    status: 500,
  },
  {
    name: 'a patch item missing from $setElementOrder',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [ctr('b')] } },
    message: /^The order in patch list:\n\[map\[image:b:1 name:b\]\]\n doesn't match \$setElementOrder list:\n\[map\[name:a\]\]\n$/,
    status: 500,
  },
  {
    name: '$setElementOrder that is not a list',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { '$setElementOrder/containers': { name: 'a' } } },
    message: 'expected a []interface {}, but received a map[string]interface {}',
    status: 500,
  },
  {
    name: '$setElementOrder without a list name',
    definition: POD,
    original: pod({ containers: [ctr('a')] }),
    patch: { spec: { $setElementOrder: [] } },
    message: 'invalid patch format of setElementOrder list',
    status: 400,
  },
  {
    name: '$deleteFromPrimitiveList without a list name',
    definition: CONFIGMAP,
    original: withFinalizers(['a']),
    patch: { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } },
    message: 'invalid patch format of primitive list',
    status: 400,
  },
  {
    name: '$retainKeys that is not a list',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'Recreate' } } },
    patch: { spec: { strategy: { $retainKeys: 'type', type: 'Recreate' } } },
    message: 'invalid patch format of retainKeys',
    status: 400,
  },
  {
    name: 'a patch field missing from $retainKeys',
    definition: DEPLOYMENT,
    original: { spec: { strategy: { type: 'RollingUpdate' } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    message: 'invalid patch format of retainKeys',
    status: 400,
  },
  {
    name: 'a list of lists',
    definition: CONFIGMAP,
    original: withFinalizers([]),
    patch: { metadata: { finalizers: [['a']] } },
    message: 'lists of lists are not supported',
    status: 422,
  },
  {
    name: 'list items of different types',
    definition: CONFIGMAP,
    original: withFinalizers(['a']),
    patch: { metadata: { finalizers: [1] } },
    message: 'list element types are not identical: [[a] [1]]',
    status: 500,
  },
  {
    name: 'a live list item without the merge key',
    definition: POD,
    original: pod({ containers: [{ image: 'nameless' }] }),
    patch: { spec: { containers: [ctr('a')] } },
    message: 'map: map[image:nameless] does not contain declared merge key: name',
    status: 500,
  },
];

function snapshot(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

describe('strategicMergePatch', () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = snapshot({ original: c.original, patch: c.patch });
      const got = strategicMergePatch(c.original, c.patch, c.definition);
      assert.deepEqual(got, c.want);
      assert.deepEqual({ original: c.original, patch: c.patch }, before, 'inputs must not change');
    });
  }

  for (const c of errorCases) {
    test(`rejects ${c.name}`, () => {
      const before = snapshot(c.original);
      assert.throws(
        () => strategicMergePatch(c.original, c.patch, c.definition),
        (err: unknown) => {
          assert.ok(err instanceof StrategicMergePatchError, `not a StrategicMergePatchError: ${String(err)}`);
          if (typeof c.message === 'string') assert.equal(err.message, c.message);
          else assert.match(err.message, c.message);
          assert.equal(err.status, c.status);
          return true;
        },
      );
      assert.deepEqual(c.original, before);
    });
  }

  test('the result shares no objects with its inputs', () => {
    const original = deploy({ containers: [ctr('a', { env: [{ name: 'A', value: '1' }] })] });
    const patch = tpl({ containers: [ctr('b', { env: [{ name: 'B', value: '2' }] })] });
    const before = snapshot({ original, patch });
    const got = strategicMergePatch(original, patch, DEPLOYMENT);
    const containers = ((got.spec as Obj).template as Obj).spec as Obj;
    for (const c of containers.containers as Obj[]) {
      (c.env as Obj[])[0].value = 'changed';
      c.image = 'changed';
    }
    (got.metadata as Obj).name = 'changed';
    assert.deepEqual({ original, patch }, before);
  });

  test('unknown definitions are refused', () => {
    assert.throws(() => strategicMergePatch({}, {}, 'io.k8s.api.core.v1.NoSuchKind'), /no OpenAPI definition named "io.k8s.api.core.v1.NoSuchKind"/);
  });

  test('a patch on a 50-container pod takes well under a millisecond', () => {
    const containers = Array.from({ length: 50 }, (_, i) =>
      ctr(`c${i}`, {
        env: [{ name: 'A', value: String(i) }, { name: 'B', value: 'x' }],
        ports: [{ containerPort: 8000 + i, protocol: 'TCP' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        resources: { limits: { cpu: '100m', memory: '64Mi' } },
      }),
    );
    const original = pod({ containers, volumes: [{ name: 'data', emptyDir: {} }] }, { labels: { app: 'web' } });
    const patch = {
      metadata: { labels: { rev: '2' } },
      spec: {
        '$setElementOrder/containers': containers.map((c) => ({ name: c.name })),
        containers: [{ name: 'c25', image: 'new:2', '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'B', value: 'y' }] }],
      },
    };
    let got: Obj = {};
    for (let i = 0; i < 200; i++) got = strategicMergePatch(original, patch, POD);
    // Best of several batches, so a busy machine (tests run in parallel) does not decide the result.
    let perRunMs = Infinity;
    for (let batch = 0; batch < 5; batch++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 100; i++) got = strategicMergePatch(original, patch, POD);
      perRunMs = Math.min(perRunMs, Number(process.hrtime.bigint() - start) / 1e6 / 100);
    }
    const merged = ((got.spec as Obj).containers as Obj[])[25];
    assert.equal(merged.image, 'new:2');
    assert.deepEqual(merged.env, [{ name: 'A', value: '25' }, { name: 'B', value: 'y' }]);
    assert.ok(perRunMs < 0.5, `took ${perRunMs.toFixed(3)} ms per patch`);
  });
});
