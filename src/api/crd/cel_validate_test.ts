// Tests of x-kubernetes-validations on custom resources, after upstream's schema/cel
// validation_test.go: messages, reasons, fieldPath, transition rules, optionalOldSelf, errors,
// cost limits, ratcheting and how values are typed.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../field_errors.ts';
import { compileRule, escapeCelName, validFieldPath } from './cel_compile.ts';
import { CelValidator } from './cel_validate.ts';
import { compileCrdSchema, validateCustomResource } from './schema.ts';
import { toStructural, type Structural } from './structural.ts';

function run(schema: unknown, obj: Record<string, unknown>, old?: Record<string, unknown>): string[] {
  return validateCustomResource(compileCrdSchema(schema), obj, old).map(errorString);
}

function specWith(props: Record<string, unknown>, rules: unknown[] = []): unknown {
  return { type: 'object', properties: { spec: { type: 'object', properties: props, 'x-kubernetes-validations': rules } } };
}

describe('x-kubernetes-validations', () => {
  test('a failed rule reports its message, or "failed rule: <rule>", with the value type', () => {
    const s = specWith({ replicas: { type: 'integer' } }, [
      { rule: 'self.replicas <= 3', message: 'at most 3 replicas' },
      { rule: '  self.replicas >= 1  ' },
    ]);
    assert.deepEqual(run(s, { spec: { replicas: 2 } }), []);
    assert.deepEqual(run(s, { spec: { replicas: 5 } }), ['spec: Invalid value: "object": at most 3 replicas']);
    assert.deepEqual(run(s, { spec: { replicas: 0 } }), ['spec: Invalid value: "object": failed rule: self.replicas >= 1']);
  });

  test('rules on scalars, lists and map values name their own paths', () => {
    const s = { type: 'object', properties: {
      name: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('a')" }] },
      list: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self > 0' }] } },
      labels: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: 'size(self) < 3', message: 'short' }] } },
    } };
    assert.deepEqual(run(s, { name: 'bob', list: [1, 0], labels: { key: 'long' } }), [
      'name: Invalid value: "string": failed rule: self.startsWith(\'a\')',
      'list[1]: Invalid value: "integer": failed rule: self > 0',
      'labels[key]: Invalid value: "string": short',
    ]);
  });

  test('a rule at the root has no field path', () => {
    const s = { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'integer' } } } },
      'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('x')" }] };
    assert.deepEqual(run(s, { metadata: { name: 'abc' }, spec: {} }), ['<nil>: Invalid value: "object": failed rule: self.metadata.name.startsWith(\'x\')']);
    assert.deepEqual(run(s, { metadata: { name: 'xyz' }, spec: {} }), []);
  });

  test('reason and fieldPath shape the error', () => {
    const props = { a: { type: 'string' }, m: { type: 'object', additionalProperties: { type: 'string' } } };
    assert.deepEqual(run(specWith(props, [{ rule: 'has(self.a)', reason: 'FieldValueRequired', fieldPath: '.a', message: 'a is required' }]), { spec: {} }),
      ['spec.a: Required value: a is required']);
    assert.deepEqual(run(specWith(props, [{ rule: 'false', reason: 'FieldValueForbidden', message: 'no' }]), { spec: {} }), ['spec: Forbidden: no']);
    assert.deepEqual(run(specWith(props, [{ rule: 'false', reason: 'FieldValueDuplicate' }]), { spec: {} }), ['spec: Duplicate value: "object"']);
    assert.deepEqual(run(specWith(props, [{ rule: 'false', fieldPath: ".m['x.y']" }]), { spec: {} }), ['spec.m[x.y]: Invalid value: "object": failed rule: false']);
  });

  test('messageExpression is used when it evaluates to a usable string', () => {
    const props = { a: { type: 'string' } };
    assert.deepEqual(run(specWith(props, [{ rule: "self.a == 'x'", messageExpression: "'a is ' + self.a", message: 'static' }]), { spec: { a: 'y' } }),
      ['spec: Invalid value: "object": a is y']);
    assert.deepEqual(run(specWith(props, [{ rule: "self.a == 'x'", messageExpression: "'   '", message: 'static' }]), { spec: { a: 'y' } }),
      ['spec: Invalid value: "object": static']);
    assert.deepEqual(run(specWith(props, [{ rule: "self.a == 'x'", messageExpression: "['a'][4]" }]), { spec: { a: 'y' } }),
      ['spec: Invalid value: "object": failed rule: self.a == \'x\'']);
  });

  test('transition rules run only on update, optionalOldSelf rules also on create', () => {
    const s = specWith({ a: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] } });
    assert.deepEqual(run(s, { spec: { a: 'x' } }), []);
    assert.deepEqual(run(s, { spec: { a: 'y' } }, { spec: { a: 'x' } }), ['spec.a: Invalid value: "string": immutable']);
    assert.deepEqual(run(s, { spec: { a: 'y' } }, { spec: {} }), []);
    const opt = specWith({ a: { type: 'string', 'x-kubernetes-validations': [{ rule: "oldSelf.hasValue() || self == 'new'", optionalOldSelf: true }] } });
    assert.deepEqual(run(opt, { spec: { a: 'x' } }), ['spec.a: Invalid value: "string": failed rule: oldSelf.hasValue() || self == \'new\'']);
    assert.deepEqual(run(opt, { spec: { a: 'new' } }), []);
    assert.deepEqual(run(opt, { spec: { a: 'x' } }, { spec: { a: 'y' } }), []);
  });

  test('list-type map items correlate with their old items by key', () => {
    const s = { type: 'object', properties: { items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'],
      items: { type: 'object', properties: { k: { type: 'string' }, v: { type: 'number', 'x-kubernetes-validations': [{ rule: 'self >= oldSelf' }] } } } } } };
    const old = { items: [{ k: 'a', v: 1 }, { k: 'b', v: 5 }] };
    assert.deepEqual(run(s, { items: [{ k: 'b', v: 6 }, { k: 'a', v: 1.5 }] }, old), []);
    assert.deepEqual(run(s, { items: [{ k: 'b', v: 4 }, { k: 'c', v: 0 }] }, old), ['items[0].v: Invalid value: "number": failed rule: self >= oldSelf']);
  });

  test('errors of unchanged values are ratcheted on update', () => {
    const s = specWith({ a: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'bad'" }] }, b: { type: 'string' } });
    assert.deepEqual(run(s, { spec: { a: 'bad', b: 'new' } }, { spec: { a: 'bad', b: 'old' } }), []);
    assert.deepEqual(run(s, { spec: { a: 'bad' } }), ['spec.a: Invalid value: "string": failed rule: self != \'bad\'']);
  });

  test('evaluation errors name the rule', () => {
    const s = specWith({ m: { type: 'object', additionalProperties: { type: 'integer' } } }, [{ rule: "self.m['c'] == 1" }]);
    assert.deepEqual(run(s, { spec: { m: { a: 1 } } }), ['spec: Invalid value: "object": no such key: c evaluating rule: self.m[\'c\'] == 1']);
  });

  test('schema errors that block CEL rules are reported instead of running them', () => {
    const s = specWith({ a: { type: 'integer' } }, [{ rule: 'self.a > 1' }]);
    assert.deepEqual(run(s, { spec: { a: 'x' } }), [
      'spec.a: Invalid value: "string": spec.a in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  test('values are typed by the schema: int-or-string, numbers, formats, escaped names', () => {
    const s = specWith({
      ios: { 'x-kubernetes-int-or-string': true },
      ratio: { type: 'number' },
      timeout: { type: 'string', format: 'duration' },
      at: { type: 'string', format: 'date-time' },
      'dash-name': { type: 'string' },
      if: { type: 'string' },
    }, [
      { rule: "type(self.ios) == int || self.ios.endsWith('%')", message: 'ios' },
      { rule: 'self.ratio == 2.0', message: 'ratio' },
      { rule: "self.timeout < duration('1m')", message: 'timeout' },
      { rule: "self.at < timestamp('2030-01-01T00:00:00Z')", message: 'at' },
      { rule: "self.dash__dash__name == 'x' && self.__if__ == 'y'", message: 'names' },
    ]);
    assert.deepEqual(run(s, { spec: { ios: 5, ratio: 2, timeout: '30s', at: '2024-01-01T00:00:00Z', 'dash-name': 'x', if: 'y' } }), []);
    assert.deepEqual(run(s, { spec: { ios: '5%', ratio: 2, timeout: '2m', at: '2031-01-01T00:00:00Z', 'dash-name': 'z', if: 'y' } }), [
      'spec: Invalid value: "object": timeout',
      'spec: Invalid value: "object": at',
      'spec: Invalid value: "object": names',
    ]);
  });

  test('a rule past the per-call cost limit stops validation', () => {
    const s = specWith({ list: { type: 'array', items: { type: 'integer' } } }, [
      { rule: 'self.list.all(x, self.list.all(y, self.list.all(z, x + y + z >= 0)))' },
      { rule: 'false' },
    ]);
    const list = Array.from({ length: 120 }, (_, i) => i);
    const out = run(s, { spec: { list } });
    assert.equal(out.length, 1);
    assert.match(out[0]!, /^spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: /);
  });

  test('the per-resource budget runs out', () => {
    const s = toStructural({ type: 'object', properties: { a: { type: 'string', 'x-kubernetes-validations': [{ rule: "self == 'x'" }] } } }) as Structural;
    assert.deepEqual(new CelValidator(1).run(s, { a: 'x' }, undefined).map(errorString), [
      'a: Invalid value: "string": validation failed due to running out of cost budget, no further validation rules will be run',
    ]);
  });
});

describe('rule compilation', () => {
  const node = toStructural({ type: 'object', properties: { a: { type: 'string' }, m: { type: 'object', additionalProperties: { type: 'string' } } } }) as Structural;
  test('undeclared fields, syntax errors and non-bool results are compile errors', () => {
    assert.equal(compileRule({ rule: 'self.b == 1' }, node, false).error?.detail,
      "compilation failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b == 1\n | ....^");
    assert.match(compileRule({ rule: 'self.a ==' }, node, false).error?.detail ?? '', /^compilation failed: ERROR: <input>:1:\d+: Syntax error: /);
    assert.equal(compileRule({ rule: "'x'" }, node, false).error?.detail, 'cel expression must evaluate to a bool');
    assert.equal(compileRule({ rule: 'self.a == "x"', messageExpression: '1' }, node, false).messageExpressionError?.detail, 'messageExpression must evaluate to a string');
    assert.equal(compileRule({ rule: "self.m.anything == 'x'" }, node, false).error, undefined);
    assert.equal(compileRule({ rule: 'self.a == oldSelf.a' }, node, false).usesOldSelf, true);
    assert.equal(compileRule({ rule: "self.metadata.labels == {}" }, node, true).error?.detail.split('\n')[0], "compilation failed: ERROR: <input>:1:14: undefined field 'labels'");
  });

  test('property names escape as upstream', () => {
    assert.equal(escapeCelName('foo'), 'foo');
    assert.equal(escapeCelName('a-b.c/d__e'), 'a__dash__b__dot__c__slash__d__underscores__e');
    assert.equal(escapeCelName('namespace'), '__namespace__');
    assert.equal(escapeCelName('1abc'), undefined);
  });

  test('fieldPath validation', () => {
    const s = toStructural({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, m: { type: 'object', additionalProperties: { type: 'string' } } } });
    const ok = validFieldPath(".a.b", s);
    assert.ok(!('error' in ok) && ok.path?.toString() === 'a.b');
    const key = validFieldPath(".m['x']", s);
    assert.ok(!('error' in key) && key.path?.toString() === 'm[x]');
    assert.deepEqual(validFieldPath('.c', s), { error: 'does not refer to a valid field' });
    assert.deepEqual(validFieldPath('a', s), { error: 'expected [ or . but got: a' });
    assert.deepEqual(validFieldPath(".m['x'", s), { error: 'unexpected end of JSON path' });
  });
});
