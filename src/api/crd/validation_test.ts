// Tests of CustomResourceDefinition validation, after upstream's
// pkg/apis/apiextensions/validation/validation_test.go (field paths and error types) plus the exact
// messages kubectl shows for the common mistakes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString, type FieldError } from '../field_errors.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { validateCustomResourceDefinition } from './validation.ts';

type Json = Record<string, unknown>;

function crd(versions: Json[] = [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }], spec: Json = {}): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com', scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
      versions, conversion: { strategy: 'None' }, ...spec,
    },
    status: { storedVersions: [String(versions.find((v) => v['storage'] === true)?.['name'] ?? 'v1')] },
  } as unknown as CustomResourceDefinition;
}

function withSchema(schema: unknown, extra: Json = {}): CustomResourceDefinition {
  return crd([{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema }, ...extra }]);
}

function texts(errs: FieldError[]): string[] {
  return errs.map(errorString);
}

function fields(errs: FieldError[]): string[] {
  return errs.map((e) => `${e.field} ${e.type}`);
}

describe('CustomResourceDefinition validation', () => {
  test('a well-formed CRD is valid', () => {
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: {
      cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
      replicas: { type: 'integer', minimum: 1, default: 1 },
      ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
    }, 'x-kubernetes-validations': [{ rule: 'self.replicas <= 10', message: 'too many' }] }, status: { type: 'object', properties: { replicas: { type: 'integer' } } } } };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema, {
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
      additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }],
      selectableFields: [{ jsonPath: '.spec.cronSpec' }],
    }))), []);
  });

  test('names, group, scope and versions', () => {
    const c = crd([
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
      { name: 'V2', served: true, storage: true },
      { name: 'v1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ], { group: 'example', scope: 'Global', names: { plural: 'Crontabs', kind: 'Cron_Tab', listKind: 'Cron_Tab', shortNames: ['c t'] } });
    c.metadata!.name = 'wrong';
    assert.deepEqual(fields(validateCustomResourceDefinition(c)), [
      'metadata.name FieldValueInvalid',
      'spec.group FieldValueInvalid',
      'spec.scope FieldValueNotSupported',
      'spec.versions[1].schema.openAPIV3Schema FieldValueRequired',
      'spec.versions[1].name FieldValueInvalid',
      'spec.versions FieldValueInvalid',
      'spec.versions FieldValueInvalid',
      'spec.names.singular FieldValueRequired',
      'spec.names.plural FieldValueInvalid',
      'spec.names.kind FieldValueInvalid',
      'spec.names.listKind FieldValueInvalid',
      'spec.names.shortNames[0] FieldValueInvalid',
      'spec.names.listKind FieldValueInvalid',
      'status.storedVersions FieldValueInvalid',
    ]);
    const msgs = texts(validateCustomResourceDefinition(c));
    assert.ok(msgs.includes('metadata.name: Invalid value: "wrong": must be spec.names.plural+"."+spec.group'));
    assert.ok(msgs.includes('spec.group: Invalid value: "example": should be a domain with at least one dot'));
    assert.ok(msgs.includes('spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'));
    assert.ok(msgs.includes('spec.names.listKind: Invalid value: "Cron_Tab": kind and listKind may not be the same'));
    assert.ok(msgs.some((m) => m.startsWith('spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{') && m.endsWith('must have exactly one version marked as storage version')));
    assert.ok(msgs.some((m) => m.endsWith('must contain unique version names')));
  });

  test('identical per-version schemas are validated at spec.validation, different ones per version', () => {
    const bad = { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(bad))), [
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
    const two = crd([
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: bad } },
      { name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ]);
    assert.deepEqual(texts(validateCustomResourceDefinition(two)), [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
  });

  test('structural schema rules', () => {
    const schema = {
      type: 'object', additionalProperties: { type: 'string' },
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        list: { type: 'array' },
        any: { anyOf: [{ type: 'string' }, { properties: { x: {} } }] },
        emb: { type: 'object', 'x-kubernetes-embedded-resource': true },
        ios: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema))), [
      'spec.validation.openAPIV3Schema.additionalProperties: Forbidden: must not be used at the root',
      'spec.validation.openAPIV3Schema.properties[any].anyOf[0].type: Forbidden: must be empty to be structural',
      'spec.validation.openAPIV3Schema.properties[any].type: Required value: must not be empty for specified object fields',
      'spec.validation.openAPIV3Schema.properties[emb].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      'spec.validation.openAPIV3Schema.properties[ios].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true',
      'spec.validation.openAPIV3Schema.properties[list].items: Required value: must be specified',
      'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
      'spec.validation.openAPIV3Schema.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive',
    ]);
  });

  test('defaults must validate, be pruned and stay out of metadata', () => {
    const schema = { type: 'object', properties: {
      metadata: { type: 'object', default: { name: 'x' } },
      a: { type: 'integer', default: 'x' },
      c: { type: 'object', properties: { foo: { type: 'string' } }, default: { foo: 1 } },
      d: { type: 'object', properties: { bad: { type: 'string', pattern: 'b' } }, default: { bad: 'a' } },
      e: { type: 'object', properties: { foo: { type: 'string' } }, default: { foo: 'abc', bar: 42 } },
    } };
    assert.deepEqual(fields(validateCustomResourceDefinition(withSchema(schema))), [
      'spec.validation.openAPIV3Schema.properties[a].default FieldValueTypeInvalid',
      'spec.validation.openAPIV3Schema.properties[c].default.foo FieldValueTypeInvalid',
      'spec.validation.openAPIV3Schema.properties[d].default.bad FieldValueInvalid',
      'spec.validation.openAPIV3Schema.properties[e].default FieldValueInvalid',
      'spec.validation.openAPIV3Schema.properties[metadata].default FieldValueForbidden',
    ]);
    const msgs = texts(validateCustomResourceDefinition(withSchema(schema)));
    assert.ok(msgs.includes('spec.validation.openAPIV3Schema.properties[e].default: Invalid value: map[string]interface {}{"bar":42, "foo":"abc"}: must not have unknown fields'));
    assert.ok(msgs.includes('spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata'));
  });

  test('schema keywords upstream does not support', () => {
    const schema = { type: 'object', properties: {
      a: { type: 'string', uniqueItems: true }, b: { type: 'null' }, c: { type: 'object', $ref: '#/x' },
      d: { type: 'object', patternProperties: { x: { type: 'string' } } }, e: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
      f: { type: 'foo' },
    } };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema))).filter((t) => !t.includes('to be structural')), [
      'spec.validation.openAPIV3Schema.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      'spec.validation.openAPIV3Schema.properties[b].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"',
      'spec.validation.openAPIV3Schema.properties[b].type: Forbidden: type cannot be set to null, use nullable as an alternative',
      'spec.validation.openAPIV3Schema.properties[c].$ref: Forbidden: $ref is not supported',
      'spec.validation.openAPIV3Schema.properties[d].patternProperties: Forbidden: patternProperties is not supported',
      'spec.validation.openAPIV3Schema.properties[e].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined',
      'spec.validation.openAPIV3Schema.properties[f].type: Unsupported value: "foo": supported values: "array", "boolean", "integer", "number", "object", "string"',
    ]);
  });

  test('list and map types', () => {
    const schema = { type: 'object', properties: {
      a: { type: 'string', 'x-kubernetes-list-type': 'set' },
      b: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object', properties: { k: { type: 'string' } } }, 'x-kubernetes-list-map-keys': ['k', 'z'] },
      c: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'object', properties: { k: { type: 'string' } } } },
      d: { type: 'array', 'x-kubernetes-list-type': 'bag', items: { type: 'string' } },
      e: { type: 'object', 'x-kubernetes-map-type': 'open' },
    } };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema))), [
      'spec.validation.openAPIV3Schema.properties[a].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified',
      'spec.validation.openAPIV3Schema.properties[b].x-kubernetes-list-map-keys: Invalid value: []string{"k", "z"}: entries must all be names of item properties',
      'spec.validation.openAPIV3Schema.properties[b].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
      'spec.validation.openAPIV3Schema.properties[c].items.x-kubernetes-map-type: Invalid value: "null": must be atomic as item of a list with x-kubernetes-list-type=set',
      'spec.validation.openAPIV3Schema.properties[d].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"',
      'spec.validation.openAPIV3Schema.properties[e].x-kubernetes-map-type: Unsupported value: "open": supported values: "atomic", "granular"',
    ]);
  });

  test('x-kubernetes-validations compile errors and rule checks', () => {
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: {
      a: { type: 'string' },
      list: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 10, 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } },
    }, 'x-kubernetes-validations': [
      { rule: 'self.b == 1' },
      { rule: 'self.a', message: 'needs a' },
      { rule: "self.a == 'x'", optionalOldSelf: true },
      { rule: "self.a == 'x'", reason: 'Bad' },
      { rule: '', message: 'm' },
    ] } } };
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema))), [
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[3].reason: Unsupported value: "Bad": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[4].rule: Required value: rule is not specified',
      'spec.validation.openAPIV3Schema.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[list]',
    ]);
    delete (schema.properties.spec['x-kubernetes-validations'][3] as Json)['reason'];
    schema.properties.spec['x-kubernetes-validations'].pop();
    assert.deepEqual(texts(validateCustomResourceDefinition(withSchema(schema))), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[list]',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.b == 1", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field \'b\'\n | self.b == 1\n | ....^',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.a", Message:"needs a", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: cel expression must evaluate to a bool',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule',
    ]);
  });

  test('status subresource restricts the root schema', () => {
    const errs = texts(validateCustomResourceDefinition(withSchema({ type: 'object', nullable: true }, { subresources: { status: {} } })));
    assert.deepEqual(errs.map((e) => e.replace(/\{\.\.\.\}/, '')), [
      'spec.validation.openAPIV3Schema: Invalid value: apiextensions.JSONSchemaProps: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled',
      'spec.validation.openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root',
    ]);
  });

  test('subresources, printer columns and selectable fields', () => {
    const c = withSchema({ type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'object' }, b: { type: 'string' } } } } }, {
      subresources: { scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: '.spec.x', labelSelectorPath: '.metadata.x' } },
      additionalPrinterColumns: [{ name: '', type: 'foo', format: 'bar', jsonPath: '' }],
      selectableFields: [{ jsonPath: '.spec.a' }, { jsonPath: '.spec.b' }, { jsonPath: '.spec.b' }, { jsonPath: '.spec.c' }, { jsonPath: '' }],
    });
    assert.deepEqual(texts(validateCustomResourceDefinition(c)), [
      'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
      'spec.subresources.scale.statusReplicasPath: Invalid value: ".spec.x": should be a json path under .status',
      'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.x": should be a json path under either .spec or .status',
      'spec.additionalPrinterColumns[0].name: Required value',
      'spec.additionalPrinterColumns[0].type: Invalid value: "foo": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].format: Invalid value: "bar": must be one of byte,date,date-time,double,float,int32,int64,password',
      'spec.additionalPrinterColumns[0].JSONPath: Required value',
      'spec.selectableFields[0].jsonPath: Invalid value: ".spec.a": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
      'spec.selectableFields[2].jsonPath: Duplicate value: ".spec.b"',
      'spec.selectableFields[3].jsonPath: Invalid value: ".spec.c": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[4].jsonPath: Required value',
    ]);
  });

  test('conversion strategies', () => {
    const none = crd(undefined, { conversion: { strategy: 'None', webhook: { clientConfig: { url: 'https://x' }, conversionReviewVersions: ['v1'] } } });
    assert.deepEqual(texts(validateCustomResourceDefinition(none)), [
      'spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook',
      'spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook',
    ]);
    const hook = crd(undefined, { conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v3', 'v3'] } } });
    assert.deepEqual(texts(validateCustomResourceDefinition(hook)), [
      'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
      'spec.conversion.conversionReviewVersions[1]: Invalid value: "v3": duplicate version',
      'spec.conversion.conversionReviewVersions: Invalid value: []string{"v3", "v3"}: must include at least one of v1, v1beta1',
    ]);
    const bad = crd(undefined, { conversion: { strategy: 'Magic' } });
    assert.deepEqual(texts(validateCustomResourceDefinition(bad)), ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"']);
    const service = crd(undefined, { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'svc', namespace: 'ns', port: 443, path: '/convert' } }, conversionReviewVersions: ['v1'] } } });
    assert.deepEqual(texts(validateCustomResourceDefinition(service)), []);
  });

  test('stored versions and preserveUnknownFields', () => {
    const c = crd();
    c.status = { storedVersions: ['v0'] };
    assert.deepEqual(texts(validateCustomResourceDefinition(c)), [
      'status.storedVersions: Invalid value: []string{"v0"}: must have the storage version v1',
      'status.storedVersions[0]: Invalid value: "v0": must appear in spec.versions',
    ]);
    c.status = {};
    assert.deepEqual(texts(validateCustomResourceDefinition(c)), ['status.storedVersions: Invalid value: []string(nil): must have at least one stored version']);
    const p = crd(undefined, { preserveUnknownFields: true });
    assert.deepEqual(texts(validateCustomResourceDefinition(p)), ['spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead']);
  });

  test('protected groups need API approval', () => {
    const c = crd(undefined, { group: 'x.k8s.io' });
    c.metadata!.name = 'crontabs.x.k8s.io';
    assert.deepEqual(fields(validateCustomResourceDefinition(c)), ['metadata.annotations[api-approved.kubernetes.io] FieldValueRequired']);
    c.metadata!.annotations = { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/78458' };
    assert.deepEqual(fields(validateCustomResourceDefinition(c)), []);
  });

  test('updates keep group, plural and, once established, scope and kind', () => {
    const old = crd();
    old.status = { storedVersions: ['v1'], conditions: [{ type: 'Established', status: 'True' }] };
    const next = crd(undefined, { scope: 'Cluster', group: 'other.example.com', names: { plural: 'crons', singular: 'cron', kind: 'Cron', listKind: 'CronList' } });
    next.metadata!.name = 'crons.other.example.com';
    assert.deepEqual(texts(validateCustomResourceDefinition(next, old)), [
      'spec.scope: Invalid value: "Cluster": field is immutable',
      'spec.names.kind: Invalid value: "Cron": field is immutable',
      'spec.group: Invalid value: "other.example.com": field is immutable',
      'spec.names.plural: Invalid value: "crons": field is immutable',
    ]);
    assert.deepEqual(texts(validateCustomResourceDefinition(crd(), crd())), []);
  });
});
