import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { quantityString } from '../../api/quantity.ts';
import { DEFAULT_EVICTION_HARD, isHardThreshold, parseThresholdConfig, parseThresholds, thresholdQuantity, thresholdsFirstObservedAt, thresholdsMet, thresholdsMetGracePeriod } from './thresholds.ts';
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

  test('soft thresholds carry their grace period; hard ones replace the defaults whole', () => {
    const ts = parseThresholdConfig({
      hard: { 'memory.available': '200Mi' },
      soft: { 'memory.available': '500Mi', 'nodefs.available': '15%' },
      softGracePeriod: { 'memory.available': '1m30s', 'nodefs.available': '2m' },
      minimumReclaim: { 'memory.available': '0.5Gi', 'nodefs.available': '1%' },
    });
    assert.deepEqual(ts.map((t) => [t.signal, isHardThreshold(t), t.gracePeriodMs ?? 0]), [
      ['memory.available', true, 0], ['memory.available', false, 90_000], ['nodefs.available', false, 120_000],
    ]);
    assert.equal(quantityString(ts[0]!.minReclaim!.quantity!), '512Mi');
    assert.equal(ts[2]!.minReclaim!.percentage, 0.01);
    assert.equal(parseThresholdConfig({}).length, 4);
  });

  test('bad flag values are refused with upstream\'s messages', () => {
    assert.throws(() => parseThresholdConfig({ soft: { 'memory.available': '1Gi' } }), { message: 'grace period must be specified for the soft eviction threshold memory.available' });
    assert.throws(() => parseThresholdConfig({ soft: { 'memory.available': '1Gi' }, softGracePeriod: { 'memory.available': 'soon' } }), { message: 'time: invalid duration "soon"' });
    assert.throws(() => parseThresholdConfig({ softGracePeriod: { 'memory.available': '-1m' } }), { message: 'invalid eviction grace period specified: -1m, must be a positive value' });
    assert.throws(() => parseThresholdConfig({ softGracePeriod: { 'memory.free': '1m' } }), { message: 'unsupported eviction signal memory.free' });
    assert.throws(() => parseThresholdConfig({ minimumReclaim: { 'memory.available': '-1Mi' } }), { message: 'negative eviction minimum reclaim specified for memory.available' });
    assert.throws(() => parseThresholdConfig({ minimumReclaim: { 'nodefs.available': '0%' } }), { message: 'eviction percentage minimum reclaim nodefs.available must be positive: 0%' });
    assert.throws(() => parseThresholdConfig({ hard: { 'memory.available': '0' } }), { message: 'eviction threshold memory.available must be positive: 0' });
  });

  test('a met threshold stays met until its minimum reclaim is available too', () => {
    const [t] = parseThresholdConfig({ hard: { 'memory.available': '100Mi' }, minimumReclaim: { 'memory.available': '50Mi' } });
    const Mi = 1024 * 1024;
    const obs = new Map<Signal, Observation>([[Signal.MemoryAvailable, { available: 120 * Mi, capacity: 8 * 1024 * Mi }]]);
    assert.deepEqual(thresholdsMet([t!], obs), []);
    assert.deepEqual(thresholdsMet([t!], obs, true), [t]);
    obs.set(Signal.MemoryAvailable, { available: 150 * Mi, capacity: 8 * 1024 * Mi });
    assert.deepEqual(thresholdsMet([t!], obs, true), []);
  });

  test('a soft threshold drives eviction only once met for its grace period', () => {
    const ts = parseThresholdConfig({ hard: {}, soft: { 'memory.available': '1Gi' }, softGracePeriod: { 'memory.available': '30s' } });
    const first = thresholdsFirstObservedAt(ts, new Map(), 1000);
    assert.deepEqual(thresholdsMetGracePeriod(first, 30_999), []);
    const later = thresholdsFirstObservedAt(ts, first, 31_000);
    assert.equal(later.get(ts[0]!), 1000);
    assert.deepEqual(thresholdsMetGracePeriod(later, 31_000), ts);
  });
});
