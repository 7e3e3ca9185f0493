import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mountPointsIn } from './mount_util.ts';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '90 22 0:50 / /var/lib/k/pods/u1/volumes/kubernetes.io~secret/creds rw,relatime - tmpfs tmpfs rw,size=1024k',
  '91 22 0:51 / /var/lib/k/pods/u1/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw',
  '92 22 0:52 / /var/lib/k/pods/u10/volumes/kubernetes.io~secret/x rw - tmpfs tmpfs rw',
].join('\n');

describe('mountinfo', () => {
  test('mount points under a directory, deepest first, with escapes decoded and prefixes respected', () => {
    assert.deepEqual(mountPointsIn(MOUNTINFO, '/var/lib/k/pods/u1'), [
      '/var/lib/k/pods/u1/volumes/kubernetes.io~empty-dir/with space',
      '/var/lib/k/pods/u1/volumes/kubernetes.io~secret/creds',
    ]);
    assert.deepEqual(mountPointsIn(MOUNTINFO, '/nowhere'), []);
  });
});
