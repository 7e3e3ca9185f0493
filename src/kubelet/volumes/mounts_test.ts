import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container } from '../../api/types/core_v1.ts';
import { expandSubPathExpr, makeMounts } from './mounts.ts';
import { testPod } from './fake_volume_host.ts';
import type { MountedVolume } from './types.ts';

describe('container mounts', () => {
  let dir: string;
  let vols: Map<string, MountedVolume>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tkube-mnt-'));
    mkdirSync(join(dir, 'vol'));
    chmodSync(join(dir, 'vol'), 0o777);
    writeFileSync(join(dir, 'vol', 'file.txt'), 'x');
    symlinkSync('/etc', join(dir, 'vol', 'escape'));
    vols = new Map([
      ['data', { hostPath: join(dir, 'vol'), readOnly: false, plugin: 'empty-dir' }],
      ['cfg', { hostPath: join(dir, 'vol'), readOnly: true, plugin: 'configmap' }],
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const c = (volumeMounts: Container['volumeMounts']): Container => ({ name: 'app', volumeMounts });

  test('volume paths, read-only from the mount or the plugin, and propagation', () => {
    const got = makeMounts(testPod(), c([
      { name: 'data', mountPath: '/data' },
      { name: 'data', mountPath: '/ro', readOnly: true, mountPropagation: 'HostToContainer' },
      { name: 'cfg', mountPath: '/etc/app' },
    ]), vols, []);
    assert.deepEqual(got.map((m) => [m.containerPath, m.hostPath, m.readonly, m.propagation]), [
      ['/data', join(dir, 'vol'), false, 'PROPAGATION_PRIVATE'],
      ['/ro', join(dir, 'vol'), true, 'PROPAGATION_HOST_TO_CONTAINER'],
      ['/etc/app', join(dir, 'vol'), true, 'PROPAGATION_PRIVATE'],
    ]);
    assert.throws(() => makeMounts(testPod(), c([{ name: 'nope', mountPath: '/x' }]), vols, []), { message: 'cannot find volume "nope" to mount into container "app"' });
  });

  test('subPath: a file, or a directory created with the volume\'s mode; escapes and ".." are refused', () => {
    const [file] = makeMounts(testPod(), c([{ name: 'data', mountPath: '/f', subPath: 'file.txt' }]), vols, []);
    assert.equal(file!.hostPath, join(dir, 'vol', 'file.txt'));
    const [sub] = makeMounts(testPod(), c([{ name: 'data', mountPath: '/s', subPath: 'a/b' }]), vols, []);
    assert.equal(sub!.hostPath, join(dir, 'vol', 'a', 'b'));
    assert.equal(statSync(sub!.hostPath).mode & 0o777, 0o777);
    assert.throws(() => makeMounts(testPod(), c([{ name: 'data', mountPath: '/e', subPath: 'escape' }]), vols, []), { message: 'failed to prepare subPath for volumeMount "data" of container "app"' });
    assert.throws(() => makeMounts(testPod(), c([{ name: 'data', mountPath: '/e', subPath: '../x' }]), vols, []), { message: "unable to provision SubPath `../x`: must not contain '..'" });
    assert.throws(() => makeMounts(testPod(), c([{ name: 'data', mountPath: '/e', subPath: '/abs' }]), vols, []), { message: 'error SubPath `/abs` must not be an absolute path' });
  });

  test('subPathExpr expands the container environment and names what is missing', () => {
    const env = [{ name: 'POD_NAME', value: 'web-0' }];
    assert.equal(expandSubPathExpr({ name: 'data', mountPath: '/x', subPathExpr: 'logs/$(POD_NAME)' }, env), 'logs/web-0');
    assert.throws(() => expandSubPathExpr({ name: 'data', mountPath: '/x', subPathExpr: '$(B)/$(A)' }, env), { message: 'missing value for A, B' });
    const [m] = makeMounts(testPod(), c([{ name: 'data', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)' }]), vols, env);
    assert.equal(m!.hostPath, join(dir, 'vol', 'logs', 'web-0'));
  });
});
