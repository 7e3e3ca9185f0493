// Node controllers against a real API server: node IPAM hands out distinct /24s (and reports an
// exhausted range), and a node whose Lease stops being renewed goes Unknown, is tainted
// unreachable, its pods are marked NotReady and evicted once their tolerationSeconds run out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/node_ipam/node_ipam_controller.ts';
import '../../../src/controllers/node_lifecycle/taint_eviction_controller.ts';
import { NodeLifecycleController } from '../../../src/controllers/node_lifecycle/node_lifecycle_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, startFakeNode, type FakeNode, type RunningControllers } from './svcnode_harness.ts';

describe('node lifecycle', () => {
  let s: TestServer;
  let run: RunningControllers;
  const nodes: FakeNode[] = [];

  before(async () => {
    s = await startTestServer();
    run = await startControllers(s, ['taint-eviction-controller', 'nodeipam'], { nodeMonitorGracePeriodMs: 2000 },
      (ctx) => [new NodeLifecycleController(ctx, { monitorPeriodMs: 250 })]);
  });

  after(async () => {
    for (const n of nodes) n.stopHeartbeat();
    await run?.stop();
    await s?.stop();
  });

  test('node IPAM gives each node its own /24', async () => {
    nodes.push(await startFakeNode(run.client, 'node-a'), await startFakeNode(run.client, 'node-b'));
    const cidrs = await eventually('pod CIDRs on both nodes', async () => {
      const list = (await getJson(s, ['nodes'])).items as any[];
      const got = list.map((n) => n.spec.podCIDR).filter(Boolean);
      return got.length === 2 ? list : undefined;
    });
    const [a, b] = cidrs.map((n: any) => n.spec.podCIDR);
    assert.notEqual(a, b);
    for (const n of cidrs) {
      assert.match(n.spec.podCIDR, /^10\.42\.\d+\.0\/24$/);
      assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
    }
  });

  test('a node that stops renewing its lease goes Unknown, is tainted and its pods are evicted', async () => {
    const ns = await freshNamespace(s, 'nl');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: short
spec:
  nodeName: node-a
  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: 2
  containers:
  - name: c
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: forever
spec:
  nodeName: node-a
  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
  containers:
  - name: c
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: healthy
spec:
  nodeName: node-b
  containers:
  - name: c
    image: busybox
`);
    for (const p of ['short', 'forever', 'healthy']) await setPodStatus(run.client, ns, p, { ip: `10.42.9.${p.length}`, ready: true });

    nodes[0]!.stopHeartbeat();
    const node = await eventually('node-a Ready=Unknown', async () => {
      const n = await getJson(s, ['node', 'node-a']);
      const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
      return ready.status === 'Unknown' ? n : undefined;
    }, 15_000);
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.equal(node.status.conditions.find((c: any) => c.type === 'MemoryPressure').status, 'Unknown');

    const tainted = await eventually('unreachable taints', async () => {
      const n = await getJson(s, ['node', 'node-a']);
      const keys = (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).sort();
      return keys.join(',') === 'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule' ? n : undefined;
    });
    assert.ok(tainted.spec.taints.every((t: any) => typeof t.timeAdded === 'string'));
    const describe = await kubectlOk(s, ['describe', 'node', 'node-a']);
    assert.match(describe, /NodeNotReady\s+.*Node node-a status is now: NodeNotReady/);
    assert.match(describe, /node\.kubernetes\.io\/unreachable:NoExecute/);

    // Pods on the node are marked NotReady.
    await eventually('pods on node-a NotReady', async () => {
      const p = await getJson(s, ['pod', 'forever', '-n', ns]);
      return p.status.conditions.find((c: any) => c.type === 'Ready').status === 'False' ? true : undefined;
    });
    // The pod tolerating 2 s is evicted; the one tolerating forever stays.
    const evicted = await eventually('short pod evicted', async () => {
      const p = await getJson(s, ['pod', 'short', '-n', ns]);
      return p.metadata.deletionTimestamp ? p : undefined;
    }, 15_000);
    const dt = evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
    assert.deepEqual([dt.status, dt.reason, dt.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
    // Upstream's eviction event names the pod without its UID, so it shows in `get events`, not describe.
    const ev = await eventually('TaintManagerEviction event', async () => {
      const list = (await getJson(s, ['events', '-n', ns, '--field-selector', 'reason=TaintManagerEviction'])).items as any[];
      return list.length > 0 ? list : undefined;
    });
    assert.equal(ev[0].message, `Marking for deletion Pod ${ns}/short`);
    assert.equal(ev[0].source.component, 'taint-eviction-controller');
    const podDescribe = await kubectlOk(s, ['describe', 'pod', 'short', '-n', ns]);
    assert.match(podDescribe, /NodeNotReady\s+.*node-controller\s+Node is not ready/);
    const forever = await getJson(s, ['pod', 'forever', '-n', ns]);
    assert.equal(forever.metadata.deletionTimestamp, undefined);
    const healthy = await getJson(s, ['pod', 'healthy', '-n', ns]);
    assert.equal(healthy.metadata.deletionTimestamp, undefined);
    assert.equal(healthy.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    const b = await getJson(s, ['node', 'node-b']);
    assert.equal(b.spec.taints, undefined);
  });
});

describe('node IPAM range exhaustion', () => {
  let s: TestServer;
  let run: RunningControllers;
  const nodes: FakeNode[] = [];

  before(async () => {
    s = await startTestServer();
    run = await startControllers(s, ['nodeipam'], { clusterCidr: '10.77.0.0/23' });
  });

  after(async () => {
    for (const n of nodes) n.stopHeartbeat();
    await run?.stop();
    await s?.stop();
  });

  test('the node that finds no free range gets a CIDRNotAvailable event', async () => {
    for (const n of ['n1', 'n2', 'n3']) nodes.push(await startFakeNode(run.client, n, { renewMs: 5000 }));
    const events = await eventually('CIDRNotAvailable event', async () => {
      const list = (await getJson(s, ['events', '-n', 'default', '--field-selector', 'reason=CIDRNotAvailable'])).items as any[];
      return list.length > 0 ? list : undefined;
    });
    const list = (await getJson(s, ['nodes'])).items as any[];
    const cidrs = list.map((n) => n.spec.podCIDR).filter(Boolean).sort();
    assert.deepEqual(cidrs, ['10.77.0.0/24', '10.77.1.0/24']);
    const starved = list.find((n) => !n.spec.podCIDR);
    assert.equal(events[0].involvedObject.name, starved.metadata.name);
    assert.equal(events[0].message, `Node ${starved.metadata.name} status is now: CIDRNotAvailable`);
  });
});
