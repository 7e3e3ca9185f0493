// Unit tests of the Deployment controller's sync: caches filled by hand, writes recorded by a
// fake client, events by a FakeRecorder, time by a FakeClock.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { RestClient } from '../../client/rest_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { computeHash } from '../deep_hash.ts';
import type { ControllerContext } from '../registry.ts';
import type { DeploymentClient } from './deployment_client.ts';
import { DeploymentController } from './deployment_controller.ts';

class FakeDeploymentClient implements DeploymentClient {
  readonly calls: string[] = [];
  readonly created: ReplicaSet[] = [];
  readonly updatedRS: ReplicaSet[] = [];
  readonly statuses: Deployment[] = [];
  async getDeployment(): Promise<Deployment> { throw new Error('unexpected'); }
  async updateDeployment(d: Deployment): Promise<Deployment> { this.calls.push('updateDeployment'); return d; }
  async updateDeploymentStatus(d: Deployment): Promise<Deployment> { this.calls.push('updateStatus'); this.statuses.push(structuredClone(d)); return structuredClone(d); }
  async createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    this.calls.push(`create ${rs.metadata!.name} ${rs.spec!.replicas}`);
    this.created.push(rs);
    return { ...structuredClone(rs), metadata: { ...rs.metadata, uid: `uid-${rs.metadata!.name}`, creationTimestamp: '2024-01-01T00:00:00Z' } };
  }
  async updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> { this.calls.push(`update ${rs.metadata!.name} ${rs.spec!.replicas}`); this.updatedRS.push(rs); return rs; }
  async deleteReplicaSet(_ns: string, name: string): Promise<void> { this.calls.push(`delete ${name}`); }
  async patchReplicaSet(_ns: string, name: string): Promise<void> { this.calls.push(`patch ${name}`); }
}

function deployment(o: { replicas?: number; image?: string; paused?: boolean; historyLimit?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', uid: 'd-uid', generation: 1, resourceVersion: '5' },
    spec: {
      replicas: o.replicas ?? 3, selector: { matchLabels: { app: 'web' } }, progressDeadlineSeconds: 600, revisionHistoryLimit: o.historyLimit ?? 10,
      ...(o.paused ? { paused: true } : {}),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: o.image ?? 'nginx:1' }] } },
    },
    status: {},
  };
}

function ownedRS(d: Deployment, replicas: number, revision: string, image: string, available = replicas): ReplicaSet {
  const template = structuredClone(d.spec!.template);
  template.spec!.containers[0]!.image = image;
  const hash = computeHash(template);
  template.metadata!.labels!['pod-template-hash'] = hash;
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`, namespace: 'ns', uid: `uid-${hash}`, generation: 1, creationTimestamp: '2024-01-01T00:00:00Z', labels: template.metadata!.labels!,
      annotations: { 'deployment.kubernetes.io/revision': revision, 'deployment.kubernetes.io/desired-replicas': String(d.spec!.replicas), 'deployment.kubernetes.io/max-replicas': String(d.spec!.replicas! + 1) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template },
    status: { replicas, readyReplicas: available, availableReplicas: available, observedGeneration: 1 },
  };
}

describe('Deployment controller sync', () => {
  let clock: FakeClock, client: RestClient, fake: FakeDeploymentClient, recorder: FakeRecorder, dc: DeploymentController, informers: SharedInformerFactory;
  let dInf: SharedIndexInformer<Deployment>, rsInf: SharedIndexInformer<ReplicaSet>;

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2024, 0, 1, 1));
    client = new RestClient({ server: 'https://127.0.0.1:1' });
    informers = new SharedInformerFactory(client, { clock });
    recorder = new FakeRecorder();
    fake = new FakeDeploymentClient();
    const ctx: ControllerContext = { client, informers, recorder: () => recorder, clock, options: { clusterCidr: '', serviceCidr: '', rootCaPem: '' } };
    dc = new DeploymentController(ctx, { client: fake });
    dInf = informers.informerFor<Deployment>(resourceDescriptor('apps/v1', 'deployments'));
    rsInf = informers.informerFor<ReplicaSet>(resourceDescriptor('apps/v1', 'replicasets'));
  });
  afterEach(async () => { await dc.dispose(); await client.dispose(); });

  test('a new Deployment creates its ReplicaSet at full size with revision 1 and reports progress', async () => {
    const d = deployment();
    dInf.indexer.add(d);
    await dc.syncDeployment('ns/web');
    const hash = computeHash(d.spec!.template);
    assert.equal(fake.calls[0], `create web-${hash} 3`);
    const rs = fake.created[0]!;
    assert.deepEqual(rs.metadata!.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs.spec!.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs.metadata!.annotations, { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(recorder.events, [`Normal ScalingReplicaSet Scaled up replica set web-${hash} from 0 to 3`]);
    const first = fake.statuses[0]!;
    assert.equal(first.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    const progressing = first.status!.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([progressing.status, progressing.reason, progressing.message], ['True', 'NewReplicaSetCreated', `Created new replica set "web-${hash}"`]);
  });

  test('a template change starts a rolling update within maxSurge', async () => {
    const d = deployment({ replicas: 4, image: 'nginx:2' });
    dInf.indexer.add(d);
    rsInf.indexer.add(ownedRS(d, 4, '1', 'nginx:1'));
    await dc.syncDeployment('ns/web');
    const hash = computeHash(d.spec!.template);
    assert.equal(fake.calls[0], `create web-${hash} 1`, 'surge of 1 (25% of 4)');
    assert.equal(fake.created[0]!.metadata!.annotations!['deployment.kubernetes.io/revision'], '2');
    // The same sync takes one old replica away (maxUnavailable 1 of 4).
    const old = computeHash({ ...d.spec!.template, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });
    assert.deepEqual(recorder.events, [
      `Normal ScalingReplicaSet Scaled up replica set web-${hash} from 0 to 1`,
      `Normal ScalingReplicaSet Scaled down replica set web-${old} from 4 to 3`,
    ]);
  });

  test('a complete rollout reports NewReplicaSetAvailable and cleans up history beyond the limit', async () => {
    const d = deployment({ replicas: 2, historyLimit: 1 });
    d.status = { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 };
    dInf.indexer.add(d);
    const cur = ownedRS(d, 2, '3', 'nginx:1');
    rsInf.indexer.add(cur);
    const old1 = ownedRS(d, 0, '1', 'nginx:0');
    const old2 = ownedRS(d, 0, '2', 'nginx:00');
    rsInf.indexer.add(old1);
    rsInf.indexer.add(old2);
    await dc.syncDeployment('ns/web');
    assert.ok(fake.calls.includes(`delete ${old1.metadata!.name}`), fake.calls.join('\n'));
    assert.ok(!fake.calls.includes(`delete ${old2.metadata!.name}`));
    const last = fake.statuses.at(-1)!;
    const p = last.status!.conditions!.find((c) => c.type === 'Progressing')!;
    assert.equal(p.reason, 'NewReplicaSetAvailable');
    assert.equal(p.message, `ReplicaSet "${cur.metadata!.name}" has successfully progressed.`);
    const a = last.status!.conditions!.find((c) => c.type === 'Available')!;
    assert.deepEqual([a.status, a.reason], ['True', 'MinimumReplicasAvailable']);
  });

  test('a paused Deployment only scales and marks itself paused', async () => {
    const d = deployment({ replicas: 5, image: 'nginx:2', paused: true });
    dInf.indexer.add(d);
    rsInf.indexer.add(ownedRS(d, 3, '1', 'nginx:1'));
    await dc.syncDeployment('ns/web');
    assert.ok(!fake.calls.some((c) => c.startsWith('create')), 'no new ReplicaSet while paused');
    assert.ok(fake.calls.some((c) => /^update web-\w+ 5$/.test(c)), fake.calls.join('\n'));
    const p = fake.statuses[0]!.status!.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([p.status, p.reason, p.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  });

  test('a stuck rollout is requeued for its deadline and then times out', async () => {
    const d = deployment({ replicas: 1, image: 'nginx:2' });
    d.spec!.progressDeadlineSeconds = 30;
    const t = formatTime(clock.now());
    d.status = { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1, unavailableReplicas: 1, conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: t, lastTransitionTime: t },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastUpdateTime: t, lastTransitionTime: t },
    ] };
    dInf.indexer.add(d);
    rsInf.indexer.add(ownedRS(d, 1, '1', 'nginx:1'));
    rsInf.indexer.add(ownedRS(d, 1, '2', 'nginx:2', 0));
    await dc.syncDeployment('ns/web');
    assert.equal(dc.queue.waitingLen(), 1, 'requeued for the deadline check');
    clock.step(31_000);
    await dc.syncDeployment('ns/web');
    const p = fake.statuses.at(-1)!.status!.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([p.status, p.reason], ['False', 'ProgressDeadlineExceeded']);
    assert.match(p.message!, /^ReplicaSet "web-\w+" has timed out progressing\.$/);
  });
});
