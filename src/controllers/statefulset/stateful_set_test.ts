// Unit tests of the StatefulSet update algorithm: an in-memory object manager and revision history
// stand in for the API server, and each call of updateStatefulSet is one controller pass.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from '../../api/types/apps_v1.ts';
import type { PersistentVolumeClaim, Pod } from '../../api/types/core_v1.ts';
import { formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { StatefulPodControl, type ObjectManager } from './stateful_pod_control.ts';
import { StatefulSetControl } from './stateful_set_control.ts';
import { isClaimOwnerUpToDate, updateClaimOwnerRefForSetAndPod, newStatefulSetPod, getPodRevision } from './stateful_set_utils.ts';

const NOW = Date.UTC(2024, 0, 1);

class Store implements ObjectManager {
  pods = new Map<string, Pod>();
  claims = new Map<string, PersistentVolumeClaim>();
  log: string[] = [];
  #uid = 0;
  async createPod(pod: Pod): Promise<Pod> {
    const p = structuredClone(pod);
    p.metadata!.uid = `uid-${++this.#uid}`;
    p.status = { phase: 'Pending' };
    this.pods.set(p.metadata!.name!, p);
    this.log.push(`create pod ${p.metadata!.name}`);
    return p;
  }
  getPod(_ns: string, name: string): Pod | undefined {
    return this.pods.get(name);
  }
  async updatePod(pod: Pod): Promise<Pod> {
    this.pods.set(pod.metadata!.name!, structuredClone(pod));
    this.log.push(`update pod ${pod.metadata!.name}`);
    return pod;
  }
  async deletePod(pod: Pod): Promise<void> {
    this.pods.delete(pod.metadata!.name!);
    this.log.push(`delete pod ${pod.metadata!.name}`);
  }
  async patchPod(): Promise<void> {}
  async createClaim(claim: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
    this.claims.set(claim.metadata!.name!, structuredClone(claim));
    this.log.push(`create pvc ${claim.metadata!.name}`);
    return claim;
  }
  getClaim(_ns: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.get(name);
  }
  async updateClaim(claim: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
    this.claims.set(claim.metadata!.name!, structuredClone(claim));
    this.log.push(`update pvc ${claim.metadata!.name}`);
    return claim;
  }
  ready(name: string): void {
    const p = this.pods.get(name)!;
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(NOW - 60_000) }] };
  }
  readyAll(): void {
    for (const n of this.pods.keys()) this.ready(n);
  }
}

function setup(spec: Partial<NonNullable<StatefulSet['spec']>> = {}) {
  const store = new Store();
  const revisions: ControllerRevision[] = [];
  const recorder = new FakeRecorder();
  let set: StatefulSet = {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 1 },
    spec: {
      replicas: 3, serviceName: 'web', podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      ...spec,
    },
  };
  const control = new StatefulSetControl({
    podControl: new StatefulPodControl(store, recorder),
    history: {
      async createControllerRevision(_parent, revision, collisionCount) {
        const r = structuredClone(revision);
        r.metadata!.uid = `rev-${revisions.length}`;
        revisions.push(r);
        return { revision: r, collisionCount };
      },
      async updateControllerRevision(revision, n) {
        revision.revision = n;
        return revision;
      },
      async deleteControllerRevision(revision) {
        revisions.splice(revisions.indexOf(revision), 1);
      },
    },
    listRevisions: () => [...revisions],
    updateStatus: async (_s, status: StatefulSetStatus) => {
      set = { ...set, status };
    },
    now: () => NOW,
  });
  const pass = async (): Promise<StatefulSetStatus> => control.updateStatefulSet(set, [...store.pods.values()]);
  return {
    store, revisions, recorder, pass,
    get set() { return set; },
    update(s: Partial<NonNullable<StatefulSet['spec']>>) {
      set = { ...set, metadata: { ...set.metadata, generation: (set.metadata!.generation ?? 1) + 1 }, spec: { ...set.spec!, ...s } };
    },
  };
}

describe('StatefulSet control', () => {
  test('OrderedReady creates one pod per pass, claims first, only after its predecessor is Ready', async () => {
    const h = setup();
    await h.pass();
    assert.deepEqual(h.store.log, ['create pvc data-web-0', 'create pod web-0']);
    await h.pass();
    assert.equal(h.store.pods.size, 1, 'web-1 waits for web-0 to be Running and Ready');
    h.store.ready('web-0');
    await h.pass();
    assert.deepEqual([...h.store.pods.keys()], ['web-0', 'web-1']);
    const pod = h.store.pods.get('web-1')!;
    assert.equal(pod.spec?.hostname, 'web-1');
    assert.equal(pod.spec?.subdomain, 'web');
    assert.equal(pod.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
    assert.equal(pod.metadata?.labels?.['apps.kubernetes.io/pod-index'], '1');
    assert.deepEqual(pod.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]);
    assert.equal(getPodRevision(pod), h.revisions[0]!.metadata!.name);
    assert.ok(h.recorder.events.includes('Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful'), h.recorder.events.join('\n'));
    assert.ok(h.recorder.events.includes('Normal SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success'), h.recorder.events.join('\n'));
  });

  test('Parallel creates every pod in one pass', async () => {
    const h = setup({ podManagementPolicy: 'Parallel' });
    await h.pass();
    assert.deepEqual([...h.store.pods.keys()].sort(), ['web-0', 'web-1', 'web-2']);
  });

  test('scale down deletes the highest ordinal first, one per pass, and status counts replicas', async () => {
    const h = setup();
    for (let i = 0; i < 3; i++) {
      await h.pass();
      h.store.readyAll();
    }
    const st = await h.pass();
    assert.deepEqual([st.replicas, st.readyReplicas, st.currentReplicas, st.updatedReplicas, st.availableReplicas], [3, 3, 3, 3, 3]);
    h.update({ replicas: 1 });
    h.store.log.length = 0;
    await h.pass();
    assert.deepEqual(h.store.log, ['delete pod web-2']);
    await h.pass();
    assert.deepEqual(h.store.log, ['delete pod web-2', 'delete pod web-1']);
    assert.ok(h.store.claims.has('data-web-2'), 'claims are retained by default');
  });

  test('spec.ordinals.start shifts the names', async () => {
    const h = setup({ ordinals: { start: 5 }, replicas: 1 });
    await h.pass();
    assert.deepEqual([...h.store.pods.keys()], ['web-5']);
  });

  test('a rolling update with a partition only replaces ordinals at or above it, highest first', async () => {
    const h = setup({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } });
    for (let i = 0; i < 3; i++) {
      await h.pass();
      h.store.readyAll();
    }
    await h.pass();
    const oldRev = h.revisions[0]!.metadata!.name!;
    h.update({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } });
    h.store.log.length = 0;
    for (let i = 0; i < 8; i++) {
      await h.pass();
      h.store.readyAll();
    }
    assert.equal(h.revisions.length, 2);
    const newRev = h.revisions[1]!.metadata!.name!;
    assert.deepEqual(h.store.log.filter((l) => l.startsWith('delete')), ['delete pod web-2', 'delete pod web-1']);
    assert.equal(getPodRevision(h.store.pods.get('web-0')!), oldRev);
    assert.equal(getPodRevision(h.store.pods.get('web-1')!), newRev);
    assert.equal(h.store.pods.get('web-2')!.spec?.containers[0]?.image, 'nginx:2');
    assert.equal(h.set.status?.currentRevision, oldRev, 'the current revision stays while pods below the partition are old');
    assert.equal(h.set.status?.updatedReplicas, 2);
  });

  test('OnDelete leaves existing pods alone', async () => {
    const h = setup({ updateStrategy: { type: 'OnDelete' } });
    for (let i = 0; i < 3; i++) {
      await h.pass();
      h.store.readyAll();
    }
    h.update({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } });
    h.store.log.length = 0;
    await h.pass();
    await h.pass();
    assert.deepEqual(h.store.log.filter((l) => l.startsWith('delete')), []);
  });

  test('a failed pod is deleted and recreated', async () => {
    const h = setup({ replicas: 1 });
    await h.pass();
    h.store.pods.get('web-0')!.status = { phase: 'Failed' };
    await h.pass();
    assert.equal(h.store.pods.size, 0);
    await h.pass();
    assert.equal(h.store.pods.size, 1);
  });
});

describe('PVC retention policy ownership', () => {
  const base = (policy: { whenDeleted?: string; whenScaled?: string }, replicas = 1): StatefulSet => ({
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid' },
    spec: {
      replicas, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, persistentVolumeClaimRetentionPolicy: policy,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } },
    },
  });
  const podOf = (set: StatefulSet, ordinal: number): Pod => {
    const p = newStatefulSetPod(set, ordinal);
    p.metadata!.uid = `pod-${ordinal}`;
    return p;
  };

  test('WhenDeleted=Delete makes the set the claim controller', () => {
    const set = base({ whenDeleted: 'Delete', whenScaled: 'Retain' });
    const claim: PersistentVolumeClaim = { metadata: { name: 'data-web-0', namespace: 'default' } };
    assert.equal(isClaimOwnerUpToDate(claim, set, podOf(set, 0)), false);
    updateClaimOwnerRefForSetAndPod(claim, set, podOf(set, 0));
    assert.deepEqual(claim.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(isClaimOwnerUpToDate(claim, set, podOf(set, 0)), true);
  });

  test('WhenScaled=Delete hands claims of scaled-down pods to the pod', () => {
    const set = base({ whenDeleted: 'Retain', whenScaled: 'Delete' }, 1);
    const claim: PersistentVolumeClaim = { metadata: { name: 'data-web-2', namespace: 'default' } };
    const pod = podOf(set, 2);
    updateClaimOwnerRefForSetAndPod(claim, set, pod);
    assert.deepEqual(claim.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [['Pod', 'web-2', true]]);
    const inRange: PersistentVolumeClaim = { metadata: { name: 'data-web-0', namespace: 'default' } };
    updateClaimOwnerRefForSetAndPod(inRange, set, podOf(set, 0));
    assert.equal(inRange.metadata?.ownerReferences, undefined);
  });
});
