// Starts a real API server in-process on 127.0.0.1 (port 0) with a fresh store, PKI and kubeconfig,
// and runs the installed kubectl against it. For integration tests only; src code never imports it.
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki, type ClusterPki } from '../base/pki.ts';
import type { Auditor } from '../apiserver/audit/auditor.ts';
import { writeKubeconfig } from '../base/kubeconfig.ts';
import { ApiServer } from '../apiserver/server.ts';
import { bootstrapCluster } from '../apiserver/bootstrap.ts';
import { ORDERED_PLUGINS } from '../apiserver/admission/chain.ts';
import { openStore } from '../storage/registry.ts';
import type { Store } from '../storage/types.ts';
import '../storage/drivers/all.ts';

/** Result of one kubectl run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Result of one raw request. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/** A running test server. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly api: ApiServer;
  readonly store: Store;
  readonly pki: ClusterPki;
  /** Runs kubectl with this server's kubeconfig and a private cache dir. */
  kubectl(args: readonly string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  /** A raw HTTPS request as the admin user (or anonymous with `anonymous: true`). */
  request(method: string, path: string, opts?: { body?: string | Buffer; headers?: Record<string, string>; anonymous?: boolean }): Promise<RawResponse>;
  stop(): Promise<void>;
}

/** Options of startTestServer. */
export interface TestServerOptions {
  /** Datastore endpoint; default a fresh memory store. */
  readonly endpoint?: string;
  readonly compactionWindowMs?: number;
  /**
   * Admission plugins (default: all but ServiceAccount, which needs the default ServiceAccount that
   * only the controller manager creates; tests that run controllers can enable it).
   */
  readonly admissionPlugins?: readonly string[];
  /** Events each watch cache keeps (small values make 410 Expired easy to provoke). */
  readonly watchCacheHistory?: number;
  /** Audits requests (--audit-policy-file and its backend). */
  readonly auditor?: Auditor;
}

/** Starts a server; always pair with stop() (e.g. in an `after` hook). */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tkube-it-'));
  const store = await openStore({ endpoint: opts.endpoint ?? 'memory://', compactionWindowMs: opts.compactionWindowMs });
  const pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
  const api = new ApiServer({
    store, port: 0, bindAddress: '127.0.0.1', watchCacheHistory: opts.watchCacheHistory,
    admissionPlugins: opts.admissionPlugins ?? ORDERED_PLUGINS.filter((p) => p !== 'ServiceAccount'),
    clusterSigningCA: pki.ca,
    ...(opts.auditor ? { auditor: opts.auditor } : {}),
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
  });
  await api.start();
  await bootstrapCluster({ storeFor: (i) => api.storeFor(i), serviceCidr: '10.43.0.0/16', advertiseIP: '127.0.0.1', advertisePort: api.port });
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const url = `https://127.0.0.1:${api.port}`;
  await writeKubeconfig(kubeconfig, { server: url, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
  const cacheDir = join(dir, 'kubectl-cache');
  return {
    url, port: api.port, dir, kubeconfig, api, store, pki,
    kubectl(args, o = {}) {
      return new Promise((resolve) => {
        const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
          env: { ...process.env, HOME: dir, KUBECACHEDIR: cacheDir, ...o.env },
          timeout: o.timeoutMs ?? 30_000,
          maxBuffer: 32 * 1024 * 1024,
        }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        if (o.input !== undefined) child.stdin?.end(o.input);
        else child.stdin?.end();
      });
    },
    request(method, path, o = {}) {
      return new Promise((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port: api.port, method, path, ca: pki.ca.certPem,
          ...(o.anonymous ? {} : { cert: pki.admin.certPem, key: pki.admin.keyPem }),
          // Content-Length always: Node sends DELETE bodies without any framing otherwise.
          headers: { Accept: 'application/json', ...(o.body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(o.body)) } : {}), ...o.headers },
          agent: false,
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(o.body);
      });
    },
    async stop() {
      await api.dispose();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
