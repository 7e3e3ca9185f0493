// The component thread: a scheduler started in it leads, binds a pod over the API and releases its
// Lease when disposed; start errors come back as rejections; a thread that dies is reported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { startComponentThread } from './component_thread.ts';

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('component thread', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  test('a scheduler in the thread leads, binds a pod and releases its Lease on dispose', async () => {
    const thread = startComponentThread({ name: 'test-control-plane' });
    try {
      await thread.start({ kind: 'scheduler', options: { kubeconfig: s.kubeconfig, leaderElection: true, identity: 'thread-test' } });
      if (process.platform === 'linux') assert.ok((await thread.tid) > 0, 'the thread reports its tid');
      const lease = async (): Promise<string | undefined> => {
        const r = await s.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
        return r.status === 200 ? (r.json<{ spec?: { holderIdentity?: string } }>().spec?.holderIdentity ?? '') : undefined;
      };
      await poll('the scheduler to lead', async () => ((await lease()) === 'thread-test' ? true : undefined));
      const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } };
      assert.equal((await s.request('POST', '/api/v1/nodes', { body: JSON.stringify(node) })).status, 201);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: {
        containers: [{ name: 'c', image: 'busybox' }],
        // Admission taints new nodes not-ready until the node lifecycle controller (not running here) clears it.
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }],
      } };
      assert.equal((await s.request('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod) })).status, 201);
      const nodeName = await poll('the pod to be bound', async () => {
        const r = await s.request('GET', '/api/v1/namespaces/default/pods/p1');
        return r.json<{ spec: { nodeName?: string } }>().spec.nodeName || undefined;
      });
      assert.equal(nodeName, 'n1');
    } finally {
      await thread.dispose();
    }
    // Released on a clean stop, so a successor need not wait for it to expire.
    const r = await s.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
    assert.equal(r.json<{ spec?: { holderIdentity?: string } }>().spec?.holderIdentity ?? '', '');
    await assert.rejects(thread.start({ kind: 'scheduler', options: { kubeconfig: s.kubeconfig, leaderElection: false, identity: 'x' } }), /not running/);
  });

  test('a component that fails to start rejects start() with its error', async () => {
    let failed = false;
    const thread = startComponentThread({ name: 'test-bad-config', onFailure: () => { failed = true; } });
    try {
      await assert.rejects(
        thread.start({ kind: 'scheduler', options: { kubeconfig: s.kubeconfig, config: '/nonexistent/scheduler-config.yaml', leaderElection: false, identity: 'x' } }),
        /nonexistent\/scheduler-config\.yaml/,
      );
    } finally {
      await thread.dispose();
    }
    assert.equal(failed, false, 'a start error is not a thread failure');
  });

  test('a thread that dies reports the failure once and fails later calls', async () => {
    const failures: Error[] = [];
    let reported!: () => void;
    const seen = new Promise<void>((r) => { reported = r; });
    const entry = new URL(`data:text/javascript,${encodeURIComponent('throw new Error("component thread test crash")')}`);
    const thread = startComponentThread({ name: 'test-crash', entry, onFailure: (err) => { failures.push(err); reported(); } });
    await seen;
    await assert.rejects(thread.start({ kind: 'scheduler', options: { kubeconfig: s.kubeconfig, leaderElection: false, identity: 'x' } }));
    await thread.dispose();
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.message, /component thread test crash/);
  });
});
