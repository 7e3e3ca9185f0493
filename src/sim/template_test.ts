// Tests of stage templates: typed and interpolated ${} strings, omitted undefined values, and the
// $if, $each and $merge directives.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { compileTemplate } from './template.ts';

function render(yaml: string, root: unknown, vars: Record<string, unknown> = {}): unknown {
  return compileTemplate(parse(yaml))({ root, vars });
}

describe('stage templates', () => {
  test('a whole-string expression keeps its type; mixed text interpolates; undefined fields vanish', () => {
    assert.deepEqual(render('n: ${.n}\nb: ${.b}\ns: "id-${.n}-${.missing}"\ngone: ${.missing}\nnil: null\n', { n: 3, b: false }),
      { n: 3, b: false, s: 'id-3-', nil: null });
  });

  test('$each maps a list (empty lists are left out), and spreads inside a list', () => {
    const t = 'names:\n  $each: .items\n  $as: i\n  $do: ${i.name}\nnone:\n  $each: .nothing\n  $do: x\nall:\n  - first\n  - $each: .items\n    $do: ${item.name}\n';
    assert.deepEqual(render(t, { items: [{ name: 'a' }, { name: 'b' }] }), { names: ['a', 'b'], all: ['first', 'a', 'b'] });
  });

  test('$if picks a branch; without $else a list element disappears', () => {
    const t = 'l:\n  - $if: .on\n    $then: yes\n  - $if: .on\n    $then: a\n    $else: b\n';
    assert.deepEqual(render(t, { on: false }), { l: ['b'] });
    assert.deepEqual(render(t, { on: true }), { l: ['yes', 'a'] });
  });

  test('$merge copies an object and overrides or removes its fields, leaving the source alone', () => {
    const src = { name: 'c', ready: false, extra: 1 };
    assert.deepEqual(render('$merge: .\nready: true\nextra: ${.missing}\n', src), { name: 'c', ready: true });
    assert.deepEqual(src, { name: 'c', ready: false, extra: 1 });
  });

  test('errors name where in the template the problem is', () => {
    assert.throws(() => compileTemplate(parse('a:\n  b: ${nope()}\n')), /template \$\.a\.b: .*unknown function "nope"/);
    assert.throws(() => compileTemplate(parse('a:\n  $each: .x\n')), { message: 'template $.a: $each needs $do' });
    assert.throws(() => compileTemplate(parse('a: "${.x"\n')), /unclosed/);
  });
});
