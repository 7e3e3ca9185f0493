// The disruption controller against a real API server: PodDisruptionBudget status counts healthy
// pods as a fake kubelet makes them ready, with upstream's DisruptionAllowed condition, and
// percentage budgets read the scale of the pods' controller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/disruption/disruption.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['disruption']);
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

function pods(n: number, extra = ''): string {
  return Array.from({ length: n }, (_, i) => `apiVersion: v1
kind: Pod
metadata:
  name: web-${i}
  labels: {app: web}
${extra}spec:
  nodeName: node-a
  containers:
  - name: c
    image: nginx
---
`).join('');
}

describe('PodDisruptionBudget status', () => {
  test('minAvailable counts healthy pods and allows disruptions only above it', async () => {
    const ns = await freshNamespace(s, 'pdb');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `${pods(3)}apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
`);
    const initial = await eventually('initial status', async () => {
      const p = await getJson(s, ['pdb', 'web', '-n', ns]);
      return p.status?.expectedPods === 3 ? p : undefined;
    });
    assert.equal(initial.status.currentHealthy, 0);
    assert.equal(initial.status.desiredHealthy, 2);
    assert.equal(initial.status.disruptionsAllowed, 0);
    assert.equal(initial.status.observedGeneration, initial.metadata.generation);
    const cond = initial.status.conditions.find((c: any) => c.type === 'DisruptionAllowed');
    assert.deepEqual([cond.status, cond.reason, cond.message], ['False', 'InsufficientPods', '']);

    for (let i = 0; i < 3; i++) await setPodStatus(run.client, ns, `web-${i}`, { ip: `10.42.3.${i + 1}`, ready: true });
    const ready = await eventually('three healthy', async () => {
      const p = await getJson(s, ['pdb', 'web', '-n', ns]);
      return p.status.currentHealthy === 3 ? p : undefined;
    });
    assert.equal(ready.status.disruptionsAllowed, 1);
    const c2 = ready.status.conditions.find((c: any) => c.type === 'DisruptionAllowed');
    assert.deepEqual([c2.status, c2.reason], ['True', 'SufficientPods']);
    const out = await kubectlOk(s, ['get', 'pdb', 'web', '-n', ns]);
    assert.match(out, /web\s+2\s+N\/A\s+1\s+/);

    await setPodStatus(run.client, ns, 'web-0', { ready: false });
    await eventually('back to zero allowed', async () => {
      const p = await getJson(s, ['pdb', 'web', '-n', ns]);
      return p.status.currentHealthy === 2 && p.status.disruptionsAllowed === 0 ? true : undefined;
    });
  });

  test('maxUnavailable uses the scale of the owning controller, and unmanaged pods are reported', async () => {
    const ns = await freshNamespace(s, 'pdbm');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
spec:
  replicas: 4
  selector:
    matchLabels: {app: rs}
  template:
    metadata:
      labels: {app: rs}
    spec:
      containers:
      - name: c
        image: nginx
`);
    const rs = await getJson(s, ['rs', 'rs', '-n', ns]);
    const owner = `  ownerReferences:\n  - {apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: ${rs.metadata.uid}, controller: true}\n`;
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `${pods(2, owner).replaceAll('app: web', 'app: rs')}apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: rs
spec:
  maxUnavailable: 25%
  selector:
    matchLabels: {app: rs}
`);
    for (let i = 0; i < 2; i++) await setPodStatus(run.client, ns, `web-${i}`, { ip: `10.42.4.${i + 1}`, ready: true });
    const p = await eventually('status from the ReplicaSet scale', async () => {
      const x = await getJson(s, ['pdb', 'rs', '-n', ns]);
      return x.status?.expectedPods === 4 && x.status.currentHealthy === 2 ? x : undefined;
    });
    assert.equal(p.status.desiredHealthy, 3);
    assert.equal(p.status.disruptionsAllowed, 0);

    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: stray
  labels: {app: rs}
spec:
  containers:
  - name: c
    image: nginx
`);
    await eventually('UnmanagedPods event', async () => {
      const d = await kubectlOk(s, ['describe', 'pdb', 'rs', '-n', ns]);
      return /UnmanagedPods\s+.*Pods selected by this PodDisruptionBudget \(selector: &LabelSelector\{MatchLabels:map\[string\]string\{app: rs,\}/.test(d) ? true : undefined;
    });
  });

  test('a budget without pods says so', async () => {
    const ns = await freshNamespace(s, 'pdbe');
    await kubectlOk(s, ['create', 'pdb', 'none', '-n', ns, '--selector=app=none', '--min-available=1']);
    await eventually('NoPods event', async () => {
      const d = await kubectlOk(s, ['describe', 'pdb', 'none', '-n', ns]);
      return /NoPods\s+.*No matching pods found/.test(d) ? true : undefined;
    });
    const p = await getJson(s, ['pdb', 'none', '-n', ns]);
    assert.equal(p.status.expectedPods, 0);
    assert.equal(p.status.disruptionsAllowed, 0);
  });
});
