// CRI client over gRPC on the runtime's unix socket (containerd's CRI plugin): one channel for the
// RuntimeService and ImageService, typed wrappers that return plain objects (messages.ts), a
// deadline on every call, and failures turned into CriError naming the method and gRPC status.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Disposable } from '../../base/disposable.ts';
import type {
  AttachRequest, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter,
  ContainerStatusResponse, ExecRequest, ExecSyncResult, Image, ImageFsInfoResponse, ImageSpec,
  ImageStatusResponse, LinuxContainerResources, PodSandbox, PodSandboxConfig, PodSandboxFilter,
  PodSandboxStatusResponse, RuntimeStatusResponse, StringMap, VersionInfo,
} from './messages.ts';
import { CriError, GrpcCode, type CallOptions, type ImageService, type RuntimeService } from './types.ts';

/** The CRI API version we speak, sent in VersionRequest. */
export const CRI_API_VERSION = 'v1';

/** Options of a CriClient. */
export interface CriClientOptions {
  /** Default deadline per call (default 2 min, the kubelet's --runtime-request-timeout). */
  readonly timeoutMs?: number;
  /** Deadline of PullImage (default none: large images take long). */
  readonly pullTimeoutMs?: number;
}

const PROTO_PATH = fileURLToPath(new URL('./runtime.proto', import.meta.url));
const RUNTIME = 'runtime.v1.RuntimeService';
const IMAGES = 'runtime.v1.ImageService';
// ExecSync output may reach 16 MiB per stream (the CRI cap); leave room for both and framing.
const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

let packageDefinition: protoLoader.PackageDefinition | undefined;

function definition(): protoLoader.PackageDefinition {
  packageDefinition ??= protoLoader.loadSync(PROTO_PATH, {
    keepCase: false, // camelCase fields, as messages.ts declares them
    longs: Number, // int64 timestamps are ns: rounding below 1 µs is harmless for us
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
  });
  return packageDefinition;
}

function method(service: string, name: string): protoLoader.MethodDefinition<object, object> {
  const svc = definition()[service] as protoLoader.ServiceDefinition | undefined;
  const m = svc?.[name];
  if (!m) throw new Error(`runtime.proto has no ${service}/${name}`);
  return m as protoLoader.MethodDefinition<object, object>;
}

const codeNames = new Map<number, GrpcCode>(
  Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, camelStatus(k)]),
);

function camelStatus(constName: string): GrpcCode {
  const name = constName.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
  return (Object.values(GrpcCode) as string[]).includes(name) ? (name as GrpcCode) : GrpcCode.Unknown;
}

/** Turns proto3 "unset message" nulls into absent fields, so objects match messages.ts. */
function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropNulls) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && v !== undefined) out[k] = dropNulls(v);
  }
  return out as T;
}

/** Normalizes "unix:///p", "unix:/p" and "/p" to the form grpc-js expects. */
export function criTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:')) return `unix://${endpoint.slice('unix:'.length)}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new Error(`CRI endpoint ${JSON.stringify(endpoint)}: want unix:///absolute/path or an absolute path`);
}

/** A connection to a CRI runtime; close() (or dispose()) releases the channel. */
export class CriClient implements RuntimeService, ImageService, Disposable {
  readonly endpoint: string;
  readonly #client: grpc.Client;
  readonly #timeoutMs: number;
  readonly #pullTimeoutMs: number;

  constructor(endpoint: string, opts: CriClientOptions = {}) {
    for (const key of ['timeoutMs', 'pullTimeoutMs'] as const) {
      const v = opts[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new Error(`CriClientOptions.${key}: want a number of milliseconds >= 0, got ${String(v)}`);
      }
    }
    this.endpoint = criTarget(endpoint);
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
    this.#pullTimeoutMs = opts.pullTimeoutMs ?? 0;
    this.#client = new grpc.Client(this.endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
  }

  close(): void {
    this.#client.close();
  }

  dispose(): void {
    this.close();
  }

  #call<Res>(service: string, name: string, request: object, timeoutMs: number, signal?: AbortSignal): Promise<Res> {
    const m = method(service, name);
    const callOpts: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new CriError(name, GrpcCode.Cancelled, 'cancelled before it was sent'));
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = this.#client.makeUnaryRequest(
        m.path, m.requestSerialize, m.responseDeserialize, request, new grpc.Metadata(), callOpts,
        (err: grpc.ServiceError | null, res?: object) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) {
            const code = codeNames.get(err.code) ?? GrpcCode.Unknown;
            let details = err.details || err.message;
            if (code === GrpcCode.DeadlineExceeded) details = `no answer within ${timeoutMs} ms (${details})`;
            if (code === GrpcCode.Unavailable) details = `runtime at ${this.endpoint} unavailable (${details})`;
            reject(new CriError(name, code, details));
          } else {
            resolve(dropNulls(res) as Res);
          }
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #runtime<Res>(name: string, request: object, opts?: CallOptions, extraMs = 0): Promise<Res> {
    const t = opts?.timeoutMs ?? this.#timeoutMs;
    return this.#call<Res>(RUNTIME, name, request, t > 0 ? t + extraMs : 0, opts?.signal);
  }

  #images<Res>(name: string, request: object, opts?: CallOptions): Promise<Res> {
    return this.#call<Res>(IMAGES, name, request, opts?.timeoutMs ?? this.#timeoutMs, opts?.signal);
  }

  // ---- RuntimeService

  version(opts?: CallOptions): Promise<VersionInfo> {
    return this.#runtime('Version', { version: CRI_API_VERSION }, opts);
  }

  status(verbose = false, opts?: CallOptions): Promise<RuntimeStatusResponse> {
    return this.#runtime('Status', { verbose }, opts);
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', opts?: CallOptions): Promise<string> {
    const res = await this.#runtime<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler }, opts);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.#runtime('StopPodSandbox', { podSandboxId }, opts);
  }

  async removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.#runtime('RemovePodSandbox', { podSandboxId }, opts);
  }

  podSandboxStatus(podSandboxId: string, verbose = false, opts?: CallOptions): Promise<PodSandboxStatusResponse> {
    return this.#runtime('PodSandboxStatus', { podSandboxId, verbose }, opts);
  }

  async listPodSandbox(filter?: PodSandboxFilter, opts?: CallOptions): Promise<PodSandbox[]> {
    const res = await this.#runtime<{ items?: PodSandbox[] }>('ListPodSandbox', { filter }, opts);
    return res.items ?? [];
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, opts?: CallOptions): Promise<string> {
    const res = await this.#runtime<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig }, opts);
    return res.containerId;
  }

  async startContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.#runtime('StartContainer', { containerId }, opts);
  }

  async stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void> {
    // The grace period is the runtime's to wait out: our deadline must outlast it.
    await this.#runtime('StopContainer', { containerId, timeout: timeoutSeconds }, opts, timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.#runtime('RemoveContainer', { containerId }, opts);
  }

  async listContainers(filter?: ContainerFilter, opts?: CallOptions): Promise<Container[]> {
    const res = await this.#runtime<{ containers?: Container[] }>('ListContainers', { filter }, opts);
    return res.containers ?? [];
  }

  containerStatus(containerId: string, verbose = false, opts?: CallOptions): Promise<ContainerStatusResponse> {
    return this.#runtime('ContainerStatus', { containerId, verbose }, opts);
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources, annotations: StringMap = {}, opts?: CallOptions): Promise<void> {
    await this.#runtime('UpdateContainerResources', { containerId, linux, annotations }, opts);
  }

  async reopenContainerLog(containerId: string, opts?: CallOptions): Promise<void> {
    await this.#runtime('ReopenContainerLog', { containerId }, opts);
  }

  execSync(containerId: string, cmd: string[], timeoutSeconds = 0, opts?: CallOptions): Promise<ExecSyncResult> {
    if (timeoutSeconds === 0 && opts?.timeoutMs === undefined) opts = { ...opts, timeoutMs: 0 };
    return this.#runtime('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, opts, timeoutSeconds * 1000);
  }

  async exec(req: ExecRequest, opts?: CallOptions): Promise<string> {
    return (await this.#runtime<{ url: string }>('Exec', req, opts)).url;
  }

  async attach(req: AttachRequest, opts?: CallOptions): Promise<string> {
    return (await this.#runtime<{ url: string }>('Attach', req, opts)).url;
  }

  async portForward(podSandboxId: string, ports: number[], opts?: CallOptions): Promise<string> {
    return (await this.#runtime<{ url: string }>('PortForward', { podSandboxId, port: ports }, opts)).url;
  }

  async containerStats(containerId: string, opts?: CallOptions): Promise<ContainerStats | undefined> {
    return (await this.#runtime<{ stats?: ContainerStats }>('ContainerStats', { containerId }, opts)).stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter, opts?: CallOptions): Promise<ContainerStats[]> {
    return (await this.#runtime<{ stats?: ContainerStats[] }>('ListContainerStats', { filter }, opts)).stats ?? [];
  }

  // ---- ImageService

  async listImages(filter?: ImageSpec, opts?: CallOptions): Promise<Image[]> {
    const res = await this.#images<{ images?: Image[] }>('ListImages', { filter: filter ? { image: filter } : undefined }, opts);
    return res.images ?? [];
  }

  imageStatus(image: ImageSpec, verbose = false, opts?: CallOptions): Promise<ImageStatusResponse> {
    return this.#images('ImageStatus', { image, verbose }, opts);
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: CallOptions): Promise<string> {
    const res = await this.#images<{ imageRef: string }>('PullImage', { image, auth, sandboxConfig },
      { timeoutMs: opts?.timeoutMs ?? this.#pullTimeoutMs, ...(opts?.signal ? { signal: opts.signal } : {}) });
    return res.imageRef;
  }

  async removeImage(image: ImageSpec, opts?: CallOptions): Promise<void> {
    await this.#images('RemoveImage', { image }, opts);
  }

  imageFsInfo(opts?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.#images('ImageFsInfo', {}, opts);
  }
}
