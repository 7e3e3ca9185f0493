// Unit tests of the root CA publisher over caches filled by hand and a recording client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../../client/rest_client.ts';
import type { ControllerContext } from '../registry.ts';
import { DESCRIPTION, RootCaPublisher } from './publisher.ts';

class RecordingClient extends RestClient {
  readonly calls: { method: string; path: string; body: any }[] = [];
  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }
  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body });
    return opts.body as T;
  }
}

function setup(): { c: RootCaPublisher; api: RecordingClient } {
  const api = new RecordingClient();
  const ctx: ControllerContext = {
    client: api, informers: new SharedInformerFactory(api), recorder: () => new FakeRecorder(), clock: new FakeClock(),
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'CA' },
  };
  return { c: new RootCaPublisher(ctx), api };
}

describe('root CA publisher', () => {
  test('creates kube-root-ca.crt with the CA and the description', async () => {
    const { c, api } = setup();
    c.namespaces.indexer.add({ metadata: { name: 'ns1' }, status: { phase: 'Active' } });
    await c.sync('ns1');
    assert.equal(api.calls.length, 1);
    assert.equal(api.calls[0]!.method, 'POST');
    assert.equal(api.calls[0]!.path, '/api/v1/namespaces/ns1/configmaps');
    assert.deepEqual(api.calls[0]!.body.data, { 'ca.crt': 'CA' });
    assert.equal(api.calls[0]!.body.metadata.annotations['kubernetes.io/description'], DESCRIPTION);
    await c.dispose();
  });

  test('repairs a tampered ConfigMap and leaves a correct one alone', async () => {
    const { c, api } = setup();
    c.namespaces.indexer.add({ metadata: { name: 'ns1' }, status: { phase: 'Active' } });
    c.configMaps.indexer.add({ metadata: { name: 'kube-root-ca.crt', namespace: 'ns1', annotations: { 'kubernetes.io/description': DESCRIPTION } }, data: { 'ca.crt': 'CA' } });
    await c.sync('ns1');
    assert.equal(api.calls.length, 0);
    c.configMaps.indexer.add({ metadata: { name: 'kube-root-ca.crt', namespace: 'ns1' }, data: { 'ca.crt': 'evil', extra: 'x' } });
    await c.sync('ns1');
    assert.equal(api.calls[0]!.method, 'PUT');
    assert.deepEqual(api.calls[0]!.body.data, { 'ca.crt': 'CA' });
    await c.dispose();
  });
});
