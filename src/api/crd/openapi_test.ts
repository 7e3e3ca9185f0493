// Tests of the OpenAPI documents published for custom resources, after upstream's
// controller/openapi/builder tests: names, schemas (v3 with validations, v2 stripped), embedded
// resources, int-or-string, paths and operations.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { crdDefinitionName, crdOpenAPIV2Additions, crdOpenAPIV3Document } from './openapi.ts';

type Json = Record<string, any>;

const builtin: Record<string, unknown> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', properties: { name: { type: 'string' }, ownerReferences: { type: 'array', items: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference' } } } },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': { type: 'object', properties: { uid: { type: 'string' } } },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Status': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': { type: 'object' },
  'io.k8s.api.autoscaling.v1.Scale': { type: 'object' },
  'io.k8s.api.core.v1.Pod': { type: 'object' },
};

function cronTab(extra: Json = {}, scope = 'Namespaced'): CustomResourceDefinition {
  return {
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com', scope,
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: {
          spec: { type: 'object', description: 'The spec.', required: ['cronSpec'], properties: {
            cronSpec: { type: 'string', pattern: '^x', example: 'x' },
            port: { 'x-kubernetes-int-or-string': true },
            note: { type: 'string', nullable: true },
            tpl: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
            any: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
          } },
        } } },
        ...extra,
      }, { name: 'v0', served: false, storage: false }],
    },
  } as unknown as CustomResourceDefinition;
}

describe('OpenAPI v3 document', () => {
  const doc = crdOpenAPIV3Document([cronTab({ subresources: { status: {}, scale: { specReplicasPath: '.spec.r', statusReplicasPath: '.status.r' } } })], 'stable.example.com', 'v1', builtin) as Json;
  const schemas = doc['components']['schemas'] as Json;

  test('names kind and list schemas with the group reversed', () => {
    assert.equal(crdDefinitionName('stable.example.com', 'v1', 'CronTab'), 'com.example.stable.v1.CronTab');
    assert.deepEqual(Object.keys(schemas).filter((k) => k.startsWith('com.')), ['com.example.stable.v1.CronTab', 'com.example.stable.v1.CronTabList']);
    assert.equal(doc['openapi'], '3.0.0');
  });

  test('the kind schema is the structural schema with type meta, ObjectMeta and the GVK', () => {
    const s = schemas['com.example.stable.v1.CronTab'];
    assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }]);
    assert.deepEqual(s.properties.metadata, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    assert.deepEqual(s.properties.apiVersion, { type: 'string' });
    const spec = s.properties.spec;
    assert.equal(spec.description, 'The spec.');
    assert.deepEqual(spec.required, ['cronSpec']);
    assert.deepEqual(spec.properties.cronSpec, { type: 'string', pattern: '^x' });
    assert.deepEqual(spec.properties.port, { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true });
    assert.deepEqual(spec.properties.note, { type: 'string', nullable: true });
    assert.deepEqual(spec.properties.tpl.required, ['kind', 'apiVersion']);
    assert.deepEqual(Object.keys(spec.properties.tpl.properties), ['spec', 'apiVersion', 'kind', 'metadata']);
  });

  test('the list schema refers to the kind', () => {
    const l = schemas['com.example.stable.v1.CronTabList'];
    assert.deepEqual(l.required, ['items']);
    assert.deepEqual(l.properties.items.items, { $ref: '#/components/schemas/com.example.stable.v1.CronTab' });
    assert.deepEqual(l.properties.metadata, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' });
    assert.deepEqual(l['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', version: 'v1', kind: 'CronTabList' }]);
  });

  test('referenced built-in schemas are copied with v3 refs, unreferenced ones are not', () => {
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.ownerReferences.items,
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference' });
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference']);
    assert.equal(schemas['io.k8s.api.core.v1.Pod'], undefined);
  });

  test('paths cover the verbs and subresources', () => {
    assert.deepEqual(Object.keys(doc['paths']), [
      '/apis/stable.example.com/v1/crontabs',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/scale',
    ]);
    const item = doc['paths']['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'];
    assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
    assert.equal(item.patch.operationId, 'patchStableExampleComV1NamespacedCronTab');
    assert.deepEqual(Object.keys(item.patch.requestBody.content), ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    assert.ok(item.patch.parameters.some((p: Json) => p['name'] === 'fieldValidation'));
    assert.ok(item.put.parameters.some((p: Json) => p['name'] === 'fieldValidation'));
    assert.equal(item.get['x-kubernetes-action'], 'get');
    const all = doc['paths']['/apis/stable.example.com/v1/crontabs'];
    assert.equal(all.get.operationId, 'listStableExampleComV1CronTabForAllNamespaces');
    const coll = doc['paths']['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs'];
    assert.equal(coll.post.operationId, 'createStableExampleComV1NamespacedCronTab');
    assert.ok(coll.post.parameters.some((p: Json) => p['name'] === 'fieldValidation'));
    const scale = doc['paths']['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/scale'];
    assert.equal(scale.get.operationId, 'readStableExampleComV1NamespacedCronTabScale');
    assert.deepEqual(scale.get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/io.k8s.api.autoscaling.v1.Scale' });
  });

  test('cluster-scoped CRDs have no namespace paths; other groups and unserved versions are left out', () => {
    const d = crdOpenAPIV3Document([cronTab({}, 'Cluster')], 'stable.example.com', 'v1', builtin) as Json;
    assert.deepEqual(Object.keys(d['paths']), ['/apis/stable.example.com/v1/crontabs', '/apis/stable.example.com/v1/crontabs/{name}']);
    assert.equal(d['paths']['/apis/stable.example.com/v1/crontabs'].get.operationId, 'listStableExampleComV1CronTab');
    assert.deepEqual(Object.keys((crdOpenAPIV3Document([cronTab()], 'stable.example.com', 'v0', builtin) as Json)['paths']), []);
    assert.deepEqual(Object.keys((crdOpenAPIV3Document([cronTab()], 'other.example.com', 'v1', builtin) as Json)['paths']), []);
  });
});

describe('OpenAPI v2 additions', () => {
  const { definitions, paths } = crdOpenAPIV2Additions([cronTab()]);
  test('v2 schemas drop value validations, nullable fields and preserved subtrees', () => {
    const s = definitions['com.example.stable.v1.CronTab'] as Json;
    const spec = s['properties'].spec;
    assert.equal(spec.required, undefined);
    assert.deepEqual(spec.properties.cronSpec, { type: 'string' });
    assert.deepEqual(spec.properties.port, { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(spec.properties.note, {});
    assert.deepEqual(spec.properties.any, { 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(s['properties'].metadata, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
  });

  test('a root that preserves unknown fields publishes a bare object', () => {
    const c = cronTab();
    (c.spec.versions[0]!.schema!.openAPIV3Schema as Json)['x-kubernetes-preserve-unknown-fields'] = true;
    const s = crdOpenAPIV2Additions([c]).definitions['com.example.stable.v1.CronTab'] as Json;
    assert.deepEqual(s, { type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }] });
  });

  test('paths use v2 operations', () => {
    const item = paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'] as Json;
    assert.deepEqual(item['put'].parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/com.example.stable.v1.CronTab' } });
    assert.deepEqual(item['patch'].consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
  });

  test('a non-structural schema is published as a bare object', () => {
    const c = cronTab();
    c.spec.versions[0]!.schema = { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: {} } } } } };
    const v3 = crdOpenAPIV3Document([c], 'stable.example.com', 'v1', builtin) as Json;
    assert.deepEqual(v3['components']['schemas']['com.example.stable.v1.CronTab'], { type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }] });
  });
});
