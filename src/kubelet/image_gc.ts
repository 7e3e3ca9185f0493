// Image garbage collection (pkg/kubelet/images/image_gc_manager.go): over the high threshold (85%)
// of the image filesystem, removes unused images least recently used first down to the low one
// (80%); the eviction manager calls deleteUnusedImages under disk pressure.
import type { ObjectReference } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import { EventType, type EventRecorder } from '../client/events.ts';
import type { Image } from './cri/messages.ts';
import { isNotFound, type ImageService, type RuntimeService } from './cri/types.ts';

const log = logger('image-gc');

/** When to collect (KubeletConfiguration imageGC*). */
export interface ImageGCPolicy {
  /** Collect when the image filesystem is at least this full (default 85; 100 turns collection off). */
  readonly highThresholdPercent: number;
  /** Collect down to this (default 80). */
  readonly lowThresholdPercent: number;
  /** Images younger than this are kept (default 2 min). */
  readonly minAgeMs: number;
  /** Unused images older than this are removed whatever the disk says (0: never). */
  readonly maxAgeMs: number;
}

export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * 60_000, maxAgeMs: 0 };

/** Size and free space of the image filesystem. */
export interface ImageFsStats {
  readonly capacityBytes: number;
  readonly availableBytes: number;
}

/** Options of ImageGCManager. */
export interface ImageGCOptions {
  readonly images: ImageService;
  /** Lists containers (all states): their images are in use. */
  readonly runtime: Pick<RuntimeService, 'listContainers'>;
  readonly fsStats: () => Promise<ImageFsStats | undefined>;
  readonly recorder: EventRecorder;
  readonly nodeRef: ObjectReference;
  readonly policy?: Partial<ImageGCPolicy>;
  readonly clock?: Clock;
  /** How often start() collects (ImageGCPeriod, default 5 min). */
  readonly periodMs?: number;
}

interface ImageRecord {
  firstDetected: number;
  lastUsed: number;
  size: number;
  pinned: boolean;
}

/** Checks a policy as the kubelet does at start. */
export function validateImageGCPolicy(p: ImageGCPolicy): void {
  if (p.highThresholdPercent < 0 || p.highThresholdPercent > 100) throw new Error(`invalid HighThresholdPercent ${p.highThresholdPercent}, must be in range [0-100]`);
  if (p.lowThresholdPercent < 0 || p.lowThresholdPercent > 100) throw new Error(`invalid LowThresholdPercent ${p.lowThresholdPercent}, must be in range [0-100]`);
  if (p.lowThresholdPercent > p.highThresholdPercent) throw new Error(`LowThresholdPercent ${p.lowThresholdPercent} can not be higher than HighThresholdPercent ${p.highThresholdPercent}`);
}

/** Tracks image use and frees disk space. */
export class ImageGCManager implements Disposable {
  readonly #o: ImageGCOptions;
  readonly #policy: ImageGCPolicy;
  readonly #clock: Clock;
  readonly #records = new Map<string, ImageRecord>();
  #timer: ClockTimer | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(opts: ImageGCOptions) {
    this.#policy = { ...DEFAULT_IMAGE_GC_POLICY, ...opts.policy };
    validateImageGCPolicy(this.#policy);
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
  }

  get policy(): ImageGCPolicy {
    return this.#policy;
  }

  /** Records the images there are now, then collects every period; failures are ImageGCFailed events. */
  start(): void {
    this.#running = this.detectImages().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#running = this.garbageCollect().catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        log.warn('image garbage collection failed', { err: message });
        this.#o.recorder.event(this.#o.nodeRef, EventType.Warning, 'ImageGCFailed', message);
      }).finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#o.periodMs ?? 5 * 60_000);
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    await this.#running;
  }

  /** Refreshes the records; returns the IDs of images some container uses. */
  async detectImages(now = this.#clock.now()): Promise<Set<string>> {
    const [images, containers] = await Promise.all([this.#o.images.listImages(), this.#o.runtime.listContainers()]);
    const refs = new Set<string>();
    for (const c of containers) {
      if (c.imageRef) refs.add(c.imageRef);
      if (c.imageId) refs.add(c.imageId);
      if (c.image?.image) refs.add(c.image.image);
    }
    const inUse = new Set<string>();
    const current = new Set<string>();
    for (const img of images) {
      current.add(img.id);
      let r = this.#records.get(img.id);
      if (!r) {
        r = { firstDetected: now, lastUsed: 0, size: img.size, pinned: img.pinned };
        this.#records.set(img.id, r);
      }
      r.size = img.size;
      r.pinned = img.pinned;
      if (isUsed(img, refs)) {
        inUse.add(img.id);
        r.lastUsed = now;
      }
    }
    for (const id of this.#records.keys()) if (!current.has(id)) this.#records.delete(id);
    return inUse;
  }

  /** One threshold-driven pass (GarbageCollect). */
  async garbageCollect(): Promise<void> {
    const now = this.#clock.now();
    if (this.#policy.maxAgeMs > 0) await this.#freeOldImages(now);
    const fs = await this.#o.fsStats();
    if (!fs) return;
    const { capacityBytes: capacity, availableBytes: available } = fs;
    if (capacity === 0) {
      const err = 'invalid capacity 0 on image filesystem';
      this.#o.recorder.event(this.#o.nodeRef, EventType.Warning, 'InvalidDiskCapacity', err);
      throw new Error(err);
    }
    const usagePercent = 100 - Math.trunc((available * 100) / capacity);
    if (usagePercent < this.#policy.highThresholdPercent) return;
    const amountToFree = Math.trunc((capacity * (100 - this.#policy.lowThresholdPercent)) / 100) - available;
    log.info('disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold', { usage: usagePercent, highThreshold: this.#policy.highThresholdPercent, amountToFree, lowThreshold: this.#policy.lowThresholdPercent });
    const freed = await this.freeSpace(amountToFree, now);
    if (freed < amountToFree) {
      const err = `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${freed} bytes eligible to free.`;
      this.#o.recorder.event(this.#o.nodeRef, EventType.Warning, 'FreeDiskSpaceFailed', err);
      throw new Error(err);
    }
  }

  /** Removes every unused image old enough (DeleteUnusedImages, for the eviction manager). */
  async deleteUnusedImages(): Promise<number> {
    return this.freeSpace(Number.MAX_SAFE_INTEGER, this.#clock.now());
  }

  /** Removes unused images, least recently used first, until `bytesToFree` are freed; returns bytes freed. */
  async freeSpace(bytesToFree: number, now: number): Promise<number> {
    const inUse = await this.detectImages(now);
    const candidates = [...this.#records.entries()]
      .filter(([id, r]) => !inUse.has(id) && !r.pinned)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed || a.firstDetected - b.firstDetected);
    let freed = 0;
    for (const [id, r] of candidates) {
      if (freed >= bytesToFree) break;
      // an image seen only now may be about to be used
      if (r.lastUsed === now) continue;
      if (now - r.firstDetected < this.#policy.minAgeMs) continue;
      if (await this.#remove(id)) freed += r.size;
    }
    return freed;
  }

  async #freeOldImages(now: number): Promise<void> {
    const inUse = await this.detectImages(now);
    for (const [id, r] of this.#records) {
      if (inUse.has(id) || r.pinned) continue;
      const since = r.lastUsed || r.firstDetected;
      if (now - since > this.#policy.maxAgeMs) await this.#remove(id);
    }
  }

  async #remove(id: string): Promise<boolean> {
    log.info('removing image to free bytes', { imageID: id, size: this.#records.get(id)?.size });
    try {
      await this.#o.images.removeImage({ image: id, annotations: {} });
    } catch (err) {
      if (!isNotFound(err)) {
        log.warn('removing an image failed', { imageID: id, err: err instanceof Error ? err.message : String(err) });
        return false;
      }
    }
    this.#records.delete(id);
    return true;
  }
}

function isUsed(img: Image, refs: ReadonlySet<string>): boolean {
  if (refs.has(img.id)) return true;
  return img.repoTags.some((t) => refs.has(t)) || img.repoDigests.some((d) => refs.has(d));
}
