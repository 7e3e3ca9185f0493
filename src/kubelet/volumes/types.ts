// Contracts of the kubelet's volume code: what a volume plugin sets up for a pod, what it needs from
// the kubelet (API objects, tokens, mounts, the clock), and what the pod sync gets back (a host path
// per volume name, which volumes/mounts.ts turns into CRI mounts).
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from '../../api/types/core_v1.ts';
import type { Clock } from '../../client/clock.ts';

/** Where API objects come from; undefined means "not found" (other failures throw). */
export interface VolumeObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
}

/** A TokenRequest as the kubelet makes it (serviceaccounts/<name>/token bound to the pod). */
export interface TokenRequestSpec {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Empty: the API server's own audiences. */
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly podName: string;
  readonly podUID: string;
}

/** The answer to a TokenRequest. */
export interface IssuedToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** Issues service-account tokens (the API's TokenRequest). */
export type TokenIssuer = (spec: TokenRequestSpec) => Promise<IssuedToken>;

/** Mounts the kubelet makes itself (tmpfs for memory-backed volumes). */
export interface Mounter {
  /** Mounts a tmpfs at `dir`, of `sizeBytes` when given. */
  mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void>;
  unmount(dir: string): Promise<void>;
  /** The mount points at or under `dir`, deepest first. */
  mountPointsUnder(dir: string): string[];
}

/** A file of an API-data volume: content and permission bits. */
export interface FileProjection {
  readonly data: Buffer;
  readonly mode: number;
}

/** A volume set up on the node. */
export interface MountedVolume {
  /** The host path containers bind-mount. */
  readonly hostPath: string;
  /** The plugin always mounts it read-only (API data volumes). */
  readonly readOnly: boolean;
  /** Which plugin set it up ("empty-dir", "host-path", ...). */
  readonly plugin: string;
}

/** The outcome of setting up a pod's volumes. */
export type MountOutcome =
  | { readonly ok: true; readonly volumes: ReadonlyMap<string, MountedVolume> }
  | { readonly ok: false; readonly retryAfterMs: number };

/** The volume side of a pod sync (VolumeManager implements it). */
export interface PodVolumes {
  /** Sets up (or refreshes) every volume of the pod; failures are FailedMount events and a retry time. */
  mountPod(pod: Pod): Promise<MountOutcome>;
}

/** What a volume plugin gets to set up one volume. */
export interface VolumeHost {
  readonly pod: Pod;
  readonly volume: Volume;
  /** pods/<uid>/volumes/<plugin dir>/<name>, for plugins that keep data under the pod. */
  readonly dir: string;
  readonly objects: VolumeObjectSource;
  readonly tokens: TokenIssuerCache;
  readonly mounter: Mounter;
  readonly clock: Clock;
  /** Node allocatable memory in bytes (the ceiling of memory-backed volumes). */
  readonly allocatableMemory: number;
  /** Node allocatable resources, the default of unset limits in resourceFieldRef. */
  readonly nodeAllocatable: Readonly<Record<string, string>>;
}

/** Tokens by request, reissued once 80% of their life has passed. */
export interface TokenIssuerCache {
  get(spec: TokenRequestSpec): Promise<string>;
}

/** One volume plugin: recognises its volumes, sets them up idempotently, may refresh them later. */
export interface VolumePlugin {
  /** The directory name under pods/<uid>/volumes (upstream's escaped plugin name, e.g. kubernetes.io~empty-dir). */
  readonly name: string;
  canSupport(volume: Volume): boolean;
  /** Sets the volume up (again); API-data plugins rewrite their files when the content changed. */
  setUp(host: VolumeHost): Promise<MountedVolume>;
  /** Whether setUp should run again periodically (its content comes from the API). */
  readonly refreshes: boolean;
}

/** A failure to set a volume up; the message is what the FailedMount event says after the volume. */
export class VolumeError extends Error {
  /** "process": the volume could not be resolved at all (an unbound claim); "setup": its SetUp failed. */
  readonly stage: 'process' | 'setup';

  constructor(message: string, stage: 'process' | 'setup' = 'setup') {
    super(message);
    this.name = 'VolumeError';
    this.stage = stage;
  }
}
