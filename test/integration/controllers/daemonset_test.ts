// DaemonSet controller against a real API server, driven by kubectl: one pod per eligible node
// (tainted nodes skipped, nodes added later picked up), pods pinned by node affinity with the
// default daemon tolerations, status counts, and a RollingUpdate followed by `kubectl rollout status`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/api/types/core_v1.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { DaemonSetsController } from '../../../src/controllers/daemonset/daemon_controller.ts';
import { startBatchHarness, type BatchHarness } from './batch_apps_harness.ts';
import { eventually, getJson, kubectlOk } from './workload_harness.ts';

const nodeYaml = (name: string, taint = ''): string => `
apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}}}
spec: {${taint}}
`;

const dsYaml = (ns: string, image = 'busybox:1.36'): string => `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: ${image}}]}
`;

/**
 * Creates a node as a kubelet that turned Ready would leave it: the NodeTaint admission plugin adds
 * node.kubernetes.io/not-ready:NoSchedule on create and node lifecycle removes it once Ready.
 */
async function addReadyNode(h: BatchHarness, name: string, taint = ''): Promise<void> {
  await kubectlOk(h.s, ['create', '-f', '-'], nodeYaml(name, taint));
  await kubectlOk(h.s, ['taint', 'node', name, 'node.kubernetes.io/not-ready:NoSchedule-']);
}

interface PodJson {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchFields: { key: string; values: string[] }[] }[] } } }; tolerations: { key: string; effect: string }[] };
}

function nodeOf(p: PodJson): string {
  return p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]!.matchFields[0]!.values[0]!;
}

describe('DaemonSet controller', () => {
  let h: BatchHarness;
  before(async () => {
    h = await startBatchHarness((ctx) => [{ controller: new DaemonSetsController(ctx), workers: 2 }]);
  });
  after(async () => { await h.stop(); });

  test('runs one pod per eligible node, skips a tainted node and picks up nodes added later', async () => {
    await addReadyNode(h, 'node-a');
    await addReadyNode(h, 'node-b', 'taints: [{key: dedicated, value: infra, effect: NoSchedule}]');
    await kubectlOk(h.s, ['create', 'namespace', 'd1']);
    await kubectlOk(h.s, ['apply', '-f', '-'], dsYaml('d1'));
    const ds1 = await eventually('1 pod ready', async () => {
      const o = await getJson(h.s, ['ds', 'agent', '-n', 'd1']);
      return o.status?.numberReady === 1 ? o : undefined;
    });
    assert.equal(ds1.status.desiredNumberScheduled, 1);
    assert.equal(ds1.status.currentNumberScheduled, 1);
    assert.equal(ds1.status.numberMisscheduled, 0);
    let pods: PodJson[] = (await getJson(h.s, ['pods', '-n', 'd1'])).items;
    assert.deepEqual(pods.map(nodeOf), ['node-a']);
    const pod = pods[0]!;
    assert.ok(pod.metadata.labels['controller-revision-hash'], 'revision hash label');
    const tolerations = pod.spec.tolerations.map((t) => `${t.key}:${t.effect}`);
    for (const t of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']) {
      assert.ok(tolerations.includes(t), `missing toleration ${t}`);
    }

    await addReadyNode(h, 'node-c');
    const ds2 = await eventually('2 pods ready', async () => {
      const o = await getJson(h.s, ['ds', 'agent', '-n', 'd1']);
      return o.status?.numberReady === 2 && o.status?.numberAvailable === 2 ? o : undefined;
    });
    assert.equal(ds2.status.desiredNumberScheduled, 2);
    assert.equal(ds2.status.updatedNumberScheduled, 2);
    assert.equal(ds2.status.observedGeneration, ds2.metadata.generation);
    pods = (await getJson(h.s, ['pods', '-n', 'd1'])).items;
    assert.deepEqual(pods.map(nodeOf).sort(), ['node-a', 'node-c']);

    // Removing the taint makes node-b eligible too.
    await kubectlOk(h.s, ['taint', 'node', 'node-b', 'dedicated=infra:NoSchedule-']);
    await eventually('3 pods', async () => {
      const o = await getJson(h.s, ['ds', 'agent', '-n', 'd1']);
      return o.status?.numberReady === 3 && o.status?.desiredNumberScheduled === 3 ? o : undefined;
    });
    const out = await kubectlOk(h.s, ['get', 'ds', 'agent', '-n', 'd1']);
    assert.match(out, /agent\s+3\s+3\s+3\s+3\s+3/);
    const d = await eventually('events', async () => {
      const o = await kubectlOk(h.s, ['describe', 'ds', 'agent', '-n', 'd1']);
      return /SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: agent-/.test(o) ? o : undefined;
    });
    assert.match(d, /Desired Number of Nodes Scheduled: 3/);
  });

  test('a RollingUpdate replaces pods one node at a time', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd2']);
    await kubectlOk(h.s, ['apply', '-f', '-'], dsYaml('d2'));
    await eventually('all nodes ready', async () => {
      const o = await getJson(h.s, ['ds', 'agent', '-n', 'd2']);
      return o.status?.numberReady === 3 ? o : undefined;
    });
    const before = (await getJson(h.s, ['pods', '-n', 'd2'])).items.map((p: PodJson) => p.metadata.name).sort();
    // Watch how many nodes keep a ready pod throughout the update: maxUnavailable 1 allows 2 of 3.
    const watch = new SharedInformerFactory(h.client, { namespace: 'd2' });
    const inf = watch.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    let minReady = Infinity;
    const count = (): void => {
      const ready = inf.lister.list().filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      minReady = Math.min(minReady, ready.length);
    };
    inf.addEventHandler({ onAdd: count, onUpdate: count, onDelete: count });
    watch.start();
    assert.ok(await watch.waitForCacheSync(10_000), 'watch synced');
    let out: string;
    try {
      await kubectlOk(h.s, ['set', 'image', 'ds/agent', '-n', 'd2', 'agent=busybox:1.37']);
      out = await kubectlOk(h.s, ['rollout', 'status', 'ds/agent', '-n', 'd2', '--timeout=60s']);
    } finally {
      await watch.dispose();
    }
    assert.equal(minReady, 2, 'never more than maxUnavailable=1 node without a ready pod');
    assert.match(out, /daemon set "agent" successfully rolled out/);
    const ds = await getJson(h.s, ['ds', 'agent', '-n', 'd2']);
    assert.equal(ds.status.updatedNumberScheduled, 3);
    const after = (await getJson(h.s, ['pods', '-n', 'd2'])).items as PodJson[];
    assert.equal(after.length, 3);
    for (const p of after) assert.ok(!before.includes(p.metadata.name), `${p.metadata.name} was replaced`);
    const revs = await getJson(h.s, ['controllerrevisions', '-n', 'd2']);
    assert.deepEqual(revs.items.map((r: { revision: number }) => r.revision).sort(), [1, 2]);
    const hashes = new Set(after.map((p) => p.metadata.labels['controller-revision-hash']));
    assert.equal(hashes.size, 1);
  });
});
