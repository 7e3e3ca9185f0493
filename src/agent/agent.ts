// A node agent: supervised containerd, the kubelet and its HTTPS API (:10250), and the node's CNI
// network once its pod CIDR is known (from node IPAM, or a default /24 of the cluster CIDR when no
// IPAM answers). `tkube agent` and the embedded agent of `tkube server` both run startAgent().
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Node, Taint } from '../api/types/core_v1.ts';
import { DisposableStore, type Disposable } from '../base/disposable.ts';
import { kubeconfigYaml, readKubeconfig } from '../base/kubeconfig.ts';
import { logger } from '../base/log.ts';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../base/pki.ts';
import { isNotFound } from '../client/api_errors.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';
import { CriClient } from '../kubelet/cri/client.ts';
import { Kubelet, KUBELET_VERSION, type KubeletOptions } from '../kubelet/kubelet.ts';
import { detectNodeIP } from '../kubelet/machine_info.ts';
import { KubeletServer, KUBELET_PORT } from '../kubelet/server/server.ts';
import { StatsProvider } from '../kubelet/stats/provider.ts';
import type { PodLocator } from '../kubelet/server/types.ts';
import { LocalPathProvisioner } from '../kubelet/volumes/local_path_provisioner.ts';
import { writeBridgeNetwork } from './cni.ts';
import { Containerd, type ContainerdOptions } from './containerd.ts';
import { loadServingCertificate, requestServingCertificate } from './bootstrap.ts';
import { rotateServingCertificate, rotatingNodeClient, type CertificateRotationOptions } from './certificate_rotation.ts';
import { startNetworking, type Networking, type NetworkingOptions } from './networking.ts';
import { networkingClient } from './networking_client.ts';
import { resolveRegistries, writeRegistryConfig } from './registries.ts';

const log = logger('agent');

/** Options of startAgent. */
export interface AgentOptions {
  /** tkube's data dir: containerd under DATA/agent/containerd, the kubelet under DATA/agent/kubelet. */
  readonly dataDir: string;
  /** Default: the machine's host name, lower-cased. */
  readonly nodeName?: string;
  /** InternalIP (default: the default-route interface's IPv4 address). */
  readonly nodeIP?: string;
  readonly nodeLabels?: Readonly<Record<string, string>>;
  readonly nodeTaints?: readonly Taint[];
  /** How to reach the API server: a kubeconfig file (its credentials are the node's identity)... */
  readonly kubeconfig?: string;
  /** ...or this server URL (also overrides the kubeconfig's) with a node certificate issued from `clusterCa`. */
  readonly server?: string;
  /**
   * The cluster CA (embedded agent): issues the node's client certificate (CN system:node:<name>,
   * O system:nodes) when no kubeconfig is given, and the kubelet's serving certificate.
   */
  readonly clusterCa?: CertificateAuthority;
  /**
   * Joined nodes (no cluster CA key): the kubelet's serving certificate comes from a
   * kubernetes.io/kubelet-serving CSR made as the node once it is registered, kept under DATA/agent/pki.
   */
  readonly servingCertificateFromCsr?: boolean;
  /**
   * Renew the kubeconfig's client certificate and the CSR-issued serving certificate while running
   * (kubelet's rotateCertificates / serverTLSBootstrap); options for tests.
   */
  readonly rotateCertificates?: boolean | CertificateRotationOptions;
  /** CA that API server client certificates must chain to (default: the cluster CA / kubeconfig CA). */
  readonly clientCaPem?: string;
  /** Kubelet API port (default 10250; 0 picks a free one). */
  readonly kubeletPort?: number;
  /** Kubelet API bind address (default 0.0.0.0). */
  readonly kubeletBindAddress?: string;
  /** The node's pod CIDR when known up front (otherwise node IPAM's, or a default). */
  readonly podCIDR?: string;
  /** The cluster's pod CIDR (default 10.42.0.0/16); its first /24 is the fallback pod CIDR. */
  readonly clusterCIDR?: string;
  /** How long to wait for node IPAM to assign spec.podCIDR before using the fallback (default 10 s). */
  readonly podCIDRWaitMs?: number;
  /** Bridge device (default tkube0). */
  readonly bridge?: string;
  /** Masquerade pod traffic leaving the pod CIDR (default true). */
  readonly ipMasq?: boolean;
  /** Turn on net.ipv4.ip_forward when it is off (default true). */
  readonly enableIpForward?: boolean;
  /** Default ["10.43.0.10"] and "cluster.local". */
  readonly clusterDNS?: readonly string[];
  readonly clusterDomain?: string;
  /** Extra options of the supervised containerd (tests: faster restarts). */
  readonly containerd?: Partial<Omit<ContainerdOptions, 'dataDir'>>;
  /** Service networking (proxy, DNS, ingress, policies, service LB; see networking.ts); none unless given. */
  readonly networking?: NetworkingOptions;
  /** Static pod manifests (--pod-manifest-path; default DATA/agent/manifests, "" for none). */
  readonly podManifestPath?: string;
  /** Extra kubelet options (tests: shorter backoffs and periods). */
  readonly kubelet?: Partial<Omit<KubeletOptions, 'client' | 'runtime' | 'nodeName' | 'rootDir' | 'nodeIP' | 'kubeletPort'>>;
  /** registries.yaml (k3s format) for containerd: default DATA/registries.yaml when it exists, "" for none. */
  readonly registries?: string;
}

/** A running agent; dispose() stops it (containers keep running for the next start to adopt). */
export interface Agent extends Disposable {
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly containerd: Containerd;
  readonly cri: CriClient;
  readonly kubelet: Kubelet;
  readonly server: KubeletServer;
  /** The kubelet API's port. */
  readonly kubeletPort: number;
  /** The pod CIDR the CNI network uses (undefined until known). */
  podCIDR(): string | undefined;
  /** Resolves once the CNI network is configured. */
  networkReady(): Promise<string>;
  /** Service networking, when AgentOptions.networking asked for it. */
  readonly networking: Networking | undefined;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** The first /24 of an IPv4 CIDR ("10.42.0.0/16" -> "10.42.0.0/24"); the CIDR itself if narrower. */
export function firstSubnet(cidr: string, bits = 24): string {
  const m = IPV4_CIDR.exec(cidr);
  if (!m) throw new Error(`want an IPv4 CIDR, got ${JSON.stringify(cidr)}`);
  const prefix = Number(m[5]);
  const addr = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const len = Math.max(prefix, bits);
  // the network of the cluster CIDR itself, cut to the subnet's length
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (addr & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${len}`;
}

/** Parses `--node-labels` entries ("k=v", comma-separated lists allowed). */
export function parseNodeLabels(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--node-labels: want key=value, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

const TAINT_EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** Parses `--node-taints` entries ("key=value:Effect" or "key:Effect", comma-separated lists allowed). */
export function parseNodeTaints(items: readonly string[]): Taint[] {
  const out: Taint[] = [];
  for (const item of items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = item.lastIndexOf(':');
    const effect = colon > 0 ? item.slice(colon + 1) : '';
    if (!TAINT_EFFECTS.has(effect)) throw new Error(`--node-taints: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got ${JSON.stringify(item)}`);
    const kv = item.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq === -1 ? kv : kv.slice(0, eq);
    if (key === '') throw new Error(`--node-taints: empty key in ${JSON.stringify(item)}`);
    out.push(eq === -1 ? { key, effect } : { key, value: kv.slice(eq + 1), effect });
  }
  return out;
}

function enableIpForward(): void {
  const path = '/proc/sys/net/ipv4/ip_forward';
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') {
      writeFileSync(path, '1\n');
      log.info('enabled net.ipv4.ip_forward for pod traffic');
    }
  } catch (err) {
    log.warn('could not enable net.ipv4.ip_forward', { err: (err as Error).message });
  }
}

/** The API client and the trust anchors of the kubelet API. */
async function connect(o: AgentOptions, nodeName: string): Promise<{ client: RestClient; caPem: string | undefined }> {
  const userAgent = `kubelet/${KUBELET_VERSION} (linux/${process.arch}) kubernetes/tkube`;
  if (o.kubeconfig) {
    const kc = await readKubeconfig(o.kubeconfig);
    if (o.rotateCertificates && kc.clientCertPem && kc.clientKeyPem && kc.caPem) {
      const rotation = o.rotateCertificates === true ? {} : o.rotateCertificates;
      return { client: rotatingNodeClient(o.kubeconfig, kc, nodeName, { userAgent, rotation, ...(o.server ? { server: o.server } : {}) }), caPem: kc.caPem };
    }
    return { client: RestClient.fromConfig({ ...kc, ...(o.server ? { server: o.server } : {}) }, { userAgent }), caPem: kc.caPem };
  }
  if (!o.server || !o.clusterCa) throw new Error('AgentOptions: give a kubeconfig, or a server URL with the cluster CA');
  const cert = await issueCertificate({ ca: o.clusterCa, commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], usages: 'client', days: 365 });
  const dir = join(o.dataDir, 'agent');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // for crictl-style debugging with kubectl as the node
  writeFileSync(join(dir, 'kubelet.kubeconfig'), kubeconfigYaml({
    server: o.server, caPem: o.clusterCa.certPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: `system:node:${nodeName}`,
  }), { mode: 0o600 });
  const client = new RestClient({ server: o.server, caPem: o.clusterCa.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userAgent });
  return { client, caPem: o.clusterCa.certPem };
}

/** The kubelet's serving certificate: from the cluster CA when we have it, else self-signed. */
async function servingCertificate(o: AgentOptions, nodeName: string, nodeIP: string): Promise<{ certPem: string; keyPem: string }> {
  const ips = [...new Set([nodeIP, '127.0.0.1'])];
  const dnsNames = [...new Set([nodeName, osHostname().toLowerCase(), 'localhost'])];
  let ca = o.clusterCa;
  if (!ca) {
    // Without the cluster CA an API server that verifies kubelets cannot trust us (issue 10 brings CSRs).
    log.warn('no cluster CA: the kubelet serves a self-signed certificate');
    ca = await createCertificateAuthority({ commonName: `${nodeName}-ca@${Math.floor(Date.now() / 1000)}`, days: 365 });
  }
  return issueCertificate({ ca, commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], dnsNames, ips, usages: 'server', days: 365 });
}

/** Starts containerd, the kubelet and its API; resolves once the node is registered. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  if (!o.dataDir.startsWith('/')) throw new Error(`AgentOptions.dataDir: want an absolute path, got ${JSON.stringify(o.dataDir)}`);
  const nodeName = o.nodeName ?? osHostname().toLowerCase();
  const nodeIP = o.nodeIP ?? detectNodeIP();
  const owner = new DisposableStore();
  try {
    mkdirSync(join(o.dataDir, 'agent'), { recursive: true, mode: 0o711 });
    if (o.enableIpForward ?? true) enableIpForward();
    const containerd = new Containerd({ ...o.containerd, dataDir: o.dataDir });
    owner.add(containerd);
    let podCIDR = o.podCIDR;
    const writeNetwork = (cidr: string): void => {
      writeBridgeNetwork(containerd.paths, { podCIDR: cidr, bridge: o.bridge ?? 'tkube0', ...(o.ipMasq !== undefined ? { ipMasq: o.ipMasq } : {}) });
      podCIDR = cidr;
      log.info('pod network configured', { podCIDR: cidr, bridge: o.bridge ?? 'tkube0' });
    };
    if (podCIDR) writeNetwork(podCIDR);
    writeRegistryConfig(containerd.paths, resolveRegistries(o.dataDir, o.registries));
    await containerd.start();
    const cri = new CriClient(containerd.endpoint);
    owner.defer(() => cri.close());

    const { client, caPem } = await connect(o, nodeName);
    owner.defer(() => client.dispose());
    if (!podCIDR) {
      // a node registered before may already have its CIDR: configure the network before any pod syncs
      try {
        const existing = await client.resource<Node>(resourceDescriptor('v1', 'nodes')).get(nodeName);
        if (existing.spec?.podCIDR) writeNetwork(existing.spec.podCIDR);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }

    // A joined node's serving certificate names only what its Node reports, so the approver accepts it.
    const servingNames = { nodeName, dnsNames: [nodeName, o.kubelet?.hostname ?? osHostname().toLowerCase()], ips: [nodeIP] };
    const keptServing = o.servingCertificateFromCsr && caPem ? loadServingCertificate(o.dataDir, caPem, servingNames) : undefined;
    const tls = keptServing ?? await servingCertificate(o, nodeName, nodeIP);
    const clientCaPem = o.clientCaPem ?? caPem;
    if (!clientCaPem) throw new Error('AgentOptions: no CA to verify API server client certificates (clientCaPem)');
    let kubelet: Kubelet | undefined;
    const locator: PodLocator = {
      sandbox: (ns, pod, uid) => kubelet!.locator.sandbox(ns, pod, uid),
      logContainer: (ns, pod, c, prev) => kubelet!.locator.logContainer(ns, pod, c, prev),
      runningContainer: (ns, pod, c, uid) => kubelet!.locator.runningContainer(ns, pod, c, uid),
    };
    const server = new KubeletServer({
      runtime: cri, locator, tls: { ...tls, clientCaPem },
      port: o.kubeletPort ?? KUBELET_PORT, bindAddress: o.kubeletBindAddress ?? '0.0.0.0',
      stats: new StatsProvider({ runtime: cri, nodeName, rootDir: join(o.dataDir, 'agent', 'kubelet') }),
    });
    await server.start();
    owner.add(server);

    const podManifestPath = o.podManifestPath ?? join(o.dataDir, 'agent', 'manifests');
    if (podManifestPath) mkdirSync(podManifestPath, { recursive: true, mode: 0o700 });
    kubelet = new Kubelet({
      ...(podManifestPath ? { podManifestPath } : {}),
      clusterDNS: o.clusterDNS ?? ['10.43.0.10'],
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      ...o.kubelet,
      client, runtime: cri, nodeName, nodeIP, rootDir: join(o.dataDir, 'agent', 'kubelet'), kubeletPort: server.port,
      ...(o.nodeLabels ? { nodeLabels: o.nodeLabels } : {}),
      ...(o.nodeTaints ? { nodeTaints: o.nodeTaints } : {}),
    });
    owner.add(kubelet);

    let resolveNetwork!: (cidr: string) => void;
    const network = new Promise<string>((r) => { resolveNetwork = r; });
    if (podCIDR) resolveNetwork(podCIDR);
    const onNode = (n: Node): void => {
      const cidr = n.spec?.podCIDR;
      if (!cidr || cidr === podCIDR || o.podCIDR) return;
      if (podCIDR) log.warn('the node\'s pod CIDR changed; new pods use the new one', { from: podCIDR, to: cidr });
      writeNetwork(cidr);
      resolveNetwork(cidr);
    };
    owner.add(kubelet.onNodeChange(onNode));
    await kubelet.start();
    // A CSR-issued serving certificate is renewed before it expires, each new one serving new handshakes.
    const rotateServing = (initial: { certPem: string; keyPem: string }): void => {
      if (!o.rotateCertificates) return;
      owner.add(rotateServingCertificate({
        client: () => client, dataDir: o.dataDir, names: servingNames, initial,
        setCertificate: (cert, key) => server.setCertificate(cert, key),
        ...(o.rotateCertificates !== true ? { rotation: o.rotateCertificates } : {}),
      }));
    };
    if (keptServing) rotateServing(keptServing);
    if (o.servingCertificateFromCsr && !keptServing) {
      const abort = new AbortController();
      owner.defer(() => abort.abort());
      void requestServingCertificate(client, o.dataDir, servingNames, { signal: abort.signal }).then((c) => {
        server.setCertificate(c.certPem, c.keyPem);
        log.info('kubelet serving certificate signed by the cluster CA');
        rotateServing(c);
      }, (err: unknown) => {
        if (!abort.signal.aborted) log.warn('no kubelet serving certificate from the cluster; serving a self-signed one', { err: (err as Error).message });
      });
    }
    if (!podCIDR) {
      const node = kubelet.node;
      if (node) onNode(node);
    }
    if (!podCIDR) {
      const waitMs = o.podCIDRWaitMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([network.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), waitMs); })]);
      clearTimeout(timer);
      if (!waited && !podCIDR) {
        const fallback = firstSubnet(o.clusterCIDR ?? '10.42.0.0/16');
        log.warn('no pod CIDR from node IPAM; using a default', { podCIDR: fallback, waitedMs: waitMs });
        writeNetwork(fallback);
        resolveNetwork(fallback);
      }
    }
    let networking: Networking | undefined;
    if (o.networking) {
      const net = await networkingClient(o, client);
      owner.add(net);
      networking = owner.add(await startNetworking({
        client: net.client, nodeName, nodeIP, clusterCIDR: o.clusterCIDR ?? '10.42.0.0/16',
        clusterDNS: o.clusterDNS?.[0] ?? '10.43.0.10', clusterDomain: o.clusterDomain ?? 'cluster.local',
      }, o.networking));
    }
    // the node side of the built-in local-path StorageClass: volumes under DATA/agent/storage
    const provisioner = owner.add(new LocalPathProvisioner({ client, nodeName, storageDir: join(o.dataDir, 'agent', 'storage') }));
    await provisioner.start();
    const k = kubelet;
    return {
      nodeName, nodeIP, containerd, cri, kubelet: k, server, kubeletPort: server.port,
      podCIDR: () => podCIDR, networking,
      networkReady: () => network,
      dispose: () => owner.dispose(),
    };
  } catch (err) {
    await owner.dispose().catch(() => undefined);
    throw err;
  }
}
