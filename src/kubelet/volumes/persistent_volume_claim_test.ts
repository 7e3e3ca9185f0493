import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from '../../api/types/core_v1.ts';
import { persistentVolumeClaimPlugin } from './persistent_volume_claim.ts';
import { fakeHost, FakeObjects } from './fake_volume_host.ts';
import { VolumeError } from './types.ts';

describe('persistentVolumeClaim volumes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tkube-pvc-'));
    mkdirSync(join(dir, 'local'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const claim = (o: Partial<PersistentVolumeClaim['status']> = {}, volumeName = 'pv-1'): PersistentVolumeClaim => ({
    metadata: { name: 'data', namespace: 'ns', uid: 'claim-uid' }, spec: { volumeName }, status: { phase: 'Bound', ...o },
  });
  const pv = (spec: PersistentVolume['spec']): PersistentVolume => ({ metadata: { name: 'pv-1' }, spec: { claimRef: { uid: 'claim-uid', name: 'data', namespace: 'ns' }, ...spec } });
  const volume = { name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } };

  test('a bound hostPath or local volume mounts its path', async () => {
    const objects = new FakeObjects();
    objects.claims.set('ns/data', claim());
    objects.volumes.set('pv-1', pv({ hostPath: { path: join(dir, 'hp'), type: 'DirectoryOrCreate' } }));
    const m = await persistentVolumeClaimPlugin.setUp(fakeHost({ dir: '/unused', volume, objects }));
    assert.deepEqual(m, { hostPath: join(dir, 'hp'), readOnly: true, plugin: 'pvc' });
    objects.volumes.set('pv-1', pv({ local: { path: join(dir, 'local') } }));
    assert.equal((await persistentVolumeClaimPlugin.setUp(fakeHost({ dir: '/unused', volume, objects }))).hostPath, join(dir, 'local'));
  });

  test('an unbound claim, or a volume bound elsewhere, fails processing with upstream words', async () => {
    const objects = new FakeObjects();
    const host = fakeHost({ dir: '/unused', volume, objects });
    objects.claims.set('ns/data', claim({ phase: 'Pending' }, ''));
    await assert.rejects(persistentVolumeClaimPlugin.setUp(host), (err: unknown) => err instanceof VolumeError && err.stage === 'process' && err.message === 'error processing PVC ns/data: PVC is not bound');
    objects.claims.set('ns/data', claim());
    objects.volumes.set('pv-1', { metadata: { name: 'pv-1' }, spec: { claimRef: { uid: 'other' }, hostPath: { path: '/x' } } });
    await assert.rejects(persistentVolumeClaimPlugin.setUp(host), { message: 'error processing PVC ns/data: found PV object pv-1 but its pv.Spec.ClaimRef.UID other does not point to claim.UID claim-uid' });
    objects.claims.delete('ns/data');
    await assert.rejects(persistentVolumeClaimPlugin.setUp(host), { message: 'error processing PVC ns/data: failed to fetch PVC from API server: persistentvolumeclaims "data" not found' });
  });
});
