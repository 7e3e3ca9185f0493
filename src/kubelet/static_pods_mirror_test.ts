import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types/core_v1.ts';
import { ApiStatusError } from '../client/api_errors.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import { podsFromManifest } from './static_pods.ts';
import { MirrorPods, mirrorPodFor } from './static_pods_mirror.ts';

const WEB = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]\n';

/** The pods API as a map, recording calls. */
function fakePods() {
  const store = new Map<string, Pod>();
  const calls: string[] = [];
  let next = 1;
  const client = {
    inNamespace: (ns: string) => ({
      create: async (p: Pod) => {
        calls.push(`create ${ns}/${p.metadata!.name}`);
        const key = `${ns}/${p.metadata!.name}`;
        if (store.has(key)) throw new ApiStatusError({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'exists' });
        const created = { ...p, metadata: { ...p.metadata, namespace: ns, uid: `api-${next++}` } };
        store.set(key, created);
        return created;
      },
      delete: async (name: string, o: { gracePeriodSeconds?: number; preconditions?: { uid?: string } }) => {
        calls.push(`delete ${ns}/${name} grace=${o.gracePeriodSeconds} uid=${o.preconditions?.uid}`);
        const key = `${ns}/${name}`;
        const cur = store.get(key);
        if (!cur) throw new ApiStatusError({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
        if (o.preconditions?.uid && cur.metadata!.uid !== o.preconditions.uid) throw new ApiStatusError({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'uid' });
        store.delete(key);
        return cur;
      },
    }),
  } as unknown as ResourceClient<Pod>;
  return { store, calls, client };
}

describe('mirror pods', () => {
  const [staticPod] = podsFromManifest(WEB, '/m/web.yaml', 'n1', Date.UTC(2024, 0, 1));

  test('the mirror copies the static pod with the mirror annotation and the Node as controller owner', () => {
    const m = mirrorPodFor(staticPod!, 'n1', 'node-uid');
    assert.equal(m.metadata!.name, 'web-n1');
    assert.equal(m.metadata!.uid, undefined);
    assert.equal(m.status, undefined);
    assert.equal(m.metadata!.annotations!['kubernetes.io/config.mirror'], staticPod!.metadata!.uid);
    assert.equal(m.metadata!.annotations!['kubernetes.io/config.source'], 'file');
    assert.deepEqual(m.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }]);
    assert.equal(m.spec!.nodeName, 'n1');
  });

  test('created when missing, left alone when current, replaced when stale or being deleted', async () => {
    const api = fakePods();
    const created: string[] = [];
    const mirrors = new MirrorPods({
      pods: api.client, nodeName: 'n1', node: () => ({ uid: 'node-uid', deleting: false }),
      mirrorOf: (ns, name) => api.store.get(`${ns}/${name}`), onCreated: (p) => created.push(p.metadata!.uid!),
    });
    await mirrors.sync(staticPod!);
    assert.deepEqual(api.calls, ['create default/web-n1']);
    assert.deepEqual(created, [staticPod!.metadata!.uid]);
    await mirrors.sync(staticPod!);
    assert.equal(api.calls.length, 1);

    const cur = api.store.get('default/web-n1')!;
    api.store.set('default/web-n1', { ...cur, metadata: { ...cur.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } });
    await mirrors.sync(staticPod!);
    assert.deepEqual(api.calls.slice(1), ['delete default/web-n1 grace=0 uid=api-1', 'create default/web-n1']);

    const [changed] = podsFromManifest(WEB.replace('busybox', 'busybox:1'), '/m/web.yaml', 'n1', Date.UTC(2024, 0, 1));
    await mirrors.sync(changed!);
    assert.deepEqual(api.calls.slice(3), ['delete default/web-n1 grace=0 uid=api-2', 'create default/web-n1']);
    assert.equal(api.store.get('default/web-n1')!.metadata!.annotations!['kubernetes.io/config.mirror'], changed!.metadata!.uid);

    // the old version's removal leaves the new version's mirror alone
    await mirrors.delete(staticPod!);
    assert.equal(api.calls.length, 5);
    await mirrors.delete(changed!);
    assert.equal(api.store.size, 0);
  });

  test('no mirror before the node is registered or while it is being deleted; errors never throw', async () => {
    const api = fakePods();
    let node: { uid: string; deleting: boolean } | undefined;
    const mirrors = new MirrorPods({ pods: api.client, nodeName: 'n1', node: () => node, mirrorOf: (ns, name) => api.store.get(`${ns}/${name}`) });
    await mirrors.sync(staticPod!);
    node = { uid: 'u', deleting: true };
    await mirrors.sync(staticPod!);
    assert.deepEqual(api.calls, []);
    const failing = new MirrorPods({
      pods: { inNamespace: () => ({ create: async () => { throw new Error('connection refused'); } }) } as unknown as ResourceClient<Pod>,
      nodeName: 'n1', node: () => ({ uid: 'u', deleting: false }), mirrorOf: () => undefined,
    });
    await failing.sync(staticPod!);
  });
});
