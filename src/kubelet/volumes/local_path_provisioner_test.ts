import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from '../../api/types/core_v1.ts';
import { ensureClusterPki, issueCertificate } from '../../base/pki.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { RestClient } from '../../client/rest_client.ts';
import { startTestServer, type TestServer } from '../../testing/test_server.ts';
import { LOCAL_PATH_PROVISIONER, LocalPathProvisioner, provisionedVolume } from './local_path_provisioner.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('local-path provisioner', () => {
  let server: TestServer;
  let client: RestClient;
  let nodeClient: RestClient;
  let storage: string;
  let prov: LocalPathProvisioner;
  before(async () => {
    server = await startTestServer();
    client = await RestClient.fromKubeconfig(server.kubeconfig);
    // the provisioner runs as the node: the bootstrap RBAC binding must be what lets it work
    const pki = await ensureClusterPki({ dir: join(server.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const cert = await issueCertificate({ ca: pki.ca, commonName: 'system:node:node-a', organizations: ['system:nodes'], usages: 'client', days: 1 });
    nodeClient = new RestClient({ server: server.url, caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem });
    storage = mkdtempSync(join(tmpdir(), 'tkube-lpp-'));
    prov = new LocalPathProvisioner({ client: nodeClient, nodeName: 'node-a', storageDir: storage });
    await prov.start();
  });
  after(async () => {
    await prov.dispose();
    nodeClient.dispose();
    client.dispose();
    await server.stop();
    rmSync(storage, { recursive: true, force: true });
  });

  test('the built-in class exists at bootstrap: default, WaitForFirstConsumer, Delete', async () => {
    const r = await server.request('GET', '/apis/storage.k8s.io/v1/storageclasses/local-path');
    const sc = r.json<{ provisioner: string; volumeBindingMode: string; reclaimPolicy: string; metadata: { annotations: Record<string, string> } }>();
    assert.equal(sc.provisioner, LOCAL_PATH_PROVISIONER);
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc.reclaimPolicy, 'Delete');
    assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
  });

  test('the volume is a hostPath pinned to the node and pre-bound to the claim', () => {
    const pvc: PersistentVolumeClaim = { metadata: { name: 'data', namespace: 'ns', uid: 'abc', resourceVersion: '7' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    const pv = provisionedVolume(pvc, { metadata: { name: 'local-path' }, provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete' }, '/d/pvc-abc_ns_data', 'node-a');
    assert.equal(pv.metadata?.name, 'pvc-abc');
    assert.deepEqual(pv.spec?.claimRef, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'abc', resourceVersion: '7' });
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] }]);
    assert.deepEqual(pv.spec?.hostPath, { path: '/d/pvc-abc_ns_data', type: 'DirectoryOrCreate' });
    assert.equal(pv.spec?.capacity?.['storage'], '1Gi');
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], LOCAL_PATH_PROVISIONER);
  });

  test('a claim selected for this node gets a directory and a PV; once released both go', async () => {
    const pvcs = client.resource<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims')).inNamespace('default');
    const pvs = client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    const annotations = { 'volume.kubernetes.io/storage-provisioner': LOCAL_PATH_PROVISIONER };
    // another node's claim is left alone
    await pvcs.create({ metadata: { name: 'elsewhere', annotations: { ...annotations, 'volume.kubernetes.io/selected-node': 'node-b' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } });
    const claim = await pvcs.create({ metadata: { name: 'mine', annotations: { ...annotations, 'volume.kubernetes.io/selected-node': 'node-a' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } });
    assert.equal(claim.spec?.storageClassName, 'local-path', 'the default class was applied');
    const name = `pvc-${claim.metadata?.uid ?? ''}`;
    const pv = await until('the PV', () => pvs.get(name));
    const path = pv.spec?.hostPath?.path ?? '';
    assert.equal(path, join(storage, `${name}_default_mine`));
    assert.equal(statSync(path).mode & 0o777, 0o777);
    const other = await pvcs.get('elsewhere');
    await assert.rejects(pvs.get(`pvc-${other.metadata?.uid ?? ''}`), /not found/);

    // what the PV controller does once the claim is gone
    await pvs.updateStatus({ ...pv, status: { phase: 'Released' } });
    await until('the PV deleted', async () => {
      const got = await pvs.get(name).catch(() => undefined);
      return got === undefined || got.metadata?.deletionTimestamp ? true : undefined;
    });
    assert.equal(existsSync(path), false);
  });
});
