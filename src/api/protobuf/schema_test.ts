// Checks schema.json against itself (every reference resolves, inlines are plain structs), against the
// vendored OpenAPI document (every JSON name is a property and every property has a field) and
// against the resource table (every kind a client can POST or PUT has a message).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RESOURCES } from '../resource_table.ts';
import { hasMessage, messageForKind, messageNames, messageSpec } from './schema.ts';

// Types whose JSON form is custom (MarshalJSON), so their fields are not JSON properties.
const custom = new Set([
  'meta.v1.Time', 'meta.v1.MicroTime', 'meta.v1.Duration', 'meta.v1.FieldsV1', 'resource.Quantity', 'intstr.IntOrString',
  'runtime.RawExtension', 'runtime.Unknown', 'runtime.TypeMeta', 'apiextensions.v1.JSON',
  'apiextensions.v1.JSONSchemaPropsOrArray', 'apiextensions.v1.JSONSchemaPropsOrBool', 'apiextensions.v1.JSONSchemaPropsOrStringArray',
]);

function openapiName(message: string): string {
  const i = message.lastIndexOf('.');
  const pkg = message.slice(0, i);
  const prefix: Record<string, string> = {
    'meta.v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
    runtime: 'io.k8s.apimachinery.pkg.runtime',
    resource: 'io.k8s.apimachinery.pkg.api.resource',
    intstr: 'io.k8s.apimachinery.pkg.util.intstr',
    'apiextensions.v1': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
    'apiregistration.v1': 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1',
  };
  return `${prefix[pkg] ?? `io.k8s.api.${pkg}`}.${message.slice(i + 1)}`;
}

/** JSON names a message prints, with inlined structs flattened. */
function jsonNames(name: string, out = new Set<string>()): Set<string> {
  for (const f of messageSpec(name).fields) {
    if (f.json === '' && 'message' in f.value) jsonNames(f.value.message, out);
    else out.add(f.json);
  }
  return out;
}

describe('protobuf schema', () => {
  test('every message compiles and every field type resolves', () => {
    const names = messageNames();
    assert.ok(names.length > 400);
    for (const name of names) {
      const spec = messageSpec(name);
      for (const f of spec.fields) {
        if (f.json !== '') continue;
        assert.ok('message' in f.value && !custom.has(f.value.message), `${name}.${f.number}: only plain structs are inlined`);
        assert.ok(!f.repeated && !f.map, `${name}.${f.number}: inlined fields are single structs`);
      }
    }
  });

  test('field names and fields agree with the OpenAPI document', () => {
    const doc = JSON.parse(readFileSync(new URL('../openapi/kubernetes-v1.32-openapi-v2.json', import.meta.url), 'utf8')) as {
      definitions: Record<string, { properties?: Record<string, unknown> }>;
    };
    let checked = 0;
    for (const name of messageNames()) {
      if (custom.has(name) || messageSpec(name).wrapper) continue;
      const def = doc.definitions[openapiName(name)];
      if (def?.properties === undefined) continue;
      const names = jsonNames(name);
      // apiVersion and kind come from the inlined TypeMeta, which protobuf carries in the envelope.
      const properties = Object.keys(def.properties).filter((p) => names.has(p) || (p !== 'apiVersion' && p !== 'kind')).sort();
      assert.deepEqual([...names].sort(), properties, name);
      checked++;
    }
    assert.ok(checked > 400, `only ${checked} definitions checked`);
  });

  test('names that differ from the proto field names are the JSON ones', () => {
    const json = (message: string, no: number) => messageSpec(message).byNumber.get(no)?.json;
    assert.equal(json('apiextensions.v1.JSONSchemaProps', 3), '$ref');
    assert.equal(json('apiextensions.v1.JSONSchemaProps', 38), 'x-kubernetes-preserve-unknown-fields');
    assert.equal(json('authentication.v1.BoundObjectReference', 4), 'uid');
    assert.equal(json('networking.v1.IngressClassParametersReference', 1), 'apiGroup');
    assert.equal(json('admissionregistration.v1.ValidatingWebhookConfiguration', 2), 'webhooks');
    assert.equal(json('core.v1.Volume', 2), '');
  });

  test('kinds map to their messages, meta.k8s.io kinds to meta.v1 in every group version', () => {
    assert.equal(messageForKind('v1', 'Pod'), 'core.v1.Pod');
    assert.equal(messageForKind('apps/v1', 'Deployment'), 'apps.v1.Deployment');
    assert.equal(messageForKind('policy/v1', 'Eviction'), 'policy.v1.Eviction');
    assert.equal(messageForKind('authentication.k8s.io/v1', 'TokenRequest'), 'authentication.v1.TokenRequest');
    assert.equal(messageForKind('autoscaling/v2', 'HorizontalPodAutoscaler'), 'autoscaling.v2.HorizontalPodAutoscaler');
    assert.equal(messageForKind('batch/v1', 'DeleteOptions'), 'meta.v1.DeleteOptions');
    assert.equal(messageForKind('apps/v1', 'Pod'), undefined);
    assert.equal(messageForKind('v1', 'PodSpec'), undefined);
    assert.ok(hasMessage('meta.v1.Duration'));
  });

  test('every kind the resource table accepts in a body has a message', () => {
    const missing: string[] = [];
    for (const r of RESOURCES) {
      const gv = r.group === '' ? r.version : `${r.group}/${r.version}`;
      if (r.verbs.some((v) => v === 'create' || v === 'update') && messageForKind(gv, r.kind) === undefined) missing.push(`${gv} ${r.kind}`);
      for (const s of r.subresources) {
        // Connect subresources (exec, attach, proxy …) take options in the query, not a body.
        if (s.kind.endsWith('Options') || !s.verbs.some((v) => v === 'create' || v === 'update')) continue;
        const sgv = s.group === undefined ? gv : s.group === '' ? (s.version ?? r.version) : `${s.group}/${s.version ?? r.version}`;
        if (messageForKind(sgv, s.kind) === undefined) missing.push(`${sgv} ${s.kind} (${r.resource}/${s.name})`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
