// The PersistentVolume binder against a real API server: a claim binds to the smallest matching
// volume with the bind annotations on both sides, selectors and classes are honoured, deleting the
// claim releases a Retain volume and fails a manual Delete one, WaitForFirstConsumer claims wait,
// and claims of a provisioning class are handed to the provisioner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/persistentvolume/pv_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, startControllers, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['persistentvolume-binder']);
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

function pv(name: string, size: string, extra = '', policy = 'Retain', cls = ''): string {
  return `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
${extra}spec:
  capacity: {storage: ${size}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: ${policy}
  storageClassName: "${cls}"
  hostPath: {path: /tmp/${name}}
---
`;
}

function pvc(name: string, size: string, extra = '', cls = ''): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  storageClassName: "${cls}"
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: ${size}}}
${extra}---
`;
}

/** Deletes a claim, removing the pvc-protection finalizer as its (separate) controller would. */
async function deleteClaim(ns: string, name: string): Promise<void> {
  await kubectlOk(s, ['delete', 'pvc', name, '-n', ns, '--wait=false']);
  await kubectlOk(s, ['patch', 'pvc', name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await eventually('claim gone', async () => ((await s.kubectl(['get', 'pvc', name, '-n', ns])).code !== 0 ? true : undefined));
}

async function phaseOf(args: string[]): Promise<string | undefined> {
  return (await getJson(s, args)).status?.phase;
}

describe('PersistentVolume binder', () => {
  test('a claim binds to the smallest fitting volume, and release follows the reclaim policy', async () => {
    const ns = await freshNamespace(s, 'pv');
    const p = `${ns}-`;
    await kubectlOk(s, ['apply', '-f', '-'], pv(`${p}big`, '10Gi') + pv(`${p}small`, '1Gi') + pv(`${p}fit`, '2Gi'));
    await eventually('volumes Available', async () => ((await phaseOf(['pv', `${p}fit`])) === 'Available' ? true : undefined));
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pvc('data', '1500Mi'));
    const claim = await eventually('claim Bound', async () => {
      const c = await getJson(s, ['pvc', 'data', '-n', ns]);
      return c.status?.phase === 'Bound' ? c : undefined;
    });
    assert.equal(claim.spec.volumeName, `${p}fit`);
    assert.equal(claim.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(claim.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(claim.status.capacity.storage, '2Gi');
    assert.deepEqual(claim.status.accessModes, ['ReadWriteOnce']);
    const vol = await eventually('volume Bound', async () => {
      const v = await getJson(s, ['pv', `${p}fit`]);
      return v.status?.phase === 'Bound' ? v : undefined;
    });
    assert.equal(vol.spec.claimRef.name, 'data');
    assert.equal(vol.spec.claimRef.uid, claim.metadata.uid);
    assert.equal(vol.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    const table = await kubectlOk(s, ['get', 'pvc', 'data', '-n', ns]);
    assert.match(table, new RegExp(`data\\s+Bound\\s+${p}fit\\s+2Gi\\s+RWO`));

    // Retain: deleting the claim leaves the volume Released.
    await deleteClaim(ns, 'data');
    await eventually('volume Released', async () => ((await phaseOf(['pv', `${p}fit`])) === 'Released' ? true : undefined));

    // Delete on a manually created volume: no deleter for it, so it fails as upstream's does.
    await kubectlOk(s, ['apply', '-f', '-'], pv(`${p}del`, '5Gi', '', 'Delete', 'manual'));
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pvc('scratch', '5Gi', '', 'manual'));
    await eventually('scratch Bound', async () => ((await phaseOf(['pvc', 'scratch', '-n', ns])) === 'Bound' ? true : undefined));
    await deleteClaim(ns, 'scratch');
    const failed = await eventually('volume Failed', async () => {
      const v = await getJson(s, ['pv', `${p}del`]);
      return v.status?.phase === 'Failed' ? v : undefined;
    });
    assert.equal(failed.status.message, `error getting deleter volume plugin for volume "${p}del": no deletable volume plugin matched`);
    const d = await kubectlOk(s, ['describe', 'pv', `${p}del`]);
    assert.match(d, /VolumeFailedDelete/);
  });

  test('selectors, pre-bound volumes and mismatches', async () => {
    const ns = await freshNamespace(s, 'pvs');
    const p = `${ns}-`;
    await kubectlOk(s, ['apply', '-f', '-'], pv(`${p}fast`, '1Gi', '  labels: {speed: fast}\n') + pv(`${p}slow`, '1Gi', '  labels: {speed: slow}\n') + pv(`${p}tiny`, '100Mi'));
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pvc('picky', '1Gi', '  selector:\n    matchLabels: {speed: slow}\n')
      + pvc('named', '1Gi', `  volumeName: ${p}tiny\n`));
    await eventually('picky bound to slow', async () => {
      const c = await getJson(s, ['pvc', 'picky', '-n', ns]);
      return c.status?.phase === 'Bound' && c.spec.volumeName === `${p}slow` ? true : undefined;
    });
    await eventually('VolumeMismatch event on the claim naming a too small volume', async () => {
      const d = await kubectlOk(s, ['describe', 'pvc', 'named', '-n', ns]);
      return /VolumeMismatch\s+.*Cannot bind to requested volume ".*tiny": requested PV is too small/.test(d) ? true : undefined;
    });
    assert.equal(await phaseOf(['pvc', 'named', '-n', ns]), 'Pending');
    const unbound = await getJson(s, ['pvc', 'named', '-n', ns]);
    assert.equal(unbound.metadata.annotations?.['pv.kubernetes.io/bind-completed'], undefined);
  });

  test('a claim without a class and without volumes says so', async () => {
    const ns = await freshNamespace(s, 'pvn');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pvc('lonely', '3Ti'));
    await eventually('FailedBinding event', async () => {
      const d = await kubectlOk(s, ['describe', 'pvc', 'lonely', '-n', ns]);
      return /FailedBinding\s+.*no persistent volumes available for this claim and no storage class is set/.test(d) ? true : undefined;
    });
    assert.equal(await phaseOf(['pvc', 'lonely', '-n', ns]), 'Pending');
  });

  test('WaitForFirstConsumer waits; a provisioning class hands the claim to its provisioner', async () => {
    const ns = await freshNamespace(s, 'pvw');
    await kubectlOk(s, ['apply', '-f', '-'], `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${ns}-wffc
provisioner: example.com/local
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${ns}-now
provisioner: example.com/nfs
volumeBindingMode: Immediate
`);
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pvc('later', '1Gi', '', `${ns}-wffc`) + pvc('now', '1Gi', '', `${ns}-now`));
    await eventually('WaitForFirstConsumer event', async () => {
      const d = await kubectlOk(s, ['describe', 'pvc', 'later', '-n', ns]);
      return /WaitForFirstConsumer\s+.*waiting for first consumer to be created before binding/.test(d) ? true : undefined;
    });
    const now = await eventually('provisioner annotation', async () => {
      const c = await getJson(s, ['pvc', 'now', '-n', ns]);
      return c.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'] ? c : undefined;
    });
    assert.equal(now.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'example.com/nfs');
    assert.equal(now.metadata.annotations['volume.beta.kubernetes.io/storage-provisioner'], 'example.com/nfs');
    await eventually('ExternalProvisioning event', async () => {
      const d = await kubectlOk(s, ['describe', 'pvc', 'now', '-n', ns]);
      return /ExternalProvisioning\s+.*Waiting for a volume to be created either by the external provisioner 'example.com\/nfs'/.test(d) ? true : undefined;
    });
    // The provisioner's volume, pre-bound to the claim, completes the binding.
    await kubectlOk(s, ['apply', '-f', '-'], `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${ns}-prov
  annotations: {pv.kubernetes.io/provisioned-by: example.com/nfs}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ${ns}-now
  claimRef: {namespace: ${ns}, name: now, uid: ${now.metadata.uid}}
  hostPath: {path: /tmp/prov}
`);
    await eventually('provisioned claim Bound', async () => ((await phaseOf(['pvc', 'now', '-n', ns])) === 'Bound' ? true : undefined));
    // Its deletion is the provisioner's job: the volume is only Released here.
    await deleteClaim(ns, 'now');
    await eventually('provisioned volume Released', async () => ((await phaseOf(['pv', `${ns}-prov`])) === 'Released' ? true : undefined));
  });
});
