import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setVolumeOwnership } from './ownership.ts';
import { testPod } from './fake_volume_host.ts';

describe('fsGroup ownership', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tkube-own-'));
    mkdirSync(join(dir, 'sub'), { mode: 0o700 });
    writeFileSync(join(dir, 'sub', 'f'), 'x', { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('files and directories go to the fsGroup with group access; directories get setgid', () => {
    const gid = process.getgid!();
    setVolumeOwnership(dir, testPod({ spec: { containers: [{ name: 'c' }], securityContext: { fsGroup: gid } } }), true);
    const f = statSync(join(dir, 'sub', 'f'));
    assert.equal(f.gid, gid);
    assert.equal(f.mode & 0o777, 0o640);
    assert.equal(statSync(join(dir, 'sub')).mode & 0o7777, 0o2750);
  });

  test('no fsGroup changes nothing', () => {
    writeFileSync(join(dir, 'g'), 'x', { mode: 0o600 });
    setVolumeOwnership(dir, testPod(), false);
    assert.equal(statSync(join(dir, 'g')).mode & 0o777, 0o600);
  });
});
