// A test API server with the security options the default test server does not set: a static
// token file, a service-account key file the test can sign with, the cluster CA for CSR signing,
// and optional anonymous auth; kubectl and raw requests as any identity (token or certificate).
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ensureClusterPki, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../../src/base/pki.ts';
import { writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { ApiServer } from '../../../src/apiserver/server.ts';
import { bootstrapCluster } from '../../../src/apiserver/bootstrap.ts';
import type { Auditor } from '../../../src/apiserver/audit/auditor.ts';
import { openStore } from '../../../src/storage/registry.ts';
import type { Store } from '../../../src/storage/types.ts';
import '../../../src/storage/drivers/all.ts';

/** Who a kubectl run or request authenticates as: the admin certificate (default), a token, another certificate, or nobody. */
export type Identity = { token: string } | { cert: IssuedCertificate } | { anonymous: true } | undefined;

/** Result of one kubectl run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Result of one raw request. */
export interface RawResponse {
  readonly status: number;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/** A running security test server. */
export interface SecurityServer {
  readonly url: string;
  readonly dir: string;
  readonly api: ApiServer;
  readonly store: Store;
  readonly ca: CertificateAuthority;
  /** Path of the service-account signing key. */
  readonly serviceAccountKeyFile: string;
  kubectl(args: readonly string[], opts?: { as?: Identity; input?: string }): Promise<KubectlResult>;
  request(method: string, path: string, opts?: { as?: Identity; body?: string; headers?: Record<string, string> }): Promise<RawResponse>;
  /** A client certificate from the cluster CA. */
  certificate(commonName: string, organizations?: string[]): Promise<IssuedCertificate>;
  stop(): Promise<void>;
}

/** Options of startSecurityServer. */
export interface SecurityServerOptions {
  /** Contents of the --token-auth-file. */
  readonly tokenFile?: string;
  readonly anonymousAuth?: boolean;
  /** Records requests (audit policy + backend), as --audit-policy-file does. */
  readonly auditor?: Auditor;
}

/** Starts a server; pair with stop(). */
export async function startSecurityServer(opts: SecurityServerOptions = {}): Promise<SecurityServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tkube-sec-'));
  const store = await openStore({ endpoint: 'memory://' });
  const pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
  let tokenAuthFile: string | undefined;
  if (opts.tokenFile !== undefined) {
    tokenAuthFile = join(dir, 'tokens.csv');
    await writeFile(tokenAuthFile, opts.tokenFile, { mode: 0o600 });
  }
  const serviceAccountKeyFile = join(dir, 'tls', 'service-account.key');
  const api = new ApiServer({
    store, port: 0, bindAddress: '127.0.0.1',
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
    tokenAuthFile, serviceAccountKeyFile, anonymousAuth: opts.anonymousAuth, clusterSigningCA: pki.ca, auditor: opts.auditor,
  });
  await api.start();
  await bootstrapCluster({ storeFor: (i) => api.storeFor(i), serviceCidr: '10.43.0.0/16', advertiseIP: '127.0.0.1', advertisePort: api.port });
  const url = `https://127.0.0.1:${api.port}`;
  const cacheDir = join(dir, 'kubectl-cache');
  let n = 0;
  const kubeconfigFor = async (as: Identity): Promise<string> => {
    const path = join(dir, `kubeconfig-${n++}.yaml`);
    if (as === undefined) {
      await writeKubeconfig(path, { server: url, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
    } else if ('token' in as) {
      await writeKubeconfig(path, { server: url, caPem: pki.ca.certPem, token: as.token });
    } else if ('cert' in as) {
      await writeKubeconfig(path, { server: url, caPem: pki.ca.certPem, clientCertPem: as.cert.certPem, clientKeyPem: as.cert.keyPem });
    } else {
      await writeKubeconfig(path, { server: url, caPem: pki.ca.certPem });
    }
    return path;
  };
  return {
    url, dir, api, store, ca: pki.ca, serviceAccountKeyFile,
    async kubectl(args, o = {}) {
      const kubeconfig = await kubeconfigFor(o.as);
      return new Promise((resolve) => {
        const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
          env: { ...process.env, HOME: dir, KUBECACHEDIR: cacheDir }, timeout: 30_000, maxBuffer: 8 * 1024 * 1024,
        }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        child.stdin?.end(o.input);
      });
    },
    request(method, path, o = {}) {
      const as = o.as;
      const cred = as === undefined ? { cert: pki.admin.certPem, key: pki.admin.keyPem }
        : 'cert' in as ? { cert: as.cert.certPem, key: as.cert.keyPem } : {};
      const auth: Record<string, string> = as !== undefined && 'token' in as ? { Authorization: `Bearer ${as.token}` } : {};
      return new Promise((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port: api.port, method, path, ca: pki.ca.certPem, agent: false, ...cred,
          headers: {
            Accept: 'application/json', ...auth,
            ...(o.body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(o.body)) } : {}),
            ...o.headers,
          },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(o.body);
      });
    },
    certificate(commonName, organizations = []) {
      return issueCertificate({ ca: pki.ca, commonName, organizations, usages: 'client', days: 1 });
    },
    async stop() {
      await api.dispose();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` every 20 ms until it returns a value other than undefined, failing after `ms`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** kubectl that must succeed; returns stdout. */
export async function ok(s: SecurityServer, args: string[], opts: { as?: Identity; input?: string } = {}): Promise<string> {
  const r = await s.kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
