// Resource-driven scheduling on three simulated nodes with 2 CPUs each: a pod no node can hold stays
// Pending with upstream's FailedScheduling line in kubectl describe, and a pod of a higher
// PriorityClass preempts a lower-priority one (DisruptionTarget condition, Preempted event).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/api/types/core_v1.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { applyPods, eventually, getJson, kubectl, namespace, podNodes, podYaml, runningOn, startCluster, unschedulableMessage, type SchedulerCluster } from './harness.ts';

describe('scheduler resources and preemption', () => {
  let c: SchedulerCluster;

  before(async () => {
    c = await startCluster({ count: 3, capacity: { cpu: '2', memory: '8Gi', pods: '110' } });
  });

  after(async () => {
    await c?.stop();
  });

  test('a pod asking for more CPU than any node has stays Pending with the exact describe event', async () => {
    const ns = await namespace(c.s, 'exhausted');
    await applyPods(c.s, [podYaml('hungry', ns, { requests: { cpu: '3' } })]);
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    assert.equal(await unschedulableMessage(c.s, ns, 'hungry'), message);
    const described = await eventually('the FailedScheduling event', async () => {
      const out = await kubectl(c.s, ['describe', 'pod', 'hungry', '-n', ns]);
      return out.includes('FailedScheduling') ? out : undefined;
    });
    const line = described.split('\n').find((l) => l.includes('FailedScheduling'))!;
    assert.match(line, /^ {2}Warning {2}FailedScheduling {2}\S+ +default-scheduler {2}/);
    assert.ok(line.endsWith(`default-scheduler  ${message}`), line);
    assert.match(described, /Status:\s+Pending/);
    assert.match(described, /PodScheduled\s+False/);
    await kubectl(c.s, ['delete', 'pod', 'hungry', '-n', ns, '--wait=true']);
  });

  test('a high-priority pod preempts a lower-priority one', async () => {
    const ns = await namespace(c.s, 'preemption');
    await kubectl(c.s, ['apply', '-f', '-'], [
      'apiVersion: scheduling.k8s.io/v1', 'kind: PriorityClass', 'metadata:', '  name: low', 'value: 100', '---',
      'apiVersion: scheduling.k8s.io/v1', 'kind: PriorityClass', 'metadata:', '  name: high', 'value: 1000', '',
    ].join('\n'));
    const low = ['low-0', 'low-1', 'low-2'];
    await applyPods(c.s, low.map((n) => podYaml(n, ns, { spec: ['priorityClassName: low'], requests: { cpu: '1500m' } })));
    const lowNodes = await Promise.all(low.map((n) => runningOn(c.s, ns, n)));
    assert.deepEqual([...lowNodes].sort(), ['sim-0', 'sim-1', 'sim-2']);

    // Every change to the namespace's pods from here on, to see the victim's last states.
    const client = await RestClient.fromKubeconfig(c.s.kubeconfig);
    const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), ns);
    const watch = await pods.watch({ resourceVersion: (await pods.list()).metadata?.resourceVersion ?? '0' });
    const seen: { type: string; pod: Pod }[] = [];
    const reading = (async () => {
      for await (const e of watch) if (e.type !== 'ERROR' && e.type !== 'BOOKMARK') seen.push({ type: e.type, pod: e.object });
    })();
    try {
      await applyPods(c.s, [podYaml('urgent', ns, { spec: ['priorityClassName: high'], requests: { cpu: '1500m' } })]);
      const node = await runningOn(c.s, ns, 'urgent');
      const urgent = await getJson(c.s, ['pod', 'urgent', '-n', ns]);
      assert.equal(urgent.spec.priority, 1000);
      const victim = low[lowNodes.indexOf(node)]!;
      const remaining = await podNodes(c.s, ns);
      assert.deepEqual(Object.keys(remaining).sort(), [...low.filter((n) => n !== victim), 'urgent'].sort());

      // The victim was marked before it was deleted; the preemptor was nominated to the node first.
      const marked = seen.find((e) => e.pod.metadata?.name === victim && (e.pod.status?.conditions ?? []).some((x) => x.type === 'DisruptionTarget'));
      const cond = marked?.pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
      assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['True', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod']);
      assert.ok(seen.some((e) => e.type === 'DELETED' && e.pod.metadata?.name === victim));
      assert.ok(seen.some((e) => e.pod.metadata?.name === 'urgent' && e.pod.status?.nominatedNodeName === node && (e.pod.spec?.nodeName ?? '') === ''),
        'urgent was nominated to the node before binding');
      const otherLow = seen.filter((e) => e.pod.metadata?.name !== victim && e.pod.metadata?.name !== 'urgent');
      assert.ok(otherLow.every((e) => e.type === 'MODIFIED' && !e.pod.metadata?.deletionTimestamp), 'the other low-priority pods were left alone');

      const events = (await getJson(c.s, ['events', '-n', ns, '--field-selector', 'reason=Preempted'])).items as any[];
      assert.equal(events.length, 1);
      assert.equal(events[0].involvedObject.name, victim);
      assert.equal(events[0].message, `Preempted by pod ${urgent.metadata.uid} on node ${node}`);
      assert.equal(events[0].source.component, 'default-scheduler');
      const failed = (await getJson(c.s, ['events', '-n', ns, '--field-selector', 'involvedObject.name=urgent,reason=FailedScheduling'])).items as any[];
      assert.equal(failed[0]?.message, '0/3 nodes are available: 3 Insufficient cpu.');
    } finally {
      watch.stop();
      await reading;
      await client.dispose();
    }
  });
});
