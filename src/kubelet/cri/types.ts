// The kubelet's contract with the container runtime: the CRI RuntimeService and ImageService as
// TypeScript interfaces over plain objects (messages.ts), plus the one error type calls throw.
// client.ts implements both over gRPC; tests and simulated runtimes may implement them directly.
import type {
  AttachRequest, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter,
  ContainerStatusResponse, ExecRequest, ExecSyncResult, Image, ImageFsInfoResponse, ImageSpec,
  ImageStatusResponse, LinuxContainerResources, PodSandbox, PodSandboxConfig, PodSandboxFilter,
  PodSandboxStatusResponse, RuntimeStatusResponse, StringMap, VersionInfo,
} from './messages.ts';

/** Per-call options. */
export interface CallOptions {
  /** Deadline of this call; the client's default applies when absent. 0 means no deadline. */
  readonly timeoutMs?: number;
  /** Cancels the call (gRPC CANCELLED) when aborted, as a cancelled Go context does. */
  readonly signal?: AbortSignal;
}

/** CRI runtime.v1.RuntimeService. */
export interface RuntimeService {
  version(opts?: CallOptions): Promise<VersionInfo>;
  status(verbose?: boolean, opts?: CallOptions): Promise<RuntimeStatusResponse>;

  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string, opts?: CallOptions): Promise<string>;
  stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void>;
  removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void>;
  podSandboxStatus(podSandboxId: string, verbose?: boolean, opts?: CallOptions): Promise<PodSandboxStatusResponse>;
  listPodSandbox(filter?: PodSandboxFilter, opts?: CallOptions): Promise<PodSandbox[]>;

  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, opts?: CallOptions): Promise<string>;
  startContainer(containerId: string, opts?: CallOptions): Promise<void>;
  /** Stops with a grace period in seconds (0 kills at once). */
  stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void>;
  removeContainer(containerId: string, opts?: CallOptions): Promise<void>;
  listContainers(filter?: ContainerFilter, opts?: CallOptions): Promise<Container[]>;
  containerStatus(containerId: string, verbose?: boolean, opts?: CallOptions): Promise<ContainerStatusResponse>;
  updateContainerResources(containerId: string, linux: LinuxContainerResources, annotations?: StringMap, opts?: CallOptions): Promise<void>;
  reopenContainerLog(containerId: string, opts?: CallOptions): Promise<void>;

  /** Runs cmd in the container and collects its output; timeoutSeconds 0 = no limit. */
  execSync(containerId: string, cmd: string[], timeoutSeconds?: number, opts?: CallOptions): Promise<ExecSyncResult>;
  /** Returns the runtime's streaming URL for an exec session. */
  exec(req: ExecRequest, opts?: CallOptions): Promise<string>;
  /** Returns the runtime's streaming URL for an attach session. */
  attach(req: AttachRequest, opts?: CallOptions): Promise<string>;
  /** Returns the runtime's streaming URL for port forwarding into the sandbox. */
  portForward(podSandboxId: string, ports: number[], opts?: CallOptions): Promise<string>;

  containerStats(containerId: string, opts?: CallOptions): Promise<ContainerStats | undefined>;
  listContainerStats(filter?: ContainerStatsFilter, opts?: CallOptions): Promise<ContainerStats[]>;
}

/** CRI runtime.v1.ImageService. */
export interface ImageService {
  listImages(filter?: ImageSpec, opts?: CallOptions): Promise<Image[]>;
  /** The image, or undefined when the runtime does not have it. */
  imageStatus(image: ImageSpec, verbose?: boolean, opts?: CallOptions): Promise<ImageStatusResponse>;
  /** Pulls and returns the image reference (ID) the runtime now knows it by. */
  pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: CallOptions): Promise<string>;
  removeImage(image: ImageSpec, opts?: CallOptions): Promise<void>;
  imageFsInfo(opts?: CallOptions): Promise<ImageFsInfoResponse>;
}

/** gRPC status names, as CriError.code carries them. */
export const GrpcCode = {
  OK: 'OK', Cancelled: 'Cancelled', Unknown: 'Unknown', InvalidArgument: 'InvalidArgument',
  DeadlineExceeded: 'DeadlineExceeded', NotFound: 'NotFound', AlreadyExists: 'AlreadyExists',
  PermissionDenied: 'PermissionDenied', ResourceExhausted: 'ResourceExhausted',
  FailedPrecondition: 'FailedPrecondition', Aborted: 'Aborted', OutOfRange: 'OutOfRange',
  Unimplemented: 'Unimplemented', Internal: 'Internal', Unavailable: 'Unavailable',
  DataLoss: 'DataLoss', Unauthenticated: 'Unauthenticated',
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** A failed CRI call: which method, the gRPC status, and the runtime's own message. */
export class CriError extends Error {
  readonly code: GrpcCode;
  readonly method: string;
  /** The runtime's message without our prefix (e.g. containerd's "an error occurred when try to find container"). */
  readonly details: string;

  constructor(method: string, code: GrpcCode, details: string) {
    super(`CRI ${method}: ${code}: ${details}`);
    this.name = 'CriError';
    this.method = method;
    this.code = code;
    this.details = details;
  }
}

/** True when err is a CriError with gRPC status NotFound. */
export function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcCode.NotFound;
}
