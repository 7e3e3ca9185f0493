import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock } from '../../client/clock.ts';
import type { EventRecorder } from '../../client/events.ts';
import { VolumeManager } from './volume_manager.ts';
import { FakeMounter, FakeObjects } from './fake_volume_host.ts';

function recorder(): EventRecorder & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    event: (_o, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
    eventf: () => undefined,
    annotatedEventf: () => undefined,
  };
}

describe('volume manager', () => {
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'tkube-vm-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  function setup(refreshMs = 10_000) {
    const clock = new FakeClock(Date.UTC(2024, 0, 1));
    const objects = new FakeObjects();
    const mounter = new FakeMounter();
    const rec = recorder();
    const due: string[] = [];
    const vm = new VolumeManager({
      root, objects, recorder: rec, clock, mounter, refreshMs, allocatableMemory: 1024 ** 3, nodeAllocatable: {},
      issueToken: async () => ({ token: 'tok', expiresAt: clock.now() + 3_600_000 }),
      onRefreshDue: (uid) => due.push(uid),
    });
    return { clock, objects, mounter, rec, vm, due };
  }

  const pod = (uid: string, volumes: NonNullable<Pod['spec']>['volumes']): Pod => ({
    metadata: { name: `pod-${uid}`, namespace: 'ns', uid }, spec: { containers: [{ name: 'c' }], volumes },
  });

  test('a missing ConfigMap keeps the pod from starting with FailedMount and a growing retry', async () => {
    const { vm, rec, objects, clock } = setup();
    const p = pod('u1', [{ name: 'scratch', emptyDir: {} }, { name: 'config', configMap: { name: 'cfg' } }]);
    const first = await vm.mountPod(p);
    assert.deepEqual(first, { ok: false, retryAfterMs: 500 });
    assert.deepEqual(rec.events, ['Warning FailedMount MountVolume.SetUp failed for volume "config" : configmap "cfg" not found']);
    // within the backoff nothing is tried again
    assert.deepEqual(await vm.mountPod(p), { ok: false, retryAfterMs: 500 });
    clock.step(500);
    assert.deepEqual(await vm.mountPod(p), { ok: false, retryAfterMs: 1000 });
    objects.configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: { k: 'v' } });
    clock.step(1000);
    const ok = await vm.mountPod(p);
    assert.ok(ok.ok);
    assert.deepEqual([...ok.volumes.keys()], ['scratch', 'config']);
    assert.equal(readFileSync(join(ok.volumes.get('config')!.hostPath, 'k'), 'utf8'), 'v');
    assert.equal(ok.volumes.get('config')!.hostPath, join(root, 'pods/u1/volumes/kubernetes.io~configmap/config'));
  });

  test('an unbound claim is reported as upstream reports volumes it cannot process', async () => {
    const { vm, rec, objects } = setup();
    objects.claims.set('ns/data', { metadata: { name: 'data', namespace: 'ns', uid: 'c' }, status: { phase: 'Pending' } });
    const r = await vm.mountPod(pod('u2', [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]));
    assert.equal(r.ok, false);
    assert.deepEqual(rec.events, ['Warning FailedMount Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC ns/data: PVC is not bound']);
    rec.events.length = 0;
    assert.equal((await vm.mountPod(pod('u2b', [{ name: 'share', nfs: { server: 'nas', path: '/x' } }]))).ok, false);
    assert.deepEqual(rec.events, ['Warning FailedMount Unable to attach or mount volumes: unmounted volumes=[share], unattached volumes=[], failed to process volumes=[share]: failed to get Plugin from volumeSpec for volume "share" err=no volume plugin matched']);
  });

  test('API-data volumes are refreshed once due, others are set up once', async () => {
    const { vm, objects, clock, due } = setup(10_000);
    objects.configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: { k: 'v1' } });
    const p = pod('u3', [{ name: 'config', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }]);
    vm.start();
    try {
      const r = await vm.mountPod(p);
      assert.ok(r.ok);
      const file = join(r.volumes.get('config')!.hostPath, 'k');
      objects.configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: { k: 'v2' } });
      const gets = objects.gets;
      await vm.mountPod(p);
      assert.equal(objects.gets, gets, 'no API read before the refresh is due');
      assert.equal(readFileSync(file, 'utf8'), 'v1');
      clock.step(10_000);
      assert.deepEqual(due, ['u3']);
      await vm.mountPod(p);
      assert.equal(readFileSync(file, 'utf8'), 'v2');
      // a failed refresh keeps the last content and the pod running
      objects.configMaps.delete('ns/cfg');
      clock.step(10_000);
      const again = await vm.mountPod(p);
      assert.ok(again.ok);
      assert.equal(readFileSync(file, 'utf8'), 'v2');
    } finally {
      vm.dispose();
    }
  });

  test('teardown unmounts the pod\'s tmpfs volumes; orphans are found by UID', async () => {
    const { vm, mounter } = setup();
    const r = await vm.mountPod(pod('u4', [{ name: 'mem', emptyDir: { medium: 'Memory' } }]));
    assert.ok(r.ok);
    await vm.mountPod(pod('u5', [{ name: 'mem', emptyDir: { medium: 'Memory' } }]));
    assert.equal(mounter.mounted.size, 2);
    assert.equal(await vm.unmountPod('u4'), true);
    assert.deepEqual([...mounter.mounted], [join(root, 'pods/u5/volumes/kubernetes.io~empty-dir/mem')]);
    await vm.cleanupOrphans((uid) => uid === 'u5');
    assert.equal(mounter.mounted.size, 1);
    await vm.cleanupOrphans(() => false);
    assert.equal(mounter.mounted.size, 0);
  });
});
