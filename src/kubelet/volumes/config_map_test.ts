import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap } from '../../api/types/core_v1.ts';
import { configMapPayload, configMapPlugin } from './config_map.ts';
import { fakeHost, FakeObjects } from './fake_volume_host.ts';

const cm: ConfigMap = { metadata: { name: 'cfg', namespace: 'ns' }, data: { 'app.conf': 'level=debug', other: 'o' }, binaryData: { 'logo.bin': Buffer.from([1, 2, 3]).toString('base64') } };

describe('configMap volumes', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-cm-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every key, string and binary, with the default mode', () => {
    const p = configMapPayload(undefined, cm, 0o644, false);
    assert.deepEqual([...p.keys()].sort(), ['app.conf', 'logo.bin', 'other']);
    assert.deepEqual([...p.get('logo.bin')!.data], [1, 2, 3]);
    assert.equal(p.get('other')!.mode, 0o644);
  });

  test('items map keys to paths with their own modes; a missing key fails unless optional', () => {
    const p = configMapPayload([{ key: 'app.conf', path: 'conf/app.conf', mode: 0o400 }], cm, 0o644, false);
    assert.deepEqual([...p.keys()], ['conf/app.conf']);
    assert.equal(p.get('conf/app.conf')!.mode, 0o400);
    assert.throws(() => configMapPayload([{ key: 'nope', path: 'x' }], cm, 0o644, false), { message: 'configmap references non-existent config key: nope' });
    assert.equal(configMapPayload([{ key: 'nope', path: 'x' }], cm, 0o644, true).size, 0);
  });

  test('set up from the API, read-only, rewritten when the ConfigMap changes; missing fails unless optional', async () => {
    const objects = new FakeObjects();
    objects.configMaps.set('ns/cfg', cm);
    const host = fakeHost({ dir: join(dir, 'v'), volume: { name: 'config', configMap: { name: 'cfg', defaultMode: 0o640 } }, objects });
    const m = await configMapPlugin.setUp(host);
    assert.equal(m.readOnly, true);
    assert.equal(readFileSync(join(m.hostPath, 'app.conf'), 'utf8'), 'level=debug');
    assert.equal(statSync(join(m.hostPath, 'app.conf')).mode & 0o777, 0o640);
    objects.configMaps.set('ns/cfg', { ...cm, data: { 'app.conf': 'level=info' } });
    await configMapPlugin.setUp(host);
    assert.equal(readFileSync(join(m.hostPath, 'app.conf'), 'utf8'), 'level=info');
    await assert.rejects(configMapPlugin.setUp(fakeHost({ dir: join(dir, 'w'), volume: { name: 'c', configMap: { name: 'gone' } }, objects })), { message: 'configmap "gone" not found' });
    const opt = await configMapPlugin.setUp(fakeHost({ dir: join(dir, 'o'), volume: { name: 'c', configMap: { name: 'gone', optional: true } }, objects }));
    assert.equal(opt.hostPath, join(dir, 'o'));
  });
});
