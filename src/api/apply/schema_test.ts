// Tests that list and map semantics come out of the vendored OpenAPI as upstream derives them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEDUCED, UNTYPED_ATOMIC, definitionAtom, type Atom, type FieldType, type MapType } from './schema.ts';

function field(def: string, ...path: string[]): Atom {
  let a = definitionAtom(def);
  assert.ok(a, `definition ${def}`);
  for (const p of path) {
    const m: MapType | undefined = a!.map;
    assert.ok(m, `${p} in a map`);
    const f: FieldType | undefined = m.fields.get(p);
    a = f ? f.atom() : m.elem?.();
    assert.ok(a, `field ${p}`);
  }
  return a!;
}

const core = (t: string) => `io.k8s.api.core.v1.${t}`;
const meta = (t: string) => `io.k8s.apimachinery.pkg.apis.meta.v1.${t}`;

describe('list types', () => {
  const cases: [string, string[], boolean, string[]][] = [
    [core('PodSpec'), ['containers'], false, ['name']],
    [core('PodSpec'), ['volumes'], false, ['name']],
    [core('PodSpec'), ['tolerations'], true, []],
    [core('PodSpec'), ['imagePullSecrets'], false, ['name']],
    [core('PodSpec'), ['topologySpreadConstraints'], false, ['topologyKey', 'whenUnsatisfiable']],
    [core('Container'), ['ports'], false, ['containerPort', 'protocol']],
    [core('Container'), ['env'], false, ['name']],
    [core('Container'), ['volumeMounts'], false, ['mountPath']],
    [core('Container'), ['args'], true, []],
    [core('ServiceSpec'), ['ports'], false, ['port', 'protocol']],
    [meta('ObjectMeta'), ['finalizers'], false, []],
    [meta('ObjectMeta'), ['ownerReferences'], false, ['uid']],
    [meta('ObjectMeta'), ['managedFields'], true, []],
    [meta('LabelSelector'), ['matchExpressions'], true, []],
  ];
  for (const [def, path, atomic, keys] of cases) {
    test(`${def.split('.').pop()}.${path.join('.')} is ${atomic ? 'atomic' : keys.length ? `a map keyed by ${keys}` : 'a set'}`, () => {
      const l = field(def, ...path).list;
      assert.ok(l);
      assert.equal(l.atomic, atomic);
      assert.deepEqual([...l.keys], keys);
    });
  }

  test('a missing protocol key defaults to TCP', () => {
    const elem = field(core('Container'), 'ports').list!.elem();
    assert.equal(elem.map!.fields.get('protocol')!.default, 'TCP');
  });
});

describe('map types', () => {
  test('label selectors, node selectors and service selectors are atomic', () => {
    assert.equal(field('io.k8s.api.apps.v1.DeploymentSpec', 'selector').map!.atomic, true);
    assert.equal(field(core('PodSpec'), 'nodeSelector').map!.atomic, true);
    assert.equal(field(core('ServiceSpec'), 'selector').map!.atomic, true);
  });

  test('labels, annotations and structs are granular', () => {
    assert.equal(field(meta('ObjectMeta'), 'labels').map!.atomic, false);
    assert.equal(field(core('PodSpec')).map!.atomic, false);
    assert.equal(field(core('ConfigMap'), 'data').map!.atomic, false);
  });

  test('a field-level map-type overrides the referenced type', () => {
    assert.equal(field(core('PersistentVolumeSpec'), 'claimRef').map!.atomic, false);
    assert.equal(definitionAtom(core('ObjectReference'))!.map!.atomic, true);
  });

  test('structs accept only declared fields; free-form maps accept any', () => {
    assert.equal(field(core('PodSpec')).map!.elem, undefined);
    assert.ok(field(meta('ObjectMeta'), 'labels').map!.elem);
  });

  test('Quantity and IntOrString are scalars, RawExtension is untyped and atomic', () => {
    assert.equal(definitionAtom('io.k8s.apimachinery.pkg.api.resource.Quantity')!.scalar, 'untyped');
    assert.equal(field(core('ServicePort'), 'targetPort').scalar, 'untyped');
    const raw = definitionAtom('io.k8s.apimachinery.pkg.runtime.RawExtension')!;
    assert.equal(raw.map!.atomic, true);
    assert.equal(raw.list!.atomic, true);
    assert.ok(UNTYPED_ATOMIC.map!.atomic && !DEDUCED.map!.atomic);
  });

  test('an unknown definition has no atom', () => {
    assert.equal(definitionAtom('io.k8s.nope.v1.Nothing'), undefined);
  });
});
