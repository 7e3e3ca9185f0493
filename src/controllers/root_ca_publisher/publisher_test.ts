// Unit tests of the root CA publisher over caches filled by hand and a recording client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DESCRIPTION, RootCaPublisher } from './publisher.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

function setup(): { c: RootCaPublisher; api: RecordingClient } {
  const api = new RecordingClient();
  const ctx = fakeControllerContext(api, { rootCaPem: 'CA' });
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
