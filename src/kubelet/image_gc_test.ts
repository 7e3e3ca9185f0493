import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/clock.ts';
import type { EventRecorder } from '../client/events.ts';
import type { Container, Image, ImageSpec } from './cri/messages.ts';
import { CriError, GrpcCode } from './cri/types.ts';
import { ImageGCManager, validateImageGCPolicy, DEFAULT_IMAGE_GC_POLICY, type ImageFsStats } from './image_gc.ts';

const MB = 1_000_000;

class FakeImages {
  images: Image[] = [];
  containers: Container[] = [];
  removed: string[] = [];
  add(id: string, size: number, tag = `${id}:latest`, pinned = false): void {
    this.images.push({ id, repoTags: [tag], repoDigests: [], size, username: '', pinned });
  }
  use(image: string): void {
    this.containers.push({ id: `c-${image}`, podSandboxId: 's', imageRef: image, image: { image }, state: 'CONTAINER_EXITED', createdAt: 0, labels: {}, annotations: {}, imageId: '' });
  }
  async listImages(): Promise<Image[]> { return [...this.images]; }
  async listContainers(): Promise<Container[]> { return [...this.containers]; }
  async removeImage(spec: ImageSpec): Promise<void> {
    if (!this.images.some((i) => i.id === spec.image)) throw new CriError('RemoveImage', GrpcCode.NotFound, 'no such image');
    this.images = this.images.filter((i) => i.id !== spec.image);
    this.removed.push(spec.image);
  }
  async imageStatus(): Promise<never> { throw new Error('unused'); }
  async pullImage(): Promise<never> { throw new Error('unused'); }
  async imageFsInfo(): Promise<never> { throw new Error('unused'); }
}

function setup(fs: { stats: ImageFsStats | undefined }, policy = {}) {
  const images = new FakeImages();
  const clock = new FakeClock();
  const events: string[] = [];
  const recorder: EventRecorder = {
    event: (_o, _t, reason, message) => events.push(`${reason}: ${message}`),
    eventf: () => undefined,
    annotatedEventf: () => undefined,
  };
  const gc = new ImageGCManager({
    images, runtime: images, recorder, clock, policy,
    nodeRef: { kind: 'Node', name: 'n1', uid: 'n1' },
    fsStats: async () => {
      if (!fs.stats) return undefined;
      // what the fake removed is free again
      const freed = images.removed.reduce((a, id) => a + (id.startsWith('big') ? 200 * MB : 100 * MB), 0);
      return { capacityBytes: fs.stats.capacityBytes, availableBytes: fs.stats.availableBytes + freed };
    },
  });
  return { gc, images, clock, events };
}

describe('image garbage collection', () => {
  test('upstream defaults are 85/80 with a two-minute minimum age; a bad policy is refused', () => {
    assert.deepEqual(DEFAULT_IMAGE_GC_POLICY, { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000, maxAgeMs: 0 });
    assert.throws(() => validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, lowThresholdPercent: 90 }), /LowThresholdPercent 90 can not be higher than HighThresholdPercent 85/);
    assert.throws(() => validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, highThresholdPercent: 101 }), /must be in range \[0-100\]/);
  });

  test('below the high threshold nothing is removed', async () => {
    const { gc, images, clock } = setup({ stats: { capacityBytes: 1000 * MB, availableBytes: 200 * MB } });
    images.add('old', 100 * MB);
    await gc.detectImages();
    clock.step(10 * 60_000);
    await gc.garbageCollect();
    assert.deepEqual(images.removed, []);
  });

  test('over the high threshold unused images go, least recently used first, down to the low threshold', async () => {
    const { gc, images, clock } = setup({ stats: { capacityBytes: 1000 * MB, availableBytes: 50 * MB } });
    images.add('oldest', 100 * MB);
    images.add('in-use', 100 * MB);
    images.use('in-use');
    await gc.detectImages();
    clock.step(60_000);
    images.add('newer', 100 * MB);
    images.add('pinned', 100 * MB, 'pause:3.9', true);
    await gc.detectImages();
    clock.step(10 * 60_000);
    // 95% used: free 150 MB to get down to 80%
    await gc.garbageCollect();
    assert.deepEqual(images.removed, ['oldest', 'newer']);
    assert.deepEqual(images.images.map((i) => i.id).sort(), ['in-use', 'pinned']);
  });

  test('an image a container used more recently outlives one used earlier', async () => {
    const { gc, images, clock } = setup({ stats: { capacityBytes: 1000 * MB, availableBytes: 150 * MB } });
    images.add('a', 100 * MB);
    images.add('b', 100 * MB);
    await gc.detectImages();
    clock.step(60_000);
    images.use('a');
    await gc.detectImages();
    images.containers = [];
    clock.step(5 * 60_000);
    // 85% used: free 50 MB; "b" was never used, so it goes first
    await gc.garbageCollect();
    assert.deepEqual(images.removed, ['b']);
  });

  test('images younger than the minimum age stay, and too little to free is an event and an error', async () => {
    const { gc, images, events } = setup({ stats: { capacityBytes: 1000 * MB, availableBytes: 50 * MB } });
    images.add('fresh', 100 * MB);
    await assert.rejects(gc.garbageCollect(), /Failed to garbage collect required amount of images\. Attempted to free 150000000 bytes, but only found 0 bytes eligible to free\./);
    assert.deepEqual(images.removed, []);
    assert.match(events[0]!, /^FreeDiskSpaceFailed: /);
  });

  test('deleteUnusedImages removes every unused image old enough, whatever the disk says', async () => {
    const { gc, images, clock } = setup({ stats: undefined });
    images.add('x', 100 * MB);
    images.add('big-y', 200 * MB);
    images.add('used', 100 * MB);
    images.use('used');
    await gc.detectImages();
    clock.step(3 * 60_000);
    assert.equal(await gc.deleteUnusedImages(), 300 * MB);
    assert.deepEqual(images.removed.sort(), ['big-y', 'x']);
  });

  test('maxAge removes unused images not used for that long', async () => {
    const { gc, images, clock } = setup({ stats: { capacityBytes: 1000 * MB, availableBytes: 900 * MB } }, { maxAgeMs: 60 * 60_000 });
    images.add('stale', 100 * MB);
    await gc.detectImages();
    clock.step(61 * 60_000);
    await gc.garbageCollect();
    assert.deepEqual(images.removed, ['stale']);
  });
});

describe('image garbage collection loop', () => {
  test('start() collects every period and reports failures as ImageGCFailed', async () => {
    const { gc, images, clock, events } = setup({ stats: { capacityBytes: 0, availableBytes: 0 } });
    images.add('a', MB);
    gc.start();
    clock.step(5 * 60_000);
    for (let i = 0; i < 5 && !events.some((e) => e.startsWith('ImageGCFailed')); i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ['InvalidDiskCapacity: invalid capacity 0 on image filesystem', 'ImageGCFailed: invalid capacity 0 on image filesystem']);
    await gc.dispose();
    assert.equal(clock.waiters, 0);
  });
});
