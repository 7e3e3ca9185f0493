// A view of a CRI runtime whose every call is cancelled by one signal: the kubelet hands it to all
// its parts, so stopping the kubelet cancels its in-flight CRI calls (a StopContainer waiting out a
// long grace period, an image pull) as a kubelet exiting would, and refuses new ones.
import type {
  AttachRequest, AuthConfig, ContainerConfig, ContainerFilter, ContainerStatsFilter, ExecRequest, ImageSpec,
  LinuxContainerResources, PodSandboxConfig, PodSandboxFilter, StringMap,
} from './messages.ts';
import { CriError, GrpcCode, type CallOptions, type ImageService, type RuntimeService } from './types.ts';

/** The runtime with `signal` added to every call; a runtime that ignores signals is raced against it. */
export function cancellableRuntime(runtime: RuntimeService & ImageService, signal: AbortSignal): RuntimeService & ImageService {
  // each call gets a signal of its own, so the shared one keeps a single listener however many are in flight
  const inFlight = new Set<AbortController>();
  signal.addEventListener('abort', () => {
    for (const c of inFlight) c.abort();
    inFlight.clear();
  }, { once: true });
  function run<T>(method: string, opts: CallOptions | undefined, call: (opts: CallOptions) => Promise<T>): Promise<T> {
    const cancelled = (): CriError => new CriError(method, GrpcCode.Cancelled, 'the kubelet is shutting down');
    if (signal.aborted) return Promise.reject(cancelled());
    const own = new AbortController();
    inFlight.add(own);
    return new Promise<T>((resolve, reject) => {
      own.signal.addEventListener('abort', () => reject(cancelled()), { once: true });
      call({ ...opts, signal: opts?.signal ? AbortSignal.any([opts.signal, own.signal]) : own.signal })
        .then(resolve, reject)
        .finally(() => inFlight.delete(own));
    });
  }
  return {
    version: (opts) => run('Version', opts, (o) => runtime.version(o)),
    status: (verbose, opts) => run('Status', opts, (o) => runtime.status(verbose, o)),
    runPodSandbox: (config: PodSandboxConfig, handler?: string, opts?: CallOptions) => run('RunPodSandbox', opts, (o) => runtime.runPodSandbox(config, handler, o)),
    stopPodSandbox: (id, opts) => run('StopPodSandbox', opts, (o) => runtime.stopPodSandbox(id, o)),
    removePodSandbox: (id, opts) => run('RemovePodSandbox', opts, (o) => runtime.removePodSandbox(id, o)),
    podSandboxStatus: (id, verbose, opts) => run('PodSandboxStatus', opts, (o) => runtime.podSandboxStatus(id, verbose, o)),
    listPodSandbox: (filter?: PodSandboxFilter, opts?: CallOptions) => run('ListPodSandbox', opts, (o) => runtime.listPodSandbox(filter, o)),
    createContainer: (sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, opts?: CallOptions) =>
      run('CreateContainer', opts, (o) => runtime.createContainer(sandboxId, config, sandboxConfig, o)),
    startContainer: (id, opts) => run('StartContainer', opts, (o) => runtime.startContainer(id, o)),
    stopContainer: (id, timeoutSeconds, opts) => run('StopContainer', opts, (o) => runtime.stopContainer(id, timeoutSeconds, o)),
    removeContainer: (id, opts) => run('RemoveContainer', opts, (o) => runtime.removeContainer(id, o)),
    listContainers: (filter?: ContainerFilter, opts?: CallOptions) => run('ListContainers', opts, (o) => runtime.listContainers(filter, o)),
    containerStatus: (id, verbose, opts) => run('ContainerStatus', opts, (o) => runtime.containerStatus(id, verbose, o)),
    updateContainerResources: (id: string, linux: LinuxContainerResources, annotations?: StringMap, opts?: CallOptions) =>
      run('UpdateContainerResources', opts, (o) => runtime.updateContainerResources(id, linux, annotations, o)),
    reopenContainerLog: (id, opts) => run('ReopenContainerLog', opts, (o) => runtime.reopenContainerLog(id, o)),
    execSync: (id, cmd, timeoutSeconds, opts) => run('ExecSync', opts, (o) => runtime.execSync(id, cmd, timeoutSeconds, o)),
    exec: (req: ExecRequest, opts?: CallOptions) => run('Exec', opts, (o) => runtime.exec(req, o)),
    attach: (req: AttachRequest, opts?: CallOptions) => run('Attach', opts, (o) => runtime.attach(req, o)),
    portForward: (id, ports, opts) => run('PortForward', opts, (o) => runtime.portForward(id, ports, o)),
    containerStats: (id, opts) => run('ContainerStats', opts, (o) => runtime.containerStats(id, o)),
    listContainerStats: (filter?: ContainerStatsFilter, opts?: CallOptions) => run('ListContainerStats', opts, (o) => runtime.listContainerStats(filter, o)),
    listImages: (filter?: ImageSpec, opts?: CallOptions) => run('ListImages', opts, (o) => runtime.listImages(filter, o)),
    imageStatus: (image, verbose, opts) => run('ImageStatus', opts, (o) => runtime.imageStatus(image, verbose, o)),
    pullImage: (image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: CallOptions) =>
      run('PullImage', opts, (o) => runtime.pullImage(image, auth, sandboxConfig, o)),
    removeImage: (image, opts) => run('RemoveImage', opts, (o) => runtime.removeImage(image, o)),
    imageFsInfo: (opts) => run('ImageFsInfo', opts, (o) => runtime.imageFsInfo(o)),
  };
}
