// Unit tests of volume matching: size, class, access modes, selectors, pre-binding, delayed binding.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim } from '../../api/types/core_v1.ts';
import { checkVolumeSatisfyClaim, findBestMatchForClaim } from './volume_matching.ts';

function pv(name: string, size: string, extra: Partial<NonNullable<PersistentVolume['spec']>> = {}, labels: Record<string, string> = {}, phase = 'Available'): PersistentVolume {
  return { metadata: { name, labels }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: '', ...extra }, status: { phase } };
}

function pvc(size: string, extra: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}): PersistentVolumeClaim {
  return { metadata: { name: 'c', namespace: 'ns', uid: 'cu' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: '', ...extra } };
}

describe('volume matching', () => {
  test('the smallest volume that fits, of the claim class', () => {
    const vols = [pv('big', '10Gi'), pv('fit', '2Gi'), pv('small', '1Gi'), pv('gold', '2Gi', { storageClassName: 'gold' }), pv('bound', '2Gi', {}, {}, 'Bound')];
    assert.equal(findBestMatchForClaim(pvc('1500Mi'), vols, false)?.metadata?.name, 'fit');
    assert.equal(findBestMatchForClaim(pvc('1500Mi', { storageClassName: 'gold' }), vols, false)?.metadata?.name, 'gold');
    assert.equal(findBestMatchForClaim(pvc('20Gi'), vols, false), undefined);
  });

  test('access modes: the fewest modes that still cover the claim win', () => {
    const vols = [pv('many', '1Gi', { accessModes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }), pv('one', '5Gi')];
    assert.equal(findBestMatchForClaim(pvc('1Gi'), vols, false)?.metadata?.name, 'one');
    assert.equal(findBestMatchForClaim(pvc('1Gi', { accessModes: ['ReadWriteMany'] }), vols, false)?.metadata?.name, 'many');
  });

  test('selectors, volume modes and pre-bound volumes', () => {
    const vols = [pv('fast', '1Gi', {}, { speed: 'fast' }), pv('slow', '1Gi', {}, { speed: 'slow' }), pv('block', '1Gi', { volumeMode: 'Block' })];
    assert.equal(findBestMatchForClaim(pvc('1Gi', { selector: { matchLabels: { speed: 'slow' } } }), vols, false)?.metadata?.name, 'slow');
    assert.equal(findBestMatchForClaim(pvc('1Gi', { volumeMode: 'Block' }), vols, false)?.metadata?.name, 'block');
    const reserved = pv('reserved', '1Gi', { claimRef: { namespace: 'ns', name: 'c' }, storageClassName: 'other' }, {}, 'Available');
    const other = pv('other', '1Gi', { claimRef: { namespace: 'ns', name: 'someone' } });
    assert.equal(findBestMatchForClaim(pvc('1Gi'), [other, reserved], true)?.metadata?.name, 'reserved');
    // Delayed binding without a node binds only what is pre-bound.
    assert.equal(findBestMatchForClaim(pvc('1Gi'), [pv('free', '1Gi')], true), undefined);
  });

  test('with a selected node, node affinity counts', () => {
    const local = pv('local', '1Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } });
    const n1 = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } };
    const n2 = { metadata: { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2' } } };
    assert.equal(findBestMatchForClaim(pvc('1Gi'), [local], true, n1)?.metadata?.name, 'local');
    assert.equal(findBestMatchForClaim(pvc('1Gi'), [local], true, n2), undefined);
  });

  test('checkVolumeSatisfyClaim explains mismatches with upstream words', () => {
    assert.equal(checkVolumeSatisfyClaim(pv('v', '1Gi'), pvc('2Gi')), 'requested PV is too small');
    assert.equal(checkVolumeSatisfyClaim(pv('v', '1Gi', { storageClassName: 'x' }), pvc('1Gi')), 'storageClassName does not match');
    assert.equal(checkVolumeSatisfyClaim(pv('v', '1Gi', { volumeMode: 'Block' }), pvc('1Gi')), 'incompatible volumeMode');
    assert.equal(checkVolumeSatisfyClaim(pv('v', '1Gi'), pvc('1Gi', { accessModes: ['ReadWriteMany'] })), 'incompatible accessMode');
    assert.equal(checkVolumeSatisfyClaim(pv('v', '1Gi'), pvc('1Gi')), undefined);
  });
});
