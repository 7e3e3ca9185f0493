import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { quantityString } from '../../api/quantity.ts';
import { DEFAULT_EVICTION_HARD, parseThresholds, thresholdQuantity, thresholdsMet } from './thresholds.ts';
import { Signal, type Observation } from './types.ts';

describe('eviction thresholds', () => {
  test('upstream defaults parse to four hard thresholds', () => {
    const t = parseThresholds(DEFAULT_EVICTION_HARD);
    assert.deepEqual(t.map((x) => x.signal).sort(), ['imagefs.available', 'memory.available', 'nodefs.available', 'nodefs.inodesFree']);
    const mem = t.find((x) => x.signal === Signal.MemoryAvailable)!;
    assert.equal(quantityString(mem.quantity!), '100Mi');
    assert.equal(t.find((x) => x.signal === Signal.NodeFsAvailable)!.percentage, 0.1);
  });

  test('0% and 100% turn a signal off; bad statements are refused with the signal named', () => {
    assert.deepEqual(parseThresholds({ 'nodefs.available': '0%', 'imagefs.available': '100%' }), []);
    assert.throws(() => parseThresholds({ 'memory.free': '1Gi' }), /unsupported eviction signal memory.free/);
    assert.throws(() => parseThresholds({ 'memory.available': '-1Gi' }), /memory.available must be positive/);
    assert.throws(() => parseThresholds({ 'nodefs.available': '120%' }), /must be <= 100%/);
    assert.throws(() => parseThresholds({ 'memory.available': 'lots' }), /memory.available/);
  });

  test('a percentage is taken of the capacity, in BinarySI', () => {
    const [t] = parseThresholds({ 'nodefs.available': '50%' });
    assert.equal(quantityString(thresholdQuantity(t!, 10 * 1024 * 1024 * 1024)), '5Gi');
    // upstream multiplies by a float32: 10% of 10Gi is a little over 1Gi
    assert.equal(quantityString(thresholdQuantity(parseThresholds({ 'nodefs.available': '10%' })[0]!, 10 * 1024 ** 3)), '1073741840');
  });

  test('a threshold is met when availability falls below it', () => {
    const ts = parseThresholds({ 'memory.available': '100Mi', 'nodefs.available': '10%' });
    const obs = new Map<Signal, Observation>([
      [Signal.MemoryAvailable, { available: 99 * 1024 * 1024, capacity: 8 * 1024 ** 3 }],
      [Signal.NodeFsAvailable, { available: 20, capacity: 100 }],
    ]);
    assert.deepEqual(thresholdsMet(ts, obs).map((t) => t.signal), ['memory.available']);
    obs.set(Signal.MemoryAvailable, { available: 100 * 1024 * 1024, capacity: 8 * 1024 ** 3 });
    obs.set(Signal.NodeFsAvailable, { available: 9, capacity: 100 });
    assert.deepEqual(thresholdsMet(ts, obs).map((t) => t.signal), ['nodefs.available']);
    // a signal nobody observed is never met
    assert.deepEqual(thresholdsMet(parseThresholds({ 'pid.available': '10%' }), obs), []);
  });
});
