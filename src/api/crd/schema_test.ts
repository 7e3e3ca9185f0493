// Tests of custom resource pruning, defaulting and OpenAPI validation, ported from upstream's
// pruning/algorithm_test.go, defaulting/algorithm_test.go and validation/validation_test.go.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../field_errors.ts';
import { applyDefaults } from './defaulting.ts';
import { pruneValue } from './prune.ts';
import {
  compileCrdSchema, defaultCustomResource, getJsonPath, pruneCustomResource, validateCustomResource, validateCustomResourceStatus,
} from './schema.ts';
import { toStructural } from './structural.ts';

function errs(schema: unknown, obj: Record<string, unknown>, old?: Record<string, unknown>): string[] {
  return validateCustomResource(compileCrdSchema(schema), obj, old).map(errorString).sort();
}

describe('pruning', () => {
  const cases: { name: string; json: string; schema: unknown; root?: boolean; expected: string; pruned: string[] }[] = [
    { name: 'object array', json: '[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]', schema: { items: { properties: { a: {}, c: {} } } },
      expected: '[{"a":1},{},{"a":1,"c":3}]', pruned: ['[1].b', '[2].b'] },
    { name: 'object array with nil schema', json: '[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]', schema: undefined,
      expected: '[{},{},{}]', pruned: ['[0].a', '[1].b', '[2].a', '[2].b', '[2].c'] },
    { name: 'object array object', json: '{"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},"specified":{"a":1,"b":2,"c":3}}',
      schema: { properties: { array: { items: { properties: { a: {}, c: {} } } }, specified: { properties: { a: {}, c: {} } } } },
      expected: '{"array":[{"a":1},{},{"a":1,"c":3}],"specified":{"a":1,"c":3}}',
      pruned: ['array[1].b', 'array[2].b', 'specified.b', 'unspecified'] },
    { name: 'nested x-kubernetes-preserve-unknown-fields',
      json: JSON.stringify({
        unspecified: 'bar', alpha: 'abc', beta: 42.5, unspecifiedObject: { unspecified: 'bar' },
        pruning: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: { unspecified: 'bar' }, apiVersion: 'unknown', preserving: { unspecified: 'bar' } },
        preserving: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: { unspecified: 'bar' }, preserving: { unspecified: 'bar' }, preservingUnknownType: [{ foo: true }, { bar: true }] },
        ap: { foo: { specified: { unspecified: 'bar' }, unspecified: 'bar' } },
      }),
      schema: {
        type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: {
          alpha: { type: 'string' }, beta: { type: 'number' },
          pruning: { type: 'object', properties: { preserving: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, pruning: { type: 'object' } } },
          preserving: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: {
            preserving: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            preservingUnknownType: { 'x-kubernetes-preserve-unknown-fields': true }, pruning: { type: 'object' } } },
          ap: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, additionalProperties: { type: 'object', properties: { specified: { type: 'object' } } } },
        },
      },
      expected: JSON.stringify({
        unspecified: 'bar', alpha: 'abc', beta: 42.5, unspecifiedObject: { unspecified: 'bar' },
        pruning: { pruning: {}, preserving: { unspecified: 'bar' } },
        preserving: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: {}, preserving: { unspecified: 'bar' }, preservingUnknownType: [{ foo: true }, { bar: true }] },
        ap: { foo: { specified: {} } },
      }),
      pruned: ['ap.foo.specified.unspecified', 'ap.foo.unspecified', 'preserving.pruning.unspecified', 'pruning.apiVersion', 'pruning.pruning.unspecified', 'pruning.unspecified', 'pruning.unspecifiedObject'] },
    { name: 'additionalProperties with schema', json: '{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1}}}',
      schema: { properties: { a: {}, c: { additionalProperties: { type: 'integer' } } } },
      expected: '{"a":1,"c":{"a":1,"b":2,"c":{}}}', pruned: ['b', 'c.c.a'] },
    { name: 'additionalProperties with bool', json: '{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1, "apiVersion": "unknown"}}}',
      schema: { properties: { a: {}, c: { additionalProperties: false } } },
      expected: '{"a":1,"c":{"a":1,"b":2,"c":{}}}', pruned: ['b', 'c.c.a', 'c.c.apiVersion'] },
    { name: 'x-kubernetes-embedded-resource',
      json: JSON.stringify({
        apiVersion: 'foo/v1', kind: 'Foo', metadata: { name: 'instance', unspecified: 'bar' }, unspecified: 'bar',
        pruned: { apiVersion: 'foo/v1', kind: 'Foo', unspecified: 'bar', metadata: { name: 'instance', unspecified: 'bar' }, spec: { unspecified: 'bar' } },
        preserving: { apiVersion: 'foo/v1', kind: 'Foo', unspecified: 'bar', metadata: { name: 'instance', unspecified: 'bar' }, spec: { unspecified: 'bar' } },
      }),
      schema: { type: 'object', properties: {
        pruned: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
        preserving: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      } },
      expected: JSON.stringify({
        pruned: { apiVersion: 'foo/v1', kind: 'Foo', metadata: { name: 'instance', unspecified: 'bar' }, spec: {} },
        preserving: { apiVersion: 'foo/v1', kind: 'Foo', unspecified: 'bar', metadata: { name: 'instance', unspecified: 'bar' }, spec: { unspecified: 'bar' } },
      }),
      pruned: ['pruned.spec.unspecified', 'pruned.unspecified', 'unspecified'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const x = JSON.parse(c.json) as unknown;
      const pruned = pruneValue(x, toStructural(c.schema), c.root ?? false);
      assert.deepEqual(x, JSON.parse(c.expected));
      assert.deepEqual(pruned, c.pruned);
    });
  }

  test('a custom resource keeps apiVersion, kind and metadata at the root and reports the rest', () => {
    const schema = compileCrdSchema({ type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } });
    const obj = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', foo: 1 }, spec: { a: 'x', b: 1, list: [1] }, extra: true };
    assert.deepEqual(pruneCustomResource(schema, obj), ['extra', 'spec.b', 'spec.list']);
    assert.deepEqual(obj, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', foo: 1 }, spec: { a: 'x' } });
  });

  test('the metadata of an embedded resource is an ObjectMeta round trip', () => {
    const schema = compileCrdSchema({ type: 'object', properties: { spec: { type: 'object', properties: {
      template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
    } } } });
    const obj = { spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', labels: {}, bogus: 1, generation: 'x' } } } };
    assert.deepEqual(pruneCustomResource(schema, obj), ['spec.template.metadata.bogus']);
    assert.deepEqual(obj.spec.template.metadata, { name: 'a' });
  });

  test('without a schema nothing is pruned', () => {
    const obj = { spec: { anything: 1 } };
    assert.deepEqual(pruneCustomResource(compileCrdSchema(undefined), obj), []);
    assert.deepEqual(obj, { spec: { anything: 1 } });
  });
});

describe('defaulting', () => {
  const cases: { name: string; json: string; schema: unknown; expected: string }[] = [
    { name: 'scalar', json: '4', schema: { default: 'foo' }, expected: '4' },
    { name: 'object array', json: '[{"a":1},{"b":1},{"c":1}]',
      schema: { items: { properties: { a: { default: 'A' }, b: { default: 'B' }, c: { default: 'C' } } } },
      expected: '[{"a":1,"b":"B","c":"C"},{"a":"A","b":1,"c":"C"},{"a":"A","b":"B","c":1}]' },
    { name: 'object array object', json: '{"array":[{"a":1},{"b":2}],"object":{"a":1},"additionalProperties":{"x":{"a":1},"y":{"b":2}}}',
      schema: { properties: {
        array: { items: { properties: { a: { default: 'A' }, b: { default: 'B' } } } },
        object: { properties: { a: { default: 'N' }, b: { default: 'O' } } },
        additionalProperties: { additionalProperties: { properties: { a: { default: 'alpha' }, b: { default: 'beta' } } } },
        foo: { default: 'bar' },
      } },
      expected: '{"array":[{"a":1,"b":"B"},{"a":"A","b":2}],"object":{"a":1,"b":"O"},"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"a":"alpha","b":2}},"foo":"bar"}' },
    { name: 'empty and null', json: '[{},{"a":1},{"a":0},{"a":""},{"a":null},{"a":[]},{"a":{}}]',
      schema: { items: { properties: { a: { default: 'A' } } } },
      expected: '[{"a":"A"},{"a":1},{"a":0},{"a":""},{"a":"A"},{"a":[]},{"a":{}}]' },
    { name: 'null in nullable list', json: '[null]', schema: { nullable: true, items: { default: 'A', nullable: true } }, expected: '[null]' },
    { name: 'null in non-nullable list', json: '[null]', schema: { items: { default: 'A' } }, expected: '["A"]' },
    { name: 'null in nullable object', json: '{"a": null}', schema: { properties: { a: { default: 'A', nullable: true } } }, expected: '{"a": null}' },
    { name: 'null in non-nullable additionalProperties', json: '{"a": null}', schema: { additionalProperties: { default: 'A' } }, expected: '{"a": "A"}' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const x = JSON.parse(c.json) as unknown;
      applyDefaults(x, toStructural(c.schema));
      assert.deepEqual(x, JSON.parse(c.expected));
    });
  }

  test('nulls of non-nullable fields without a default are dropped before defaulting', () => {
    const schema = compileCrdSchema({ type: 'object', properties: { spec: { type: 'object', properties: {
      a: { type: 'string' }, b: { type: 'string', default: 'B' }, c: { type: 'string', nullable: true },
    } } } });
    const obj = { spec: { a: null, b: null, c: null } };
    defaultCustomResource(schema, obj);
    assert.deepEqual(obj, { spec: { b: 'B', c: null } });
  });

  test('defaults are deep copies', () => {
    const schema = compileCrdSchema({ type: 'object', properties: { spec: { type: 'object', default: { list: [1] } } } });
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = {};
    defaultCustomResource(schema, a);
    defaultCustomResource(schema, b);
    ((a['spec'] as { list: number[] }).list).push(2);
    assert.deepEqual(b, { spec: { list: [1] } });
  });
});

describe('OpenAPI validation', () => {
  const field = (f: unknown): unknown => ({ type: 'object', properties: { field: f } });
  test('!nullable', () => {
    const s = field({ type: 'object' });
    assert.deepEqual(errs(s, {}), []);
    assert.deepEqual(errs(s, { field: {} }), []);
    assert.deepEqual(errs(s, { field: 'foo' }), ['field: Invalid value: "string": field in body must be of type object: "string"']);
    assert.deepEqual(errs(s, { field: 42 }), ['field: Invalid value: "integer": field in body must be of type object: "integer"']);
    assert.deepEqual(errs(s, { field: true }), ['field: Invalid value: "boolean": field in body must be of type object: "boolean"']);
    assert.deepEqual(errs(s, { field: 1.2 }), ['field: Invalid value: "number": field in body must be of type object: "number"']);
    assert.deepEqual(errs(s, { field: [] }), ['field: Invalid value: "array": field in body must be of type object: "array"']);
    assert.deepEqual(errs(s, { field: null }), ['field: Invalid value: "null": field in body must be of type object: "null"']);
  });

  test('nullable', () => {
    const s = field({ type: 'object', nullable: true });
    assert.deepEqual(errs(s, { field: null }), []);
    assert.deepEqual(errs(s, { field: 'foo' }), ['field: Invalid value: "string": field in body must be of type object: "string"']);
  });

  test('nullable and no type', () => {
    for (const v of [{}, null, 'foo', 42, true, 1.2, []]) assert.deepEqual(errs(field({ nullable: true }), { field: v }), []);
  });

  test('x-kubernetes-int-or-string', () => {
    const s = field({ 'x-kubernetes-int-or-string': true });
    assert.deepEqual(errs(s, { field: 42 }), []);
    assert.deepEqual(errs(s, { field: 'foo' }), []);
    assert.deepEqual(errs(s, { field: null }), ['field: Invalid value: "null": field in body must be of type integer,string: "null"']);
    assert.deepEqual(errs(s, { field: 1.2 }), ['field: Invalid value: "number": field in body must be of type integer,string: "number"']);
    assert.deepEqual(errs(s, { field: {} }), ['field: Invalid value: "object": field in body must be of type integer,string: "object"']);
  });

  test('int-or-string with a user-provided anyOf and allOf', () => {
    const anyOf = field({ nullable: true, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
    assert.deepEqual(errs(anyOf, { field: null }), []);
    assert.deepEqual(errs(anyOf, { field: 42 }), []);
    assert.deepEqual(errs(anyOf, { field: true }), [
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
      'field: Invalid value: "boolean": field in body must be of type integer: "boolean"',
    ]);
    const allOf = field({ nullable: true, 'x-kubernetes-int-or-string': true, allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }] });
    assert.deepEqual(errs(allOf, { field: 1.2 }), [
      '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated',
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      'field: Invalid value: "number": field in body must be of type integer,string: "number"',
      'field: Invalid value: "number": field in body must be of type integer: "number"',
    ]);
  });

  test('invalid regex', () => {
    assert.deepEqual(errs(field({ type: 'string', pattern: '+' }), { field: 'foo' }), [
      'field: Invalid value: "foo": field in body should match \'+, but pattern is invalid: error parsing regexp: missing argument to repetition operator: `+`\'',
    ]);
  });

  test('required field', () => {
    const s = { type: 'object', required: ['field'], properties: { field: { type: 'object', required: ['nested'], properties: { nested: {} } } } };
    assert.deepEqual(errs(s, { test: 'a' }), ['field: Required value']);
    assert.deepEqual(errs(s, { field: {} }), ['field.nested: Required value']);
  });

  test('enum', () => {
    const s = field({ type: 'object', required: ['nestedint', 'nestedstring'], properties: {
      nestedint: { type: 'integer', enum: [1, 2] }, nestedstring: { type: 'string', enum: ['a', 'b'] } } });
    assert.deepEqual(errs(s, { field: {} }), ['field.nestedint: Required value', 'field.nestedstring: Required value']);
    assert.deepEqual(errs(s, { field: { nestedint: 'x', nestedstring: true } }), [
      'field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"',
      'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
      'field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean"',
      'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
    ]);
  });

  test('maxProperties, maxItems, maxLength', () => {
    assert.deepEqual(errs({ type: 'object', properties: { fieldX: { type: 'object', maxProperties: 2 } } }, { fieldX: { a: true, b: true, c: true } }),
      ['fieldX: Too many: 3: must have at most 2 items']);
    assert.deepEqual(errs({ type: 'object', properties: { fieldX: { type: 'array', maxItems: 2 } } }, { fieldX: ['a', 'b', 'c'] }),
      ['fieldX: Too many: 3: must have at most 2 items']);
    assert.deepEqual(errs({ type: 'object', properties: { fieldX: { type: 'string', maxLength: 2 } } }, { fieldX: 'abc' }),
      ['fieldX: Too long: may not be more than 2 bytes']);
  });

  test('numbers, strings, lists and maps', () => {
    const s = { type: 'object', properties: { spec: { type: 'object', properties: {
      replicas: { type: 'integer', minimum: 1, maximum: 10 },
      ratio: { type: 'number', exclusiveMaximum: true, maximum: 1.5, multipleOf: 0.5 },
      step: { type: 'integer', multipleOf: 3 },
      name: { type: 'string', minLength: 2, pattern: '^[a-z]+$' },
      id: { type: 'string', format: 'uuid' },
      when: { type: 'string', format: 'date-time' },
      ignored: { type: 'string', format: 'no-such-format' },
      list: { type: 'array', minItems: 2, uniqueItems: true, items: { type: 'string' } },
      labels: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', maxLength: 1 } },
    } } } };
    assert.deepEqual(errs(s, { spec: { replicas: 0, ratio: 1.5, step: 4, name: 'A1', id: 'nope', when: '2024-01-01T00:00:00Z', ignored: 'x', list: ['a', 'a'], labels: { x: 'yy' } } }), [
      'spec.id: Invalid value: "nope": spec.id in body must be of type uuid: "nope"',
      'spec.labels.x: Too long: may not be more than 1 bytes',
      'spec.name: Invalid value: "A1": spec.name in body should match \'^[a-z]+$\'',
      'spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5',
      'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
      'spec.step: Invalid value: 4: spec.step in body should be a multiple of 3',
      'spec.list: Invalid value: "": spec.list in body shouldn\'t contain duplicates',
    ].sort());
    assert.deepEqual(errs(s, { spec: { replicas: 11, name: 'a', list: ['a'], labels: {}, when: 'yesterday' } }), [
      'spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties',
      'spec.list: Invalid value: 1: spec.list in body should have at least 2 items',
      'spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long',
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
    ]);
  });

  test('list-type set and map items are unique', () => {
    const s = { type: 'object', properties: {
      set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      map: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name', 'port'],
        items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
      single: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' } } } },
    } };
    assert.deepEqual(errs(s, { set: ['a', 'b', 'a', 'a'], map: [{ name: 'x', port: 1 }, { name: 'x', port: 2 }, { name: 'x', port: 1 }], single: [{ name: 'a' }, { name: 'a' }] }), [
      'map[2]: Duplicate value: map[string]interface {}{"name":"x", "port":1}',
      'set[2]: Duplicate value: "a"',
      'single[1]: Duplicate value: map[string]interface {}{"name":"a"}',
    ]);
  });

  test('embedded resources need apiVersion, kind and valid metadata', () => {
    const s = { type: 'object', properties: { tpl: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } };
    assert.deepEqual(errs(s, { tpl: { metadata: { name: 'a/b' } } }), [
      'tpl.apiVersion: Required value: must not be empty',
      'tpl.kind: Required value: must not be empty',
      'tpl.metadata.name: Invalid value: "a/b": may not contain \'/\'',
    ]);
    assert.deepEqual(errs(s, { tpl: { apiVersion: 'a/b/c', kind: 'Foo_Bar' } }), [
      'tpl.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
      'tpl.kind: Invalid value: "Foo_Bar": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
    ]);
  });

  test('ratcheting keeps errors of unchanged values out of updates', () => {
    const s = { type: 'object', properties: { spec: { type: 'object', properties: {
      a: { type: 'string', maxLength: 1 }, b: { type: 'string', maxLength: 1 },
    } } } };
    const old = { spec: { a: 'long', b: 'x' } };
    assert.deepEqual(errs(s, { spec: { a: 'long', b: 'y' } }, old), []);
    assert.deepEqual(errs(s, { spec: { a: 'longer', b: 'y' } }, old), ['spec.a: Too long: may not be more than 1 bytes']);
    assert.deepEqual(errs(s, { spec: { a: 'long', b: 'y' } }), ['spec.a: Too long: may not be more than 1 bytes']);
  });
});

test('getJsonPath reads dotted paths', () => {
  const obj = { spec: { replicas: 3, nested: { x: null } } };
  assert.equal(getJsonPath(obj, '.spec.replicas'), 3);
  assert.equal(getJsonPath(obj, '.spec.nested.x'), null);
  assert.equal(getJsonPath(obj, '.spec.missing'), undefined);
  assert.equal(getJsonPath(obj, '.spec.replicas.deeper'), undefined);
  assert.equal(getJsonPath(obj, 'spec'), undefined);
});

describe('status updates', () => {
  const schema = compileCrdSchema({ type: 'object', properties: {
    spec: { type: 'object', properties: { a: { type: 'string', maxLength: 1 } }, 'x-kubernetes-validations': [{ rule: "self.a != 'no'" }] },
    status: { type: 'object', properties: { replicas: { type: 'integer' }, phase: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'bad'" }] } } },
  } });

  test('only .status is schema-checked, with names relative to it', () => {
    assert.deepEqual(validateCustomResourceStatus(schema, { spec: { a: 'long' }, status: { replicas: 'x' } }, { spec: { a: 'long' } }).map(errorString), [
      'status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  test('CEL rules run over the whole object without ratcheting', () => {
    assert.deepEqual(validateCustomResourceStatus(schema, { spec: { a: 'no' }, status: { phase: 'bad' } }, { spec: { a: 'no' }, status: { phase: 'bad' } }).map(errorString), [
      'spec: Invalid value: "object": failed rule: self.a != \'no\'',
      'status.phase: Invalid value: "string": failed rule: self != \'bad\'',
    ]);
    assert.deepEqual(validateCustomResourceStatus(schema, { spec: { a: 'x' }, status: { phase: 'ok' } }, { spec: { a: 'x' } }), []);
  });
});
