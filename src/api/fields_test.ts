// Tests for field selectors, from upstream's fields/selector_test.go plus exact error texts.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FieldSelectorError,
  escapeValue,
  everythingFields,
  fieldRequiresExactMatch,
  fieldSelectorFromSet,
  fieldSelectorString,
  isEmptyFieldSelector,
  matchesFields,
  nothingFields,
  oneTermEqualSelector,
  oneTermNotEqualSelector,
  parseFieldSelector,
  transformFieldSelector,
  unescapeValue,
} from './fields.ts';

describe('parse and String (TestSelectorParse)', () => {
  for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=a||y\\=b', 'x=a\\=\\=b']) {
    test(`round-trips ${s}`, () => assert.equal(fieldSelectorString(parseFieldSelector(s)), s));
  }
  for (const s of ['x=a||y=b', 'x==a==b', 'x=a,b', 'x in (a)', 'x in (a,b,c)', 'x']) {
    test(`rejects ${s}`, () => assert.throws(() => parseFieldSelector(s), FieldSelectorError));
  }
  test('terms are sorted, == reads as =, empty terms are skipped', () => {
    assert.equal(fieldSelectorString(parseFieldSelector('x=a,a=x')), 'a=x,x=a');
    assert.equal(fieldSelectorString(parseFieldSelector('b==1,,a!=2,')), 'a!=2,b=1');
    // Raw terms sort as strings: "k2=v2" < "k=\\," because '2' < '='.
    assert.deepEqual(parseFieldSelector('k=\\,,k2=v2').terms, [
      { field: 'k2', operator: '=', value: 'v2' },
      { field: 'k', operator: '=', value: ',' },
    ]);
    assert.deepEqual(parseFieldSelector('함=수,목=록').terms.map((t) => t.field), ['목', '함']);
    // No trimming: spaces belong to field and value.
    assert.deepEqual(parseFieldSelector('a = b').terms, [{ field: 'a ', operator: '=', value: ' b' }]);
  });
  test('the splitter picks the first operator occurrence', () => {
    assert.deepEqual(parseFieldSelector('c!=value').terms, [{ field: 'c', operator: '!=', value: 'value' }]);
    assert.deepEqual(parseFieldSelector('k=\\\\\\=\\,').terms, [{ field: 'k', operator: '=', value: '\\=,' }]);
  });
});

describe('exact errors', () => {
  const cases: Array<[string, string]> = [
    ['x', "invalid selector: 'x'; can't understand 'x'"],
    ['x=a,b', "invalid selector: 'x=a,b'; can't understand 'b'"],
    ['x==a==b', 'invalid field selector: unescaped character in value: 61'],
    ['x=a,y', "invalid selector: 'x=a,y'; can't understand 'y'"],
    ['k=\\a', 'invalid field selector: invalid escape sequence: \\a'],
    ['k=\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [s, want] of cases) test(s, () => assert.throws(() => parseFieldSelector(s), { message: want }));
});

describe('escaping (TestEscapeValue)', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['a', 'a'],
    ['=', '\\='],
    [',', '\\,'],
    ['\\', '\\\\'],
    ['\\=\\,\\', '\\\\\\=\\\\\\,\\\\'],
  ];
  for (const [raw, escaped] of cases) {
    test(JSON.stringify(raw), () => {
      assert.equal(escapeValue(raw), escaped);
      assert.equal(unescapeValue(escaped), raw);
    });
  }
  for (const bad of ['\\', '\\\\\\', '\\a']) {
    test(`invalid escape ${JSON.stringify(bad)}`, () => assert.throws(() => unescapeValue(bad), /invalid escape sequence/));
  }
});

describe('matching (TestSelectorMatches)', () => {
  const fieldset = { foo: 'bar', baz: 'blah', complex: '=value\\,\\' };
  const yes: Array<[string, Record<string, string>]> = [
    ['', { x: 'y' }],
    ['x=y', { x: 'y' }],
    ['x=y,z=w', { x: 'y', z: 'w' }],
    ['x!=y,z!=w', { x: 'z', z: 'a' }],
    ['notin=in', { notin: 'in' }],
    ['foo=bar', fieldset],
    ['foo=bar,baz=blah', fieldset],
    ['foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\', fieldset],
    ['missing=', {}],
    ['missing!=x', {}],
  ];
  const no: Array<[string, Record<string, string>]> = [
    ['x=y', { x: 'z' }],
    ['x=y,z=w', { x: 'w', z: 'w' }],
    ['x!=y,z!=w', { x: 'z', z: 'w' }],
    ['foo=blah', fieldset],
    ['foo=bar,foobar=bar,baz=blah', fieldset],
    ['missing!=', {}],
  ];
  for (const [s, f] of yes) test(`${s} matches`, () => assert.equal(matchesFields(parseFieldSelector(s), f), true));
  for (const [s, f] of no) test(`${s} does not match`, () => assert.equal(matchesFields(parseFieldSelector(s), f), false));
  test('one-term and set selectors', () => {
    assert.equal(matchesFields(oneTermEqualSelector('x', 'y'), { x: 'y' }), true);
    assert.equal(matchesFields(oneTermEqualSelector('x', 'y'), { x: 'z' }), false);
    assert.equal(matchesFields(oneTermNotEqualSelector('x', 'y'), { x: 'z' }), true);
    assert.equal(matchesFields(fieldSelectorFromSet({}), { foo: 'bar' }), true);
    assert.equal(matchesFields(fieldSelectorFromSet({ foo: '=blah' }), { foo: 'bar' }), false);
    assert.equal(isEmptyFieldSelector(fieldSelectorFromSet({})), true);
    assert.equal(isEmptyFieldSelector(everythingFields()), true);
    assert.equal(matchesFields(nothingFields(), {}), false);
    assert.equal(isEmptyFieldSelector(nothingFields()), false);
  });
  test('requires exact match (TestRequiresExactMatch)', () => {
    assert.equal(fieldRequiresExactMatch(parseFieldSelector('a=b'), 'test'), undefined);
    assert.equal(fieldRequiresExactMatch(parseFieldSelector('test=b'), 'test'), 'b');
    assert.equal(fieldRequiresExactMatch(parseFieldSelector('test='), 'test'), '');
    assert.equal(fieldRequiresExactMatch(parseFieldSelector('test!=b'), 'test'), undefined);
    assert.equal(fieldRequiresExactMatch(parseFieldSelector('a=x,test=b'), 'test'), 'b');
  });
});

describe('transform (TestTransform)', () => {
  test('empty selector stays empty', () => {
    const out = transformFieldSelector(parseFieldSelector(''), (f, v) => [f, v]);
    assert.equal(fieldSelectorString(out), '');
    assert.equal(isEmptyFieldSelector(out), true);
  });
  test('renames terms', () => {
    const out = transformFieldSelector(parseFieldSelector('a=b,c=d'), (f, v) => (f === 'a' ? ['e', v] : [f, v]));
    assert.equal(fieldSelectorString(out), 'e=b,c=d');
  });
  test('drops terms mapped to nothing', () => {
    const out = transformFieldSelector(parseFieldSelector('a=b,c=d'), (f, v) => (f === 'a' ? ['', ''] : [f, v]));
    assert.equal(fieldSelectorString(out), 'c=d');
    const gone = transformFieldSelector(parseFieldSelector('a=b'), () => ['', '']);
    assert.equal(isEmptyFieldSelector(gone), true);
  });
  test('the first failing term (in sorted order) wins', () => {
    assert.throws(
      () =>
        transformFieldSelector(parseFieldSelector('z=1,b=2,a=3'), (f, v) => {
          if (f !== 'a') throw new FieldSelectorError(`bad ${f}`);
          return [f, v];
        }),
      { message: 'bad b' },
    );
  });
});
