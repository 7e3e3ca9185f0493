// The kubelet's image manager (pkg/kubelet/images): decides from imagePullPolicy whether to pull,
// pulls through CRI with a per-pod-and-image backoff, and reports with upstream's events and errors
// (ErrImageNeverPull, ErrImagePull, ImagePullBackOff, InspectFailed).
import type { Container, ObjectReference, Pod } from '../api/types/core_v1.ts';
import { EventType, type EventRecorder } from '../client/events.ts';
import type { Image, PodSandboxConfig } from './cri/messages.ts';
import { CriError, type ImageService } from './cri/types.ts';
import type { Backoff } from './backoff.ts';

/** Image errors, as the waiting reason shows them. */
export const ImageError = {
  ErrImagePull: 'ErrImagePull',
  ImagePullBackOff: 'ImagePullBackOff',
  ErrImageNeverPull: 'ErrImageNeverPull',
  ImageInspectError: 'ImageInspectError',
  InvalidImageName: 'InvalidImageName',
} as const;
export type ImageError = (typeof ImageError)[keyof typeof ImageError];

/** The outcome of ensureImageExists. */
export type EnsureImageResult =
  | { readonly ok: true; readonly imageRef: string; readonly image: Image | undefined }
  | { readonly ok: false; readonly reason: ImageError; readonly message: string };

/** A CRI failure worded as a Go gRPC client prints it ("rpc error: code = NotFound desc = ..."). */
export function grpcErrorText(err: unknown): string {
  if (err instanceof CriError) return `rpc error: code = ${err.code} desc = ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}

/** The pull policy, defaulted as the API server does (Always for :latest or no tag). */
export function pullPolicyOf(container: Container): string {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  const tail = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@')) return 'IfNotPresent';
  return !tail.includes(':') || tail.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** Go's time.Duration.String for a pull time. */
function goDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  return `${Number((ms / 1000).toFixed(6))}s`;
}

/** Options of ImageManager. */
export interface ImageManagerOptions {
  readonly images: ImageService;
  readonly recorder: EventRecorder;
  readonly backoff: Backoff;
}

/** Ensures containers' images are present. */
export class ImageManager {
  readonly #o: ImageManagerOptions;
  /** Pulls in flight by image, so that pods sharing an image wait for one pull. */
  readonly #pulls = new Map<string, Promise<string>>();

  constructor(opts: ImageManagerOptions) {
    this.#o = opts;
  }

  /** Makes sure the container's image is there, pulling if its policy says so. */
  async ensureImageExists(pod: Pod, container: Container, ref: ObjectReference, sandboxConfig: PodSandboxConfig): Promise<EnsureImageResult> {
    const image = container.image ?? '';
    const rec = this.#o.recorder;
    if (image === '') {
      const message = `Failed to apply default image tag "": couldn't parse image name "": invalid reference format`;
      rec.event(ref, EventType.Warning, ImageError.InvalidImageName, message);
      return { ok: false, reason: ImageError.InvalidImageName, message };
    }
    let present: Image | undefined;
    try {
      present = (await this.#o.images.imageStatus({ image })).image;
    } catch (err) {
      const message = `Failed to inspect image "${image}": ${grpcErrorText(err)}`;
      rec.event(ref, EventType.Warning, 'InspectFailed', message);
      return { ok: false, reason: ImageError.ImageInspectError, message };
    }
    const policy = pullPolicyOf(container);
    const mustPull = policy === 'Always' || (policy === 'IfNotPresent' && !present);
    if (!mustPull) {
      if (present) {
        rec.event(ref, EventType.Normal, 'Pulled', `Container image "${image}" already present on machine`);
        return { ok: true, imageRef: present.id, image: present };
      }
      const message = `Container image "${image}" is not present with pull policy of Never`;
      rec.event(ref, EventType.Warning, ImageError.ErrImageNeverPull, message);
      return { ok: false, reason: ImageError.ErrImageNeverPull, message };
    }
    const key = `${pod.metadata?.uid ?? ''}_${image}`;
    const backoff = this.#o.backoff;
    if (backoff.isInBackOffSinceUpdate(key, backoff.now())) {
      const message = `Back-off pulling image "${image}"`;
      rec.event(ref, EventType.Normal, 'BackOff', message);
      return { ok: false, reason: ImageError.ImagePullBackOff, message };
    }
    rec.event(ref, EventType.Normal, 'Pulling', `Pulling image "${image}"`);
    const started = performance.now();
    let imageRef: string;
    try {
      let pull = this.#pulls.get(image);
      if (!pull) {
        pull = this.#o.images.pullImage({ image }, undefined, sandboxConfig).finally(() => this.#pulls.delete(image));
        this.#pulls.set(image, pull);
      }
      imageRef = await pull;
    } catch (err) {
      const text = grpcErrorText(err);
      rec.event(ref, EventType.Warning, 'Failed', `Failed to pull image "${image}": ${text}`);
      backoff.next(key, backoff.now());
      return { ok: false, reason: ImageError.ErrImagePull, message: text };
    }
    const took = goDuration(performance.now() - started);
    let pulled: Image | undefined;
    try {
      pulled = (await this.#o.images.imageStatus({ image: imageRef })).image;
    } catch { /* the size is only for the event */ }
    rec.event(ref, EventType.Normal, 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${pulled?.size ?? 0} bytes.`);
    return { ok: true, imageRef, image: pulled };
  }
}
