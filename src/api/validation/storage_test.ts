// Tests for PersistentVolume and PersistentVolumeClaim validation on create and update.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(kind: string, obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('', 'v1', kind, copy);
  return copy;
}

const create = (kind: string, obj: J): string[] => validateObject('', kind, defaulted(kind, obj)).map(errorString);
const update = (kind: string, obj: J, old: J): string[] => validateObjectUpdate('', kind, defaulted(kind, obj), defaulted(kind, old)).map(errorString);

const pv = (spec: J): J => ({ metadata: { name: 'pv-1' }, spec });
const pvc = (spec: J, status: J = {}): J => ({ metadata: { name: 'data', namespace: 'default' }, spec, status });
const hostPV = { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/mnt/data' } };
const claim = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };

describe('PersistentVolume', () => {
  test('textbook volumes are valid', () => {
    assert.deepEqual(create('PersistentVolume', pv(hostPV)), []);
    assert.deepEqual(create('PersistentVolume', pv({
      capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-storage', local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } },
    })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['an empty spec', pv({}), [
      'spec.accessModes: Required value',
      'spec.capacity: Required value',
      'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
      'spec: Required value: must specify a volume type',
    ]],
    ['two volume sources', pv({ ...hostPV, nfs: { server: 'nfs.local', path: '/exports' } }), ['spec.nfs: Forbidden: may not specify more than 1 volume type']],
    ['an unknown access mode', pv({ ...hostPV, accessModes: ['ReadWriteSometimes'] }),
      ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"']],
    ['a zero capacity', pv({ ...hostPV, capacity: { storage: '0' } }), ['spec.capacity[storage]: Invalid value: "0": must be greater than zero']],
    ['a local volume without node affinity', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt' } }),
      ['spec.nodeAffinity: Required value: Local volume requires node affinity']],
    ['an unknown reclaim policy', pv({ ...hostPV, persistentVolumeReclaimPolicy: 'Keep' }),
      ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('PersistentVolume', obj), want));

  test('the volume source is immutable', () => {
    const errs = update('PersistentVolume', pv({ ...hostPV, hostPath: { path: '/mnt/other' } }), pv(hostPV));
    assert.equal(errs.length, 1);
    assert.ok(errs[0]?.startsWith('spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n'), errs[0]);
    assert.deepEqual(update('PersistentVolume', pv({ ...hostPV, capacity: { storage: '20Gi' } }), pv(hostPV)), []);
  });
});

describe('PersistentVolumeClaim', () => {
  test('a textbook claim is valid', () => {
    assert.deepEqual(create('PersistentVolumeClaim', pvc({ ...claim, storageClassName: 'standard' })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['an empty spec', pvc({}), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']],
    ['ReadWriteOncePod with another mode', pvc({ ...claim, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'] }),
      ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes']],
    ['a negative size', pvc({ ...claim, resources: { requests: { storage: '-1Gi' } } }), ['spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero']],
    ['a data source of another kind without group', pvc({ ...claim, dataSource: { kind: 'Secret', name: 's' } }),
      ["spec.dataSource: Invalid value: \"Secret\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"]],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('PersistentVolumeClaim', obj), want));

  test('the spec is immutable except the size of bound claims and volumeName once', () => {
    const bound = pvc({ ...claim, volumeName: 'pv-1' }, { phase: 'Bound', capacity: { storage: '1Gi' } });
    assert.deepEqual(update('PersistentVolumeClaim', pvc({ ...claim, volumeName: 'pv-1' }), pvc(claim)), []);
    assert.deepEqual(update('PersistentVolumeClaim', { ...bound, spec: { ...claim, volumeName: 'pv-1', resources: { requests: { storage: '2Gi' } } } }, bound), []);
    const errs = update('PersistentVolumeClaim', pvc({ ...claim, accessModes: ['ReadWriteMany'] }), pvc(claim));
    assert.equal(errs.length, 1);
    assert.ok(errs[0]?.startsWith('spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'), errs[0]);
  });
});
