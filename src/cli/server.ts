// `tkube server`: wires storage, the API server and (later) controllers, scheduler and the agent
// into one process, and shuts them down cleanly on SIGINT/SIGTERM.
import { mkdirSync } from 'node:fs';
import { DisposableStore } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { join } from 'node:path';
import { hostname, networkInterfaces } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ensureClientCertificate, ensureClusterPki } from '../base/pki.ts';
import { writeKubeconfig } from '../base/kubeconfig.ts';
import { ApiServer } from '../apiserver/server.ts';
import { bootstrapCluster } from '../apiserver/bootstrap.ts';
import { nthAddress } from '../apiserver/registry/service_alloc.ts';
import { openStore } from '../storage/registry.ts';
import { encryptingStore } from '../apiserver/encryption/encrypting_store.ts';
import { loadEncryptionConfig } from '../apiserver/encryption/config.ts';
import { Auditor } from '../apiserver/audit/auditor.ts';
import { AuditLogBackend } from '../apiserver/audit/log_backend.ts';
import { loadAuditPolicy } from '../apiserver/audit/policy.ts';
import { ensurePackages, NODE_PACKAGES } from './prereqs.ts';
import '../storage/drivers/all.ts';
import { datastoreEndpoint, type ServerFlags } from './server_flags.ts';
import { networkingOptionsFromFlags } from './networking_flags.ts';
import { parseKubeletArgs, type KubeletArgOptions } from './kubelet_args.ts';
import { startComponentThread, type ComponentThread } from './component_thread.ts';

const log = logger('server');

/** Runs until SIGINT/SIGTERM; resolves to the exit code. */
export async function runServer(flags: ServerFlags): Promise<number> {
  // bad kubelet flags stop us before anything starts
  let kubelet: KubeletArgOptions;
  try {
    kubelet = parseKubeletArgs(flags.kubeletArg ?? []);
  } catch (err) {
    console.error(`tkube server: ${(err as Error).message}`);
    return 1;
  }
  const owner = new DisposableStore();
  const started = performance.now();
  // The controller manager and the scheduler run in a thread of their own, as upstream runs them in
  // processes of their own, so the API server keeps this thread. Spawned first: it loads their code
  // while this thread prepares storage and the API server.
  let threadFailed = false;
  let onThreadFailure: (() => void) | undefined;
  let controlPlane: ComponentThread | undefined;
  try {
    controlPlane = startComponentThread({ name: 'control-plane', onFailure: () => { threadFailed = true; onThreadFailure?.(); } });
    mkdirSync(flags.dataDir, { recursive: true, mode: 0o700 });
    const endpoint = datastoreEndpoint(flags);
    const rawStore = await openStore({ endpoint, compactionWindowMs: flags.compactionWindow * 1000 });
    owner.add({ dispose: () => rawStore.close() });
    const store = flags.encryptionProviderConfig
      ? encryptingStore(rawStore, await loadEncryptionConfig(flags.encryptionProviderConfig)) : rawStore;
    let auditor: Auditor | undefined;
    if (flags.auditPolicyFile && flags.auditLogPath) {
      // Added before the API server so that it stops first and the backend flushes the last events.
      const backend = owner.add(new AuditLogBackend({
        path: flags.auditLogPath, maxAgeDays: flags.auditLogMaxage, maxBackups: flags.auditLogMaxbackup, maxSizeMB: flags.auditLogMaxsize,
      }));
      auditor = new Auditor({ policy: await loadAuditPolicy(flags.auditPolicyFile), backend });
    }
    log.info('storage ready', { driver: store.driver, endpoint: redact(endpoint), revision: await store.currentRevision() });
    const nodeIp = flags.nodeIp ?? detectNodeIp();
    const pki = await ensureClusterPki({
      dir: join(flags.dataDir, 'tls'), hostname: hostname().toLowerCase(), nodeIp,
      serviceIp: nthAddress(flags.serviceCidr, 1),
    });
    const kubeletClient = await ensureClientCertificate({
      dir: join(flags.dataDir, 'tls'), file: 'apiserver-kubelet-client', ca: pki.ca,
      commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'],
    });
    const api = new ApiServer({
      store,
      // The CA goes with the serving certificate so joining nodes can check it against --ca-cert-hash.
      tls: { certPem: pki.server.certPem + pki.ca.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
      port: flags.httpsPort, bindAddress: flags.bindAddress, serviceCidr: flags.serviceCidr,
      advertiseAddress: `${nodeIp}:${flags.httpsPort}`,
      kubeletClientTLS: { certPem: kubeletClient.certPem, keyPem: kubeletClient.keyPem, caPem: pki.ca.certPem },
      serviceAccountKeyFile: join(flags.dataDir, 'tls', 'service-account.key'),
      clusterSigningCA: pki.ca,
      ...(flags.clusterSigningDuration !== undefined ? { clusterSigningDurationSeconds: flags.clusterSigningDuration } : {}),
      tokenAuthFile: flags.tokenAuthFile,
      auditor,
      anonymousAuth: flags.anonymousAuth,
    });
    await api.start();
    owner.add(api);
    await bootstrapCluster({ storeFor: (info) => api.storeFor(info), serviceCidr: flags.serviceCidr, advertiseIP: nodeIp, advertisePort: api.port });
    // metrics-server, built in (k3s ships it too): metrics.k8s.io for kubectl top and the HPA
    const { startMetricsServer } = await import('../apiserver/metrics/metrics_server.ts');
    owner.add(await startMetricsServer(api));
    const kubeconfig = {
      server: `https://127.0.0.1:${api.port}`,
      caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem,
    };
    await writeKubeconfig(join(flags.dataDir, 'kubeconfig.yaml'), kubeconfig);
    if (flags.writeKubeconfig) await writeKubeconfig(flags.writeKubeconfig, kubeconfig);
    {
      const { ensureJoinSupport } = await import('./token_setup.ts');
      const { RestClient } = await import('../client/rest_client.ts');
      const admin = await RestClient.fromKubeconfig(join(flags.dataDir, 'kubeconfig.yaml'), { protocol: 'http1' });
      try {
        const joinHost = flags.bindAddress === '0.0.0.0' || flags.bindAddress === '::' ? nodeIp : flags.bindAddress;
        await ensureJoinSupport(admin, { server: `https://${joinHost}:${api.port}`, caPem: pki.ca.certPem });
      } finally {
        await admin.dispose();
      }
    }
    // The control-plane components reach the API server like remote ones: HTTPS with their own
    // client certificates and upstream's RBAC roles, none in system:masters; each controller acts as
    // its own ServiceAccount (upstream's --use-service-account-credentials).
    const componentKubeconfig = async (file: string, commonName: string, organizations: string[]): Promise<string> => {
      const cert = await ensureClientCertificate({ dir: join(flags.dataDir, 'tls'), file, ca: pki.ca, commonName, organizations });
      const path = join(flags.dataDir, 'components', `${file}.kubeconfig`);
      await writeKubeconfig(path, { server: `https://127.0.0.1:${api.port}`, caPem: pki.ca.certPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem });
      return path;
    };
    const identity = `${hostname().toLowerCase()}_${randomUUID()}`;
    // Stopped before the API server (the owner disposes newest first), scheduler before controllers.
    owner.add(controlPlane);
    await controlPlane.start({ kind: 'controller-manager', options: {
      kubeconfig: await componentKubeconfig('kube-controller-manager', 'system:kube-controller-manager', []),
      options: { clusterCidr: flags.clusterCidr, serviceCidr: flags.serviceCidr, rootCaPem: pki.ca.certPem },
      leaderElection: true, identity, useServiceAccountCredentials: true,
    } });
    await controlPlane.start({ kind: 'scheduler', options: {
      kubeconfig: await componentKubeconfig('kube-scheduler', 'system:kube-scheduler', []),
      ...(flags.schedulerConfig !== undefined ? { config: flags.schedulerConfig } : {}), leaderElection: true, identity,
    } });
    if (!flags.disableAgent) {
      const missing = ensurePackages(NODE_PACKAGES);
      if (missing.length > 0) throw new Error(`the node agent needs ${missing.join(', ')}; install them or run with --disable-agent`);
      const { startAgent } = await import('../agent/agent.ts');
      owner.add(await startAgent({
        dataDir: flags.dataDir, nodeName: flags.nodeName, nodeIP: nodeIp, server: `https://127.0.0.1:${api.port}`,
        clusterCa: pki.ca, clusterCIDR: flags.clusterCidr, clusterDNS: [flags.clusterDns], clusterDomain: flags.clusterDomain,
        networking: networkingOptionsFromFlags(flags, { serviceCIDR: flags.serviceCidr }),
        ...(flags.podManifestPath !== undefined ? { podManifestPath: flags.podManifestPath } : {}),
        ...(flags.registries !== undefined ? { registries: flags.registries } : {}),
        ...(Object.keys(kubelet).length > 0 ? { kubelet } : {}),
      }));
      log.info('node agent running', { node: flags.nodeName });
    }
    if (flags.simNodes > 0) {
      const { startSimNodesForServer } = await import('../sim/sim_nodes.ts');
      const { simNodesOptionsFromFlags } = await import('../sim/sim_flags.ts');
      owner.add(await startSimNodesForServer(join(flags.dataDir, 'kubeconfig.yaml'), flags.simNodes, simNodesOptionsFromFlags({
        capacity: flags.simCapacity, labels: flags.simLabels, taints: flags.simTaints, namePrefix: flags.simNamePrefix, zones: flags.simZones,
      })));
      log.info('simulated nodes registered', { count: flags.simNodes });
    }
    log.info('API server listening', { address: `https://${flags.bindAddress}:${api.port}`, kubeconfig: join(flags.dataDir, 'kubeconfig.yaml') });
    for (const [flag, value] of notYetAvailable(flags)) {
      log.warn(`${flag}=${value}: accepted, but not available yet in this build`);
    }
    log.info('tkube server ready', { ms: Math.round(performance.now() - started) });
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    await owner.dispose().catch(() => undefined);
    await controlPlane?.dispose().catch(() => undefined);
    return 1;
  }
  // A signal stops the server; so does the control-plane thread dying (as a crashed in-process
  // component would have taken the process with it), with a failure exit code.
  const code = await new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve(0));
    process.once('SIGTERM', () => resolve(0));
    onThreadFailure = () => resolve(1);
    if (threadFailed) resolve(1);
  });
  log.info('shutting down');
  await owner.dispose();
  log.info('stopped');
  return code;
}

/** Flags whose feature has not landed yet, so the server can say so instead of silently ignoring them. */
function notYetAvailable(flags: ServerFlags): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  return out;
}

/** The first non-internal IPv4 address, for the kubernetes endpoint and certificates; loopback otherwise. */
function detectNodeIp(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function redact(endpoint: string): string {
  return endpoint.replace(/\/\/[^@/]*@/, '//***@');
}
