// Unit tests of the CIDR set and the IPAM controller's sync over a hand-filled cache.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { CidrRangeExhausted, CidrSet } from './cidr_set.ts';
import { NodeIpamController } from './node_ipam_controller.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

describe('CidrSet', () => {
  test('hands out /24s round-robin, skipping occupied ones, until exhausted', () => {
    const set = new CidrSet('10.42.0.0/22');
    assert.equal(set.occupy('10.42.1.0/24'), true);
    assert.equal(set.occupy('10.99.0.0/24'), false);
    assert.equal(set.occupy('10.42.0.0/25'), false);
    assert.equal(set.allocateNext(), '10.42.0.0/24');
    assert.equal(set.allocateNext(), '10.42.2.0/24');
    assert.equal(set.allocateNext(), '10.42.3.0/24');
    assert.throws(() => set.allocateNext(), CidrRangeExhausted);
    set.release('10.42.2.0/24');
    assert.equal(set.allocateNext(), '10.42.2.0/24');
  });

  test('rejects bad ranges with the value in the message', () => {
    assert.throws(() => new CidrSet('10.42.0.0/16', 8), /does not fit/);
    assert.throws(() => new CidrSet('nonsense'), /invalid IPv4 CIDR "nonsense"/);
  });
});

describe('node IPAM controller', () => {
  test('patches a node without a range and reports exhaustion as an event', async () => {
    const api = new RecordingClient();
    api.reply = () => ({});
    const recorder = new FakeRecorder();
    const ctx = fakeControllerContext(api, { recorder, clusterCidr: '10.42.0.0/24' });
    const c = new NodeIpamController(ctx);
    c.nodes.indexer.add({ metadata: { name: 'n1', uid: 'u1' } });
    c.nodes.indexer.add({ metadata: { name: 'n2', uid: 'u2' } });
    await c.sync('n1');
    assert.equal(api.calls[0]!.method, 'PATCH');
    assert.deepEqual(JSON.parse(api.calls[0]!.body), { spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } });
    // A retry before the cache shows the range re-sends the same one.
    await c.sync('n1');
    assert.deepEqual(JSON.parse(api.calls[1]!.body).spec.podCIDR, '10.42.0.0/24');
    await assert.rejects(c.sync('n2'), CidrRangeExhausted);
    assert.deepEqual(recorder.events, ['Normal CIDRNotAvailable Node n2 status is now: CIDRNotAvailable']);
    await c.dispose();
  });
});
