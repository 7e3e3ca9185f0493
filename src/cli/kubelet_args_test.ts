import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseKubeletArgs } from './kubelet_args.ts';

describe('--kubelet-arg', () => {
  test('upstream value syntax turns into kubelet options', () => {
    const o = parseKubeletArgs([
      'eviction-hard=memory.available<100Mi,nodefs.available<10%',
      '--eviction-soft=memory.available<500Mi',
      'eviction-soft-grace-period=memory.available=1m30s',
      'eviction-minimum-reclaim=memory.available=0.5Gi',
      'eviction-max-pod-grace-period=60',
      'eviction-pressure-transition-period=30s',
      'max-pods=50',
      'image-gc-high-threshold=90',
      'image-gc-low-threshold=70',
    ]);
    assert.deepEqual(o, {
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%' },
      evictionSoft: { 'memory.available': '500Mi' },
      evictionSoftGracePeriod: { 'memory.available': '1m30s' },
      evictionMinimumReclaim: { 'memory.available': '0.5Gi' },
      evictionMaxPodGracePeriodSeconds: 60,
      evictionPressureTransitionMs: 30_000,
      maxPods: 50,
      imageGC: { highThresholdPercent: 90, lowThresholdPercent: 70 },
    });
    assert.deepEqual(parseKubeletArgs([]), {});
  });

  test('an unknown or unsupported flag is an error naming it', () => {
    assert.throws(() => parseKubeletArgs(['nosuch=1']), /--kubelet-arg nosuch=1: unknown or unsupported kubelet flag --nosuch/);
    assert.throws(() => parseKubeletArgs(['constructor=1']), /unsupported kubelet flag --constructor/);
  });

  test('bad values get upstream\'s messages', () => {
    assert.throws(() => parseKubeletArgs(['eviction-soft=memory.available<1Gi']), { message: '--kubelet-arg: grace period must be specified for the soft eviction threshold memory.available' });
    assert.throws(() => parseKubeletArgs(['eviction-hard=memory.available=1Gi']), { message: '--kubelet-arg eviction-hard=memory.available=1Gi: malformed pair, expect string<string' });
    assert.throws(() => parseKubeletArgs(['eviction-soft-grace-period=memory.available']), /malformed pair, expect string=string/);
    assert.throws(() => parseKubeletArgs(['eviction-hard=memory.free<1Gi']), /unsupported eviction signal memory.free/);
    assert.throws(() => parseKubeletArgs(['max-pods=many']), { message: '--kubelet-arg max-pods=many: invalid argument "many" for "--max-pods" flag: strconv.ParseInt: parsing "many": invalid syntax' });
    assert.throws(() => parseKubeletArgs(['max-pods=-1']), { message: 'invalid configuration: maxPods (--max-pods) -1 must not be a negative number' });
    assert.throws(() => parseKubeletArgs(['eviction-pressure-transition-period=5']), /time: missing unit in duration "5"/);
    assert.throws(() => parseKubeletArgs(['image-gc-high-threshold=101']), { message: 'invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive' });
    assert.throws(() => parseKubeletArgs(['image-gc-low-threshold=90']), { message: 'invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 90 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 85' });
  });
});
