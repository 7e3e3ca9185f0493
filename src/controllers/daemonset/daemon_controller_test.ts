// Unit tests of the DaemonSet controller: node eligibility, rolling-update planning, and sync with
// objects put straight into the caches and fake pod, revision and status writers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet } from '../../api/types/apps_v1.ts';
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { RestClient } from '../../client/rest_client.ts';
import { FakePodControl } from '../controller_utils.ts';
import type { ControllerContext } from '../registry.ts';
import { DaemonSetsController } from './daemon_controller.ts';
import { planRollingUpdate } from './update.ts';
import { createPodTemplate, nodeShouldRunDaemonPod, replaceDaemonSetPodNodeNameNodeAffinity, targetNodeName } from './util.ts';

const NOW = Date.UTC(2024, 0, 1);

function node(name: string, opts: { labels?: Record<string, string>; taints?: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never } = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: opts.labels ?? {}, resourceVersion: '1' }, spec: opts.taints ? { taints: opts.taints } : {} };
}

function ds(spec: Partial<NonNullable<DaemonSet['spec']>> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 1, resourceVersion: '1' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
  };
}

function daemonPod(name: string, nodeName: string, hash: string, ready: boolean): Pod {
  const t = createPodTemplate(ds().spec!.template, undefined, hash);
  return {
    metadata: {
      name, namespace: 'default', uid: `${name}-uid`, labels: t.metadata!.labels!, resourceVersion: '1', creationTimestamp: formatTime(NOW - 100_000),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...t.spec!, affinity: replaceDaemonSetPodNodeNameNodeAffinity(undefined, nodeName) },
    status: ready
      ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(NOW - 60_000) }] }
      : { phase: 'Pending' },
  };
}

describe('DaemonSet node eligibility', () => {
  test('taints: NoSchedule blocks new pods but keeps running ones; NoExecute evicts', () => {
    const d = ds();
    assert.deepEqual(nodeShouldRunDaemonPod(node('a'), d), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('b', { taints: [{ key: 'x', effect: 'NoSchedule' }] }), d), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('c', { taints: [{ key: 'x', effect: 'NoExecute' }] }), d), { shouldRun: false, shouldContinueRunning: false });
    // The default daemon tolerations cover node problems.
    for (const key of ['node.kubernetes.io/unschedulable', 'node.kubernetes.io/disk-pressure', 'node.kubernetes.io/memory-pressure', 'node.kubernetes.io/pid-pressure']) {
      assert.equal(nodeShouldRunDaemonPod(node('d', { taints: [{ key, effect: 'NoSchedule' }] }), d).shouldRun, true, key);
    }
    assert.equal(nodeShouldRunDaemonPod(node('e', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }), d).shouldContinueRunning, true);
    // network-unavailable only for hostNetwork pods.
    const taint = [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }];
    assert.equal(nodeShouldRunDaemonPod(node('f', { taints: taint }), d).shouldRun, false);
    const hostNet = ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { hostNetwork: true, containers: [] } } });
    assert.equal(nodeShouldRunDaemonPod(node('f', { taints: taint }), hostNet).shouldRun, true);
  });

  test('nodeSelector and required node affinity', () => {
    const sel = ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [] } } });
    assert.equal(nodeShouldRunDaemonPod(node('a', { labels: { disk: 'ssd' } }), sel).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('b', { labels: { disk: 'hdd' } }), sel).shouldRun, false);
    const aff = ds({
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: {
          containers: [],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
            { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] },
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] },
          ] } } },
        },
      },
    });
    assert.equal(nodeShouldRunDaemonPod(node('a', { labels: { zone: 'z1' } }), aff).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('special'), aff).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('other', { labels: { zone: 'z2' } }), aff).shouldRun, false);
  });

  test('pods are pinned with matchFields metadata.name, replacing other required terms', () => {
    const a = replaceDaemonSetPodNodeNameNodeAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } }, 'n1');
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
    assert.equal(targetNodeName({ spec: { containers: [], affinity: a } }), 'n1');
    const t = createPodTemplate(ds().spec!.template, 3, 'abc');
    assert.equal(t.metadata?.labels?.['pod-template-generation'], '3');
    assert.equal(t.metadata?.labels?.['controller-revision-hash'], 'abc');
  });
});

describe('DaemonSet rolling update planning', () => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  const podsOn = (ready: boolean[], hashes: string[]): Map<string, Pod[]> =>
    new Map(nodes.map((n, i) => [n.metadata!.name!, [daemonPod(`p${i}`, n.metadata!.name!, hashes[i]!, ready[i]!)]]));

  test('maxUnavailable=1 deletes one available old pod at a time', () => {
    const plan = planRollingUpdate(ds(), nodes, podsOn([true, true, true], ['old', 'old', 'old']), 'new', NOW);
    assert.deepEqual(plan, { podsToDelete: ['p0'], nodesToCreate: [] });
    const busy = planRollingUpdate(ds(), nodes, podsOn([false, true, true], ['new', 'old', 'old']), 'new', NOW);
    assert.deepEqual(busy.podsToDelete, [], 'an unavailable new pod uses up the budget');
    const unavailableOld = planRollingUpdate(ds(), nodes, podsOn([false, true, true], ['old', 'old', 'old']), 'new', NOW);
    // Replacing an unavailable old pod does not use the budget, so one available pod goes too.
    assert.deepEqual(unavailableOld.podsToDelete, ['p0', 'p1'], 'unavailable old pods are always replaceable');
  });

  test('maxSurge starts new pods beside old ones and removes the old once the new is available', () => {
    const surge = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    const plan = planRollingUpdate(surge, nodes, podsOn([true, true, true], ['old', 'old', 'old']), 'new', NOW);
    assert.deepEqual(plan, { podsToDelete: [], nodesToCreate: ['n1'] });
    const m = podsOn([true, true, true], ['old', 'old', 'old']);
    m.get('n1')!.push(daemonPod('q0', 'n1', 'new', true));
    // n1's surge is over (its new pod is available), so the next node may surge.
    assert.deepEqual(planRollingUpdate(surge, nodes, m, 'new', NOW), { podsToDelete: ['p0'], nodesToCreate: ['n2'] });
    const waiting = podsOn([true, true, true], ['old', 'old', 'old']);
    waiting.get('n1')!.push(daemonPod('q0', 'n1', 'new', false));
    assert.deepEqual(planRollingUpdate(surge, nodes, waiting, 'new', NOW), { podsToDelete: [], nodesToCreate: [] }, 'one surge pod at a time');
  });
});

describe('DaemonSet sync', () => {
  function setup() {
    const clock = new FakeClock(NOW);
    const client = new RestClient({ server: 'https://127.0.0.1:1' });
    const informers = new SharedInformerFactory(client, { clock });
    const recorder = new FakeRecorder();
    const ctx: ControllerContext = { client, informers, clock, recorder: () => recorder, options: { clusterCidr: '', serviceCidr: '', rootCaPem: '' } };
    const podControl = new FakePodControl();
    const revisions: ControllerRevision[] = [];
    const statuses: DaemonSet[] = [];
    const dss = informers.informerFor<DaemonSet>(resourceDescriptor('apps/v1', 'daemonsets'));
    const nodes = informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    const pods = informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    const histories = informers.informerFor<ControllerRevision>(resourceDescriptor('apps/v1', 'controllerrevisions'));
    const controller = new DaemonSetsController(ctx, {
      podControl,
      revisions: {
        async create(r) { revisions.push(r); histories.indexer.add(r); return r; },
        async get(_ns, name) { return revisions.find((r) => r.metadata?.name === name)!; },
        async update(r) { histories.indexer.add(r); return r; },
        async delete() {},
        async patch() {},
      },
      updateStatus: async (d) => { statuses.push(structuredClone(d)); dss.indexer.add(d); return d; },
    });
    const cleanup = async (): Promise<void> => {
      await controller.dispose();
      await informers.dispose();
      await client.dispose();
    };
    return { controller, podControl, revisions, statuses, dss, nodes, pods, recorder, cleanup };
  }

  test('creates one pod per eligible node with a revision and reports status', async () => {
    const h = setup();
    try {
      h.dss.indexer.add(ds());
      h.nodes.indexer.add(node('n1'));
      h.nodes.indexer.add(node('n2', { taints: [{ key: 'x', effect: 'NoSchedule' }] }));
      await h.controller.sync('default/agent');
      assert.equal(h.revisions.length, 1);
      assert.equal(h.revisions[0]!.revision, 1);
      assert.match(h.revisions[0]!.metadata!.name!, /^agent-[a-z0-9]+$/);
      assert.equal(h.podControl.templates.length, 1);
      const t = h.podControl.templates[0]!;
      assert.equal(t.metadata?.labels?.['controller-revision-hash'], h.revisions[0]!.metadata?.labels?.['controller-revision-hash']);
      assert.deepEqual(t.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values, ['n1']);
      const st = h.statuses.at(-1)!.status!;
      assert.deepEqual([st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.numberMisscheduled, st.observedGeneration], [1, 0, 0, 0, 1]);
      assert.equal(st.numberUnavailable, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('a failed daemon pod is deleted with a warning event; a pod on a NoExecute node is removed', async () => {
    const h = setup();
    try {
      h.dss.indexer.add(ds());
      h.nodes.indexer.add(node('n1'));
      h.nodes.indexer.add(node('n2', { taints: [{ key: 'x', effect: 'NoExecute' }] }));
      const failed = daemonPod('agent-f', 'n1', 'h', false);
      failed.status = { phase: 'Failed' };
      h.pods.indexer.add(failed);
      h.pods.indexer.add(daemonPod('agent-x', 'n2', 'h', true));
      await h.controller.sync('default/agent');
      assert.deepEqual(h.podControl.deletePodNames.sort(), ['agent-f', 'agent-x']);
      assert.ok(h.recorder.events.includes('Warning FailedDaemonPod Found failed daemon pod default/agent-f on node n1, will try to kill it'), h.recorder.events.join('\n'));
      assert.equal(h.statuses.at(-1)!.status!.numberMisscheduled, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('an empty selector is refused with SelectingAll', async () => {
    const h = setup();
    try {
      h.dss.indexer.add(ds({ selector: {} }));
      await h.controller.sync('default/agent');
      assert.deepEqual(h.recorder.events, ['Warning SelectingAll This daemon set is selecting all pods. A non-empty selector is required.']);
    } finally {
      await h.cleanup();
    }
  });
});
