// The kubelet's image manager (pkg/kubelet/images): decides from imagePullPolicy whether to pull,
// pulls through CRI with a per-pod-and-image backoff, and reports with upstream's events and errors
// (ErrImageNeverPull, ErrImagePull, ImagePullBackOff, InspectFailed). Credentials come from the
// pod's imagePullSecrets, tried one after another as CRI AuthConfigs (credential_keyring.ts).
import type { Container, ObjectReference, Pod, Secret } from '../api/types/core_v1.ts';
import { EventType, type EventRecorder } from '../client/events.ts';
import type { AuthConfig, Image, PodSandboxConfig } from './cri/messages.ts';
import { CriError, type ImageService } from './cri/types.ts';
import type { Backoff } from './backoff.ts';
import { makeDockerKeyring, repositoryToPull } from './credential_keyring.ts';

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

/** Where pull secrets are read from (the API, as the node); undefined means not found. */
export interface PullSecretSource {
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** Go's utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated in brackets. */
function aggregateText(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
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
  /** Pulls in flight by image and credentials, so that pods sharing an image wait for one pull. */
  readonly #pulls = new Map<string, Promise<string>>();

  constructor(opts: ImageManagerOptions) {
    this.#o = opts;
  }

  /** Makes sure the container's image is there, pulling if its policy says so. */
  async ensureImageExists(
    pod: Pod, container: Container, ref: ObjectReference, sandboxConfig: PodSandboxConfig, secrets?: PullSecretSource,
  ): Promise<EnsureImageResult> {
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
    const pullSecrets = await this.#pullSecrets(pod, ref, secrets);
    rec.event(ref, EventType.Normal, 'Pulling', `Pulling image "${image}"`);
    const started = performance.now();
    let imageRef: string;
    try {
      imageRef = await this.#pullWithSecrets(image, pullSecrets, sandboxConfig);
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

  /**
   * The pod's pull secrets that could be read. Upstream reads them at every sync; we read them only
   * when a pull is due, which spares an API read per sync and secret (same event when one is missing).
   */
  async #pullSecrets(pod: Pod, ref: ObjectReference, source: PullSecretSource | undefined): Promise<Secret[]> {
    const refs = (pod.spec?.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== '');
    if (refs.length === 0 || !source) return [];
    const namespace = pod.metadata?.namespace ?? '';
    const found: Secret[] = [];
    const failed: string[] = [];
    for (const name of refs) {
      try {
        const secret = await source.secret(namespace, name);
        if (secret) found.push(secret);
        else failed.push(name);
      } catch {
        failed.push(name);
      }
    }
    if (failed.length > 0) {
      const { fieldPath: _container, ...podObject } = ref;
      this.#o.recorder.event(podObject, EventType.Warning, 'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${failed.join(', ')}); attempting to pull the image may not succeed.`);
    }
    return found;
  }

  /** Pulls anonymously when no secret has credentials for the image, else with each matching one in turn. */
  async #pullWithSecrets(image: string, secrets: readonly Secret[], sandboxConfig: PodSandboxConfig): Promise<string> {
    const creds = secrets.length > 0 ? makeDockerKeyring(secrets).lookup(repositoryToPull(image)) : [];
    if (creds.length === 0) return this.#pull(image, undefined, sandboxConfig);
    const failures: string[] = [];
    for (const auth of creds) {
      try {
        return await this.#pull(image, auth, sandboxConfig);
      } catch (err) {
        failures.push(grpcErrorText(err));
      }
    }
    throw new Error(aggregateText(failures));
  }

  /** One CRI pull; pods pulling the same image with the same credentials at once share it. */
  #pull(image: string, auth: AuthConfig | undefined, sandboxConfig: PodSandboxConfig): Promise<string> {
    const key = `${image}\0${auth ? JSON.stringify(auth) : ''}`;
    let pull = this.#pulls.get(key);
    if (!pull) {
      pull = this.#o.images.pullImage({ image }, auth, sandboxConfig).finally(() => this.#pulls.delete(key));
      this.#pulls.set(key, pull);
    }
    return pull;
  }
}
