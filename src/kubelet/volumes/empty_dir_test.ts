import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';
import { emptyDirPlugin, memoryVolumeSize, podMemoryLimit } from './empty_dir.ts';
import { fakeHost, FakeMounter } from './fake_volume_host.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

function pod(limits: Array<string | undefined>): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: limits.map((l, i) => ({ name: `c${i}`, ...(l ? { resources: { limits: { memory: l } } } : {}) })) } };
}

describe('emptyDir', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-ed-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the pod memory limit counts only when every container has one', () => {
    assert.equal(podMemoryLimit(pod(['64Mi', '32Mi'])), 96 * MI);
    assert.equal(podMemoryLimit(pod(['64Mi', undefined])), undefined);
  });

  test('a memory volume is sized by the smallest of sizeLimit, pod limit and allocatable', () => {
    assert.equal(memoryVolumeSize(pod([undefined]), undefined, 4 * GI), 4 * GI);
    assert.equal(memoryVolumeSize(pod(['256Mi']), undefined, 4 * GI), 256 * MI);
    assert.equal(memoryVolumeSize(pod(['256Mi']), '16Mi', 4 * GI), 16 * MI);
    // a sizeLimit above what the pod may use does not raise it
    assert.equal(memoryVolumeSize(pod(['256Mi']), '1Gi', 4 * GI), 256 * MI);
  });

  test('on disk: a 0777 directory under the pod', async () => {
    const host = fakeHost({ dir: join(dir, 'disk'), volume: { name: 'scratch', emptyDir: {} } });
    const m = await emptyDirPlugin.setUp(host);
    assert.equal(m.hostPath, join(dir, 'disk'));
    assert.equal(m.readOnly, false);
    assert.equal(statSync(m.hostPath).mode & 0o777, 0o777);
  });

  test('medium Memory mounts a tmpfs of the computed size, once', async () => {
    const mounter = new FakeMounter();
    const host = fakeHost({ dir: join(dir, 'mem'), volume: { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }, mounter });
    await emptyDirPlugin.setUp(host);
    await emptyDirPlugin.setUp(host);
    assert.deepEqual(mounter.calls, [`tmpfs ${join(dir, 'mem')} ${8 * MI}`]);
    await assert.rejects(emptyDirPlugin.setUp(fakeHost({ dir: join(dir, 'x'), volume: { name: 'x', emptyDir: { medium: 'Floppy' } } })), /unknown storage medium "Floppy"/);
  });
});
