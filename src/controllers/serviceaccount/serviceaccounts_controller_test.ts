// Unit tests of the ServiceAccounts controller: namespaces and ServiceAccounts go straight into the
// informer caches, API writes are recorded by a RestClient whose request() never leaves the process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import { ServiceAccountsController } from './serviceaccounts_controller.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

function setup(): { c: ServiceAccountsController; api: RecordingClient } {
  const api = new RecordingClient();
  const clock = new FakeClock();
  const ctx = fakeControllerContext(api, { clock });
  return { c: new ServiceAccountsController(ctx), api };
}

describe('ServiceAccounts controller', () => {
  test('creates the default ServiceAccount in an active namespace', async () => {
    const { c, api } = setup();
    c.namespaces.indexer.add({ metadata: { name: 'team' }, status: { phase: 'Active' } });
    await c.sync('team');
    assert.equal(api.calls.length, 1);
    assert.equal(api.calls[0]!.method, 'POST');
    assert.equal(api.calls[0]!.path, '/api/v1/namespaces/team/serviceaccounts');
    assert.equal((api.calls[0]!.body as { metadata: { name: string } }).metadata.name, 'default');
    await c.dispose();
  });

  test('leaves a namespace that already has one alone', async () => {
    const { c, api } = setup();
    c.namespaces.indexer.add({ metadata: { name: 'team' }, status: { phase: 'Active' } });
    c.serviceAccounts.indexer.add({ metadata: { name: 'default', namespace: 'team' } });
    await c.sync('team');
    assert.equal(api.calls.length, 0);
    await c.dispose();
  });

  test('skips terminating and unknown namespaces', async () => {
    const { c, api } = setup();
    c.namespaces.indexer.add({ metadata: { name: 'old' }, status: { phase: 'Terminating' } });
    await c.sync('old');
    await c.sync('missing');
    assert.equal(api.calls.length, 0);
    await c.dispose();
  });
});
