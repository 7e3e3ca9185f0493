// Unit tests of node health monitoring and taint-based eviction with a FakeClock: objects go
// straight into the caches, API calls are recorded and answered from those caches.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { NodeLifecycleController } from './node_lifecycle_controller.ts';
import { TaintEvictionController } from './taint_eviction_controller.ts';
import { matchingTolerations, minTolerationMs, toleratesTaint } from './taints.ts';
import { strategicMergePatch } from '../../api/patch/strategic_merge.ts';

/** Answers GETs of nodes and pods from `objects`, records writes and applies them there. */
class FakeApi extends RestClient {
  readonly calls: { method: string; path: string; body: any }[] = [];
  readonly objects = new Map<string, any>();
  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }
  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body });
    const path = opts.path.replace(/\/status$/, '');
    if (opts.method === 'GET') return structuredClone(this.objects.get(path)) as T;
    if (opts.method === 'PUT') this.objects.set(path, structuredClone(opts.body));
    if (opts.method === 'PATCH') {
      const patched = strategicMergePatch(this.objects.get(path), JSON.parse(String(opts.body)) as Record<string, unknown>, 'io.k8s.api.core.v1.Node');
      this.objects.set(path, patched);
      return structuredClone(patched) as T;
    }
    return structuredClone(opts.body ?? {}) as T;
  }
}

function ctxFor(api: FakeApi, clock: FakeClock, recorder: FakeRecorder): ControllerContext {
  return {
    client: api, informers: new SharedInformerFactory(api), recorder: () => recorder, clock,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '', nodeMonitorGracePeriodMs: 40_000 },
  };
}

function node(name: string, clock: FakeClock): Node {
  const t = formatTime(clock.now());
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, creationTimestamp: t, resourceVersion: '1' },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: t, lastTransitionTime: t }] },
  };
}

describe('node lifecycle controller', () => {
  test('a node whose lease stops is marked Unknown after the grace period, tainted, its pods NotReady', async () => {
    const clock = new FakeClock();
    const api = new FakeApi();
    const recorder = new FakeRecorder();
    const c = new NodeLifecycleController(ctxFor(api, clock, recorder));
    const a = node('a', clock), b = node('b', clock);
    for (const n of [a, b]) {
      c.nodes.indexer.add(n);
      api.objects.set(`/api/v1/nodes/${n.metadata!.name}`, n);
    }
    const lease = (name: string) => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: new Date(clock.now()).toISOString() } });
    c.leases.indexer.add(lease('a'));
    c.leases.indexer.add(lease('b'));
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'pu' }, spec: { nodeName: 'a', containers: [] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    c.pods.indexer.add(pod);

    await c.monitorNodeHealth();
    assert.ok(recorder.events.includes('Normal RegisteredNode Node a event: Registered Node a in Controller'));
    // b keeps renewing; a does not.
    clock.step(30_000);
    c.leases.indexer.add(lease('b'));
    await c.monitorNodeHealth();
    assert.equal(api.calls.filter((x) => x.method === 'PUT').length, 0);
    clock.step(15_000);
    c.leases.indexer.add(lease('b'));
    await c.monitorNodeHealth();
    const statusWrite = api.calls.find((x) => x.method === 'PUT' && x.path === '/api/v1/nodes/a/status')!;
    const ready = statusWrite.body.status.conditions.find((x: any) => x.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    assert.equal(statusWrite.body.status.conditions.find((x: any) => x.type === 'MemoryPressure').reason, 'NodeStatusNeverUpdated');
    assert.ok(recorder.events.includes('Normal NodeNotReady Node a status is now: NodeNotReady'));
    assert.ok(recorder.events.includes('Warning NodeNotReady Node is not ready'));
    const podWrite = api.calls.find((x) => x.path === '/api/v1/namespaces/ns/pods/p/status')!;
    assert.equal(podWrite.body.status.conditions[0].status, 'False');
    assert.ok(!api.calls.some((x) => x.path === '/api/v1/nodes/b/status'));

    // The next pass sees Unknown and taints the node NoExecute (the rate limiter allows one at once).
    c.nodes.indexer.add(api.objects.get('/api/v1/nodes/a'));
    clock.step(5000);
    c.leases.indexer.add(lease('b'));
    await c.monitorNodeHealth();
    const tainted = api.objects.get('/api/v1/nodes/a');
    assert.deepEqual(tainted.spec.taints.map((t: any) => `${t.key}:${t.effect}`), ['node.kubernetes.io/unreachable:NoExecute']);
    assert.equal(tainted.spec.taints[0].timeAdded, formatTime(clock.now()));
    await c.dispose();
  });

  test('when every node is down nobody is tainted', async () => {
    const clock = new FakeClock();
    const api = new FakeApi();
    const c = new NodeLifecycleController(ctxFor(api, clock, new FakeRecorder()));
    const a = node('a', clock);
    a.status!.conditions![0]!.status = 'Unknown';
    c.nodes.indexer.add(a);
    api.objects.set('/api/v1/nodes/a', a);
    await c.monitorNodeHealth();
    clock.step(5000);
    await c.monitorNodeHealth();
    assert.equal(api.objects.get('/api/v1/nodes/a').spec?.taints, undefined);
    assert.equal(c.zoneStates.get(''), 'FullDisruption');
    await c.dispose();
  });

  test('NoSchedule taints follow conditions and spec.unschedulable', async () => {
    const clock = new FakeClock();
    const api = new FakeApi();
    const c = new NodeLifecycleController(ctxFor(api, clock, new FakeRecorder()));
    const a = node('a', clock);
    a.status!.conditions!.push({ type: 'DiskPressure', status: 'True' });
    a.spec = { unschedulable: true, taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }, { key: 'custom', effect: 'NoSchedule' }] };
    c.nodes.indexer.add(a);
    api.objects.set('/api/v1/nodes/a', a);
    await c.doNoScheduleTaintingPass('a');
    const keys = api.objects.get('/api/v1/nodes/a').spec.taints.map((t: any) => t.key).sort();
    assert.deepEqual(keys, ['custom', 'node.kubernetes.io/disk-pressure', 'node.kubernetes.io/unschedulable']);
    await c.dispose();
  });
});

describe('taint eviction controller', () => {
  test('evicts at once without a toleration, after tolerationSeconds with one, never when tolerated forever', async () => {
    const clock = new FakeClock();
    const api = new FakeApi();
    const recorder = new FakeRecorder();
    const c = new TaintEvictionController(ctxFor(api, clock, recorder));
    c.nodes.indexer.add({ metadata: { name: 'n' }, spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] } });
    const mk = (name: string, tolerationSeconds?: number): Pod => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' },
      spec: { nodeName: 'n', containers: [], tolerations: tolerationSeconds === -1 ? [] : [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds !== undefined ? { tolerationSeconds } : {}) }] },
      status: {},
    });
    for (const [name, t] of [['now', -1], ['later', 30], ['never', undefined]] as const) {
      const p = mk(name, t);
      c.pods.indexer.add(p);
      api.objects.set(`/api/v1/namespaces/ns/pods/${name}`, p);
    }
    c.syncNode('n');
    assert.equal(c.scheduledEviction('ns/never'), undefined);
    assert.equal(c.scheduledEviction('ns/later'), clock.now() + 30_000);
    clock.step(0);
    await c.settled();
    assert.ok(api.calls.some((x) => x.method === 'DELETE' && x.path === '/api/v1/namespaces/ns/pods/now'));
    assert.ok(!api.calls.some((x) => x.method === 'DELETE' && x.path.endsWith('/later')));
    const cond = api.calls.find((x) => x.path === '/api/v1/namespaces/ns/pods/now/status')!.body.status.conditions[0];
    assert.deepEqual([cond.type, cond.reason, cond.message], ['DisruptionTarget', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
    assert.ok(recorder.events.includes('Normal TaintManagerEviction Marking for deletion Pod ns/now'));
    // The taint goes away before the 30 s: the eviction is cancelled.
    c.nodes.indexer.add({ metadata: { name: 'n' }, spec: {} });
    c.syncNode('n');
    assert.equal(c.scheduledEviction('ns/later'), undefined);
    assert.ok(recorder.events.includes('Normal TaintManagerEviction Cancelling deletion of Pod ns/later'));
    await c.dispose();
  });
});

describe('taint helpers', () => {
  test('toleration matching and the shortest toleration', () => {
    const taint = { key: 'k', value: 'v', effect: 'NoExecute' };
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, taint), true);
    assert.equal(toleratesTaint({ key: 'k', value: 'w' }, taint), false);
    assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
    assert.deepEqual(matchingTolerations([taint], []), { all: false, used: [] });
    assert.equal(minTolerationMs([{ tolerationSeconds: 30 }, { tolerationSeconds: 10 }, {}]), 10_000);
    assert.equal(minTolerationMs([{}]), -1);
    assert.equal(minTolerationMs([{ tolerationSeconds: -5 }]), 0);
  });
});
