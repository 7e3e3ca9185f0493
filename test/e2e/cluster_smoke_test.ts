// End to end (root): the e2e cluster harness runs a Deployment through the scheduler and controllers
// onto the real node, and kubectl exec reaches a container of it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

describe('e2e cluster harness (root)', { timeout: 180_000 }, () => {
  let c: E2ECluster;
  before(async () => { c = await startE2ECluster(); });
  after(async () => { await c?.stop(); });

  test('a Deployment is scheduled onto the real node and its pod runs', async () => {
    const r = await c.ts.kubectl(['create', 'deployment', 'smoke', `--image=${TEST_IMAGE}`, '--', 'sleep', '3600']);
    assert.equal(r.code, 0, r.stderr);
    const pod = await waitFor('a smoke pod Running', async () => {
      const l = await c.ts.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dsmoke');
      const p = l.json<{ items: Array<{ metadata: { name: string }; spec: { nodeName?: string }; status?: { phase?: string } }> }>().items[0];
      return p?.status?.phase === 'Running' ? p : undefined;
    }, 60_000);
    assert.equal(pod.spec.nodeName, c.nodeName);
    const out = await c.exec(pod.metadata.name, ['cat', '/proc/1/cmdline']);
    assert.match(out.stdout, /sleep/);
  });
});
