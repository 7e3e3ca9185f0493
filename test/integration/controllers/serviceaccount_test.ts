// ServiceAccounts controller and root CA publisher against a real API server: a new namespace gets
// its default ServiceAccount and the kube-root-ca.crt ConfigMap, and both come back when deleted or
// edited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/serviceaccount/serviceaccounts_controller.ts';
import '../../../src/controllers/root_ca_publisher/publisher.ts';
import { eventually, getJson, kubectlOk, startControllers, type RunningControllers } from './svcnode_harness.ts';

const CA = '-----BEGIN CERTIFICATE-----\nTESTCA\n-----END CERTIFICATE-----\n';
let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['serviceaccount', 'root-ca-cert-publisher'], { rootCaPem: CA });
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

describe('ServiceAccounts and kube-root-ca.crt', () => {
  test('a new namespace gets the default ServiceAccount and kube-root-ca.crt', async () => {
    await kubectlOk(s, ['create', 'namespace', 'team-a']);
    const sa = await eventually('default service account', async () => {
      const r = await s.kubectl(['get', 'serviceaccount', 'default', '-n', 'team-a', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    });
    assert.equal(sa.metadata.name, 'default');
    const cm = await eventually('kube-root-ca.crt', async () => {
      const r = await s.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    });
    assert.equal(cm.data['ca.crt'], CA);
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    // The built-in namespaces have them too.
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await eventually(`default SA in ${ns}`, async () => ((await s.kubectl(['get', 'sa', 'default', '-n', ns])).code === 0 ? true : undefined));
    }
  });

  test('deleted or edited objects are restored', async () => {
    await kubectlOk(s, ['create', 'namespace', 'team-b']);
    await eventually('sa', async () => ((await s.kubectl(['get', 'sa', 'default', '-n', 'team-b'])).code === 0 ? true : undefined));
    const first = await getJson(s, ['sa', 'default', '-n', 'team-b']);
    await kubectlOk(s, ['delete', 'sa', 'default', '-n', 'team-b']);
    await eventually('recreated sa', async () => {
      const r = await s.kubectl(['get', 'sa', 'default', '-n', 'team-b', '-o', 'json']);
      return r.code === 0 && JSON.parse(r.stdout).metadata.uid !== first.metadata.uid ? true : undefined;
    });
    await eventually('configmap', async () => ((await s.kubectl(['get', 'cm', 'kube-root-ca.crt', '-n', 'team-b'])).code === 0 ? true : undefined));
    await kubectlOk(s, ['patch', 'configmap', 'kube-root-ca.crt', '-n', 'team-b', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await eventually('restored ca.crt', async () => ((await getJson(s, ['cm', 'kube-root-ca.crt', '-n', 'team-b'])).data['ca.crt'] === CA ? true : undefined));
    await kubectlOk(s, ['delete', 'configmap', 'kube-root-ca.crt', '-n', 'team-b']);
    await eventually('recreated configmap', async () => {
      const r = await s.kubectl(['get', 'cm', 'kube-root-ca.crt', '-n', 'team-b', '-o', 'json']);
      return r.code === 0 && JSON.parse(r.stdout).data['ca.crt'] === CA ? true : undefined;
    });
  });
});
