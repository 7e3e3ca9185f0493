// Garbage collector and namespace controller against a real API server, driven by kubectl:
// background, foreground and orphan cascades, dangling owners, and a namespace deletion that
// empties everything before the namespace goes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, getJson, kubectlOk, listPods, startHarness, type Harness } from './workload_harness.ts';

const deployment = (ns: string, replicas = 2): string => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {terminationGracePeriodSeconds: 1, containers: [{name: c, image: nginx}]}
`;

async function rolledOut(h: Harness, ns: string): Promise<void> {
  await kubectlOk(h.s, ['apply', '-f', '-'], deployment(ns));
  await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
}

async function count(h: Harness, ns: string): Promise<{ rs: number; pods: number; deploy: number }> {
  // Owner first: if it is gone when read, its dependents must be gone when read after it.
  const deploy = await getJson(h.s, ['deploy', '-n', ns]);
  const rs = await getJson(h.s, ['rs', '-n', ns]);
  const pods = await listPods(h, ns);
  return { rs: rs.items.length, pods: pods.length, deploy: deploy.items.length };
}

describe('garbage collector and namespace controller', () => {
  let h: Harness;
  before(async () => { h = await startHarness(['replicaset', 'deployment', 'garbagecollector', 'namespace']); });
  after(async () => { await h.stop(); });

  test('deleting a Deployment (background) deletes its ReplicaSet and pods', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'gc1']);
    await rolledOut(h, 'gc1');
    await kubectlOk(h.s, ['delete', 'deployment', 'web', '-n', 'gc1']);
    await eventually('ReplicaSet and pods collected', async () => {
      const c = await count(h, 'gc1');
      return c.rs === 0 && c.pods === 0 ? true : undefined;
    });
  });

  test('foreground deletion removes dependents before the owner', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'gc2']);
    await rolledOut(h, 'gc2');
    await kubectlOk(h.s, ['delete', 'deployment', 'web', '-n', 'gc2', '--cascade=foreground', '--wait=false']);
    const seen: { deploy: number; rs: number; pods: number }[] = [];
    await eventually('everything gone', async () => {
      const c = await count(h, 'gc2');
      seen.push(c);
      return c.deploy === 0 ? true : undefined;
    });
    const last = seen[seen.length - 1]!;
    assert.deepEqual(last, { deploy: 0, rs: 0, pods: 0 }, 'the Deployment went last');
    // While the owner waited, it carried the foregroundDeletion finalizer (or was already done).
    assert.ok(seen.every((c) => c.deploy === 1 || (c.rs === 0 && c.pods === 0)), JSON.stringify(seen));
  });

  test('orphan deletion keeps the ReplicaSet and pods and strips the ownerReference', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'gc3']);
    await rolledOut(h, 'gc3');
    await kubectlOk(h.s, ['delete', 'deployment', 'web', '-n', 'gc3', '--cascade=orphan']);
    await eventually('Deployment gone', async () => ((await count(h, 'gc3')).deploy === 0 ? true : undefined));
    const rs = await eventually('ReplicaSet orphaned', async () => {
      const list = (await getJson(h.s, ['rs', '-n', 'gc3'])).items;
      return list.length === 1 && !list[0].metadata.ownerReferences?.length ? list[0] : undefined;
    });
    assert.equal(rs.spec.replicas, 2);
    const pods = await listPods(h, 'gc3');
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.metadata!.ownerReferences![0]!.uid === rs.metadata.uid));
  });

  test('an object whose owner does not exist is collected; a live owner keeps it', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'gc4']);
    await kubectlOk(h.s, ['create', 'configmap', 'parent', '-n', 'gc4']);
    const parent = await getJson(h.s, ['configmap', 'parent', '-n', 'gc4']);
    await kubectlOk(h.s, ['apply', '-f', '-'], `
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  namespace: gc4
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: parent, uid: ${parent.metadata.uid}}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: doomed
  namespace: gc4
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: parent, uid: 00000000-0000-0000-0000-000000000001}]
`);
    await eventually('the dangling one is collected', async () => {
      const r = await h.s.kubectl(['get', 'configmap', 'doomed', '-n', 'gc4']);
      return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
    });
    await kubectlOk(h.s, ['get', 'configmap', 'kept', '-n', 'gc4']);
    await kubectlOk(h.s, ['delete', 'configmap', 'parent', '-n', 'gc4']);
    await eventually('the dependent follows its owner', async () => {
      const r = await h.s.kubectl(['get', 'configmap', 'kept', '-n', 'gc4']);
      return r.code !== 0 ? true : undefined;
    });
  });

  test('deleting a namespace empties it, sets the deletion conditions and removes it', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'ns1']);
    await rolledOut(h, 'ns1');
    await kubectlOk(h.s, ['create', 'configmap', 'c1', '-n', 'ns1', '--from-literal=a=b']);
    await kubectlOk(h.s, ['create', 'secret', 'generic', 's1', '-n', 'ns1', '--from-literal=a=b']);
    await kubectlOk(h.s, ['create', 'service', 'clusterip', 'svc1', '-n', 'ns1', '--tcp=80:80']);
    await kubectlOk(h.s, ['delete', 'namespace', 'ns1', '--wait=false']);
    const terminating = await getJson(h.s, ['namespace', 'ns1']);
    assert.equal(terminating.status.phase, 'Terminating');
    let conditions: any[] | undefined;
    await eventually('namespace gone', async () => {
      const r = await h.s.kubectl(['get', 'namespace', 'ns1', '-o', 'json']);
      if (r.code === 0) {
        const ns = JSON.parse(r.stdout);
        if (ns.status.conditions) conditions = ns.status.conditions;
        return undefined;
      }
      return /NotFound/.test(r.stderr) ? true : undefined;
    }, 30_000);
    assert.ok(conditions, 'deletion conditions were reported');
    const byType = Object.fromEntries(conditions!.map((c: any) => [c.type, c]));
    assert.equal(byType['NamespaceDeletionDiscoveryFailure'].reason, 'ResourcesDiscovered');
    assert.equal(byType['NamespaceDeletionDiscoveryFailure'].message, 'All resources successfully discovered');
    assert.equal(byType['NamespaceDeletionContentFailure'].reason, 'ContentDeleted');
    assert.ok(['ContentRemoved', 'SomeResourcesRemain'].includes(byType['NamespaceContentRemaining'].reason));
    for (const what of ['pods', 'rs', 'deploy', 'configmaps', 'secrets', 'services']) {
      const r = await getJson(h.s, [what, '-n', 'ns1']);
      assert.equal(r.items.length, 0, `${what} left in the deleted namespace`);
    }
  });
});
