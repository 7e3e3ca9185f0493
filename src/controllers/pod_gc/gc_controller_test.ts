// Unit tests of the pod garbage collector with a FakeClock and a recording client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { ApiStatusError } from '../../client/api_errors.ts';
import { FakeClock } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { PodGcController } from './gc_controller.ts';

class FakeApi extends RestClient {
  readonly calls: { method: string; path: string; body: any }[] = [];
  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }
  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body });
    if (opts.method === 'GET' && opts.path.startsWith('/api/v1/nodes/')) {
      throw new ApiStatusError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    }
    return (opts.body ?? {}) as T;
  }
}

function setup(opts = {}): { c: PodGcController; api: FakeApi; clock: FakeClock } {
  const api = new FakeApi();
  const clock = new FakeClock();
  const ctx: ControllerContext = {
    client: api, informers: new SharedInformerFactory(api), recorder: () => new FakeRecorder(), clock,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: '' },
  };
  return { c: new PodGcController(ctx, opts), api, clock };
}

function pod(name: string, extra: Partial<Pod> = {}): Pod {
  return { metadata: { name, namespace: 'ns', creationTimestamp: '2024-01-01T00:00:00Z', ...extra.metadata }, spec: { containers: [], ...extra.spec }, status: { ...extra.status } };
}

describe('pod GC', () => {
  test('orphaned pods go only after the quarantine and a NotFound from the server', async () => {
    const { c, api, clock } = setup();
    c.pods.indexer.add(pod('o', { spec: { nodeName: 'ghost', containers: [] }, status: { phase: 'Running' } }));
    await c.gc();
    assert.equal(api.calls.length, 0);
    clock.step(39_000);
    await c.gc();
    assert.equal(api.calls.length, 0);
    clock.step(2000);
    await c.gc();
    assert.deepEqual(api.calls.map((x) => `${x.method} ${x.path}`), [
      'GET /api/v1/nodes/ghost', 'PUT /api/v1/namespaces/ns/pods/o/status', 'DELETE /api/v1/namespaces/ns/pods/o',
    ]);
    const status = api.calls[1]!.body.status;
    assert.equal(status.phase, 'Failed');
    assert.deepEqual([status.conditions[0].type, status.conditions[0].reason], ['DisruptionTarget', 'DeletionByPodGC']);
    assert.equal(api.calls[2]!.body.gracePeriodSeconds, 0);
    await c.dispose();
  });

  test('terminated pods beyond the threshold go oldest first, evicted before others', async () => {
    const { c, api } = setup({ terminatedPodThreshold: 1 });
    c.pods.indexer.add(pod('old', { metadata: { creationTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Succeeded' } }));
    c.pods.indexer.add(pod('new', { metadata: { creationTimestamp: '2024-01-02T00:00:00Z' }, status: { phase: 'Failed', reason: 'Evicted' } }));
    c.pods.indexer.add(pod('mid', { metadata: { creationTimestamp: '2024-01-01T12:00:00Z' }, status: { phase: 'Failed' } }));
    await c.gcTerminated(c.pods.lister.list());
    assert.deepEqual(api.calls.filter((x) => x.method === 'DELETE').map((x) => x.path.split('/').pop()), ['new', 'old']);
    await c.dispose();
  });
});
