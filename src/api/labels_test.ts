// Tests for label selectors, mostly upstream's labels/selector_test.go tables, plus exact error
// texts and metav1.LabelSelector conversion.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from './field_errors.ts';
import {
  LabelSelectorError,
  addRequirements,
  everything,
  isEmpty,
  labelSelectorAsMap,
  labelSelectorAsSelector,
  matches,
  newRequirement,
  nothing,
  parseSelector,
  requiresExactMatch,
  selectorFromSet,
  selectorString,
  validatedSelectorFromSet,
  type Requirement,
} from './labels.ts';

function parseError(s: string): string {
  try {
    parseSelector(s);
  } catch (e) {
    assert.ok(e instanceof LabelSelectorError);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(s)} to fail`);
}

describe('parse and String (TestSelectorParse)', () => {
  for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5']) {
    test(`round-trips ${JSON.stringify(s)}`, () => assert.equal(selectorString(parseSelector(s)), s.replaceAll(' ', '')));
  }
  for (const s of ['x=a||y=b', 'x==a==b', '!x=a', 'x<a']) {
    test(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseSelector(s), LabelSelectorError));
  }
  test('is deterministic (sorted by key)', () => {
    assert.equal(selectorString(parseSelector('x=a,a=x')), selectorString(parseSelector('a=x,x=a')));
    assert.equal(selectorString(parseSelector('x=a,a=x')), 'a=x,x=a');
  });
  test('normalizes set values and spacing', () => {
    assert.equal(selectorString(parseSelector('env in (prod, dev,prod), tier notin(a)')), 'env in (dev,prod),tier notin (a)');
    assert.equal(selectorString(parseSelector('x notin (abc,,def),bar,z in (),w')), 'bar,w,x notin (,abc,def),z in ()');
  });
});

describe('matching (TestSelectorMatches)', () => {
  const yes: Array<[string, Record<string, string>]> = [
    ['', { x: 'y' }],
    ['x=y', { x: 'y' }],
    ['x=y,z=w', { x: 'y', z: 'w' }],
    ['x!=y,z!=w', { x: 'z', z: 'a' }],
    ['notin=in', { notin: 'in' }],
    ['x', { x: 'z' }],
    ['!x', { y: 'z' }],
    ['x>1', { x: '2' }],
    ['x<1', { x: '0' }],
    ['foo=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
    ['x in (a,b)', { x: 'b' }],
    ['x notin (a,b)', {}],
    ['x notin (a,b)', { x: 'c' }],
    ['x==y', { x: 'y' }],
    ['x=', { x: '' }],
    ['x!=', {}],
  ];
  const no: Array<[string, Record<string, string>]> = [
    ['x=z', {}],
    ['x=y', { x: 'z' }],
    ['x=y,z=w', { x: 'w', z: 'w' }],
    ['x!=y,z!=w', { x: 'z', z: 'w' }],
    ['x', { y: 'z' }],
    ['!x', { x: 'z' }],
    ['x>1', { x: '0' }],
    ['x<1', { x: '2' }],
    ['x>1', { x: 'v2' }],
    ['x>1', {}],
    ['foo=blah', { foo: 'bar', baz: 'blah' }],
    ['x in (a,b)', { x: 'c' }],
    ['x notin (a,b)', { x: 'a' }],
    ['x=', {}],
  ];
  for (const [s, ls] of yes) test(`${JSON.stringify(s)} matches ${JSON.stringify(ls)}`, () => assert.equal(matches(parseSelector(s), ls), true));
  for (const [s, ls] of no) test(`${JSON.stringify(s)} does not match ${JSON.stringify(ls)}`, () => assert.equal(matches(parseSelector(s), ls), false));
  test('everything and nothing', () => {
    assert.equal(matches(everything(), { x: 'y' }), true);
    assert.equal(isEmpty(everything()), true);
    assert.equal(matches(nothing(), {}), false);
    assert.equal(isEmpty(nothing()), false);
    assert.equal(matches(parseSelector('x'), undefined), false);
    assert.equal(matches(parseSelector('!x'), null), true);
  });
});

const req = (key: string, operator: Requirement['operator'], values: string[] = []): Requirement => ({ key, operator, values });

describe('set-based parser (TestSetSelectorParser)', () => {
  const good: Array<[string, Requirement[]]> = [
    ['', []],
    ['\rx', [req('x', 'exists')]],
    ['this-is-a-dns.domain.com/key-with-dash', [req('this-is-a-dns.domain.com/key-with-dash', 'exists')]],
    ['this-is-another-dns.domain.com/key-with-dash in (so,what)', [req('this-is-another-dns.domain.com/key-with-dash', 'in', ['so', 'what'])]],
    ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', [req('0.1.2.domain/99', 'notin', ['10.10.100.1', 'tick.tack.clock'])]],
    ['foo  in\t (abc)', [req('foo', 'in', ['abc'])]],
    ['x notin\n (abc)', [req('x', 'notin', ['abc'])]],
    ['x  notin\t\t\t(abc,def)', [req('x', 'notin', ['abc', 'def'])]],
    ['x in (abc,)', [req('x', 'in', ['', 'abc'])]],
    ['x in ()', [req('x', 'in', [''])]],
    ['x notin (abc,,def),bar,z in (),w', [req('bar', 'exists'), req('w', 'exists'), req('x', 'notin', ['', 'abc', 'def']), req('z', 'in', [''])]],
    ['x=a', [req('x', '=', ['a'])]],
    ['x>1', [req('x', 'gt', ['1'])]],
    ['x<7', [req('x', 'lt', ['7'])]],
    ['x=a,y!=b,z in (h,i,j)', [req('x', '=', ['a']), req('y', '!=', ['b']), req('z', 'in', ['h', 'i', 'j'])]],
    ['x notin ( )', [req('x', 'notin', [''])]],
    ['x notin (, a)', [req('x', 'notin', ['', 'a'])]],
    ['a ', [req('a', 'exists')]],
    ['a in (x,y,notin, z,in)', [req('a', 'in', ['in', 'notin', 'x', 'y', 'z'])]],
    ['x==a', [req('x', '==', ['a'])]],
  ];
  for (const [s, want] of good) test(`parses ${JSON.stringify(s)}`, () => assert.deepEqual(parseSelector(s).requirements, want));
  for (const s of ['x=a||y=b', 'x,,y', ',x,y', 'x nott in (y)', 'a in (xyz),', 'a in (xyz)b notin ()', 'a in (xyz abc)', 'a notin(', 'a (', '(']) {
    test(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseSelector(s), LabelSelectorError));
  }
});

describe('exact parse errors', () => {
  const cases: Array<[string, string]> = [
    ['x,,y', "found ',', expected: identifier after ','"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['x nott in (y)', "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ['a notin(', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (x,=', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['x<a', "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"],
    [
      'a/b/c',
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
    [
      'app=-bad-',
      "unable to parse requirement: values[0][app]: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  ];
  for (const [s, want] of cases) test(JSON.stringify(s), () => assert.equal(parseError(s), want));

  test('several bad values aggregate in brackets', () => {
    const msg = parseError('k in (-a,-b)');
    assert.ok(msg.startsWith('unable to parse requirement: [values[0][k]: Invalid value: "-a": '), msg);
    assert.ok(msg.includes(', values[1][k]: Invalid value: "-b": '), msg);
    assert.ok(msg.endsWith(']'));
  });
});

describe('newRequirement (TestRequirementConstructor)', () => {
  const errsOf = (key: string, op: string, vals: string[]): string[] => {
    try {
      newRequirement(key, op, vals);
      return [];
    } catch (e) {
      assert.ok(e instanceof LabelSelectorError);
      return e.errors.map((fe) => `${fe.type} ${fe.field}`);
    }
  };
  const cases: Array<[string, string, string[], string[]]> = [
    ['x1', 'in', [], ['FieldValueInvalid values']],
    ['x2', 'notin', [], ['FieldValueInvalid values']],
    ['x3', 'in', ['foo'], []],
    ['x4', 'notin', ['foo'], []],
    ['x5', '=', ['bar', 'foo'], ['FieldValueInvalid values']],
    ['x6', 'exists', [], []],
    ['x7', '!', [], []],
    ['x8', 'exists', ['foo'], ['FieldValueInvalid values']],
    ['x11', 'gt', ['1'], []],
    ['x12', 'lt', ['6'], []],
    ['x13', 'gt', [], ['FieldValueInvalid values']],
    ['x14', 'gt', ['bar'], ['FieldValueInvalid values[0]']],
    ['x15', 'lt', ['bar'], ['FieldValueInvalid values[0]']],
    ['a'.repeat(254), 'exists', [], ['FieldValueInvalid key']],
    ['x16', '=', ['a'.repeat(254)], ['FieldValueInvalid values[0][x16]']],
    ['x17', '=', ['a b'], ['FieldValueInvalid values[0][x17]']],
    ['x18', 'unsupportedOp', [], ['FieldValueNotSupported operator']],
  ];
  for (const [key, op, vals, want] of cases) test(`${key.slice(0, 8)} ${op} ${JSON.stringify(vals)}`, () => assert.deepEqual(errsOf(key, op, vals), want));

  test('messages of value-count errors', () => {
    try {
      newRequirement('x5', '=', ['bar', 'foo']);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof LabelSelectorError);
      assert.equal(errorString(e.errors[0]!), 'values: Invalid value: []string{"bar", "foo"}: exact-match compatibility requires one single value');
    }
    assert.throws(() => newRequirement('x', 'in', []), { message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty" });
    assert.throws(() => newRequirement('x', 'bad', []), {
      message: 'operator: Unsupported value: "bad": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    });
  });
});

describe('String of built selectors (TestToString)', () => {
  const cases: Array<[Requirement[], string]> = [
    [[newRequirement('x', 'in', ['abc', 'def']), newRequirement('y', 'notin', ['jkl']), newRequirement('z', 'exists', [])], 'x in (abc,def),y notin (jkl),z'],
    [[newRequirement('x', 'notin', ['abc', 'def']), newRequirement('y', '!=', ['jkl']), newRequirement('z', '!', [])], 'x notin (abc,def),y!=jkl,!z'],
    [[newRequirement('x', 'notin', ['abc']), newRequirement('y', 'in', ['jkl', 'mno']), newRequirement('z', 'notin', [''])], 'x notin (abc),y in (jkl,mno),z notin ()'],
    [[newRequirement('x', '=', ['abc']), newRequirement('y', '==', ['jkl']), newRequirement('z', '!=', ['a']), newRequirement('z', 'exists', [])], 'x=abc,y==jkl,z!=a,z'],
    [[newRequirement('x', 'gt', ['2']), newRequirement('y', 'lt', ['8']), newRequirement('z', 'exists', [])], 'x>2,y<8,z'],
    [[newRequirement('x', 'in', ['b', 'a'])], 'x in (a,b)'],
  ];
  for (const [reqs, want] of cases) test(want, () => assert.equal(selectorString({ requirements: reqs }), want));
});

describe('helpers', () => {
  test('addRequirements sorts by key (TestAdd)', () => {
    const sel = addRequirements(addRequirements(everything(), newRequirement('key2', '=', ['value2'])), newRequirement('key', 'in', ['value']));
    assert.deepEqual(sel.requirements.map((r) => r.key), ['key', 'key2']);
  });
  test('requiresExactMatch (TestRequiresExactMatch)', () => {
    assert.equal(requiresExactMatch(parseSelector('key=value'), 'key'), 'value');
    assert.equal(requiresExactMatch(parseSelector('key==value'), 'key'), 'value');
    assert.equal(requiresExactMatch(parseSelector('key in (value)'), 'key'), 'value');
    assert.equal(requiresExactMatch(parseSelector('key in (a,b)'), 'key'), undefined);
    assert.equal(requiresExactMatch(parseSelector('key!=value'), 'key'), undefined);
    assert.equal(requiresExactMatch(parseSelector('key'), 'key'), undefined);
    assert.equal(requiresExactMatch(parseSelector('other=x'), 'key'), undefined);
  });
  test('selectorFromSet and its validated variant', () => {
    assert.equal(selectorString(selectorFromSet({ b: '2', a: '1' })), 'a=1,b=2');
    assert.equal(selectorString(selectorFromSet(undefined)), '');
    assert.equal(selectorString(validatedSelectorFromSet({ a: '1' })), 'a=1');
    assert.throws(() => validatedSelectorFromSet({ 'a b': '1' }), LabelSelectorError);
  });
});

describe('metav1.LabelSelector', () => {
  test('null selects nothing, empty selects everything', () => {
    assert.equal(labelSelectorAsSelector(null).nothing, true);
    assert.equal(isEmpty(labelSelectorAsSelector({})), true);
    assert.equal(isEmpty(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] })), true);
  });
  test('converts matchLabels and matchExpressions', () => {
    const sel = labelSelectorAsSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'team', operator: 'Exists' },
      ],
    });
    assert.equal(selectorString(sel), 'app=web,!canary,env notin (dev),team,tier in (a,b)');
    assert.equal(matches(sel, { app: 'web', tier: 'a', team: 'x' }), true);
    assert.equal(matches(sel, { app: 'web', tier: 'a', team: 'x', canary: 'y' }), false);
  });
  test('unknown operators and invalid requirements fail with upstream text', () => {
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), {
      message: '"Gt" is not a valid label selector operator',
    });
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), {
      message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    });
    assert.throws(() => labelSelectorAsSelector({ matchLabels: { a: '-' } }), LabelSelectorError);
  });
  test('map form', () => {
    assert.equal(labelSelectorAsMap(null), null);
    assert.deepEqual(labelSelectorAsMap({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'In', values: ['2'] }] }), { a: '1', b: '2' });
    assert.throws(() => labelSelectorAsMap({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }), {
      message: 'operator "Exists" cannot be converted into the old label selector format',
    });
    assert.throws(() => labelSelectorAsMap({ matchExpressions: [{ key: 'b', operator: 'In', values: ['1', '2'] }] }), {
      message: 'operator "In" without a single value cannot be converted into the old label selector format',
    });
  });
});
