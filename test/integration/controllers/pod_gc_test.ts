// The pod garbage collector against a real API server: pods bound to a node that does not exist
// are marked Failed with a DisruptionTarget condition and force-deleted after the quarantine,
// terminating pods that were never scheduled are removed, and terminated pods beyond the
// threshold go, oldest first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { PodGcController } from '../../../src/controllers/pod_gc/gc_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, startFakeNode, type FakeNode, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;
let node: FakeNode;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, [], {}, (ctx) => [new PodGcController(ctx, { gcPeriodMs: 200, quarantineMs: 600, terminatedPodThreshold: 2 })]);
  node = await startFakeNode(run.client, 'real-node', { renewMs: 5000 });
});

after(async () => {
  node?.stopHeartbeat();
  await run?.stop();
  await s?.stop();
});

function pod(name: string, nodeName: string, finalizer = false): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${finalizer ? '  finalizers: [example.com/hold]\n' : ''}spec:
${nodeName ? `  nodeName: ${nodeName}\n` : ''}  containers: [{name: c, image: nginx}]
---
`;
}

async function gone(ns: string, name: string): Promise<boolean | undefined> {
  return (await s.kubectl(['get', 'pod', name, '-n', ns])).code !== 0 ? true : undefined;
}

describe('pod garbage collector', () => {
  test('pods on a missing node are failed and deleted; pods on real nodes stay', async () => {
    const ns = await freshNamespace(s, 'gc');
    // The finalizer keeps the deleted pod visible so its final status can be checked.
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pod('orphan', 'ghost-node', true) + pod('kept', 'real-node'));
    const p = await eventually('orphan failed and deleted', async () => {
      const x = await getJson(s, ['pod', 'orphan', '-n', ns]);
      return x.metadata.deletionTimestamp ? x : undefined;
    }, 15_000);
    assert.equal(p.status.phase, 'Failed');
    const c = p.status.conditions.find((x: any) => x.type === 'DisruptionTarget');
    assert.deepEqual([c.status, c.reason, c.message], ['True', 'DeletionByPodGC', 'PodGC: node no longer exists']);
    await kubectlOk(s, ['patch', 'pod', 'orphan', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('orphan gone', () => gone(ns, 'orphan'));
    assert.equal((await getJson(s, ['pod', 'kept', '-n', ns])).metadata.deletionTimestamp, undefined);
  });

  test('terminating unscheduled pods and excess terminated pods are removed', async () => {
    const ns = await freshNamespace(s, 'gct');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pod('pending', '', true));
    await kubectlOk(s, ['delete', 'pod', 'pending', '-n', ns, '--wait=false']);
    await eventually('unscheduled terminating pod failed', async () => ((await getJson(s, ['pod', 'pending', '-n', ns])).status.phase === 'Failed' ? true : undefined));
    await kubectlOk(s, ['patch', 'pod', 'pending', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('pending gone', () => gone(ns, 'pending'));

    for (const n of ['done-1', 'done-2', 'done-3']) {
      await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], pod(n, 'real-node'));
      await setPodStatus(run.client, ns, n, { ready: false, phase: 'Succeeded' });
    }
    // Creation times tie within a second; the name then decides, so done-1 counts as oldest.
    await eventually('oldest terminated pod deleted', () => gone(ns, 'done-1'));
    assert.equal((await s.kubectl(['get', 'pod', 'done-2', '-n', ns])).code, 0);
    assert.equal((await s.kubectl(['get', 'pod', 'done-3', '-n', ns])).code, 0);
  });
});
