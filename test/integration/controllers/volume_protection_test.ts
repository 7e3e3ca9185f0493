// The PVC and PV protection controllers against a real API server: `kubectl delete pvc` waits
// while a scheduled pod uses the claim and completes once the pod is gone, a claim stripped of its
// finalizer gets it back, and a deleted volume stays Terminating until it is no longer Bound.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/pvc_protection/pvc_protection_controller.ts';
import '../../../src/controllers/pv_protection/pv_protection_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, startControllers, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['pvc-protection', 'pv-protection']);
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

function claim(name: string): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
`;
}

/** A pod already bound to a node (no kubelet here), mounting claim `claimName`. */
function podUsing(name: string, claimName: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: node-a
  containers: [{name: c, image: busybox, volumeMounts: [{name: data, mountPath: /data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: ${claimName}}}]
---
`;
}

async function gone(args: string[]): Promise<true | undefined> {
  return (await s.kubectl(['get', ...args])).code !== 0 ? true : undefined;
}

/** The STATUS column kubectl prints for one object. */
async function statusColumn(args: string[]): Promise<string> {
  const wide = (await kubectlOk(s, ['get', ...args])).trim().split('\n');
  const header = wide[0]!.split(/\s{2,}/);
  return wide[1]!.split(/\s{2,}/)[header.indexOf('STATUS')]!;
}

describe('PVC protection', () => {
  test('kubectl delete pvc waits while a pod uses the claim and completes when the pod is deleted', async () => {
    const ns = await freshNamespace(s, 'pvcp');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], claim('data') + claim('idle') + podUsing('user', 'data'));
    assert.deepEqual((await getJson(s, ['pvc', 'data', '-n', ns])).metadata.finalizers, ['kubernetes.io/pvc-protection']);

    // An unused claim goes at once; the used one holds kubectl until its timeout.
    await kubectlOk(s, ['delete', 'pvc', 'idle', '-n', ns, '--timeout=20s']);
    const held = await s.kubectl(['delete', 'pvc', 'data', '-n', ns, '--timeout=1s']);
    assert.notEqual(held.code, 0, `delete should time out: ${held.stdout}`);
    assert.match(held.stderr, /timed out waiting for the condition/);
    const pvc = await getJson(s, ['pvc', 'data', '-n', ns]);
    assert.ok(pvc.metadata.deletionTimestamp);
    assert.deepEqual(pvc.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    assert.equal(await statusColumn(['pvc', 'data', '-n', ns]), 'Terminating');

    await kubectlOk(s, ['delete', 'pod', 'user', '-n', ns, '--grace-period=0', '--force']);
    await eventually('claim gone', () => gone(['pvc', 'data', '-n', ns]));
  });

  test('a claim whose finalizer was removed gets it back', async () => {
    const ns = await freshNamespace(s, 'pvcf');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], claim('data'));
    await kubectlOk(s, ['patch', 'pvc', 'data', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('finalizer restored', async () => {
      const f = (await getJson(s, ['pvc', 'data', '-n', ns])).metadata.finalizers;
      return f?.includes('kubernetes.io/pvc-protection') ? true : undefined;
    });
  });
});

describe('PV protection', () => {
  test('a deleted volume stays Terminating while Bound and goes once released', async () => {
    const name = `pvp-${process.pid}`;
    await kubectlOk(s, ['apply', '-f', '-'], `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${name}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/${name}}
`);
    await kubectlOk(s, ['patch', 'pv', name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Bound"}}']);
    await kubectlOk(s, ['delete', 'pv', name, '--wait=false']);
    const pv = await getJson(s, ['pv', name]);
    assert.ok(pv.metadata.deletionTimestamp);
    assert.equal(await statusColumn(['pv', name]), 'Terminating');

    const held = await s.kubectl(['wait', '--for=delete', `pv/${name}`, '--timeout=1s']);
    assert.notEqual(held.code, 0, 'a Bound volume must keep its finalizer');
    await kubectlOk(s, ['patch', 'pv', name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Released"}}']);
    await eventually('volume gone', () => gone(['pv', name]));
  });
});
