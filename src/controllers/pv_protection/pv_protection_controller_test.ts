// Unit tests of the PV protection controller: volumes go straight into the informer cache and a
// recording client takes the updates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume } from '../../api/types/core_v1.ts';
import { FakeClock } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { PV_PROTECTION_FINALIZER, PvProtectionController } from './pv_protection_controller.ts';

class FakeApi extends RestClient {
  readonly calls: { method: string; path: string; body: any }[] = [];
  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }
  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body });
    return (opts.body ?? {}) as T;
  }
}

function setup(): { c: PvProtectionController; api: FakeApi } {
  const api = new FakeApi();
  const ctx: ControllerContext = {
    client: api, informers: new SharedInformerFactory(api), recorder: () => new FakeRecorder(), clock: new FakeClock(),
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  return { c: new PvProtectionController(ctx), api };
}

function pv(name: string, phase: string, opts: { deleted?: boolean; finalizers?: string[] } = {}): PersistentVolume {
  return {
    metadata: {
      name, resourceVersion: '7', finalizers: opts.finalizers ?? [PV_PROTECTION_FINALIZER],
      ...(opts.deleted ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: { capacity: { storage: '1Gi' } },
    status: { phase },
  };
}

describe('PV protection controller', () => {
  test('a deleted volume keeps its finalizer while Bound and loses it once Released', async () => {
    const { c, api } = setup();
    c.pvs.indexer.add(pv('vol', 'Bound', { deleted: true, finalizers: ['example.com/x', PV_PROTECTION_FINALIZER] }));
    await c.sync('vol');
    assert.equal(api.calls.length, 0, 'Bound: kept');
    c.pvs.indexer.update(pv('vol', 'Released', { deleted: true, finalizers: ['example.com/x', PV_PROTECTION_FINALIZER] }));
    await c.sync('vol');
    assert.deepEqual(api.calls.map((x) => `${x.method} ${x.path}`), ['PUT /api/v1/persistentvolumes/vol']);
    assert.deepEqual(api.calls[0]!.body.metadata.finalizers, ['example.com/x']);
    assert.equal(api.calls[0]!.body.metadata.resourceVersion, '7');
    await c.dispose();
  });

  test('a live volume without the finalizer gets it; others are left alone', async () => {
    const { c, api } = setup();
    c.pvs.indexer.add(pv('bare', 'Available', { finalizers: [] }));
    c.pvs.indexer.add(pv('fine', 'Bound'));
    for (const n of ['bare', 'fine', 'missing']) await c.sync(n);
    assert.deepEqual(api.calls.map((x) => `${x.method} ${x.path}`), ['PUT /api/v1/persistentvolumes/bare']);
    assert.deepEqual(api.calls[0]!.body.metadata.finalizers, [PV_PROTECTION_FINALIZER]);
    await c.dispose();
  });

  test('running workers process queued volumes', async () => {
    const { c, api } = setup();
    c.pvs.indexer.add(pv('vol', 'Available', { deleted: true }));
    c.run(1);
    c.queue.add('vol');
    const deadline = Date.now() + 5000;
    while (api.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.deepEqual(api.calls[0]!.body.metadata.finalizers, []);
    await c.dispose();
  });
});
