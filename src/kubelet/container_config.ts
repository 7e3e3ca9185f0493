// The CRI configs the kubelet derives from a pod (generatePodSandboxConfig, generateContainerConfig):
// sandbox hostname, DNS, hostPorts, namespaces and pod security context; container command, env,
// mounts (/etc/hosts, termination log), resources, security context and the runAsNonRoot check.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod, SeccompProfile } from '../api/types/core_v1.ts';
import { computeQOSClass } from '../api/defaults/qos.ts';
import type { JsonObject } from '../api/defaults/json.ts';
import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.ts';
import type {
  ContainerConfig, DNSConfig, LinuxContainerResources, LinuxContainerSecurityContext, Mount, NamespaceOption,
  PodSandboxConfig, PortMapping, Protocol, SecurityProfile,
} from './cri/messages.ts';
import type { EnvPair } from './env.ts';
import { expandCommandAndArgs } from './env.ts';
import { newContainerAnnotations, newContainerLabels, newPodLabels, type ContainerType } from './labels.ts';
import { formatPod } from './pod_status.ts';

/** Where a pod's files live on the node. */
export interface PodDirs {
  /** DATA/agent/kubelet/pods/<uid> (etc-hosts, termination logs). */
  readonly podDir: string;
  /** DATA/agent/kubelet/logs/<ns>_<name>_<uid> (the sandbox's log directory). */
  readonly logDir: string;
}

/** The pod's directories under the kubelet root. */
export function podDirs(root: string, pod: Pod): PodDirs {
  const md = pod.metadata ?? {};
  return {
    podDir: join(root, 'pods', md.uid ?? ''),
    logDir: join(root, 'logs', `${md.namespace ?? ''}_${md.name ?? ''}_${md.uid ?? ''}`),
  };
}

/** The pod's hostname (spec.hostname, else its name, cut to 63 characters as upstream does). */
export function podHostname(pod: Pod): string {
  let h = pod.spec?.hostname || pod.metadata?.name || '';
  if (h.length > 63) h = h.slice(0, 63).replace(/[-.]+$/, '');
  return h;
}

function namespaceOptions(pod: Pod): NamespaceOption {
  const s = pod.spec;
  return {
    network: s?.hostNetwork ? 'NODE' : 'POD',
    pid: s?.hostPID ? 'NODE' : s?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s?.hostIPC ? 'NODE' : 'POD',
  };
}

function seccomp(p: SeccompProfile | undefined): SecurityProfile | undefined {
  if (!p) return undefined;
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  if (p.type === 'Localhost') return { profileType: 'Localhost', localhostRef: p.localhostProfile ?? '' };
  return { profileType: 'Unconfined' };
}

function supplementalGroups(pod: Pod): number[] {
  const sc = pod.spec?.securityContext;
  const groups = [...(sc?.supplementalGroups ?? [])];
  if (sc?.fsGroup !== undefined) groups.push(sc.fsGroup);
  return groups;
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** The hostPort mappings of every container (ports without a hostPort are not mapped). */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of allContainers(pod)) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ protocol: (p.protocol ?? 'TCP') as Protocol, containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  return out;
}

/** RunPodSandbox's config. */
export function podSandboxConfig(pod: Pod, attempt: number, opts: { logDir: string; dns: DNSConfig }): PodSandboxConfig {
  const md = pod.metadata ?? {};
  const sc = pod.spec?.securityContext;
  const sysctls: Record<string, string> = {};
  for (const s of sc?.sysctls ?? []) sysctls[s.name] = s.value;
  return {
    metadata: { name: md.name ?? '', uid: md.uid ?? '', namespace: md.namespace ?? '', attempt },
    // containerd 1.6 refuses a hostname for host-network sandboxes: it takes the node's
    hostname: pod.spec?.hostNetwork ? '' : podHostname(pod),
    logDirectory: opts.logDir,
    dnsConfig: opts.dns,
    portMappings: portMappings(pod),
    labels: newPodLabels(pod),
    annotations: { ...md.annotations },
    linux: {
      cgroupParent: '',
      sysctls,
      securityContext: {
        namespaceOptions: namespaceOptions(pod),
        ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        supplementalGroups: supplementalGroups(pod),
        privileged: allContainers(pod).some((c) => c.securityContext?.privileged === true),
        ...(seccomp(sc?.seccompProfile) ? { seccomp: seccomp(sc?.seccompProfile) } : {}),
      },
    },
  };
}

// ---- /etc/hosts

const MANAGED_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/** The content of the pod's /etc/hosts (upstream's managedHostsFileContent / hostNetwork variant). */
export function hostsFileContent(pod: Pod, podIPs: readonly string[], opts: { clusterDomain: string; hostHostsFile?: string }): string {
  let out: string;
  if (pod.spec?.hostNetwork) {
    let host = '';
    try {
      host = readFileSync(opts.hostHostsFile ?? '/etc/hosts', 'utf8');
    } catch { /* none */ }
    out = MANAGED_HEADER_HOST_NETWORK + host;
    if (out !== '' && !out.endsWith('\n')) out += '\n';
  } else {
    out = MANAGED_HEADER
      + '127.0.0.1\tlocalhost\n'
      + '::1\tlocalhost ip6-localhost ip6-loopback\n'
      + 'fe00::0\tip6-localnet\n'
      + 'fe00::0\tip6-mcastprefix\n'
      + 'fe00::1\tip6-allnodes\n'
      + 'fe00::2\tip6-allrouters\n';
    const hostname = podHostname(pod);
    const sub = pod.spec?.subdomain;
    for (const ip of podIPs) {
      out += sub ? `${ip}\t${hostname}.${sub}.${pod.metadata?.namespace ?? ''}.svc.${opts.clusterDomain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
    }
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length > 0) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}

// ---- resources

function quantityOf(list: Record<string, string> | undefined, name: string): bigint | undefined {
  const v = list?.[name];
  if (v === undefined) return undefined;
  try {
    return name === 'cpu' ? quantityMilliValue(parseQuantity(String(v))) : quantityValue(parseQuantity(String(v)));
  } catch {
    return undefined;
  }
}

/** cgroup v1 cpu.shares for a number of millicores (2 minimum, as upstream). */
export function milliCPUToShares(milli: number): number {
  if (milli <= 0) return 2;
  const shares = Math.floor((milli * 1024) / 1000);
  return Math.min(Math.max(shares, 2), 262144);
}

/** The OOM score adjustment for the container's QoS class (qos.GetContainerOOMScoreAdjust). */
export function oomScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  const qos = pod.status?.qosClass ?? computeQOSClass(pod as unknown as JsonObject);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const req = Number(quantityOf(container.resources?.requests as Record<string, string> | undefined, 'memory') ?? 0n);
  let adj = memoryCapacity > 0 ? 1000 - Math.floor((1000 * req) / memoryCapacity) : 1000;
  if (adj < 3) adj = 3;
  if (adj === 1000) adj = 999;
  return adj;
}

/** LinuxContainerResources from requests and limits. */
export function containerResources(pod: Pod, container: Container, memoryCapacity: number): LinuxContainerResources {
  const requests = container.resources?.requests as Record<string, string> | undefined;
  const limits = container.resources?.limits as Record<string, string> | undefined;
  const cpuReq = quantityOf(requests, 'cpu');
  const cpuLim = quantityOf(limits, 'cpu');
  const memLim = quantityOf(limits, 'memory');
  const r: LinuxContainerResources = {
    cpuShares: milliCPUToShares(Number(cpuReq ?? cpuLim ?? 0n)),
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacity),
  };
  if (cpuLim !== undefined && cpuLim > 0n) {
    r.cpuPeriod = 100_000;
    r.cpuQuota = Math.max(Math.floor((Number(cpuLim) * 100_000) / 1000), 1000);
  }
  if (memLim !== undefined && memLim > 0n) r.memoryLimitInBytes = Number(memLim);
  return r;
}

// ---- security

/** The image's user, as ImageStatus reports it (numeric uid, or a name). */
export interface ImageUser {
  readonly uid?: number;
  readonly username?: string;
}

/** upstream's verifyRunAsNonRoot: a message when the container would break runAsNonRoot, else undefined. */
export function verifyRunAsNonRoot(pod: Pod, container: Container, image: ImageUser): string | undefined {
  const psc = pod.spec?.securityContext;
  const csc = container.securityContext;
  const runAsNonRoot = csc?.runAsNonRoot ?? psc?.runAsNonRoot;
  if (!runAsNonRoot) return undefined;
  const runAsUser = csc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) return `container's runAsUser breaks non-root policy (pod: "${formatPod(pod)}", container: ${container.name})`;
    return undefined;
  }
  // an image without a user runs as root
  const uid = image.uid ?? (image.username ? undefined : 0);
  if (uid === 0) return `container has runAsNonRoot and image will run as root (pod: "${formatPod(pod)}", container: ${container.name})`;
  if (uid === undefined && image.username) {
    return `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: "${formatPod(pod)}", container: ${container.name})`;
  }
  return undefined;
}

function containerSecurityContext(pod: Pod, container: Container): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext;
  const csc = container.securityContext;
  const runAsUser = csc?.runAsUser ?? psc?.runAsUser;
  const runAsGroup = csc?.runAsGroup ?? psc?.runAsGroup;
  const profile = seccomp(csc?.seccompProfile ?? psc?.seccompProfile);
  return {
    namespaceOptions: namespaceOptions(pod),
    privileged: csc?.privileged === true,
    ...(csc?.capabilities ? { capabilities: { addCapabilities: [...(csc.capabilities.add ?? [])], dropCapabilities: [...(csc.capabilities.drop ?? [])] } } : {}),
    ...(runAsUser !== undefined ? { runAsUser: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup: { value: runAsGroup } } : {}),
    readonlyRootfs: csc?.readOnlyRootFilesystem === true,
    supplementalGroups: supplementalGroups(pod),
    noNewPrivs: csc?.allowPrivilegeEscalation === false,
    ...(profile ? { seccomp: profile } : {}),
  };
}

/** Inputs of containerConfig besides the pod and container. */
export interface ContainerConfigInput {
  readonly type: ContainerType;
  readonly restartCount: number;
  /** The image as the image manager resolved it (ID), and as the user wrote it. */
  readonly imageRef: string;
  readonly env: readonly EnvPair[];
  readonly dirs: PodDirs;
  /** Mount this hosts file at /etc/hosts (absent: the runtime's own). */
  readonly hostsFile?: string;
  /** The CRI mounts of the container's volumeMounts (volumes/mounts.ts). */
  readonly volumeMounts?: readonly Mount[];
  readonly memoryCapacity: number;
  /** An ephemeral container's target: it joins that container's PID namespace (NamespaceMode TARGET). */
  readonly targetContainerId?: string;
}

/** The container's log path relative to the sandbox's log directory ("web/0.log"). */
export function containerLogPath(name: string, restartCount: number): string {
  return `${name}/${restartCount}.log`;
}

/** CreateContainer's config. Creates the termination-message file it mounts. */
export function containerConfig(pod: Pod, container: Container, input: ContainerConfigInput): ContainerConfig {
  const { command, args } = expandCommandAndArgs(container, input.env);
  const mounts: Mount[] = [...(input.volumeMounts ?? [])];
  // a volume the user mounts at /etc/hosts wins over the managed file
  if (input.hostsFile && !mounts.some((m) => m.containerPath === '/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: input.hostsFile, readonly: false });
  const tmp = container.terminationMessagePath;
  if (tmp) {
    const dir = join(input.dirs.podDir, 'containers', container.name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, randomBytes(4).toString('hex'));
    writeFileSync(file, '', { mode: 0o666 });
    mounts.push({ containerPath: tmp, hostPath: file, readonly: false });
  }
  return {
    metadata: { name: container.name, attempt: input.restartCount },
    image: { image: input.imageRef, userSpecifiedImage: container.image ?? '' },
    command,
    args,
    workingDir: container.workingDir ?? '',
    envs: input.env.map((e) => ({ key: e.name, value: e.value })),
    mounts,
    labels: newContainerLabels(container, pod),
    annotations: newContainerAnnotations(container, pod, input.restartCount, input.type),
    logPath: containerLogPath(container.name, input.restartCount),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      resources: containerResources(pod, container, input.memoryCapacity),
      securityContext: withTarget(containerSecurityContext(pod, container), input.targetContainerId),
    },
  };
}

function withTarget(sc: LinuxContainerSecurityContext, targetId: string | undefined): LinuxContainerSecurityContext {
  if (!targetId || sc.namespaceOptions?.pid !== 'CONTAINER') return sc;
  return { ...sc, namespaceOptions: { ...sc.namespaceOptions, pid: 'TARGET', targetId } };
}
