import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResourceDefinition } from '../../api/types/apiextensions_v1.ts';
import { crdResourceInfo, deprecationWarning, setCondition, sortVersions } from './crd_resources.ts';

const crd: CustomResourceDefinition = {
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com', scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] },
    versions: [
      { name: 'v1beta1', served: true, storage: false, deprecated: true },
      { name: 'v1', served: true, storage: true, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } },
      { name: 'v2alpha1', served: true, storage: false, deprecated: true, deprecationWarning: 'use v1' },
    ],
  },
};

describe('CRD resources', () => {
  test('versions sort as upstream: GA, beta, alpha, then others by name', () => {
    assert.deepEqual(sortVersions(['v1alpha1', 'foo', 'v2', 'v1beta2', 'v1', 'v10', 'bar', 'v1beta1']), ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'bar', 'foo']);
  });

  test('a served version\'s ResourceInfo: names, verbs, subresources, storage version', () => {
    const info = crdResourceInfo(crd, 'v1');
    assert.equal(info.kind, 'CronTab');
    assert.equal(info.definition, 'com.example.stable.v1.CronTab');
    assert.equal(info.storageVersion, 'v1');
    assert.deepEqual(info.shortNames, ['ct']);
    assert.deepEqual(info.subresources.map((s) => [s.name, s.kind, s.group ?? '']), [['status', 'CronTab', ''], ['scale', 'Scale', 'autoscaling']]);
    assert.deepEqual(crdResourceInfo(crd, 'v1beta1').subresources, []);
  });

  test('deprecation warnings: the version\'s own, else upstream\'s default naming a newer served version', () => {
    assert.equal(deprecationWarning(crd, 'v1beta1'), 'stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1 CronTab');
    assert.equal(deprecationWarning(crd, 'v2alpha1'), 'use v1');
    assert.equal(deprecationWarning(crd, 'v1'), undefined);
  });

  test('setCondition keeps the transition time unless the status changes', () => {
    const c = structuredClone(crd);
    setCondition(c, { type: 'Established', status: 'False', reason: 'Installing' }, 't1');
    setCondition(c, { type: 'Established', status: 'False', reason: 'Still' }, 't2');
    assert.equal(c.status?.conditions?.[0]?.lastTransitionTime, 't1');
    setCondition(c, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted' }, 't3');
    assert.deepEqual(c.status?.conditions, [{ type: 'Established', status: 'True', lastTransitionTime: 't3', reason: 'InitialNamesAccepted', message: undefined }]);
  });
});
