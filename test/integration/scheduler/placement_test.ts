// Where the scheduler puts pods, seen through kubectl on three simulated nodes in three zones
// (sim-0 zone-a, sim-1 zone-b, sim-2 zone-c): nodeSelector, required and preferred node affinity,
// pod anti-affinity (one per node, the fourth Pending with upstream's message), topology spread.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPods, eventually, getJson, kubectl, namespace, podNodes, podYaml, runningOn, startCluster, unschedulableMessage, type SchedulerCluster } from './harness.ts';

describe('scheduler placement', () => {
  let c: SchedulerCluster;

  before(async () => {
    c = await startCluster({ count: 3, zones: 3 });
  });

  after(async () => {
    await c?.stop();
  });

  test('a pod with a nodeSelector lands on the labelled node, with a Scheduled event', async () => {
    const ns = await namespace(c.s, 'node-selector');
    await kubectl(c.s, ['label', 'node', 'sim-1', 'disktype=ssd']);
    await applyPods(c.s, [podYaml('db', ns, { spec: ['nodeSelector:', '  disktype: ssd'] })]);
    assert.equal(await runningOn(c.s, ns, 'db'), 'sim-1');
    const described = await eventually('the Scheduled event', async () => {
      const out = await kubectl(c.s, ['describe', 'pod', 'db', '-n', ns]);
      return /Normal\s+Scheduled/.test(out) ? out : undefined;
    });
    assert.match(described, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned node-selector\/db to sim-1\n/);
    const wide = await kubectl(c.s, ['get', 'pod', 'db', '-n', ns, '-o', 'wide', '--no-headers']);
    assert.match(wide, /^db\s+1\/1\s+Running\s+0\s+\S+\s+100\.64\.1\.\d+\s+sim-1\s/);
  });

  test('required node affinity picks the zone; preferred node affinity wins the score', async () => {
    const ns = await namespace(c.s, 'node-affinity');
    const required = [
      'affinity:', '  nodeAffinity:', '    requiredDuringSchedulingIgnoredDuringExecution:', '      nodeSelectorTerms:',
      '      - matchExpressions:', '        - key: topology.kubernetes.io/zone', '          operator: In', '          values: [zone-b, zone-c]',
      '        - key: kubernetes.io/hostname', '          operator: NotIn', '          values: [sim-1]',
    ];
    const preferred = [
      'affinity:', '  nodeAffinity:', '    preferredDuringSchedulingIgnoredDuringExecution:', '    - weight: 50', '      preference:',
      '        matchExpressions:', '        - key: topology.kubernetes.io/zone', '          operator: In', '          values: [zone-a]',
    ];
    await applyPods(c.s, [podYaml('required', ns, { spec: required }), podYaml('preferred', ns, { spec: preferred })]);
    assert.equal(await runningOn(c.s, ns, 'required'), 'sim-2');
    assert.equal(await runningOn(c.s, ns, 'preferred'), 'sim-0');

    const impossible = [
      'affinity:', '  nodeAffinity:', '    requiredDuringSchedulingIgnoredDuringExecution:', '      nodeSelectorTerms:',
      '      - matchExpressions:', '        - key: topology.kubernetes.io/zone', '          operator: In', '          values: [zone-z]',
    ];
    await applyPods(c.s, [podYaml('nowhere', ns, { spec: impossible })]);
    assert.equal(await unschedulableMessage(c.s, ns, 'nowhere'),
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  });

  test('required pod anti-affinity puts one pod per node and leaves the fourth Pending', async () => {
    const ns = await namespace(c.s, 'anti-affinity');
    const anti = [
      'affinity:', '  podAntiAffinity:', '    requiredDuringSchedulingIgnoredDuringExecution:', '    - labelSelector:',
      '        matchLabels:', '          app: cache', '      topologyKey: kubernetes.io/hostname',
    ];
    await applyPods(c.s, ['cache-0', 'cache-1', 'cache-2'].map((n) => podYaml(n, ns, { labels: { app: 'cache' }, spec: anti })));
    const nodes = await Promise.all(['cache-0', 'cache-1', 'cache-2'].map((n) => runningOn(c.s, ns, n)));
    assert.deepEqual([...nodes].sort(), ['sim-0', 'sim-1', 'sim-2']);
    await applyPods(c.s, [podYaml('cache-3', ns, { labels: { app: 'cache' }, spec: anti })]);
    assert.equal(await unschedulableMessage(c.s, ns, 'cache-3'),
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
    const described = await kubectl(c.s, ['describe', 'pod', 'cache-3', '-n', ns]);
    assert.match(described, /Status:\s+Pending/);
    // Freeing a node (an assigned pod deleted) lets the pending pod in.
    await kubectl(c.s, ['delete', 'pod', 'cache-1', '-n', ns, '--wait=true']);
    assert.equal(await runningOn(c.s, ns, 'cache-3'), nodes[1]);
  });

  test('topology spread constraints spread six pods two per zone', async () => {
    const ns = await namespace(c.s, 'spread');
    const spread = [
      'topologySpreadConstraints:', '- maxSkew: 1', '  topologyKey: topology.kubernetes.io/zone', '  whenUnsatisfiable: DoNotSchedule',
      '  labelSelector:', '    matchLabels:', '      app: web',
    ];
    const names = Array.from({ length: 6 }, (_, i) => `web-${i}`);
    await applyPods(c.s, names.map((n) => podYaml(n, ns, { labels: { app: 'web' }, spec: spread })));
    await Promise.all(names.map((n) => runningOn(c.s, ns, n)));
    const counts: Record<string, number> = {};
    for (const node of Object.values(await podNodes(c.s, ns))) counts[node] = (counts[node] ?? 0) + 1;
    assert.deepEqual(counts, { 'sim-0': 2, 'sim-1': 2, 'sim-2': 2 });
    // Pods that may only go to zone-a, with every zone still counted (nodeAffinityPolicy Ignore):
    // the first makes the skew 1 and fits, the second would make it 2 and waits.
    const zoneA = [...spread, '  nodeAffinityPolicy: Ignore', 'nodeSelector:', '  topology.kubernetes.io/zone: zone-a'];
    await applyPods(c.s, [podYaml('web-6', ns, { labels: { app: 'web' }, spec: zoneA })]);
    assert.equal(await runningOn(c.s, ns, 'web-6'), 'sim-0');
    await applyPods(c.s, [podYaml('web-7', ns, { labels: { app: 'web' }, spec: zoneA })]);
    const msg = await unschedulableMessage(c.s, ns, 'web-7');
    assert.equal(msg, "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
    const pod = await getJson(c.s, ['pod', 'web-7', '-n', ns]);
    assert.equal(pod.status.phase, 'Pending');
  });
});
