import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostPathType, hostPathPlugin } from './host_path.ts';
import { fakeHost } from './fake_volume_host.ts';

describe('hostPath', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tkube-hp-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'f'), 'x');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('Directory and File accept their kind and name the other in upstream words', () => {
    checkHostPathType(join(dir, 'd'), 'Directory');
    checkHostPathType(join(dir, 'f'), 'File');
    assert.throws(() => checkHostPathType(join(dir, 'f'), 'Directory'), { message: `hostPath type check failed: ${join(dir, 'f')} is not a directory, it's a File` });
    assert.throws(() => checkHostPathType(join(dir, 'd'), 'File'), { message: `hostPath type check failed: ${join(dir, 'd')} is not a file, it's a Directory` });
    assert.throws(() => checkHostPathType(join(dir, 'nope'), 'Directory'), { message: `hostPath ${join(dir, 'nope')} doesn't exist` });
    assert.throws(() => checkHostPathType(join(dir, 'd'), 'Socket'), { message: `hostPath type check failed: ${join(dir, 'd')} is not a socket file, it's a Directory` });
    assert.throws(() => checkHostPathType('/dev/null', 'BlockDevice'), { message: "hostPath type check failed: /dev/null is not a block device, it's a CharDevice" });
    checkHostPathType('/dev/null', 'CharDevice');
    assert.throws(() => checkHostPathType(join(dir, 'd'), 'Weird'), { message: 'Weird is an invalid volume type' });
  });

  test('DirectoryOrCreate and FileOrCreate create what is missing, and still check what exists', () => {
    checkHostPathType(join(dir, 'new/deep'), 'DirectoryOrCreate');
    assert.ok(statSync(join(dir, 'new/deep')).isDirectory());
    checkHostPathType(join(dir, 'new/file'), 'FileOrCreate');
    assert.ok(statSync(join(dir, 'new/file')).isFile());
    assert.throws(() => checkHostPathType(join(dir, 'f'), 'DirectoryOrCreate'), /is not a directory, it's a File/);
    assert.throws(() => checkHostPathType(join(dir, 'missing/parent/file'), 'FileOrCreate'), /no such file or directory/);
  });

  test('no type checks nothing; ".." is refused', async () => {
    checkHostPathType(join(dir, 'whatever'), undefined);
    assert.throws(() => checkHostPathType('/tmp/../etc', ''), { message: "invalid HostPath `/tmp/../etc`: must not contain '..'" });
    const m = await hostPathPlugin.setUp(fakeHost({ dir: '/unused', volume: { name: 'h', hostPath: { path: join(dir, 'd'), type: 'Directory' } } }));
    assert.deepEqual(m, { hostPath: join(dir, 'd'), readOnly: false, plugin: 'host-path' });
  });
});
