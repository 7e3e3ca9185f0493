// Unit tests of the PVC protection controller: objects go straight into the informer caches and a
// recording client answers the live pod list and the claim updates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod, Volume } from '../../api/types/core_v1.ts';
import { ApiStatusError } from '../../client/api_errors.ts';
import { FakeClock } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { PVC_PROTECTION_FINALIZER, PvcProtectionController, isPodTerminated, podPvcIndexFunc } from './pvc_protection_controller.ts';

class FakeApi extends RestClient {
  readonly calls: { method: string; path: string; body: any }[] = [];
  /** What the live pod list returns. */
  livePods: Pod[] = [];
  failUpdates = 0;
  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }
  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body });
    if (opts.method === 'GET' && opts.path.endsWith('/pods')) return { items: this.livePods } as T;
    if (opts.method === 'PUT' && this.failUpdates > 0) {
      this.failUpdates--;
      throw new ApiStatusError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'conflict' });
    }
    return (opts.body ?? {}) as T;
  }
}

function setup(): { c: PvcProtectionController; api: FakeApi } {
  const api = new FakeApi();
  const ctx: ControllerContext = {
    client: api, informers: new SharedInformerFactory(api), recorder: () => new FakeRecorder(), clock: new FakeClock(),
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  return { c: new PvcProtectionController(ctx), api };
}

function pvc(name: string, opts: { deleted?: boolean; finalizer?: boolean; ownerUid?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: {
      name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '5',
      ...(opts.finalizer !== false ? { finalizers: [PVC_PROTECTION_FINALIZER] } : {}),
      ...(opts.deleted ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
      ...(opts.ownerUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: opts.ownerUid, controller: true }] } : {}),
    },
    spec: {},
  };
}

function pod(name: string, volumes: Volume[], extra: { nodeName?: string; phase?: string; uid?: string; shutDown?: boolean } = {}): Pod {
  return {
    metadata: {
      name, namespace: 'ns', uid: extra.uid ?? `uid-${name}`,
      ...(extra.shutDown ? { deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 } : {}),
    },
    spec: { containers: [], volumes, ...(extra.nodeName !== '' ? { nodeName: extra.nodeName ?? 'n1' } : {}) },
    status: { phase: extra.phase ?? 'Running' },
  };
}

const claimVol = (claimName: string): Volume => ({ name: 'data', persistentVolumeClaim: { claimName } });
const ephemeralVol = (name: string): Volume => ({ name, ephemeral: { volumeClaimTemplate: { spec: {} } } });

function summary(api: FakeApi): string[] {
  return api.calls.map((x) => `${x.method} ${x.path}`);
}

describe('PVC protection controller', () => {
  test('a deleted claim no pod uses loses its finalizer after a live check', async () => {
    const { c, api } = setup();
    const claim = pvc('data', { deleted: true });
    claim.metadata!.finalizers = ['example.com/other', PVC_PROTECTION_FINALIZER];
    c.pvcs.indexer.add(claim);
    c.pods.indexer.add(pod('other', [claimVol('unrelated'), { name: 'tmp', emptyDir: {} }]));
    await c.processPvc('ns/data');
    assert.deepEqual(summary(api), ['GET /api/v1/namespaces/ns/pods', 'PUT /api/v1/namespaces/ns/persistentvolumeclaims/data']);
    assert.deepEqual(api.calls[1]!.body.metadata.finalizers, ['example.com/other']);
    assert.equal(api.calls[1]!.body.metadata.resourceVersion, '5');
    await c.dispose();
  });

  test('a claim used by a scheduled pod in the cache is kept without asking the server', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('data', { deleted: true }));
    c.pods.indexer.add(pod('user', [claimVol('data')]));
    await c.processPvc('ns/data');
    assert.deepEqual(api.calls, []);
    await c.dispose();
  });

  test('a finished pod that still exists keeps its claim, as upstream', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('data', { deleted: true }));
    c.pods.indexer.add(pod('done', [claimVol('data')], { phase: 'Failed' }));
    await c.processPvc('ns/data');
    assert.deepEqual(api.calls, []);
    await c.dispose();
  });

  test('a pod the cache has not seen yet keeps the claim through the live list', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('data', { deleted: true }));
    api.livePods = [pod('late', [claimVol('data')])];
    await c.processPvc('ns/data');
    assert.deepEqual(summary(api), ['GET /api/v1/namespaces/ns/pods']);
    await c.dispose();
  });

  test('an unscheduled pod does not keep the claim', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('data', { deleted: true }));
    const p = pod('pending', [claimVol('data')], { nodeName: '' });
    c.pods.indexer.add(p);
    api.livePods = [p];
    await c.processPvc('ns/data');
    assert.deepEqual(summary(api).at(-1), 'PUT /api/v1/namespaces/ns/persistentvolumeclaims/data');
    await c.dispose();
  });

  test('a generic ephemeral claim is used only by the running pod that owns it', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('p-scratch', { deleted: true, ownerUid: 'uid-p' }));
    c.pods.indexer.add(pod('p', [ephemeralVol('scratch')]));
    await c.processPvc('ns/p-scratch');
    assert.deepEqual(api.calls, [], 'owned by the pod: kept');

    // The same name, but the claim belongs to an earlier pod of that name.
    c.pvcs.indexer.update(pvc('p-scratch', { deleted: true, ownerUid: 'uid-older' }));
    api.livePods = c.pods.lister.list();
    await c.processPvc('ns/p-scratch');
    assert.equal(summary(api).at(-1), 'PUT /api/v1/namespaces/ns/persistentvolumeclaims/p-scratch');

    api.calls.length = 0;
    c.pvcs.indexer.update(pvc('p-scratch', { deleted: true, ownerUid: 'uid-p' }));
    c.pods.indexer.update(pod('p', [ephemeralVol('scratch')], { shutDown: true }));
    api.livePods = c.pods.lister.list();
    await c.processPvc('ns/p-scratch');
    assert.equal(summary(api).at(-1), 'PUT /api/v1/namespaces/ns/persistentvolumeclaims/p-scratch', 'a shut-down pod lets go');
    await c.dispose();
  });

  test('a live claim without the finalizer gets it; a live protected claim is left alone', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('bare', { finalizer: false }));
    c.pvcs.indexer.add(pvc('fine'));
    await c.processPvc('ns/bare');
    await c.processPvc('ns/fine');
    await c.processPvc('ns/missing');
    assert.deepEqual(summary(api), ['PUT /api/v1/namespaces/ns/persistentvolumeclaims/bare']);
    assert.deepEqual(api.calls[0]!.body.metadata.finalizers, [PVC_PROTECTION_FINALIZER]);
    await c.dispose();
  });

  test('claims of one namespace share one live pod list; failures are retried', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('a', { deleted: true }));
    c.pvcs.indexer.add(pvc('b', { deleted: true }));
    api.failUpdates = 1;
    for (const k of ['ns/a', 'ns/b']) c.queue.add(k);
    const keys = [await c.queue.get(), await c.queue.get()] as string[];
    await c.processBatch(keys);
    assert.deepEqual(summary(api), [
      'GET /api/v1/namespaces/ns/pods',
      'PUT /api/v1/namespaces/ns/persistentvolumeclaims/a',
      'PUT /api/v1/namespaces/ns/persistentvolumeclaims/b',
    ]);
    assert.equal(c.queue.numRequeues('ns/a'), 1);
    assert.equal(c.queue.numRequeues('ns/b'), 0);
    await c.dispose();
  });

  test('pod events queue claims only when the pod can no longer hold them', async () => {
    const { c } = setup();
    const running = pod('user', [claimVol('data'), ephemeralVol('scratch')]);
    c.enqueuePvcs(running, false);
    assert.equal(c.queue.len(), 0, 'a running scheduled pod frees nothing');
    c.enqueuePvcs({ ...running, status: { phase: 'Succeeded' } }, false);
    assert.equal(c.queue.len(), 2);
    const keys = [await c.queue.get(), await c.queue.get()] as string[];
    assert.deepEqual(keys, ['ns/data', 'ns/user-scratch']);
    for (const k of keys) c.queue.done(k);
    c.enqueuePvcs(running, true);
    assert.equal(c.queue.len(), 2, 'a deleted pod frees its claims');
    await c.dispose();
  });

  test('running workers release a deleted claim when its pod is deleted', async () => {
    const { c, api } = setup();
    c.pvcs.indexer.add(pvc('data', { deleted: true }));
    c.run(2);
    c.enqueuePvcs(pod('user', [claimVol('data')]), true);
    const deadline = Date.now() + 5000;
    while (api.calls.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.deepEqual(summary(api), ['GET /api/v1/namespaces/ns/pods', 'PUT /api/v1/namespaces/ns/persistentvolumeclaims/data']);
    await c.dispose();
  });
});

describe('PVC protection helpers', () => {
  test('the pod index names claim and ephemeral claims', () => {
    assert.deepEqual(podPvcIndexFunc(pod('p', [claimVol('data'), ephemeralVol('scratch'), { name: 'e', emptyDir: {} }])), ['ns/data', 'ns/p-scratch']);
  });

  test('a deleted pod is terminated only when none of its containers runs', () => {
    const deleting: Pod = { metadata: { name: 'p', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] } };
    assert.equal(isPodTerminated(deleting), false);
    deleting.status!.containerStatuses![0]!.state = { terminated: { exitCode: 0 } };
    assert.equal(isPodTerminated(deleting), true);
    assert.equal(isPodTerminated({ metadata: { name: 'q' }, status: { phase: 'Succeeded' } }), true);
    assert.equal(isPodTerminated({ metadata: { name: 'q' }, status: { phase: 'Running' } }), false);
  });
});
