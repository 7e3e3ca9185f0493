// Tests of the controller manager: --controllers selection, and two managers sharing one
// kube-controller-manager Lease against a real API server (only one leads; the other takes over).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { RestClient } from '../client/rest_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { Lease } from '../api/types/coordination_v1.ts';
import type { Pod } from '../api/types/core_v1.ts';
import { LEASE_NAME, LEASE_NAMESPACE, selectControllers, startControllerManager } from './manager.ts';
import type { ControllerEntry } from './registry.ts';

const entry = (name: string): ControllerEntry => ({ name, workers: 1, factory: () => { throw new Error('unused'); } });

describe('selectControllers', () => {
  const all = ['replicaset', 'deployment', 'garbagecollector'].map(entry);
  test('defaults to all, names pick, * adds the rest, -name removes', () => {
    assert.deepEqual(selectControllers(all, undefined).map((e) => e.name), ['replicaset', 'deployment', 'garbagecollector']);
    assert.deepEqual(selectControllers(all, ['deployment']).map((e) => e.name), ['deployment']);
    assert.deepEqual(selectControllers(all, ['*', '-garbagecollector']).map((e) => e.name), ['replicaset', 'deployment']);
    assert.throws(() => selectControllers(all, ['nope']), /"nope" is not in the list of known controllers/);
  });
});

const options = { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'test-ca' };

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('controller manager with leader election', () => {
  let s: TestServer;
  let client: RestClient;
  before(async () => {
    s = await startTestServer();
    client = await RestClient.fromKubeconfig(s.kubeconfig);
  });
  after(async () => {
    await client.dispose();
    await s.stop();
  });

  test('one of two managers leads; the other takes over when it stops', async () => {
    const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 };
    const a = await startControllerManager({ kubeconfig: s.kubeconfig, options, controllers: ['replicaset'], leaderElection: true, identity: 'a', ...timing });
    await a.started;
    const b = await startControllerManager({ kubeconfig: s.kubeconfig, options, controllers: ['replicaset'], leaderElection: true, identity: 'b', ...timing });
    try {
      assert.equal(a.isLeading(), true);
      const leases = client.resource<Lease>(resourceDescriptor('coordination.k8s.io/v1', 'leases'), LEASE_NAMESPACE);
      assert.equal((await leases.get(LEASE_NAME)).spec?.holderIdentity, 'a');
      assert.equal(b.isLeading(), false);

      // The leader's controllers work: a ReplicaSet gets its pod.
      await s.kubectl(['create', 'namespace', 'm1']);
      const r = await s.kubectl(['apply', '-f', '-'], { input: 'apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: one, namespace: m1}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: one}}\n  template:\n    metadata: {labels: {app: one}}\n    spec: {containers: [{name: c, image: nginx}]}\n' });
      assert.equal(r.code, 0, r.stderr);
      const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), 'm1');
      await until('a pod from the leader', async () => (await pods.list()).items.length === 1);

      await a.dispose();
      await b.started;
      assert.equal(b.isLeading(), true);
      assert.equal((await leases.get(LEASE_NAME)).spec?.holderIdentity, 'b');
      // The new leader keeps the ReplicaSet whole.
      await pods.delete((await pods.list()).items[0]!.metadata!.name!);
      await until('a replacement from the new leader', async () => (await pods.list()).items.filter((p) => !p.metadata?.deletionTimestamp).length === 1);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
