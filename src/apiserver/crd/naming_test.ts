import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResourceDefinition } from '../../api/types/apiextensions_v1.ts';
import { calculateNamesAndConditions, namesEqual } from './naming.ts';

function crd(plural: string, kind: string, extra: Partial<CustomResourceDefinition['spec']['names']> = {}, accepted?: CustomResourceDefinition['spec']['names']): CustomResourceDefinition {
  return {
    metadata: { name: `${plural}.example.com` },
    spec: { group: 'example.com', scope: 'Namespaced', versions: [], names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List`, ...extra } },
    status: accepted ? { acceptedNames: accepted } : {},
  };
}

describe('CRD naming', () => {
  test('a CRD alone gets every name it asks for, NoConflicts, and Established Installing', () => {
    const c = crd('widgets', 'Widget', { shortNames: ['wd'], categories: ['all'] });
    const r = calculateNamesAndConditions(c, [c]);
    assert.deepEqual(r.acceptedNames, { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList', categories: ['all'] });
    assert.deepEqual(r.namesAccepted, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
    assert.deepEqual(r.established, { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' });
  });

  test('names held by another CRD of the group are refused; the last conflict checked names the condition', () => {
    const holder = crd('widgets', 'Widget', { shortNames: ['wd'] }, { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList' });
    const c = crd('gizmos', 'Gizmo', { shortNames: ['wd'] });
    const r = calculateNamesAndConditions(c, [holder, c]);
    assert.deepEqual(r.namesAccepted, { type: 'NamesAccepted', status: 'False', reason: 'ShortNamesConflict', message: '"wd" is already in use' });
    assert.deepEqual(r.acceptedNames, { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo', listKind: 'GizmoList' });
    assert.deepEqual(r.established, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
  });

  test('other groups do not conflict; names already accepted stay', () => {
    const other = { ...crd('widgets', 'Widget'), spec: { ...crd('widgets', 'Widget').spec, group: 'other.com' } };
    other.status = { acceptedNames: { plural: 'widgets', kind: 'Widget' } };
    const c = crd('widgets', 'Widget');
    assert.equal(calculateNamesAndConditions(c, [other, c]).namesAccepted.status, 'True');
    assert.ok(namesEqual({ plural: 'a', kind: 'A', shortNames: [] }, { plural: 'a', kind: 'A' }));
  });
});
