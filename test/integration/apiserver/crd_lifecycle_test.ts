// The life of a CustomResourceDefinition and its custom resources with the controller manager
// running: several versions (conversion None), name conflicts, cluster scope, RBAC, watches,
// deleting a CRD (Terminating, instances removed, finalizer dropped), namespace deletion and the
// garbage collector.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { eventually, startHarness, type Harness } from '../controllers/workload_harness.ts';
import { applyCrds, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';

type Json = Record<string, any>;

let h: Harness;

const widgetsCrd = (extra = ''): string => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string, default: blue}}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string, default: red}}}${extra}
`;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse((await kubectlOk(h.s, [...args, '-o', 'json'])).stdout) as Json;
}

async function applyCrd(yaml: string, name: string): Promise<void> {
  await applyCrds(h.s, yaml, name);
}

/** Keys under a storage prefix, read straight from the store. */
async function storedKeys(prefix: string): Promise<string[]> {
  const res = await h.s.store.list(prefix);
  return res.kvs.map((kv) => kv.key);
}

before(async () => {
  h = await startHarness(['garbagecollector', 'namespace']);
  await applyCrd(widgetsCrd(), 'widgets.example.com');
});

after(async () => {
  await h?.stop();
});

describe('CustomResourceDefinition lifecycle', () => {
  test('several versions: each serves its apiVersion and defaults, storage keeps the storage version, deprecated versions warn', async () => {
    await kubectlOk(h.s, ['apply', '-f', '-'], 'apiVersion: example.com/v1beta1\nkind: Widget\nmetadata: {name: mv}\nspec: {size: 1}\n');
    const v1 = await getJson(['get', 'widgets.v1.example.com', 'mv']);
    assert.equal(v1['apiVersion'], 'example.com/v1');
    assert.equal(v1['spec']['color'], 'blue', 'defaulted when written through v1beta1');
    const r = await h.s.request('GET', '/apis/example.com/v1beta1/namespaces/default/widgets/mv');
    assert.equal(r.json()['apiVersion'], 'example.com/v1beta1');
    assert.equal(r.headers['warning'], '299 - "example.com/v1beta1 Widget is deprecated; use example.com/v1 Widget"');
    const raw = await h.s.request('GET', '/apis/example.com/v1/namespaces/default/widgets/mv');
    assert.equal(raw.headers['warning'], undefined);
    const stored = await h.s.store.get('/registry/example.com/widgets/default/mv');
    assert.equal(JSON.parse(Buffer.from(stored.kv!.value).toString('utf8'))['apiVersion'], 'example.com/v1');
    const crd = await getJson(['get', 'crd', 'widgets.example.com']);
    assert.deepEqual(crd['status']['storedVersions'], ['v1']);
    const group = (await h.s.request('GET', '/apis/example.com')).json<Json>();
    assert.deepEqual(group['versions'].map((v: Json) => v['version']), ['v1', 'v1beta1']);
    await kubectlOk(h.s, ['delete', 'widget', 'mv']);
  });

  test('a second CRD asking for a taken kind is not accepted, not established and not served', async () => {
    await kubectlOk(h.s, ['apply', '-f', '-'], `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, kind: Widget, shortNames: [wd]}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`);
    const crd = await eventually('NamesAccepted decided', async () => {
      const c = await getJson(['get', 'crd', 'gizmos.example.com']);
      return (c['status']['conditions'] as Json[] | undefined)?.some((x) => x['type'] === 'NamesAccepted') ? c : undefined;
    });
    const cond = (type: string): Json => (crd['status']['conditions'] as Json[]).find((x) => x['type'] === type)!;
    assert.equal(cond('NamesAccepted')['status'], 'False');
    // Each check overwrites the condition, as upstream's: the list kind is checked after the kind.
    assert.equal(cond('NamesAccepted')['reason'], 'ListKindConflict');
    assert.equal(cond('NamesAccepted')['message'], '"WidgetList" is already in use');
    // The singular defaults to the lower-cased kind, "widget", taken too.
    assert.deepEqual(crd['status']['acceptedNames'], { plural: 'gizmos', kind: '' }, 'the free names are taken, the others not');
    assert.deepEqual({ status: cond('Established')['status'], reason: cond('Established')['reason'], message: cond('Established')['message'] },
      { status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
    assert.equal((await h.s.request('GET', '/apis/example.com/v1/namespaces/default/gizmos')).status, 404);
    await kubectlOk(h.s, ['delete', 'crd', 'gizmos.example.com']);
  });

  test('cluster-scoped custom resources, and RBAC on custom resources as on built-ins', async () => {
    await applyCrd(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: regions.geo.example.com}
spec:
  group: geo.example.com
  scope: Cluster
  names: {plural: regions, singular: region, kind: Region}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
`, 'regions.geo.example.com');
    await kubectlOk(h.s, ['apply', '-f', '-'], 'apiVersion: geo.example.com/v1\nkind: Region\nmetadata: {name: north}\nspec: {anything: [1, 2]}\n');
    assert.deepEqual((await getJson(['get', 'region', 'north']))['spec'], { anything: [1, 2] });
    assert.equal((await h.s.request('GET', '/apis/geo.example.com/v1/namespaces/default/regions/north')).status, 404);
    assert.ok(await storedKeys('/registry/geo.example.com/regions/').then((k) => k.includes('/registry/geo.example.com/regions/north')));

    await kubectlOk(h.s, ['apply', '-f', '-'], `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: widget-reader, namespace: default}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: widget-reader, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: widget-reader}
subjects: [{kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}]
`);
    await kubectlOk(h.s, ['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: rb}\n');
    assert.match((await kubectlOk(h.s, ['get', 'widgets', '--as=jane'])).stdout, /^NAME\s+AGE\nrb\s+/);
    assert.equal((await h.s.kubectl(['auth', 'can-i', 'list', 'widgets.example.com', '--as=jane'])).stdout.trim(), 'yes');
    assert.match(await kubectlFails(h.s, ['delete', 'widget', 'rb', '--as=jane']),
      /widgets.example.com "rb" is forbidden: User "jane" cannot delete resource "widgets" in API group "example.com" in the namespace "default"/);
    assert.match(await kubectlFails(h.s, ['get', 'regions', '--as=jane']), /cannot list resource "regions" in API group "geo.example.com" at the cluster scope/);
    await kubectlOk(h.s, ['delete', 'widget', 'rb']);
  });

  test('watch through client-node sees ADDED, MODIFIED and DELETED of custom resources', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.s.kubeconfig);
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/apis/example.com/v1/namespaces/default/widgets', {}, (type, obj: Json) => {
      events.push(`${type} ${obj['metadata']['name']} ${obj['spec']?.['size'] ?? ''}`);
    }, () => undefined);
    try {
      await kubectlOk(h.s, ['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n');
      await kubectlOk(h.s, ['patch', 'widget', 'w', '--type=merge', '-p', '{"spec":{"size":2}}']);
      await kubectlOk(h.s, ['delete', 'widget', 'w']);
      await eventually('three events', () => (events.length >= 3 ? true : undefined), 5000);
      assert.deepEqual(events, ['ADDED w 1', 'MODIFIED w 2', 'DELETED w 2']);
    } finally {
      req.abort();
    }
  });

  test('deleting a CRD marks it Terminating, refuses creates, deletes every instance, then lets it go', async () => {
    await applyCrd(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, kind: Gadget}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`, 'gadgets.example.com');
    await kubectlOk(h.s, ['create', 'namespace', 'gadgets-b']);
    await kubectlOk(h.s, ['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: a, finalizers: [example.com/hold]}\n');
    await kubectlOk(h.s, ['apply', '-n', 'gadgets-b', '-f', '-'], 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: b}\n');
    await kubectlOk(h.s, ['delete', 'crd', 'gadgets.example.com', '--wait=false']);
    const terminating = await eventually('instances being deleted', async () => {
      const c = await getJson(['get', 'crd', 'gadgets.example.com']);
      const t = (c['status']['conditions'] as Json[]).find((x) => x['type'] === 'Terminating');
      return t?.['reason'] === 'InstanceDeletionInProgress' && (await storedKeys('/registry/example.com/gadgets/')).length === 1 ? c : undefined;
    });
    assert.ok(terminating['metadata']['deletionTimestamp']);
    assert.deepEqual(terminating['metadata']['finalizers'], ['customresourcecleanup.apiextensions.k8s.io']);
    assert.equal((terminating['status']['conditions'] as Json[]).find((x) => x['type'] === 'Terminating')?.['message'], 'CustomResource deletion is in progress');
    const refused = await h.s.request('POST', '/apis/example.com/v1/namespaces/default/gadgets', { body: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'c' } }) });
    assert.equal(refused.status, 405);
    assert.equal(refused.json()['message'], 'create not allowed while custom resource definition is terminating');
    // The held instance keeps the CRD; releasing it lets both go.
    await kubectlOk(h.s, ['patch', 'gadget', 'a', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('CRD gone', async () => ((await h.s.kubectl(['get', 'crd', 'gadgets.example.com'])).code !== 0 ? true : undefined), 10_000);
    assert.deepEqual(await storedKeys('/registry/example.com/gadgets/'), []);
    assert.equal((await h.s.request('GET', '/apis/example.com/v1/namespaces/default/gadgets')).status, 404);
    assert.doesNotMatch((await kubectlOk(h.s, ['api-resources', '--api-group=example.com'])).stdout, /gadgets/);
  });

  test('the garbage collector deletes custom resources whose owner is gone', async () => {
    await kubectlOk(h.s, ['create', 'configmap', 'owner']);
    const uid = (await getJson(['get', 'configmap', 'owner']))['metadata']['uid'];
    await kubectlOk(h.s, ['apply', '-f', '-'], `apiVersion: example.com/v1
kind: Widget
metadata:
  name: owned
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: ${uid}}]
`);
    await kubectlOk(h.s, ['delete', 'configmap', 'owner']);
    await eventually('owned widget collected', async () => ((await h.s.kubectl(['get', 'widget', 'owned'])).code !== 0 ? true : undefined), 10_000);
  });

  test('deleting a namespace deletes its custom resources', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'doomed']);
    await kubectlOk(h.s, ['apply', '-n', 'doomed', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n');
    await kubectlOk(h.s, ['delete', 'namespace', 'doomed', '--wait=false']);
    await eventually('namespace gone', async () => ((await h.s.kubectl(['get', 'namespace', 'doomed'])).code !== 0 ? true : undefined), 20_000);
    assert.deepEqual(await storedKeys('/registry/example.com/widgets/doomed/'), []);
  });
});
