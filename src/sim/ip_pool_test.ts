// Tests of simulated node and pod addresses.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nodeAddress, PodAddressPool } from './ip_pool.ts';

describe('simulated addresses', () => {
  test('node i gets the (i+1)-th address of its range', () => {
    assert.equal(nodeAddress('10.244.0.0/16', 0), '10.244.0.1');
    assert.equal(nodeAddress('10.244.0.0/16', 4999), '10.244.19.136');
    assert.throws(() => nodeAddress('10.244.0.0/30', 2), /node index 2 does not fit in 10\.244\.0\.0\/30/);
  });

  test('pods get the lowest free address of their node\'s /24, the same one on every call', () => {
    const pool = new PodAddressPool('100.64.0.0/10', 3);
    assert.equal(pool.block, '100.64.3.0/24');
    assert.equal(pool.allocate('a'), '100.64.3.1');
    assert.equal(pool.allocate('b'), '100.64.3.2');
    assert.equal(pool.allocate('a'), '100.64.3.1');
    pool.release('a');
    assert.equal(pool.allocate('c'), '100.64.3.1');
  });

  test('addresses pods already have are kept after a restart; foreign or taken ones are refused', () => {
    const pool = new PodAddressPool('100.64.0.0/10', 0);
    assert.equal(pool.reserve('old', '100.64.0.7'), true);
    assert.equal(pool.reserve('other', '100.64.0.7'), false);
    assert.equal(pool.reserve('x', '100.64.1.7'), false);
    assert.equal(pool.allocate('old'), '100.64.0.7');
    for (let i = 0; i < 253; i++) assert.ok(pool.allocate(`p${i}`));
    assert.equal(pool.allocate('one-too-many'), undefined);
    assert.equal(pool.size, 254);
  });
});
