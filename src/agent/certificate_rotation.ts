// Wires certificate rotation into a joined node (kubelet's rotateCertificates and
// serverTLSBootstrap): the node's API client follows a rotating client certificate kept in its
// kubeconfig, and the kubelet API's serving certificate is swapped for new TLS handshakes.
import { writeKubeconfig, type Kubeconfig } from '../base/kubeconfig.ts';
import type { Clock } from '../client/clock.ts';
import { clientRequest, servingRequest, storeServingCertificate, type ServingNames } from './bootstrap.ts';
import { CertificateManager, type KeyPair } from './certificate_manager.ts';
import { RotatingRestClient } from './rotating_client.ts';

/** How rotation runs (tests: a fake clock, fixed jitter, short lifetimes). */
export interface CertificateRotationOptions {
  readonly clock?: Clock;
  readonly jitter?: () => number;
  /** spec.expirationSeconds of rotation CSRs; default: the signer's --cluster-signing-duration. */
  readonly requestedLifetimeSeconds?: number;
  /** How often to look at a pending CSR. */
  readonly pollMs?: number;
}

function managerOptions(o: CertificateRotationOptions): { clock?: Clock; jitter?: () => number; requestedLifetimeSeconds?: number; request?: { pollMs: number } } {
  return {
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.jitter ? { jitter: o.jitter } : {}),
    ...(o.requestedLifetimeSeconds !== undefined ? { requestedLifetimeSeconds: o.requestedLifetimeSeconds } : {}),
    ...(o.pollMs !== undefined ? { request: { pollMs: o.pollMs } } : {}),
  };
}

/**
 * The node's API client with a rotating client certificate (the kubeconfig's), renewed through
 * CSRs the node makes as itself and written back to `kubeconfigPath`. Disposing the client stops rotation.
 */
export function rotatingNodeClient(kubeconfigPath: string, kc: Kubeconfig, nodeName: string, opts: { userAgent?: string; server?: string; rotation?: CertificateRotationOptions } = {}): RotatingRestClient {
  if (!kc.clientCertPem || !kc.clientKeyPem || !kc.caPem) throw new Error(`${kubeconfigPath} has no client certificate and cluster CA to rotate with`);
  const caPem = kc.caPem;
  const server = opts.server ?? kc.server;
  let client: RotatingRestClient | undefined;
  const manager = new CertificateManager({
    name: 'kubelet-client', template: clientRequest(nodeName),
    initial: { certPem: kc.clientCertPem, keyPem: kc.clientKeyPem },
    client: () => client!,
    store: (pair: KeyPair) => writeKubeconfig(kubeconfigPath, {
      server: kc.server, caPem, clientCertPem: pair.certPem, clientKeyPem: pair.keyPem,
      clusterName: kc.clusterName, userName: kc.userName, contextName: kc.contextName,
    }),
    ...managerOptions(opts.rotation ?? {}),
  });
  client = new RotatingRestClient({
    server, caPem,
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
    ...(kc.namespace !== undefined ? { namespace: kc.namespace } : {}),
  }, manager, opts.rotation?.clock);
  manager.start();
  return client;
}

/** Keeps the kubelet's CSR-issued serving certificate fresh; each new one serves new TLS handshakes. */
export function rotateServingCertificate(o: {
  readonly client: () => import('../client/rest_client.ts').RestClient;
  readonly dataDir: string;
  readonly names: ServingNames;
  readonly initial: KeyPair;
  readonly setCertificate: (certPem: string, keyPem: string) => void;
  readonly rotation?: CertificateRotationOptions;
}): CertificateManager {
  const manager = new CertificateManager({
    name: 'kubelet-serving', template: servingRequest(o.names), initial: o.initial, client: o.client,
    store: (pair) => storeServingCertificate(o.dataDir, pair),
    ...managerOptions(o.rotation ?? {}),
  });
  manager.onRotate((c) => o.setCertificate(c.certPem, c.keyPem));
  manager.start();
  return manager;
}
