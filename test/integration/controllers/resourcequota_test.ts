// The ResourceQuota controller against a real API server: status.hard mirrors spec.hard and
// status.used counts pods (compute resources, by scope), services, config maps and objects of any
// resource, going down again when objects are deleted or pods finish.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/resourcequota/resource_quota_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['resourcequota']);
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

function pod(name: string, cpu: string, mem: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: node-a
  containers:
  - name: c
    image: nginx
    resources:
      requests: {cpu: ${cpu}, memory: ${mem}}
      limits: {cpu: ${cpu}, memory: ${mem}}
---
`;
}

async function used(ns: string, name: string): Promise<Record<string, string>> {
  return (await getJson(s, ['resourcequota', name, '-n', ns])).status?.used ?? {};
}

describe('ResourceQuota status', () => {
  test('used counts what the namespace holds and follows deletions', async () => {
    const ns = await freshNamespace(s, 'rq');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `${pod('a', '100m', '64Mi')}${pod('b', '250m', '128Mi')}apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec: {containers: [{name: c, image: nginx}]}
`);
    await kubectlOk(s, ['create', 'service', 'clusterip', 'svc', '--tcp=80:80', '-n', ns]);
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
spec:
  hard:
    pods: "10"
    requests.cpu: "2"
    requests.memory: 1Gi
    limits.cpu: "4"
    configmaps: "5"
    services: "3"
    count/deployments.apps: "2"
    secrets: "9"
`);
    const expected = {
      pods: '2', 'requests.cpu': '350m', 'requests.memory': '192Mi', 'limits.cpu': '350m',
      configmaps: '1', services: '1', 'count/deployments.apps': '1', secrets: '0',
    };
    await eventually('used as expected', async () => {
      const u = await used(ns, 'q');
      return JSON.stringify(Object.fromEntries(Object.entries(u).sort())) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())) ? true : undefined;
    });
    const q = await getJson(s, ['resourcequota', 'q', '-n', ns]);
    assert.equal(q.status.hard['requests.memory'], '1Gi');
    assert.equal(q.status.hard.pods, '10');
    const d = await kubectlOk(s, ['describe', 'quota', 'q', '-n', ns]);
    assert.match(d, /requests\.cpu\s+350m\s+2/);

    // A finished pod stops costing compute; a deleted config map is given back.
    await setPodStatus(run.client, ns, 'b', { ready: false, phase: 'Succeeded' });
    await kubectlOk(s, ['delete', 'configmap', 'settings', '-n', ns]);
    await eventually('replenished', async () => {
      const u = await used(ns, 'q');
      return u.pods === '1' && u['requests.cpu'] === '100m' && u.configmaps === '0' ? true : undefined;
    });
  });

  test('scopes select which pods count', async () => {
    const ns = await freshNamespace(s, 'rqs');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `${pod('burstable', '100m', '64Mi')}apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  nodeName: node-a
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: be}
spec:
  hard: {pods: "5"}
  scopes: [BestEffort]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: nbe}
spec:
  hard: {pods: "5", requests.cpu: "1"}
  scopes: [NotBestEffort]
`);
    await eventually('scoped usage', async () => {
      const be = await used(ns, 'be'), nbe = await used(ns, 'nbe');
      return be.pods === '1' && nbe.pods === '1' && nbe['requests.cpu'] === '100m' ? true : undefined;
    });
  });
});
