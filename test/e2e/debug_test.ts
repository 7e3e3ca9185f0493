import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

describe('kubectl debug (root)', { timeout: 180_000 }, () => {
  let c: E2ECluster;
  before(async () => { c = await startE2ECluster({ controllers: false, scheduler: false }); });
  after(async () => { await c?.stop(); });

  test('explore', async () => {
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target' }, spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } }));
    await c.waitRunning('target');
    const r = await c.ts.kubectl(['debug', 'target', `--image=${TEST_IMAGE}`, '--image-pull-policy=IfNotPresent', '-c', 'dbg', '--target=app', '--', 'sh', '-c', 'echo hi; ps']);
    console.log(r.code, r.stdout, r.stderr);
    const p = await c.getPod('target');
    console.log(JSON.stringify(p.spec?.ephemeralContainers), JSON.stringify(p.status?.ephemeralContainerStatuses));
  });
});
