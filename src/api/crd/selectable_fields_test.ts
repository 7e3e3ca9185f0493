// Tests of custom resource field selectors: which labels a version accepts and the values read off objects.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSelectorError } from '../fields.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { crdFieldSelectors, jsonPathKeys } from './selectable_fields.ts';

function crd(scope: string, paths: string[]): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.example.com' },
    spec: {
      group: 'example.com', scope, names: { plural: 'things', kind: 'Thing' },
      versions: [
        { name: 'v1', served: true, storage: true, selectableFields: paths.map((jsonPath) => ({ jsonPath })) },
        { name: 'v2', served: true, storage: false },
      ],
    },
  } as CustomResourceDefinition;
}

describe('custom resource field selectors', () => {
  test('JSON paths split into member names, bracketed names kept whole', () => {
    assert.deepEqual(jsonPathKeys('.spec.color'), ['spec', 'color']);
    assert.deepEqual(jsonPathKeys(".spec['a.b'].c"), ['spec', 'a.b', 'c']);
    assert.equal(jsonPathKeys('spec'), undefined);
    assert.equal(jsonPathKeys('.spec[0]'), undefined);
  });

  test('a version accepts metadata.name, metadata.namespace when namespaced, and its own fields', () => {
    const ns = crdFieldSelectors(crd('Namespaced', ['.spec.color']), 'v1');
    assert.deepEqual(ns.convert('spec.color', 'red'), ['spec.color', 'red']);
    assert.deepEqual(ns.convert('metadata.namespace', 'x'), ['metadata.namespace', 'x']);
    assert.throws(() => ns.convert('spec.size', '1'), (e: unknown) => e instanceof FieldSelectorError && e.message === 'field label not supported: spec.size');
    const other = crdFieldSelectors(crd('Namespaced', ['.spec.color']), 'v2');
    assert.throws(() => other.convert('spec.color', 'red'), FieldSelectorError, 'fields are per version');
    const cluster = crdFieldSelectors(crd('Cluster', []), 'v1');
    assert.throws(() => cluster.convert('metadata.namespace', ''), /field label not supported: metadata.namespace/);
    assert.deepEqual(cluster.convert('metadata.name', 'a'), ['metadata.name', 'a']);
  });

  test('values print as fmt.Sprint does; absent ones are empty', () => {
    const f = crdFieldSelectors(crd('Namespaced', ['.spec.color', '.spec.size', '.spec.on', '.spec.deep.x']), 'v1');
    assert.deepEqual(f.fieldsOf({ metadata: { name: 'a', namespace: 'n' }, spec: { color: 'red', size: 3, on: false } }), {
      'metadata.name': 'a', 'metadata.namespace': 'n', 'spec.color': 'red', 'spec.size': '3', 'spec.on': 'false', 'spec.deep.x': '',
    });
  });
});
