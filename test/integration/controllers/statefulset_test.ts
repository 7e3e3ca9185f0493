// StatefulSet controller against a real API server, driven by kubectl: pods start in ordinal order
// each after its predecessor is Ready, claims are created per pod, scale-down removes the highest
// ordinal first, and a template change rolls pods from the highest ordinal down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/api/types/core_v1.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { StatefulSetController } from '../../../src/controllers/statefulset/stateful_set.ts';
import { startBatchHarness, type BatchHarness } from './batch_apps_harness.ts';
import { eventually, getJson, kubectlOk } from './workload_harness.ts';

const stsYaml = (ns: string, replicas: number, image = 'nginx:1.27'): string => `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: ${ns}}
spec:
  serviceName: web
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Delete}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: ${image}}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;

/** Records pod creations (with which other pods were Ready then) and deletions, in order. */
class PodLog {
  created: { name: string; readyOthers: string[] }[] = [];
  deleted: string[] = [];
  #factory: SharedInformerFactory;
  constructor(h: BatchHarness, ns: string) {
    this.#factory = new SharedInformerFactory(h.client, { namespace: ns });
    const inf = this.#factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    inf.addEventHandler({
      onAdd: (p) => {
        const readyOthers = inf.lister.list().filter((o) => o.metadata?.name !== p.metadata?.name && o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        this.created.push({ name: p.metadata!.name!, readyOthers: readyOthers.map((o) => o.metadata!.name!).sort() });
      },
      onDelete: (p) => { this.deleted.push((p as Pod).metadata?.name ?? ''); },
    });
  }
  async start(): Promise<void> {
    this.#factory.start();
    assert.ok(await this.#factory.waitForCacheSync(10_000), 'pod log did not sync');
  }
  async dispose(): Promise<void> {
    await this.#factory.dispose();
  }
}

describe('StatefulSet controller', () => {
  let h: BatchHarness;
  before(async () => {
    h = await startBatchHarness((ctx) => [{ controller: new StatefulSetController(ctx), workers: 2 }]);
  });
  after(async () => { await h.stop(); });

  test('pods start in ordinal order with their claims and scale down from the highest ordinal', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 's1']);
    const log = new PodLog(h, 's1');
    await log.start();
    try {
      await kubectlOk(h.s, ['apply', '-f', '-'], stsYaml('s1', 3));
      const sts = await eventually('3 ready replicas', async () => {
        const o = await getJson(h.s, ['sts', 'web', '-n', 's1']);
        return o.status?.readyReplicas === 3 && o.status?.availableReplicas === 3 && o.status?.currentReplicas === 3 ? o : undefined;
      }, 30_000);
      assert.deepEqual(log.created.map((c) => c.name), ['web-0', 'web-1', 'web-2']);
      // OrderedReady: each pod is created only once all its predecessors are Ready.
      assert.deepEqual(log.created.map((c) => c.readyOthers), [[], ['web-0'], ['web-0', 'web-1']]);
      assert.equal(sts.status.replicas, 3);
      assert.equal(sts.status.updatedReplicas, 3);
      assert.equal(sts.status.currentRevision, sts.status.updateRevision);
      assert.match(sts.status.currentRevision, /^web-[a-z0-9]+$/);
      assert.equal(sts.status.observedGeneration, sts.metadata.generation);

      const pod = await getJson(h.s, ['pod', 'web-1', '-n', 's1']);
      assert.equal(pod.spec.hostname, 'web-1');
      assert.equal(pod.spec.subdomain, 'web');
      assert.equal(pod.metadata.labels['statefulset.kubernetes.io/pod-name'], 'web-1');
      assert.equal(pod.metadata.labels['apps.kubernetes.io/pod-index'], '1');
      assert.equal(pod.metadata.labels['controller-revision-hash'], sts.status.currentRevision);
      assert.deepEqual(pod.spec.volumes[0], { name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } });

      const pvcs = await getJson(h.s, ['pvc', '-n', 's1']);
      assert.deepEqual(pvcs.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
      const pvc = pvcs.items.find((p: { metadata: { name: string } }) => p.metadata.name === 'data-web-0');
      assert.equal(pvc.metadata.labels.app, 'web');
      const revs = await getJson(h.s, ['controllerrevisions', '-n', 's1']);
      assert.equal(revs.items.length, 1);
      assert.equal(revs.items[0].revision, 1);

      const d = await eventually('events', async () => {
        const out = await kubectlOk(h.s, ['describe', 'sts', 'web', '-n', 's1']);
        return out.includes('create Pod web-2 in StatefulSet web successful') ? out : undefined;
      });
      assert.match(d, /SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Claim data-web-0 Pod web-0 in StatefulSet web success/);

      await kubectlOk(h.s, ['scale', 'sts', 'web', '-n', 's1', '--replicas=1']);
      await eventually('scaled to 1', async () => {
        const o = await getJson(h.s, ['sts', 'web', '-n', 's1']);
        return o.status?.replicas === 1 && o.status?.readyReplicas === 1 && log.deleted.length >= 2 ? o : undefined;
      }, 30_000);
      assert.deepEqual(log.deleted, ['web-2', 'web-1']);
      // whenScaled: Delete hands the claims of removed pods to those pods (the GC deletes them).
      const claim2 = await getJson(h.s, ['pvc', 'data-web-2', '-n', 's1']);
      assert.equal(claim2.metadata.ownerReferences?.[0]?.kind, 'Pod');
      assert.equal(claim2.metadata.ownerReferences?.[0]?.name, 'web-2');
      const claim0 = await getJson(h.s, ['pvc', 'data-web-0', '-n', 's1']);
      assert.equal(claim0.metadata.ownerReferences, undefined);
    } finally {
      await log.dispose();
    }
  });

  test('a template change rolls pods from the highest ordinal down', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 's2']);
    const log = new PodLog(h, 's2');
    await log.start();
    try {
      await kubectlOk(h.s, ['apply', '-f', '-'], stsYaml('s2', 3));
      await eventually('3 ready', async () => {
        const o = await getJson(h.s, ['sts', 'web', '-n', 's2']);
        return o.status?.readyReplicas === 3 ? o : undefined;
      }, 30_000);
      log.deleted.length = 0;
      await kubectlOk(h.s, ['apply', '-f', '-'], stsYaml('s2', 3, 'nginx:1.28'));
      const out = await kubectlOk(h.s, ['rollout', 'status', 'sts/web', '-n', 's2', '--timeout=60s']);
      assert.match(out, /partitioned roll out complete: 3 new pods have been updated|roll out complete/);
      assert.deepEqual(log.deleted, ['web-2', 'web-1', 'web-0']);
      const sts = await getJson(h.s, ['sts', 'web', '-n', 's2']);
      assert.equal(sts.status.currentRevision, sts.status.updateRevision);
      const revs = await getJson(h.s, ['controllerrevisions', '-n', 's2']);
      assert.deepEqual(revs.items.map((r: { revision: number }) => r.revision).sort(), [1, 2]);
      const history = await kubectlOk(h.s, ['rollout', 'history', 'sts/web', '-n', 's2']);
      assert.match(history, /REVISION\s+CHANGE-CAUSE\s*\n1\s+<none>\s*\n2\s+<none>/);
    } finally {
      await log.dispose();
    }
  });
});
