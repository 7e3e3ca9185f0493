// ReplicaSet and ReplicationController controllers against a real API server, driven by kubectl:
// self-healing, release on relabel, scaling, events and status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, getJson, kubectlOk, listPods, startHarness, type Harness } from './workload_harness.ts';

const rsYaml = (ns: string, replicas: number): string => `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
`;

describe('ReplicaSet controller', () => {
  let h: Harness;
  before(async () => { h = await startHarness(['replicaset', 'replicationcontroller']); });
  after(async () => { await h.stop(); });

  test('ReplicaSet creates its pods, reports status and recreates a deleted pod', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'rs1']);
    await kubectlOk(h.s, ['apply', '-f', '-'], rsYaml('rs1', 3));
    const rs = await eventually('3 ready replicas', async () => {
      const o = await getJson(h.s, ['rs', 'web', '-n', 'rs1']);
      return o.status?.readyReplicas === 3 && o.status?.availableReplicas === 3 ? o : undefined;
    });
    assert.equal(rs.status.replicas, 3);
    assert.equal(rs.status.fullyLabeledReplicas, 3);
    assert.equal(rs.status.observedGeneration, rs.metadata.generation);
    const pods = await listPods(h, 'rs1');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(p.metadata!.generateName, 'web-');
      assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    const victim = pods[0]!.metadata!.name!;
    await kubectlOk(h.s, ['delete', 'pod', victim, '-n', 'rs1']);
    await eventually('a replacement pod', async () => {
      const now = await listPods(h, 'rs1');
      return now.length === 3 && !now.some((p) => p.metadata!.name === victim) ? now : undefined;
    });
    const events = await eventually('SuccessfulCreate and SuccessfulDelete-free events', async () => {
      const ev = await getJson(h.s, ['events', '-n', 'rs1', '--field-selector', 'involvedObject.name=web']);
      return ev.items.filter((e: any) => e.reason === 'SuccessfulCreate').length >= 4 ? ev : undefined;
    });
    const created = events.items.find((e: any) => e.reason === 'SuccessfulCreate');
    assert.match(created.message, /^Created pod: web-[a-z0-9]{5}$/);
    assert.equal(created.source.component, 'replicaset-controller');
    const describe = await kubectlOk(h.s, ['describe', 'rs', 'web', '-n', 'rs1']);
    assert.match(describe, /Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed/);
    assert.match(describe, /SuccessfulCreate\s+.*Created pod: web-/);
  });

  test('relabelling a pod out of its ReplicaSet releases it and creates a replacement', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'rs2']);
    await kubectlOk(h.s, ['apply', '-f', '-'], rsYaml('rs2', 2));
    const pods = await eventually('2 pods', async () => {
      const p = await listPods(h, 'rs2');
      return p.length === 2 ? p : undefined;
    });
    const moved = pods[0]!.metadata!.name!;
    await kubectlOk(h.s, ['label', 'pod', moved, '-n', 'rs2', 'app=debug', '--overwrite']);
    await eventually('the released pod has no owner and a replacement exists', async () => {
      const all = await listPods(h, 'rs2');
      const released = all.find((p) => p.metadata!.name === moved);
      const owned = all.filter((p) => p.metadata!.labels!['app'] === 'web');
      return released && (released.metadata!.ownerReferences ?? []).length === 0 && owned.length === 2 ? true : undefined;
    });
    // Putting the label back makes it an orphan the ReplicaSet adopts, and one pod goes.
    await kubectlOk(h.s, ['label', 'pod', moved, '-n', 'rs2', 'app=web', '--overwrite']);
    await eventually('adopted again and back to 2 pods', async () => {
      const all = (await listPods(h, 'rs2')).filter((p) => !p.metadata!.deletionTimestamp);
      return all.length === 2 && all.every((p) => (p.metadata!.ownerReferences ?? []).length === 1) ? true : undefined;
    });
  });

  test('scale up and down through kubectl scale', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'rs3']);
    await kubectlOk(h.s, ['apply', '-f', '-'], rsYaml('rs3', 1));
    await eventually('1 pod', async () => ((await listPods(h, 'rs3')).length === 1 ? true : undefined));
    await kubectlOk(h.s, ['scale', 'rs', 'web', '-n', 'rs3', '--replicas=5']);
    await eventually('5 ready', async () => {
      const o = await getJson(h.s, ['rs', 'web', '-n', 'rs3']);
      return o.status?.readyReplicas === 5 ? true : undefined;
    });
    await kubectlOk(h.s, ['scale', 'rs', 'web', '-n', 'rs3', '--replicas=2']);
    await eventually('2 pods and status 2', async () => {
      const o = await getJson(h.s, ['rs', 'web', '-n', 'rs3']);
      const pods = await listPods(h, 'rs3');
      return o.status?.replicas === 2 && pods.length === 2 ? true : undefined;
    });
    const ev = await getJson(h.s, ['events', '-n', 'rs3', '--field-selector', 'reason=SuccessfulDelete']);
    assert.ok(ev.items.length >= 3, 'three SuccessfulDelete events');
    assert.match(ev.items[0].message, /^Deleted pod: web-[a-z0-9]{5}$/);
  });

  test('ReplicationController keeps its replicas', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'rc1']);
    await kubectlOk(h.s, ['apply', '-f', '-'], `
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: rc1}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: nginx}]}
`);
    const rc = await eventually('2 ready', async () => {
      const o = await getJson(h.s, ['rc', 'legacy', '-n', 'rc1']);
      return o.status?.readyReplicas === 2 ? o : undefined;
    });
    const pods = await listPods(h, 'rc1');
    assert.equal(pods[0]!.metadata!.ownerReferences![0]!.kind, 'ReplicationController');
    assert.equal(pods[0]!.metadata!.ownerReferences![0]!.uid, rc.metadata.uid);
    const ev = await getJson(h.s, ['events', '-n', 'rc1', '--field-selector', 'reason=SuccessfulCreate']);
    assert.equal(ev.items[0].source.component, 'replication-controller');
  });
});
