// Tests of field paths, their order and printed form, and the set algebra (upstream's fieldpath behaviour).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, compareElements, fieldElement, fieldPath, goQuote, indexElement, keyElement, pathString, valueElement, type Path } from './fieldpath.ts';

const f = fieldElement;
const k = (...kv: [string, unknown][]) => keyElement(kv);
const v = valueElement;

describe('path elements', () => {
  test('print as upstream', () => {
    const cases: [Path, string][] = [
      [fieldPath('spec', 'replicas'), '.spec.replicas'],
      [[...fieldPath('spec', 'template', 'spec', 'containers'), k(['name', 'nginx']), f('image')], '.spec.template.spec.containers[name="nginx"].image'],
      [[f('ports'), k(['protocol', 'TCP'], ['containerPort', 80])], '.ports[containerPort=80,protocol="TCP"]'],
      [[f('finalizers'), v('kubernetes')], '.finalizers[="kubernetes"]'],
      [[f('args'), indexElement(3)], '.args[3]'],
      [[f('x'), v(true)], '.x[=true]'],
      [[f('x'), v(1.5)], '.x[=1.5]'],
      [[f('x'), k(['name', 'a"b\n'])], '.x[name="a\\"b\\n"]'],
    ];
    for (const [path, want] of cases) assert.equal(pathString(path), want);
  });

  test('keys are stored sorted by field name', () => {
    assert.equal(k(['protocol', 'TCP'], ['containerPort', 80]).id, 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(k(['pool', 'p'], ['driver', 'd'], ['device', 'x']).id, 'k:{"device":"x","driver":"d","pool":"p"}');
  });

  test('ids escape HTML-sensitive characters as Go does', () => {
    assert.equal(k(['name', 'a<b>&c']).id, 'k:{"name":"a\\u003cb\\u003e\\u0026c"}');
    assert.equal(v('<').id, 'v:"\\u003c"');
  });

  test('order: fields < keys < values < indexes, then content', () => {
    const sorted = [indexElement(2), v('b'), k(['name', 'z']), f('b'), v(3), f('a'), indexElement(1), k(['name', 'a']), v(true), v(null)];
    sorted.sort(compareElements);
    assert.deepEqual(sorted.map((pe) => pe.id), ['f:a', 'f:b', 'k:{"name":"a"}', 'k:{"name":"z"}', 'v:3', 'v:"b"', 'v:true', 'v:null', 'i:1', 'i:2']);
  });

  test('field names order by UTF-8 bytes', () => {
    const a = f('\u{1F600}');
    const b = f('\uFF01');
    assert.equal(compareElements(b, a), -1);
  });

  test('Go quoting', () => {
    assert.equal(goQuote('plain'), '"plain"');
    assert.equal(goQuote('tab\tbell\x07'), '"tab\\tbell\\a"');
    assert.equal(goQuote('\x1b'), '"\\x1b"');
    assert.equal(goQuote('ünï'), '"ünï"');
    assert.equal(goQuote('\u200b'), '"\\u200b"');
  });
});

describe('field sets', () => {
  const a = fieldPath('a');
  const ab = fieldPath('a', 'b');
  const ac = fieldPath('a', 'c');
  const d = fieldPath('d');

  test('insert, has, empty', () => {
    const s = FieldSet.of(ab, d);
    assert.ok(s.has(ab));
    assert.ok(s.has(d));
    assert.ok(!s.has(a), 'a parent is not a member by itself');
    assert.ok(!s.empty());
    assert.ok(new FieldSet().empty());
    assert.ok(!FieldSet.of([]).has([]));
  });

  test('union, intersection, difference', () => {
    const s1 = FieldSet.of(ab, ac);
    const s2 = FieldSet.of(ac, d);
    assert.deepEqual(s1.union(s2).paths().map(pathString), ['.d', '.a.b', '.a.c']);
    assert.deepEqual(s1.intersection(s2).paths().map(pathString), ['.a.c']);
    assert.deepEqual(s1.difference(s2).paths().map(pathString), ['.a.b']);
  });

  test('difference keeps children of removed members; recursive difference drops them', () => {
    const s = FieldSet.of(a, ab, ac);
    const minus = FieldSet.of(a);
    assert.deepEqual(s.difference(minus).paths().map(pathString), ['.a.b', '.a.c']);
    assert.deepEqual(s.recursiveDifference(minus).paths().map(pathString), []);
  });

  test('paths list members before children, each sorted', () => {
    const s = FieldSet.of(fieldPath('spec', 'x', 'y'), fieldPath('spec', 'b'), fieldPath('metadata', 'labels', 'z'), fieldPath('spec', 'a'));
    assert.equal(s.toString(), '.metadata.labels.z\n.spec.a\n.spec.b\n.spec.x.y');
  });

  test('equals ignores insertion order', () => {
    assert.ok(FieldSet.of(ab, d).equals(FieldSet.of(d, ab)));
    assert.ok(!FieldSet.of(ab).equals(FieldSet.of(ac)));
  });
});
