// Unit tests of the garbage collector: graph building from events (virtual owners, foreground and
// orphan transitions) and the delete/orphan decisions against a fake API.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { ApiStatusError } from '../../client/api_errors.ts';
import { FakeClock } from '../../client/clock.ts';
import { RestClient } from '../../client/rest_client.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { GarbageCollector, ownerRefsMergePatch, type GcClient } from './garbage_collector.ts';
import { GraphBuilder } from './graph_builder.ts';

function obj(kind: string, name: string, uid: string, owners: OwnerReference[] = [], extra: { finalizers?: string[]; deleting?: boolean } = {}): KubeObject {
  const apiVersion = kind === 'Pod' || kind === 'ConfigMap' ? 'v1' : 'apps/v1';
  return {
    apiVersion, kind,
    metadata: {
      name, namespace: 'ns', uid, ownerReferences: owners,
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
  };
}

function ref(kind: string, name: string, uid: string, block = true): OwnerReference {
  return { apiVersion: kind === 'ConfigMap' ? 'v1' : 'apps/v1', kind, name, uid, controller: true, blockOwnerDeletion: block };
}

const notFound = (): ApiStatusError => new ApiStatusError({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });

describe('graph builder', () => {
  test('a dependent of an unseen owner creates a virtual owner to verify; seeing the owner makes it real', () => {
    const deletes: string[] = [];
    const b = new GraphBuilder({ attemptToDelete: (n) => deletes.push(n.identity.uid), attemptToOrphan: () => undefined });
    b.processEvent('add', obj('Pod', 'p', 'pod', [ref('ReplicaSet', 'rs', 'rs')]));
    const owner = b.graph.get('rs')!;
    assert.equal(owner.observed, false);
    assert.deepEqual(deletes, ['rs']);
    b.processEvent('add', obj('ReplicaSet', 'rs', 'rs'));
    assert.equal(b.graph.get('rs')!.observed, true);
    assert.equal(b.graph.get('rs')!.dependents.size, 1);
    b.processEvent('delete', obj('ReplicaSet', 'rs', 'rs'));
    assert.deepEqual(deletes, ['rs', 'pod'], 'dependents are reconsidered when the owner goes');
  });

  test('foreground and orphan deletions start their work; dropped references unblock owners', () => {
    const deletes: string[] = [], orphans: string[] = [];
    const b = new GraphBuilder({ attemptToDelete: (n) => deletes.push(n.identity.uid), attemptToOrphan: (n) => orphans.push(n.identity.uid) });
    b.processEvent('add', obj('ReplicaSet', 'rs', 'rs'));
    b.processEvent('add', obj('Pod', 'p', 'pod', [ref('ReplicaSet', 'rs', 'rs')]));
    const fg = obj('ReplicaSet', 'rs', 'rs', [], { finalizers: ['foregroundDeletion'], deleting: true });
    b.processEvent('update', fg, obj('ReplicaSet', 'rs', 'rs'));
    assert.equal(b.graph.get('rs')!.deletingDependents, true);
    assert.deepEqual(deletes, ['pod', 'rs']);
    deletes.length = 0;
    b.processEvent('update', obj('Pod', 'p', 'pod', []), obj('Pod', 'p', 'pod', [ref('ReplicaSet', 'rs', 'rs')]));
    assert.deepEqual(deletes, ['rs'], 'the owner may finish now');
    b.processEvent('add', obj('Deployment', 'd', 'd'));
    b.processEvent('update', obj('Deployment', 'd', 'd', [], { finalizers: ['orphan'], deleting: true }), obj('Deployment', 'd', 'd'));
    assert.deepEqual(orphans, ['d']);
  });
});

class FakeGcClient implements GcClient {
  readonly objects = new Map<string, KubeObject>();
  readonly actions: string[] = [];
  put(o: KubeObject): void { this.objects.set(`${o.kind}/${o.metadata!.name}`, o); }
  async get(r: ResourceInfo, _ns: string, name: string): Promise<KubeObject> {
    const o = this.objects.get(`${r.kind}/${name}`);
    if (!o) throw notFound();
    return structuredClone(o);
  }
  async delete(r: ResourceInfo, _ns: string, name: string, uid: string, policy: string): Promise<void> { this.actions.push(`delete ${r.kind}/${name} uid=${uid} ${policy}`); }
  async patch(r: ResourceInfo, _ns: string, name: string, patch: unknown): Promise<void> { this.actions.push(`patch ${r.kind}/${name} ${JSON.stringify(patch)}`); }
  async mergePatch(r: ResourceInfo, _ns: string, name: string, patch: unknown): Promise<void> { this.actions.push(`merge ${r.kind}/${name} ${JSON.stringify(patch)}`); }
}

describe('garbage collector decisions', () => {
  let gc: GarbageCollector, api: FakeGcClient, client: RestClient;
  beforeEach(() => {
    api = new FakeGcClient();
    client = new RestClient({ server: 'https://127.0.0.1:1' });
    gc = new GarbageCollector({ client, clock: new FakeClock() }, { gcClient: api, resources: [] });
  });
  afterEach(async () => { await gc.dispose(); await client.dispose(); });

  test('an object whose only owner is gone is deleted in the background with a UID precondition', async () => {
    const pod = obj('Pod', 'p', 'pod', [ref('ReplicaSet', 'rs', 'rs')]);
    api.put(pod);
    gc.builder.processEvent('add', pod);
    assert.equal(await gc.processAttemptToDelete('rs'), 'forget', 'the virtual owner is dropped');
    assert.equal(gc.builder.graph.get('rs'), undefined);
    assert.equal(await gc.processAttemptToDelete('pod'), 'forget');
    assert.deepEqual(api.actions, ['delete Pod/p uid=pod Background']);
  });

  test('a live owner keeps the object; dangling references beside it are removed', async () => {
    const owner = obj('ConfigMap', 'live', 'live');
    const dep = obj('ConfigMap', 'dep', 'dep', [ref('ConfigMap', 'live', 'live'), ref('ConfigMap', 'gone', 'gone')]);
    api.put(owner);
    api.put(dep);
    gc.builder.processEvent('add', owner);
    gc.builder.processEvent('add', dep);
    await gc.processAttemptToDelete('dep');
    assert.deepEqual(api.actions, ['patch ConfigMap/dep {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"gone"}],"uid":"dep"}}']);
  });

  test('a UID mismatch counts as a missing owner', async () => {
    api.put(obj('ConfigMap', 'parent', 'new-uid'));
    const dep = obj('ConfigMap', 'dep', 'dep', [ref('ConfigMap', 'parent', 'old-uid')]);
    api.put(dep);
    gc.builder.processEvent('add', dep);
    gc.builder.processEvent('add', obj('ConfigMap', 'parent', 'new-uid'));
    await gc.processAttemptToDelete('dep');
    assert.deepEqual(api.actions, ['delete ConfigMap/dep uid=dep Background']);
  });

  test('foreground: dependents of a waiting owner with dependents go in foreground; the finalizer goes last', async () => {
    const d = obj('Deployment', 'd', 'd', [], { finalizers: ['foregroundDeletion'], deleting: true });
    const rs = obj('ReplicaSet', 'rs', 'rs', [ref('Deployment', 'd', 'd')]);
    const pod = obj('Pod', 'p', 'pod', [ref('ReplicaSet', 'rs', 'rs')]);
    for (const o of [d, rs, pod]) api.put(o);
    gc.builder.processEvent('add', rs);
    gc.builder.processEvent('add', pod);
    gc.builder.processEvent('add', d);
    await gc.processAttemptToDelete('d');
    assert.deepEqual(api.actions, [], 'blocked by the ReplicaSet');
    await gc.processAttemptToDelete('rs');
    assert.deepEqual(api.actions, ['delete ReplicaSet/rs uid=rs Foreground']);
    gc.builder.processEvent('delete', pod);
    gc.builder.processEvent('delete', rs);
    api.objects.delete('ReplicaSet/rs');
    await gc.processAttemptToDelete('d');
    assert.equal(api.actions[1], 'merge Deployment/d {"metadata":{"finalizers":null}}');
  });

  test('orphan: ownerReferences are stripped from dependents, then the orphan finalizer removed', async () => {
    const d = obj('Deployment', 'd', 'd', [], { finalizers: ['orphan'], deleting: true });
    d.metadata!.resourceVersion = '7';
    const rs = obj('ReplicaSet', 'rs', 'rs', [ref('Deployment', 'd', 'd')]);
    api.put(d);
    api.put(rs);
    gc.builder.processEvent('add', rs);
    gc.builder.processEvent('add', d);
    assert.equal(await gc.processAttemptToOrphan('d'), 'forget');
    assert.deepEqual(api.actions, [
      'patch ReplicaSet/rs {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"d"}],"uid":"rs"}}',
      'merge Deployment/d {"metadata":{"resourceVersion":"7","finalizers":null}}',
    ]);
  });
});

describe('ownerReferences as a JSON merge patch (custom resources take no strategic patch)', () => {
  test('deletes and merges entries by uid, with uid and resourceVersion preconditions', () => {
    const live: KubeObject = { metadata: { name: 'x', uid: 'me', resourceVersion: '7', ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'a', blockOwnerDeletion: true },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: 'b' },
    ] } };
    assert.deepEqual(ownerRefsMergePatch(live, { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'b' }, { uid: 'a', blockOwnerDeletion: false }], uid: 'me' } }), {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'a', blockOwnerDeletion: false }], uid: 'me', resourceVersion: '7' },
    });
    assert.deepEqual(ownerRefsMergePatch(live, { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'a' }, { $patch: 'delete', uid: 'b' }] } }),
      { metadata: { ownerReferences: null, uid: 'me', resourceVersion: '7' } });
  });
});
