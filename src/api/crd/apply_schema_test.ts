// Tests that a CRD version's schema types server-side apply as upstream's typeConverter does:
// list and map types, preserved subtrees, int-or-string, embedded resources, ObjectMeta.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEDUCED, registerDefinitionAtom, type Atom } from '../apply/schema.ts';
import { apply } from '../apply/field_manager.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { crdApplyAtom } from './apply_schema.ts';

function crd(schema: unknown): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema as never } }],
    },
  } as CustomResourceDefinition;
}

const SCHEMA = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name', 'protocol'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, protocol: { type: 'string', default: 'TCP' }, port: { type: 'integer' } } } },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        args: { type: 'array', items: { type: 'string' } },
        selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { app: { type: 'string' } } },
        size: { 'x-kubernetes-int-or-string': true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { x: { type: 'string' } } } } },
        pod: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        when: { type: 'string', format: 'date-time' },
      },
    },
  },
};

function at(atom: Atom, ...path: string[]): Atom {
  let a = atom;
  for (const p of path) {
    const m = a.map;
    assert.ok(m, `${p} in a map`);
    const f = m.fields.get(p);
    const next = f ? f.atom() : m.elem?.();
    assert.ok(next, `field ${p}`);
    a = next;
  }
  return a;
}

describe('the apply schema of a CRD version', () => {
  const atom = crdApplyAtom(crd(SCHEMA), 'v1');

  test('list types come from x-kubernetes-list-type and list-map-keys; the rest are atomic', () => {
    assert.deepEqual({ atomic: at(atom, 'spec', 'ports').list?.atomic, keys: at(atom, 'spec', 'ports').list?.keys }, { atomic: false, keys: ['name', 'protocol'] });
    assert.equal(at(atom, 'spec', 'ports').list!.elem().map?.fields.get('protocol')?.default, 'TCP');
    assert.deepEqual({ atomic: at(atom, 'spec', 'tags').list?.atomic, keys: at(atom, 'spec', 'tags').list?.keys }, { atomic: false, keys: [] });
    assert.equal(at(atom, 'spec', 'args').list?.atomic, true);
  });

  test('map types come from x-kubernetes-map-type; declared properties allow no other keys', () => {
    assert.equal(at(atom, 'spec', 'selector').map?.atomic, true);
    assert.equal(at(atom, 'spec').map?.atomic, false);
    assert.equal(at(atom, 'spec').map?.elem, undefined);
  });

  test('preserved subtrees take any key as a free-form value, their declared fields stay typed', () => {
    const free = at(atom, 'spec', 'free');
    assert.equal(free.map?.elem?.(), DEDUCED);
    assert.equal(at(free, 'known').map?.elem?.(), DEDUCED, 'preservation reaches descendants');
    assert.equal(at(free, 'known', 'x').scalar, 'string');
  });

  test('int-or-string and formatted strings are untyped scalars; metadata is ObjectMeta', () => {
    assert.equal(at(atom, 'spec', 'size').scalar, 'untyped');
    assert.equal(at(atom, 'spec', 'when').scalar, 'untyped');
    assert.equal(at(atom, 'metadata').name, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(at(atom, 'spec', 'pod', 'metadata').name, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(at(atom, 'spec', 'pod', 'kind').scalar, 'string');
  });

  test('a version without a schema is free-form', () => {
    const none = crdApplyAtom(crd(undefined), 'v1');
    assert.equal(none.map?.elem?.(), DEDUCED);
  });
});

describe('registered definitions', () => {
  test('writes naming a registered definition use its schema until it is withdrawn', () => {
    const reg = registerDefinitionAtom('com.example.v1.Widget', crdApplyAtom(crd(SCHEMA), 'v1'));
    const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { ports: [{ name: 'a', port: 1 }] } };
    const applied = apply({ definition: reg.definition, apiVersion: 'example.com/v1', kind: 'Widget', live: undefined, applied: obj, manager: 'm', force: false, time: '2024-01-01T00:00:00Z' });
    assert.ok('object' in applied);
    assert.deepEqual(applied.managedFields[0]?.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"name":"a","protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    // The created object starts empty: custom resources have no zero-valued fields.
    assert.deepEqual(Object.keys(applied.object), ['apiVersion', 'kind', 'metadata', 'spec']);
    reg.dispose();
    const after = apply({ definition: reg.definition, apiVersion: 'example.com/v1', kind: 'Widget', live: undefined, applied: obj, manager: 'm', force: false, time: '2024-01-01T00:00:00Z' });
    assert.ok('object' in after);
    assert.deepEqual(after.managedFields[0]?.fieldsV1, { 'f:spec': { '.': {}, 'f:ports': {} } }, 'an unknown definition is free-form');
  });

  test('each registration gets its own name', () => {
    const a = registerDefinitionAtom('x.v1.K', DEDUCED);
    const b = registerDefinitionAtom('x.v1.K', DEDUCED);
    assert.notEqual(a.definition, b.definition);
    a.dispose();
    b.dispose();
  });
});
