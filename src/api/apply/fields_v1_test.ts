// Tests of the FieldsV1 encoding: key forms, "." for members with children, upstream's key order.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldElement, fieldPath, keyElement, valueElement } from './fieldpath.ts';
import { FieldsV1Error, fromFieldsV1, parsePathElement, toFieldsV1 } from './fields_v1.ts';

describe('FieldsV1', () => {
  test('a member that also has children gets "."', () => {
    const s = FieldSet.of(
      fieldPath('metadata', 'annotations'),
      fieldPath('metadata', 'annotations', 'a'),
      [...fieldPath('spec', 'containers'), keyElement([['name', 'c']])],
      [...fieldPath('spec', 'containers'), keyElement([['name', 'c']]), fieldElement('image')],
      fieldPath('spec', 'selector'),
    );
    assert.equal(JSON.stringify(toFieldsV1(s)),
      '{"f:metadata":{"f:annotations":{".":{},"f:a":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{}}},"f:selector":{}}}');
  });

  test('keys are ordered fields, keys, values, indexes; members and children interleaved', () => {
    const s = FieldSet.of(
      fieldPath('z'),
      fieldPath('b', 'x'),
      fieldPath('a'),
      [fieldElement('fin'), valueElement('b')],
      [fieldElement('fin'), valueElement('a')],
    );
    assert.deepEqual(Object.keys(toFieldsV1(s)), ['f:a', 'f:b', 'f:fin', 'f:z']);
    assert.deepEqual(Object.keys(toFieldsV1(s)['f:fin']!), ['v:"a"', 'v:"b"']);
  });

  test('round trips', () => {
    const json = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} }, 'f:finalizers': { 'v:"x"': {} } },
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } },
        'f:args': { 'i:0': {} },
      },
    };
    const set = fromFieldsV1(json);
    assert.ok(set.has(fieldPath('metadata', 'labels')));
    assert.ok(set.has(fieldPath('metadata', 'labels', 'app')));
    assert.ok(set.has([...fieldPath('spec', 'ports'), keyElement([['protocol', 'TCP'], ['port', 80]])]));
    assert.ok(!set.has(fieldPath('spec', 'ports')));
    assert.deepEqual(toFieldsV1(set), {
      'f:metadata': { 'f:finalizers': { 'v:"x"': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:args': { 'i:0': {} }, 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } } },
    });
  });

  test('keys written in another field order are read the same', () => {
    const set = fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
    assert.deepEqual(toFieldsV1(set), { 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': {} } });
  });

  test('unknown element types are skipped; malformed keys fail', () => {
    assert.deepEqual(toFieldsV1(fromFieldsV1({ 'x:y': {}, 'f:a': {} })), { 'f:a': {} });
    assert.throws(() => fromFieldsV1({ 'f': {} }), FieldsV1Error);
    assert.throws(() => fromFieldsV1({ 'fa': {} }), /missing colon/);
    assert.throws(() => fromFieldsV1({ 'k:{bad': {} }), FieldsV1Error);
    assert.throws(() => fromFieldsV1({ 'i:x': {} }), FieldsV1Error);
    assert.equal(parsePathElement('q:z'), null);
  });

  test('the empty set is {}', () => {
    assert.deepEqual(toFieldsV1(new FieldSet()), {});
    assert.ok(fromFieldsV1({}).empty());
    assert.ok(fromFieldsV1(undefined).empty());
  });
});
