// Taints and tolerations through kubectl taint on three simulated nodes: NoSchedule keeps pods
// without a toleration off a node, a toleration lets one in, a NoExecute taint is tolerated by a
// pod with tolerationSeconds, and a pod turned away everywhere starts once the taint is removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPods, eventually, kubectl, namespace, podNodes, podYaml, runningOn, startCluster, unschedulableMessage, type SchedulerCluster } from './harness.ts';

describe('scheduler taints and tolerations', () => {
  let c: SchedulerCluster;

  before(async () => {
    c = await startCluster({ count: 3 });
  });

  after(async () => {
    await c?.stop();
  });

  test('NoSchedule keeps pods without a toleration off the node; a toleration lets one in', async () => {
    const ns = await namespace(c.s, 'noschedule');
    await kubectl(c.s, ['taint', 'nodes', 'sim-0', 'dedicated=gpu:NoSchedule']);
    const names = Array.from({ length: 6 }, (_, i) => `plain-${i}`);
    await applyPods(c.s, names.map((n) => podYaml(n, ns)));
    await Promise.all(names.map((n) => runningOn(c.s, ns, n)));
    const nodes = await podNodes(c.s, ns);
    assert.ok(names.every((n) => nodes[n] === 'sim-1' || nodes[n] === 'sim-2'), JSON.stringify(nodes));

    const tolerant = [
      'nodeSelector:', '  kubernetes.io/hostname: sim-0',
      'tolerations:', '- key: dedicated', '  operator: Equal', '  value: gpu', '  effect: NoSchedule',
    ];
    await applyPods(c.s, [podYaml('gpu-job', ns, { spec: tolerant })]);
    assert.equal(await runningOn(c.s, ns, 'gpu-job'), 'sim-0');
    await kubectl(c.s, ['taint', 'nodes', 'sim-0', 'dedicated=gpu:NoSchedule-']);
  });

  test('a NoExecute taint is tolerated by a pod with tolerationSeconds and refuses the others', async () => {
    const ns = await namespace(c.s, 'noexecute');
    await kubectl(c.s, ['taint', 'nodes', 'sim-2', 'maintenance=true:NoExecute']);
    const tolerant = [
      'nodeSelector:', '  kubernetes.io/hostname: sim-2',
      'tolerations:', '- key: maintenance', '  operator: Exists', '  effect: NoExecute', '  tolerationSeconds: 3600',
    ];
    await applyPods(c.s, [podYaml('patient', ns, { spec: tolerant }), podYaml('impatient', ns, { spec: ['nodeSelector:', '  kubernetes.io/hostname: sim-2'] })]);
    assert.equal(await runningOn(c.s, ns, 'patient'), 'sim-2');
    assert.equal(await unschedulableMessage(c.s, ns, 'impatient'),
      "0/3 nodes are available: 1 node(s) had untolerated taint {maintenance: true}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    await kubectl(c.s, ['taint', 'nodes', 'sim-2', 'maintenance=true:NoExecute-']);
    // Removing the taint is a node update the rejected pod waits for.
    assert.equal(await runningOn(c.s, ns, 'impatient'), 'sim-2');
  });

  test('a pod no node tolerates waits with the FailedScheduling event and starts when a taint goes', async () => {
    const ns = await namespace(c.s, 'tainted-everywhere');
    await kubectl(c.s, ['taint', 'nodes', '--all', 'frozen=yes:NoSchedule']);
    await applyPods(c.s, [podYaml('waiting', ns)]);
    const message = '0/3 nodes are available: 3 node(s) had untolerated taint {frozen: yes}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    assert.equal(await unschedulableMessage(c.s, ns, 'waiting'), message);
    const line = await eventually('the FailedScheduling event', async () => {
      const out = await kubectl(c.s, ['describe', 'pod', 'waiting', '-n', ns]);
      return out.split('\n').find((l) => l.includes('FailedScheduling'));
    });
    assert.match(line, /^ {2}Warning {2}FailedScheduling {2}\S+ +default-scheduler {2}/);
    assert.ok(line.endsWith(`default-scheduler  ${message}`), line);
    await kubectl(c.s, ['taint', 'nodes', 'sim-1', 'frozen=yes:NoSchedule-']);
    assert.equal(await runningOn(c.s, ns, 'waiting'), 'sim-1');
    await kubectl(c.s, ['taint', 'nodes', 'sim-0', 'sim-2', 'frozen=yes:NoSchedule-']);
  });
});
