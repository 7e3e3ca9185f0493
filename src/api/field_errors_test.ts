// Tests for field errors: paths, per-type messages, aggregation and the Invalid status text.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ErrorType,
  aggregateMessage,
  childOf,
  duplicate,
  errorBody,
  errorString,
  forbidden,
  goValue,
  internalError,
  invalid,
  invalidMessage,
  newPath,
  notFound,
  notSupported,
  required,
  statusCauses,
  tooLong,
  tooMany,
  typeInvalid,
  type FieldError,
} from './field_errors.ts';

describe('Path', () => {
  test('builds paths like field.Path (upstream TestPath)', () => {
    const root = newPath('root');
    const steps: Array<[string, string]> = [];
    let p = root;
    steps.push([p.toString(), 'root']);
    p = p.child('first');
    steps.push([p.toString(), 'root.first']);
    p = p.child('second');
    steps.push([p.toString(), 'root.first.second']);
    p = p.index(0);
    steps.push([p.toString(), 'root.first.second[0]']);
    p = p.child('third');
    steps.push([p.toString(), 'root.first.second[0].third']);
    p = p.index(93);
    steps.push([p.toString(), 'root.first.second[0].third[93]']);
    p = p.parent!.parent!;
    steps.push([p.toString(), 'root.first.second[0]']);
    p = p.key('key');
    steps.push([p.toString(), 'root.first.second[0][key]']);
    for (const [got, want] of steps) assert.equal(got, want);
  });

  test('multi-argument constructors (upstream TestPathMultiArg)', () => {
    const p = newPath('root', 'first').child('second', 'third').index(0);
    assert.equal(p.toString(), 'root.first.second.third[0]');
    assert.equal(p.parent!.parent!.parent!.toString(), 'root.first');
  });

  test('a nil path prints <nil>; childOf(null) starts a new root', () => {
    assert.equal(invalid(null, 'x', 'd').field, '<nil>');
    assert.equal(childOf(null, 'values').index(0).key('app').toString(), 'values[0][app]');
    assert.equal(newPath('spec').child('containers').index(0).child('image').toString(), 'spec.containers[0].image');
  });
});

describe('error bodies', () => {
  const f = newPath('f');
  const cases: Array<[string, FieldError, string]> = [
    ['required', required(f), 'Required value'],
    ['required with detail', required(f, 'name or generateName is required'), 'Required value: name or generateName is required'],
    ['invalid string', invalid(f, 'x', 'detail'), 'Invalid value: "x": detail'],
    ['invalid without detail', invalid(f, 'x'), 'Invalid value: "x"'],
    ['invalid number', invalid(f, -1, 'must be greater than or equal to 0'), 'Invalid value: -1: must be greater than or equal to 0'],
    ['invalid boolean', invalid(f, true, 'd'), 'Invalid value: true: d'],
    ['invalid null (Go quotes the substituted "null")', invalid(null, null, ''), 'Invalid value: "null"'],
    ['invalid string slice', invalid(f, ['a', 'b'], 'd'), 'Invalid value: []string{"a", "b"}: d'],
    ['invalid raw Go value', invalid(f, goValue('v1.Thing{A:1}'), 'd'), 'Invalid value: v1.Thing{A:1}: d'],
    ['invalid quotes escapes', invalid(f, 'a"b\n', 'd'), 'Invalid value: "a\\"b\\n": d'],
    ['type invalid', typeInvalid(f, 'x', 'must be an int'), 'Invalid value: "x": must be an int'],
    ['not supported', notSupported(f, 'v', ['a', 'b', 'c']), 'Unsupported value: "v": supported values: "a", "b", "c"'],
    ['not supported without list', notSupported(f, 'v', []), 'Unsupported value: "v"'],
    ['duplicate', duplicate(f, 'x'), 'Duplicate value: "x"'],
    ['duplicate number', duplicate(f, 80), 'Duplicate value: 80'],
    ['not found', notFound(f, 'x'), 'Not found: "x"'],
    ['forbidden', forbidden(f, 'not allowed on this type'), 'Forbidden: not allowed on this type'],
    ['too long', tooLong(f, 262144), 'Too long: may not be more than 262144 bytes'],
    ['too long unbounded', tooLong(f, -1), 'Too long: value is too long'],
    ['too many', tooMany(f, 5, 3), 'Too many: 5: must have at most 3 items'],
    ['too many, actual unknown', tooMany(f, -1, 3), 'Too many: must have at most 3 items'],
    ['too many, max unknown', tooMany(f, 5, -1), 'Too many: 5: has too many items'],
    ['internal', internalError(f, new Error('boom')), 'Internal error: boom'],
  ];
  for (const [name, err, want] of cases) {
    test(name, () => assert.equal(errorBody(err), want));
  }

  test('types carry the upstream cause reasons', () => {
    assert.equal(required(f).type, 'FieldValueRequired');
    assert.equal(invalid(f, 1).type, 'FieldValueInvalid');
    assert.equal(notSupported(f, 1, []).type, 'FieldValueNotSupported');
    assert.equal(duplicate(f, 1).type, 'FieldValueDuplicate');
    assert.equal(forbidden(f).type, 'FieldValueForbidden');
    assert.equal(tooLong(f, 1).type, 'FieldValueTooLong');
    assert.equal(tooMany(f, 1, 1).type, 'FieldValueTooMany');
    assert.equal(notFound(f, 1).type, 'FieldValueNotFound');
    assert.equal(internalError(f, 'x').type, 'InternalError');
    assert.equal(ErrorType.TypeInvalid, 'FieldValueTypeInvalid');
  });

  test('errorString prefixes the field', () => {
    assert.equal(errorString(invalid(newPath('metadata', 'name'), 'A', 'bad')), 'metadata.name: Invalid value: "A": bad');
  });
});

describe('aggregation and Invalid status', () => {
  const a = invalid(newPath('f'), 'v', 'd');
  const b = internalError(newPath(''), 'e');
  // NewPath("") prints as "[]" upstream (an empty name renders as an empty subscript).
  test('ToAggregate semantics: empty, single, duplicates dropped, several bracketed', () => {
    assert.equal(aggregateMessage([]), '');
    assert.equal(aggregateMessage([a]), 'f: Invalid value: "v": d');
    assert.equal(aggregateMessage([a, a]), 'f: Invalid value: "v": d');
    assert.equal(aggregateMessage([a, b]), '[f: Invalid value: "v": d, []: Internal error: e]');
  });

  test('the message of a 422 for a core kind and a grouped kind', () => {
    const errs = [required(newPath('metadata', 'name'), 'name or generateName is required')];
    assert.equal(invalidMessage('ConfigMap', '', '', errs), 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
    const two = [
      invalid(newPath('metadata', 'name'), 'Bad', 'x'),
      required(newPath('spec', 'selector')),
    ];
    assert.equal(
      invalidMessage('Deployment', 'apps', 'Bad', two),
      'Deployment.apps "Bad" is invalid: [metadata.name: Invalid value: "Bad": x, spec.selector: Required value]',
    );
    assert.equal(invalidMessage('Pod', '', 'p', []), 'Pod "p" is invalid');
  });

  test('causes keep every error with its reason, body and field', () => {
    assert.deepEqual(statusCauses([a, a]), [
      { reason: 'FieldValueInvalid', message: 'Invalid value: "v": d', field: 'f' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "v": d', field: 'f' },
    ]);
  });
});
