import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Secret } from '../../api/types/core_v1.ts';
import { secretPayload, secretPlugin } from './secret.ts';
import { fakeHost, FakeMounter, FakeObjects } from './fake_volume_host.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret: Secret = { metadata: { name: 's', namespace: 'ns' }, data: { password: b64('hunter2'), user: b64('admin') } };

describe('secret volumes', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-sec-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('values are decoded from base64; items and a missing key as upstream', () => {
    assert.equal(secretPayload(undefined, secret, 0o644, false).get('password')!.data.toString(), 'hunter2');
    const p = secretPayload([{ key: 'user', path: 'creds/user', mode: 0o400 }], secret, 0o644, false);
    assert.deepEqual([...p.keys()], ['creds/user']);
    assert.throws(() => secretPayload([{ key: 'token', path: 't' }], secret, 0o644, false), { message: 'references non-existent secret key: token' });
  });

  test('written on a tmpfs, read-only; a missing Secret fails unless optional', async () => {
    const objects = new FakeObjects();
    objects.secrets.set('ns/s', secret);
    const mounter = new FakeMounter();
    const m = await secretPlugin.setUp(fakeHost({ dir: join(dir, 'v'), volume: { name: 'creds', secret: { secretName: 's' } }, objects, mounter }));
    assert.equal(readFileSync(join(m.hostPath, 'user'), 'utf8'), 'admin');
    assert.equal(m.readOnly, true);
    assert.equal(mounter.calls.length, 1);
    assert.match(mounter.calls[0]!, /^tmpfs .*\/v \d+$/);
    await assert.rejects(secretPlugin.setUp(fakeHost({ dir: join(dir, 'w'), volume: { name: 'c', secret: { secretName: 'gone' } }, objects })), { message: 'secret "gone" not found' });
  });
});
