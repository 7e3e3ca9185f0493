// Tests of the vendored OpenAPI document and the v2/v3 documents built from it: no upstream prose,
// v3 shaped as kubectl's validation and explain expect (CLIENT-COMPAT §2), stable hashes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  buildOpenAPIV3Document, builtinOpenAPIV3Document, builtinOpenAPIV3Keys, openAPIV2Document, openAPIV2Spec, openAPIV3Index,
  openAPIV3Key, v2ToV3PathItem, v2ToV3Schema,
} from './openapi_docs.ts';
import type { JsonObject, OpenAPIDocument } from './openapi_docs.ts';
import { SERVED_GROUPS } from './resource_table.ts';

// Parsed documents are walked freely; their shape is what the assertions check.
type Json = { [key: string]: any };

/** Calls `visit` on every object in `value` with the key path leading to it. */
function walk(value: unknown, visit: (obj: Json, path: string[]) => void, path: string[] = []): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, visit, [...path, String(i)]));
  else if (value !== null && typeof value === 'object') {
    visit(value as Json, path);
    for (const [k, v] of Object.entries(value)) walk(v, visit, [...path, k]);
  }
}

function parsed(doc: OpenAPIDocument | undefined): Json {
  assert.ok(doc);
  return JSON.parse(doc.body) as Json;
}

function refsOf(doc: Json): string[] {
  const refs: string[] = [];
  walk(doc, (o) => {
    if (typeof o.$ref === 'string') refs.push(o.$ref);
  });
  return refs;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

describe('vendored OpenAPI v2 document', () => {
  test('has no description strings, only fields named description', () => {
    const spec = openAPIV2Spec();
    const offenders: string[] = [];
    walk(spec, (o, path) => {
      if (typeof o.description === 'string' && path.at(-1) !== 'properties') offenders.push(path.join('.'));
    });
    assert.deepEqual(offenders, []);
    const jsonSchemaProps = spec.definitions['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps'] as Json;
    assert.deepEqual(jsonSchemaProps.properties.description, { type: 'string' });
    assert.deepEqual(jsonSchemaProps.properties.$ref, { type: 'string' });
  });

  test('keeps structure: required lists, patch keys, kinds', () => {
    const pod = openAPIV2Spec().definitions['io.k8s.api.core.v1.PodSpec'] as Json;
    assert.deepEqual(pod.required, ['containers']);
    assert.equal(pod.properties.containers['x-kubernetes-patch-merge-key'], 'name');
    const kinds = (openAPIV2Spec().definitions['io.k8s.api.apps.v1.Deployment'] as Json)['x-kubernetes-group-version-kind'];
    assert.deepEqual(kinds, [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });
});

describe('OpenAPI v3 documents', () => {
  test('the index lists every served group-version with its document hash', () => {
    const index = parsed(openAPIV3Index());
    const keys = SERVED_GROUPS.flatMap((g) => g.versions.map((v) => openAPIV3Key(g.name, v)));
    assert.deepEqual(Object.keys(index.paths), keys);
    assert.ok(keys.includes('api/v1') && keys.includes('apis/apps/v1') && keys.includes('apis/autoscaling/v1'));
    for (const key of keys) {
      const doc = builtinOpenAPIV3Document(key);
      assert.ok(doc);
      assert.equal(index.paths[key].serverRelativeURL, `/openapi/v3/${key}?hash=${doc.hash}`);
    }
  });

  test('documents are cached, and hash and etag follow the bytes', () => {
    const a = builtinOpenAPIV3Document('apis/apps/v1');
    assert.ok(a);
    assert.equal(builtinOpenAPIV3Document('apis/apps/v1'), a);
    assert.equal(a.hash, createHash('sha512').update(a.body).digest('hex').toUpperCase());
    assert.match(a.hash, /^[0-9A-F]{128}$/);
    assert.equal(a.etag, `"${a.hash}"`);
    assert.equal(openAPIV3Index().hash, openAPIV3Index().hash);
    assert.equal(builtinOpenAPIV3Document('apis/resource.k8s.io/v1beta1'), undefined);
    assert.equal(builtinOpenAPIV3Document('apis/apps'), undefined);
  });

  test('the pod PATCH lists fieldValidation and names its kind as an object', () => {
    const core = parsed(builtinOpenAPIV3Document('api/v1'));
    assert.equal(core.openapi, '3.0.0');
    const patch = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
    assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query' && p.schema.type === 'string'));
    assert.ok(patch.requestBody.content['application/strategic-merge-patch+json']);
    assert.ok(patch.requestBody.content['application/apply-patch+yaml']);
    assert.deepEqual(
      patch.responses['200'].content['application/json'].schema,
      { $ref: '#/components/schemas/io.k8s.api.core.v1.Pod' },
    );
  });

  test('every patch operation of every document lists fieldValidation', () => {
    for (const key of builtinOpenAPIV3Keys()) {
      const doc = parsed(builtinOpenAPIV3Document(key));
      let patches = 0;
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        const op = item.patch;
        if (!op || op['x-kubernetes-action'] !== 'patch') continue;
        patches++;
        // kubectl looks at the operation's own parameters only.
        assert.ok(op.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'), `${key} ${path}`);
        assert.equal(typeof op['x-kubernetes-group-version-kind']?.kind, 'string', `${key} ${path}`);
      }
      const createOnly = ['apis/authentication.k8s.io/v1', 'apis/authorization.k8s.io/v1'];
      if (!createOnly.includes(key)) assert.ok(patches > 0, `${key} has patch operations`);
    }
  });

  test('a converted patch operation that lacks fieldValidation gains it', () => {
    const item = v2ToV3PathItem({
      parameters: [{ $ref: '#/parameters/pretty-tJGM1-ng' }],
      patch: {
        'x-kubernetes-action': 'patch',
        consumes: ['application/merge-patch+json'],
        parameters: [{ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } }],
      },
    }) as Json;
    assert.deepEqual(item.parameters, [{ in: 'query', name: 'pretty', schema: { type: 'string', uniqueItems: true } }]);
    assert.deepEqual(item.patch.parameters.map((p: Json) => p.name), ['fieldValidation']);
    assert.deepEqual(item.patch.requestBody.content['application/merge-patch+json'].schema, {
      $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
    });
  });

  test('parameters are v3 shaped and bodies are request bodies', () => {
    for (const key of builtinOpenAPIV3Keys()) {
      const doc = parsed(builtinOpenAPIV3Document(key));
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const [method, op] of Object.entries(item as Json)) {
          const params = method === 'parameters' ? op : HTTP_METHODS.includes(method) ? op.parameters ?? [] : [];
          for (const p of params) {
            assert.notEqual(p.in, 'body', `${path} ${method}`);
            assert.equal(p.type, undefined, `${path} ${method} ${p.name}`);
            assert.equal(p.$ref, undefined, `${path} ${method} ${p.name}`);
            assert.equal(typeof p.schema, 'object', `${path} ${method} ${p.name}`);
          }
          if (HTTP_METHODS.includes(method)) {
            assert.equal(op.consumes, undefined);
            for (const r of Object.values(op.responses as Json)) assert.equal(typeof (r as Json).description, 'string');
          }
        }
      }
    }
    const create = parsed(builtinOpenAPIV3Document('apis/apps/v1')).paths['/apis/apps/v1/namespaces/{namespace}/deployments'].post;
    assert.deepEqual(create.requestBody, {
      content: { '*/*': { schema: { $ref: '#/components/schemas/io.k8s.api.apps.v1.Deployment' } } },
      required: true,
    });
  });

  test('every $ref points into components.schemas of the same document', () => {
    for (const key of builtinOpenAPIV3Keys()) {
      const doc = parsed(builtinOpenAPIV3Document(key));
      for (const ref of refsOf(doc)) {
        assert.ok(ref.startsWith('#/components/schemas/'), `${key}: ${ref}`);
        assert.ok(doc.components.schemas[ref.slice('#/components/schemas/'.length)], `${key}: ${ref} resolves`);
      }
    }
  });

  test('schemas keep their kinds as arrays and only reachable ones are included', () => {
    const apps = parsed(builtinOpenAPIV3Document('apis/apps/v1'));
    assert.deepEqual(apps.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [
      { group: 'apps', kind: 'Deployment', version: 'v1' },
    ]);
    assert.ok(apps.components.schemas['io.k8s.api.core.v1.PodSpec'], 'reached through the pod template');
    assert.equal(apps.components.schemas['io.k8s.api.batch.v1.Job'], undefined);
    assert.ok(Object.keys(apps.paths).every((p) => p.startsWith('/apis/apps/v1/')));
  });

  test('JSONSchemaProps keeps its field named $ref while references are rewritten', () => {
    const ext = parsed(builtinOpenAPIV3Document('apis/apiextensions.k8s.io/v1'));
    const props = ext.components.schemas['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps'].properties;
    assert.deepEqual(props.$ref, { type: 'string' });
    assert.deepEqual(props.not, { $ref: '#/components/schemas/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps' });
    assert.deepEqual(
      v2ToV3Schema({ properties: { $ref: { type: 'string' }, x: { $ref: '#/definitions/A' } } }),
      { properties: { $ref: { type: 'string' }, x: { $ref: '#/components/schemas/A' } } },
    );
  });

  test('an extra group-version pulls in the built-in schemas it refers to and joins the index', () => {
    const widget: JsonObject = {
      type: 'object',
      properties: { metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }, spec: { type: 'object' } },
      'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Widget', version: 'v1' }],
    };
    const doc = buildOpenAPIV3Document({
      paths: { '/apis/example.com/v1/namespaces/{namespace}/widgets/{name}': { patch: { 'x-kubernetes-action': 'patch' } } },
      schemas: { 'com.example.v1.Widget': widget },
    });
    const body = parsed(doc);
    assert.ok(body.components.schemas['com.example.v1.Widget']);
    assert.ok(body.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(body.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry'], 'transitively');
    for (const ref of refsOf(body)) assert.ok(body.components.schemas[ref.slice('#/components/schemas/'.length)], ref);
    const index = parsed(openAPIV3Index(new Map([['apis/example.com/v1', doc]])));
    assert.equal(index.paths['apis/example.com/v1'].serverRelativeURL, `/openapi/v3/apis/example.com/v1?hash=${doc.hash}`);
  });
});

describe('OpenAPI v2 document as served', () => {
  test('holds only served group-versions, and every reference resolves', () => {
    const doc = parsed(openAPIV2Document());
    assert.equal(doc.swagger, '2.0');
    assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods']);
    assert.ok(doc.paths['/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers']);
    assert.ok(doc.paths['/apis/']);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/apis/resource.k8s.io/') || p.startsWith('/apis/flowcontrol')));
    for (const ref of refsOf(doc)) {
      if (ref.startsWith('#/definitions/')) assert.ok(doc.definitions[ref.slice('#/definitions/'.length)], ref);
      else assert.ok(ref.startsWith('#/parameters/') && doc.parameters[ref.slice('#/parameters/'.length)], ref);
    }
    assert.equal(openAPIV2Document(), openAPIV2Document());
  });
});
