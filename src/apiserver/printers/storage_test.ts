// Checks of the storage printers: persistent volumes and claims, storage classes, CSI drivers and
// nodes, volume attachments and volume attributes classes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csiDriverPrinter, csiNodePrinter, persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter,
  volumeAttachmentPrinter, volumeAttributesClassPrinter,
} from './storage.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function meta(name: string, extra: object = {}) {
  return { name, creationTimestamp: new Date(NOW - 90 * 60_000).toISOString(), ...extra };
}

describe('persistent volume printer', () => {
  test('a bound volume', () => {
    const pv = {
      metadata: meta('pv-1'),
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'default', name: 'data' },
        storageClassName: 'local',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    assert.deepEqual(persistentVolumePrinter.row(pv, ctx).cells, ['pv-1', '10Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'local', '<unset>', '', '90m', 'Filesystem']);
  });

  test('a volume being deleted, with the beta class annotation and no capacity', () => {
    const pv = {
      metadata: meta('pv-2', { deletionTimestamp: new Date(NOW).toISOString(), annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }),
      spec: { storageClassName: 'new' },
      status: { phase: 'Released', reason: 'Gone' },
    };
    assert.deepEqual(persistentVolumePrinter.row(pv, ctx).cells, ['pv-2', '0', '', '', 'Terminating', '', 'old', '<unset>', 'Gone', '90m', '<unset>']);
  });
  test('capacities print in canonical form, as they come back from upstream', () => {
    const pv = (storage: string | number) => ({ metadata: meta('pv'), spec: { capacity: { storage } } });
    assert.equal(persistentVolumePrinter.row(pv('1024Mi'), ctx).cells[1], '1Gi');
    assert.equal(persistentVolumePrinter.row(pv('1500m'), ctx).cells[1], '1500m');
    assert.equal(persistentVolumePrinter.row(pv('2000m'), ctx).cells[1], '2');
    assert.equal(persistentVolumePrinter.row(pv(5), ctx).cells[1], '5');
  });
});

describe('persistent volume claim printer', () => {
  test('a bound claim shows the volume capacity and access modes', () => {
    const pvc = {
      metadata: meta('data'),
      spec: { volumeName: 'pv-1', storageClassName: 'local', resources: { requests: { storage: '5Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] },
    };
    assert.deepEqual(persistentVolumeClaimPrinter.row(pvc, ctx).cells, ['data', 'Bound', 'pv-1', '10Gi', 'RWO', 'local', '<unset>', '90m', 'Filesystem']);
  });

  test('a pending claim leaves volume, capacity and access modes empty', () => {
    const pvc = { metadata: meta('data'), spec: { resources: { requests: { storage: '5Gi' } } }, status: { phase: 'Pending' } };
    assert.deepEqual(persistentVolumeClaimPrinter.row(pvc, ctx).cells, ['data', 'Pending', '', '', '', '', '<unset>', '90m', '<unset>']);
  });
});

describe('storage class printer', () => {
  test('the default class is marked and defaults fill the empty fields', () => {
    const sc = { metadata: meta('local-path', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }), provisioner: 'tkube.io/local-path' };
    assert.deepEqual(storageClassPrinter.row(sc, ctx).cells, ['local-path (default)', 'tkube.io/local-path', 'Delete', 'Immediate', false, '90m']);
  });

  test('a class with every field set', () => {
    const sc = { metadata: meta('fast'), provisioner: 'csi.example.com', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true };
    assert.deepEqual(storageClassPrinter.row(sc, ctx).cells, ['fast', 'csi.example.com', 'Retain', 'WaitForFirstConsumer', true, '90m']);
  });

  test('a volume attributes class', () => {
    const vac = { metadata: meta('gold', { annotations: { 'volumeattributesclass.alpha.kubernetes.io/is-default-class': 'true' } }), driverName: 'csi.example.com' };
    assert.deepEqual(volumeAttributesClassPrinter.row(vac, ctx).cells, ['gold (default)', 'csi.example.com', '90m']);
  });
});

describe('CSI printers', () => {
  test('a CSI driver with defaults', () => {
    const d = { metadata: meta('csi.example.com'), spec: { volumeLifecycleModes: ['Persistent'] } };
    assert.deepEqual(csiDriverPrinter.row(d, ctx).cells, ['csi.example.com', true, false, false, '<unset>', false, 'Persistent', '90m']);
  });

  test('a CSI driver with token requests and no modes', () => {
    const d = { metadata: meta('x'), spec: { attachRequired: false, podInfoOnMount: true, storageCapacity: true, tokenRequests: [{ audience: 'a' }, { audience: 'b' }], requiresRepublish: true } };
    assert.deepEqual(csiDriverPrinter.row(d, ctx).cells, ['x', false, true, true, 'a,b', true, '<none>', '90m']);
  });

  test('a CSI node counts its drivers', () => {
    assert.deepEqual(csiNodePrinter.row({ metadata: meta('node-1'), spec: { drivers: [{ name: 'a' }] } }, ctx).cells, ['node-1', 1, '90m']);
  });

  test('a volume attachment', () => {
    const va = { metadata: meta('csi-123'), spec: { attacher: 'csi.example.com', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } }, status: { attached: true } };
    assert.deepEqual(volumeAttachmentPrinter.row(va, ctx).cells, ['csi-123', 'csi.example.com', 'pv-1', 'node-1', true, '90m']);
  });
});
