// Unit tests of the ReplicaSet controller: objects go straight into the informer caches, pod
// writes go to a fake pod control, status writes to a fake client, time is a FakeClock.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient } from '../../client/rest_client.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { labelSelectorAsSelector } from '../../api/labels.ts';
import { FakePodControl, claimObjects, isPodActive, isPodAvailable, isPodReady, sortPodsForDeletion } from '../controller_utils.ts';
import type { ControllerContext } from '../registry.ts';
import { REPLICA_SET_KIND, ReplicaSetController } from './replica_set.ts';

interface Fixture {
  ctx: ControllerContext;
  rsc: ReplicaSetController;
  podControl: FakePodControl;
  statusWrites: KubeObject[];
  clock: FakeClock;
  client: RestClient;
}

function newFixture(): Fixture {
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  // Never contacted: informers are fed by hand and writes go to fakes.
  const client = new RestClient({ server: 'https://127.0.0.1:1' });
  const ctx: ControllerContext = {
    client, informers: new SharedInformerFactory(client, { clock }), recorder: () => new FakeRecorder(), clock,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  const podControl = new FakePodControl();
  const statusWrites: KubeObject[] = [];
  const rsc = new ReplicaSetController(ctx, REPLICA_SET_KIND, {
    podControl,
    statusClient: {
      get: async () => { throw new Error('unexpected get'); },
      updateStatus: async (obj) => { statusWrites.push(obj); return obj; },
    },
  });
  return { ctx, rsc, podControl, statusWrites, clock, client };
}

function newRS(replicas: number, minReadySeconds = 0): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', generation: 2, resourceVersion: '10' },
    spec: { replicas, minReadySeconds, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    status: { replicas: 0 },
  };
}

function ownedPod(name: string, o: { ready?: boolean; node?: string; readySince?: number } = {}): Pod {
  return {
    metadata: {
      name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, creationTimestamp: '2024-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: formatTime(o.readySince ?? Date.UTC(2023, 11, 31)) }],
    },
  };
}

describe('ReplicaSet controller sync', () => {
  let f: Fixture;
  beforeEach(() => { f = newFixture(); });
  afterEach(async () => { await f.rsc.dispose(); await f.client.dispose(); });

  test('creates the missing pods and waits for them before acting again (expectations)', async () => {
    f.rsc.rsInformer.indexer.add(newRS(3));
    await f.rsc.syncReplicaSet('ns/web');
    assert.equal(f.podControl.templates.length, 3);
    assert.deepEqual(f.podControl.controllerRefs[0], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true });
    assert.deepEqual(f.rsc.expectations.getExpectations('ns/web')?.add, 3);
    await f.rsc.syncReplicaSet('ns/web');
    assert.equal(f.podControl.templates.length, 3, 'no second round while creations are in flight');
    // The status reports what the caches show (nothing yet) with the observed generation.
    const status = (f.statusWrites.at(-1) as ReplicaSet).status!;
    assert.deepEqual({ replicas: status.replicas, observedGeneration: status.observedGeneration }, { replicas: 0, observedGeneration: 2 });
  });

  test('burst and slow start bound one sync', async () => {
    f.rsc.rsInformer.indexer.add(newRS(20));
    f.podControl.createLimit = 3;
    await assert.rejects(f.rsc.syncReplicaSet('ns/web'), /limit 3 already reached/);
    assert.equal(f.podControl.createCallCount, 7, 'batches of 1, 2 and 4, then stop');
    // Failed and skipped creations will not be observed: only the 3 successes are expected.
    assert.equal(f.rsc.expectations.getExpectations('ns/web')?.add, 3);
    const cond = (f.statusWrites.at(-1) as ReplicaSet).status!.conditions![0]!;
    assert.equal(cond.type, 'ReplicaFailure');
    assert.equal(cond.reason, 'FailedCreate');
    assert.match(cond.message!, /limit 3 already reached/);
  });

  test('deletes surplus pods, not-ready and unscheduled ones first, and counts status', async () => {
    f.rsc.rsInformer.indexer.add(newRS(2));
    for (const p of [ownedPod('a', { ready: true, node: 'n1' }), ownedPod('b', { ready: false, node: 'n1' }), ownedPod('c', { ready: true, node: 'n1' }), ownedPod('d', { ready: true })]) {
      f.rsc.podInformer.indexer.add(p);
    }
    await f.rsc.syncReplicaSet('ns/web');
    assert.deepEqual([...f.podControl.deletePodNames].sort(), ['b', 'd']);
    assert.deepEqual([...f.rsc.expectations.getUIDs('ns/web')!].sort(), ['ns/b', 'ns/d']);
    const status = (f.statusWrites.at(-1) as ReplicaSet).status!;
    assert.deepEqual({ replicas: status.replicas, fullyLabeled: status.fullyLabeledReplicas, ready: status.readyReplicas, available: status.availableReplicas }, { replicas: 4, fullyLabeled: 4, ready: 3, available: 3 });
  });

  test('availability waits for minReadySeconds and the key is requeued for it', async () => {
    f.rsc.rsInformer.indexer.add(newRS(1, 10));
    f.rsc.podInformer.indexer.add(ownedPod('a', { ready: true, readySince: f.clock.now() - 2000 }));
    await f.rsc.syncReplicaSet('ns/web');
    const status = (f.statusWrites.at(-1) as ReplicaSet).status!;
    assert.equal(status.readyReplicas, 1);
    assert.equal(status.availableReplicas, 0);
    assert.equal(f.rsc.queue.waitingLen(), 1, 'requeued after minReadySeconds');
    f.clock.step(10_000);
    assert.equal(f.rsc.queue.len(), 1);
  });

  test('claims by selector: releases pods that stopped matching, adopts orphans, counts only what it owns', async () => {
    const rs = newRS(4);
    rs.spec!.template!.metadata!.labels = { app: 'web', tier: 'fe' };
    f.rsc.rsInformer.indexer.add(rs);
    // Adoption re-reads the owner uncached: this controller's status client answers with the ReplicaSet.
    const adoptable: ReplicaSet = structuredClone(rs);
    const relabel = (p: Pod, labels: Record<string, string>): Pod => ({ ...p, metadata: { ...p.metadata, labels } });
    const pods = [
      ownedPod('a', { ready: true }),
      relabel(ownedPod('b', { ready: true }), { app: 'web', tier: 'fe' }),
      relabel(ownedPod('c', { ready: true }), { app: 'other' }),
      { ...ownedPod('d'), metadata: { ...ownedPod('d').metadata, ownerReferences: [] } },
      { ...ownedPod('e', { ready: true }), status: { phase: 'Failed' as const } },
      { ...ownedPod('f', { ready: true }), metadata: { ...ownedPod('f').metadata, namespace: 'elsewhere' } },
    ];
    for (const p of pods) f.rsc.podInformer.indexer.add(p);
    const statusClient = { get: async () => adoptable, updateStatus: async (o: KubeObject) => { f.statusWrites.push(o); return o; } };
    const rsc = new ReplicaSetController(f.ctx, REPLICA_SET_KIND, { podControl: f.podControl, statusClient });
    try {
      await rsc.syncReplicaSet('ns/web');
    } finally {
      await rsc.dispose();
    }
    const patched = f.podControl.patches.map((p) => `${p.name} ${JSON.stringify(p.patch)}`).sort();
    assert.deepEqual(patched, [
      'c {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"rs-uid"}],"uid":"uid-c"}}',
      'd {"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web","uid":"rs-uid","controller":true,"blockOwnerDeletion":true}],"uid":"uid-d"}}',
    ]);
    assert.equal(f.podControl.templates.length, 1, 'a, b and the adopted d count: one more to create');
    const status = (f.statusWrites.at(-1) as ReplicaSet).status!;
    assert.deepEqual({ replicas: status.replicas, fullyLabeled: status.fullyLabeledReplicas, ready: status.readyReplicas, available: status.availableReplicas }, { replicas: 3, fullyLabeled: 1, ready: 2, available: 2 });
  });

  test('a sync claims, creates, deletes and counts as a walk over every gathered pod would', async () => {
    let seed = 11;
    const r = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const now = f.clock.now();
    for (let round = 0; round < 200; round++) {
      const g = newFixture();
      try {
        const rs = newRS(Math.floor(r() * 12), pick([0, 0, 5]));
        rs.spec!.template!.metadata!.labels = pick<Record<string, string>>([{ app: 'web' }, { app: 'web', tier: 'fe' }]);
        g.rsc.rsInformer.indexer.add(rs);
        for (let i = 0; i < 14; i++) {
          const base = ownedPod(`p${i}`, { ready: r() < 0.6, readySince: now - pick([1000, 60_000]), ...(r() < 0.8 ? { node: pick(['n1', 'n2']) } : {}) });
          const pod: Pod = {
            ...base,
            metadata: {
              ...base.metadata,
              namespace: r() < 0.9 ? 'ns' : 'other',
              creationTimestamp: pick(['2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', '2023-12-31T23:00:00Z']),
              ownerReferences: pick([base.metadata!.ownerReferences!, base.metadata!.ownerReferences!, [], [{ ...base.metadata!.ownerReferences![0]!, uid: 'someone-else' }]]),
              ...(r() < 0.1 ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
            },
            status: { ...base.status, phase: pick(['Running', 'Running', 'Pending', 'Succeeded'] as const) },
          };
          const labels = pick<Record<string, string> | undefined>([{ app: 'web' }, { app: 'web', tier: 'fe' }, { tier: 'fe', app: 'web' }, { app: 'other' }, undefined]);
          if (labels) pod.metadata!.labels = labels;
          else delete pod.metadata!.labels;
          g.rsc.podInformer.indexer.add(pod);
        }
        // The reference: gather, claim and count pod by pod.
        const gathered = [...g.rsc.podInformer.indexer.byIndex('controllerUID', 'rs-uid'), ...g.rsc.podInformer.indexer.byIndex('controllerUID', '_ORPHAN_POD')]
          .filter((p) => p.metadata?.namespace === 'ns' && isPodActive(p));
        const wantPatches: string[] = [];
        const claimed = await claimObjects(gathered, {
          controller: rs, controllerKind: REPLICA_SET_KIND.gvk, selector: labelSelectorAsSelector(rs.spec!.selector),
          canAdopt: async () => {}, patch: async (p, patch) => { wantPatches.push(`${p.metadata!.name} ${JSON.stringify(patch)}`); },
        });
        const diff = claimed.length - rs.spec!.replicas!;
        // Deleting them all needs no ranking (upstream skips the sort then).
        const ranked = diff < claimed.length ? sortPodsForDeletion(claimed, claimed.map(() => 0), now) : claimed;
        const wantDeletes = diff > 0 ? ranked.slice(0, diff).map((p) => p.metadata!.name!) : [];
        const tmpl = Object.entries(rs.spec!.template!.metadata!.labels!);
        const want = {
          replicas: claimed.length,
          fullyLabeled: claimed.filter((p) => tmpl.every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
          ready: claimed.filter(isPodReady).length,
          available: claimed.filter((p) => isPodAvailable(p, rs.spec!.minReadySeconds!, now)).length,
        };

        const rsc = new ReplicaSetController(g.ctx, REPLICA_SET_KIND, {
          podControl: g.podControl, statusClient: { get: async () => rs, updateStatus: async (o) => { g.statusWrites.push(o); return o; } },
        });
        try {
          await rsc.syncReplicaSet('ns/web');
        } finally {
          await rsc.dispose();
        }
        const status = (g.statusWrites.at(-1) as ReplicaSet | undefined)?.status ?? rs.status!;
        const ctx = `round ${round}`;
        assert.deepEqual(g.podControl.patches.map((p) => `${p.name} ${JSON.stringify(p.patch)}`).sort(), wantPatches.sort(), ctx);
        assert.equal(g.podControl.templates.length, Math.max(0, -diff), ctx);
        assert.deepEqual(g.podControl.deletePodNames, wantDeletes, ctx);
        assert.deepEqual({ replicas: status.replicas, fullyLabeled: status.fullyLabeledReplicas ?? 0, ready: status.readyReplicas ?? 0, available: status.availableReplicas ?? 0 }, want, ctx);
      } finally {
        await g.rsc.dispose();
        await g.client.dispose();
      }
    }
  });

  test('a deleted ReplicaSet forgets its expectations', async () => {
    f.rsc.expectations.expectCreations('ns/web', 2);
    await f.rsc.syncReplicaSet('ns/web');
    assert.equal(f.rsc.expectations.getExpectations('ns/web'), undefined);
  });
});
