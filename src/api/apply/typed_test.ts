// Tests of the schema-aware walks: merge order of sets and keyed lists (upstream's merge table),
// field sets, comparison and removal.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldElement, fieldPath, keyElement, pathString } from './fieldpath.ts';
import { toFieldsV1 } from './fields_v1.ts';
import { definitionAtom, type Atom, type FieldType } from './schema.ts';
import { merge, removeItems } from './merge.ts';
import { compare, ensureNamedFieldsAreMembers, toFieldSet, validate, walkErrorsString } from './typed.ts';

const str: Atom = { scalar: 'string' };
const num: Atom = { scalar: 'numeric' };
const bool: Atom = { scalar: 'boolean' };

function struct(fields: Record<string, Atom>, elem?: Atom): Atom {
  const m = new Map<string, FieldType>(Object.entries(fields).map(([k, a]) => [k, { atom: () => a }]));
  return { map: { atomic: false, fields: m, elem: elem ? () => elem : undefined } };
}

const element = struct({ key: str, id: num, value: struct({}, str), bv: bool, nv: num });
const root = struct({
  setStr: { list: { atomic: false, keys: [], elem: () => str } },
  setBool: { list: { atomic: false, keys: [], elem: () => bool } },
  setNumeric: { list: { atomic: false, keys: [], elem: () => num } },
  list: { list: { atomic: false, keys: ['key', 'id'], elem: () => element } },
  atomicList: { list: { atomic: true, keys: [], elem: () => str } },
  numeric: num,
  string: str,
  bool,
});

describe('merge', () => {
  // [live, applied, merged], from upstream's merge behaviour table.
  const triplets: [string, string, string][] = [
    ['{"numeric":1}', '{"numeric":3.14159}', '{"numeric":3.14159}'],
    ['{"string":"aoeu"}', '{"bool":true}', '{"string":"aoeu","bool":true}'],
    ['{"setStr":["a","b","c"]}', '{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}'],
    ['{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'],
    ['{"setStr":["a","b","c"]}', '{"setStr":[]}', '{"setStr":["a","b","c"]}'],
    ['{"setStr":[]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'],
    ['{"setStr":["a","b"]}', '{"setStr":["b","a"]}', '{"setStr":["b","a"]}'],
    ['{"setStr":["a","b","c"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'],
    ['{"setStr":["a","b","c"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'],
    ['{"setStr":["a","b","c","g","f"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","g","d","e","f"]}'],
    ['{"setStr":["c","d","e","f"]}', '{"setStr":["a","c","e"]}', '{"setStr":["a","c","d","e","f"]}'],
    ['{"setStr":["a","b","c","x","y","z"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","x","y","z","d","e","f"]}'],
    ['{"setStr":["a","b","c","x","y","z"]}', '{"setStr":["d","e","f","x","y","z"]}', '{"setStr":["a","b","c","d","e","f","x","y","z"]}'],
    ['{"setStr":["c","a","g","f"]}', '{"setStr":["c","f","a","g"]}', '{"setStr":["c","f","a","g"]}'],
    ['{"setStr":["a","b","c","d"]}', '{"setStr":["d","e","f","a"]}', '{"setStr":["b","c","d","e","f","a"]}'],
    ['{"setStr":["c","d","e","f","g","h","i","j"]}', '{"setStr":["2","h","3","e","4","k","l"]}', '{"setStr":["c","d","f","g","2","h","i","j","3","e","4","k","l"]}'],
    ['{"setStr":["a","b","c","d","e","f","g","h","i","j"]}', '{"setStr":["1","b","2","h","3","e","4","k","l"]}', '{"setStr":["a","1","b","c","d","f","g","2","h","i","j","3","e","4","k","l"]}'],
    ['{"setStr":["a","b","b"]}', '{"setStr":["c"]}', '{"setStr":["a","b","b","c"]}'],
    ['{"setStr":["a","b","b"]}', '{"setStr":["b"]}', '{"setStr":["a","b"]}'],
    ['{"setStr":["a","b","b"]}', '{"setStr":["a"]}', '{"setStr":["a","b","b"]}'],
    ['{"setStr":["a","b","c","d","e","c"]}', '{"setStr":["1","b","2","e","d"]}', '{"setStr":["a","1","b","c","2","e","c","d"]}'],
    ['{"setStr":["a","b","c","d","e","c"]}', '{"setStr":["1","b","2","c","e","d"]}', '{"setStr":["a","1","b","2","c","e","d"]}'],
    ['{"setStr":["a","a","b","b"]}', '{"setStr":["b","c","d"]}', '{"setStr":["a","a","b","c","d"]}'],
    ['{"setBool":[true]}', '{"setBool":[false]}', '{"setBool":[true,false]}'],
    ['{"setNumeric":[1,2,3.14159]}', '{"setNumeric":[1,2,3]}', '{"setNumeric":[1,2,3.14159,3]}'],
    ['{"setStr":["c","a","g","f","c","a"]}', '{"setStr":["c","f","a","g"]}', '{"setStr":["c","f","a","g"]}'],
    ['{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}', '{"list":[{"key":"a","id":2,"value":{"a":"a"}}]}', '{"list":[{"key":"a","id":1,"value":{"a":"a"}},{"key":"a","id":2,"value":{"a":"a"}}]}'],
    ['{"list":[{"key":"a","id":1},{"key":"b","id":1}]}', '{"list":[{"key":"a","id":1},{"key":"a","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":1},{"key":"a","id":2}]}'],
    ['{"list":[{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}'],
    ['{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"c","id":3},{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"c","id":3},{"key":"b","id":2}]}'],
    ['{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"c","id":3},{"key":"a","id":1}]}', '{"list":[{"key":"b","id":2},{"key":"c","id":3},{"key":"a","id":1}]}'],
    ['{"atomicList":["a","a","a"]}', '{"atomicList":null}', '{"atomicList":null}'],
    ['{"atomicList":["a","b","c"]}', '{"atomicList":[]}', '{"atomicList":[]}'],
    ['{"atomicList":["a","a","a"]}', '{"atomicList":["a","a"]}', '{"atomicList":["a","a"]}'],
    ['{"list":[{"key":"a","id":1,"bv":true},{"key":"b","id":2},{"key":"a","id":1,"bv":false,"nv":2}]}', '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}'],
    ['{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}', '{"list":[]}', '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}'],
    ['{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}', '{}', '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}'],
    ['{}', '{"setStr":null}', '{"setStr":null}'],
  ];
  for (const [lhs, rhs, out] of triplets) {
    test(`${lhs} + ${rhs}`, () => {
      const r = merge(root, JSON.parse(lhs), JSON.parse(rhs));
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.value, JSON.parse(out));
    });
  }

  test('an applied list with duplicate keys is an error', () => {
    const r = merge(root, {}, { setStr: ['a', 'a'] });
    assert.equal(walkErrorsString(r.errors), '.setStr: duplicate entries for key [="a"]');
  });
});

describe('validate', () => {
  const deployment = definitionAtom('io.k8s.api.apps.v1.Deployment')!;
  const cases: [string, unknown, string][] = [
    ['an undeclared field', { spec: { foo: 1 } }, '.spec.foo: field not declared in schema'],
    ['a wrong scalar kind', { spec: { replicas: 'x' } }, '.spec.replicas: expected numeric (int or float), got string'],
    ['a missing map key', { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
      '.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)'],
    ['duplicate keys', { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } } },
      '.spec.template.spec.containers: duplicate entries for key [name="a"]'],
  ];
  for (const [name, value, want] of cases) {
    test(`reports ${name}`, () => assert.equal(walkErrorsString(validate(deployment, value, false)), want));
  }

  test('several errors are listed one per line', () => {
    const errs = validate(deployment, { spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'X' }, { name: 'X' }, { name: 'Y' }, { name: 'Y' }] }] } } } }, false);
    assert.equal(walkErrorsString(errs), 'errors:\n  .spec.template.spec.containers[name="a"].env: duplicate entries for key [name="X"]\n  .spec.template.spec.containers[name="a"].env: duplicate entries for key [name="Y"]');
  });

  test('accepts a well-formed object, ports without protocol included', () => {
    assert.deepEqual(validate(deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: 'b' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } } } }, false), []);
  });
});

describe('field sets of objects', () => {
  const deployment = definitionAtom('io.k8s.api.apps.v1.Deployment')!;

  test('leaves, list items and map entries are members; struct fields only when empty or null', () => {
    const set = toFieldSet(deployment, {
      metadata: { name: 'x', labels: { app: 'x' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'x' } },
        strategy: {},
        paused: null,
        template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], tolerations: [{ key: 'k' }] } },
      },
    });
    assert.deepEqual(toFieldsV1(set), {
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:paused': {},
        'f:replicas': {},
        'f:selector': {},
        'f:strategy': {},
        'f:template': { 'f:spec': {
          'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } },
          'f:tolerations': {},
        } },
      },
    });
  });

  test('named fields with children become members for pruning', () => {
    const set = ensureNamedFieldsAreMembers(toFieldSet(deployment, { metadata: { labels: { a: 'b' } } }), deployment);
    assert.ok(set.has(fieldPath('metadata')));
    assert.ok(set.has(fieldPath('metadata', 'labels')));
    assert.ok(set.has(fieldPath('metadata', 'labels', 'a')));
  });
});

describe('compare', () => {
  const deployment = definitionAtom('io.k8s.api.apps.v1.Deployment')!;
  const c = (l: unknown, r: unknown) => {
    const { comparison, errors } = compare(deployment, l, r);
    assert.deepEqual(errors, []);
    return { added: comparison.added.toString(), modified: comparison.modified.toString(), removed: comparison.removed.toString() };
  };

  test('added maps are members themselves; changed leaves are modified', () => {
    assert.deepEqual(c({ spec: { replicas: 1 } }, { spec: { replicas: 2 }, metadata: { labels: { a: 'b' } } }), {
      added: '.metadata\n.metadata.labels\n.metadata.labels.a',
      modified: '.spec.replicas',
      removed: '',
    });
  });

  test('a field null on one side and absent on the other is not added', () => {
    assert.deepEqual(c({ spec: { selector: null } }, { spec: { selector: { matchLabels: { a: 'b' } } } }), { added: '', modified: '.spec.selector', removed: '' });
  });

  test('keyed list items are compared by key, not position', () => {
    const l = { spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } } } };
    const r = { spec: { template: { spec: { containers: [{ name: 'b', image: 'y' }, { name: 'a', image: 'z' }] } } } };
    assert.deepEqual(c(l, r), { added: '', modified: '.spec.template.spec.containers[name="a"].image', removed: '' });
  });

  test('removed list items and their fields are removed', () => {
    const l = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b', image: 'y' }] } } } };
    const r = { spec: { template: { spec: { containers: [{ name: 'a' }] } } } };
    assert.equal(c(l, r).removed, '.spec.template.spec.containers[name="b"]\n.spec.template.spec.containers[name="b"].image\n.spec.template.spec.containers[name="b"].name');
  });
});

describe('removeItems', () => {
  const deployment = definitionAtom('io.k8s.api.apps.v1.Deployment')!;

  test('removes members and keeps the rest', () => {
    const obj = { metadata: { labels: { a: '1', b: '2' } }, spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } };
    const remove = FieldSet.of(
      fieldPath('metadata', 'labels', 'a'),
      [...fieldPath('spec', 'template', 'spec', 'containers'), keyElement([['name', 'b']])],
    );
    assert.deepEqual(removeItems(deployment, obj, remove), { metadata: { labels: { b: '2' } }, spec: { template: { spec: { containers: [{ name: 'a' }] } } } });
  });

  test('a map emptied by removal becomes null', () => {
    const out = removeItems(deployment, { metadata: { labels: { a: '1' } } }, FieldSet.of([fieldElement('metadata'), fieldElement('labels'), fieldElement('a')]));
    assert.deepEqual(out, { metadata: { labels: null } });
    assert.equal(pathString(fieldPath('metadata')), '.metadata');
  });
});
