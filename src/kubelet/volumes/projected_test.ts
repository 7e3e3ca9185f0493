import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectedPlugin } from './projected.ts';
import { fakeHost, FakeObjects, FakeTokens, testPod } from './fake_volume_host.ts';

describe('projected volumes', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-proj-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the kube-api-access volume: a pod-bound token, the CA bundle and the namespace', async () => {
    const objects = new FakeObjects();
    objects.configMaps.set('ns/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } });
    const tokens = new FakeTokens();
    const pod = testPod({ spec: { serviceAccountName: 'builder', containers: [{ name: 'c' }] } });
    const volume = {
      name: 'kube-api-access-abcde',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    };
    const m = await projectedPlugin.setUp(fakeHost({ dir: join(dir, 'v'), volume, objects, tokens, pod }));
    assert.equal(readFileSync(join(m.hostPath, 'token'), 'utf8'), 'token-1');
    assert.equal(readFileSync(join(m.hostPath, 'ca.crt'), 'utf8'), 'PEM');
    assert.equal(readFileSync(join(m.hostPath, 'namespace'), 'utf8'), 'ns');
    assert.equal(statSync(join(m.hostPath, 'token')).mode & 0o777, 0o644);
    assert.deepEqual(tokens.requests, [{ namespace: 'ns', serviceAccount: 'builder', audiences: [], expirationSeconds: 3607, podName: 'p', podUID: 'u' }]);
  });

  test('an audience is passed on; the errors of several sources are aggregated', async () => {
    const tokens = new FakeTokens();
    const objects = new FakeObjects();
    await projectedPlugin.setUp(fakeHost({ dir: join(dir, 'a'), tokens, objects, volume: { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }] } } }));
    assert.deepEqual(tokens.requests[0]!.audiences, ['vault']);
    assert.equal(tokens.requests[0]!.expirationSeconds, 3600);
    await assert.rejects(projectedPlugin.setUp(fakeHost({
      dir: join(dir, 'b'), objects,
      volume: { name: 'v', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'y' } }, { secret: { name: 'z', optional: true } }] } },
    })), { message: '[configmap "x" not found, secret "y" not found]' });
  });
});
