// Kubeconfig files: the admin kubeconfig the server writes at start (DATA/kubeconfig.yaml and
// --write-kubeconfig), with credentials embedded as *-data fields, and a reader for its current
// context. Written atomically (temporary file + rename), mode 0600 by default.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';

/** What goes into a kubeconfig with one cluster, one user and one context. */
export interface KubeconfigOptions {
  /** API server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** CA that signed the server's certificate (PEM). */
  caPem: string;
  /** Client certificate and key (PEM); give both or neither. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer token, for users without a certificate. */
  token?: string;
  /** Default namespace of the context. */
  namespace?: string;
  clusterName?: string;
  userName?: string;
  contextName?: string;
  /** File mode; default 0600 because the file holds a private key. */
  mode?: number;
}

/** The current context of a kubeconfig, resolved to its cluster and user. */
export interface Kubeconfig {
  server: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  namespace?: string;
  clusterName: string;
  userName: string;
  contextName: string;
}

/** Writes a kubeconfig to `path`, creating parent directories, replacing any file there atomically. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new Error(`writeKubeconfig: path must be a non-empty string, got ${JSON.stringify(path)}`);
  await writeFileAtomic(path, kubeconfigYaml(options), options.mode ?? 0o600);
}

/** The kubeconfig document as YAML, laid out as `kubectl config view --raw` prints it. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const { server, caPem, clientCertPem, clientKeyPem, token, namespace } = options;
  const clusterName = options.clusterName ?? 'default';
  const userName = options.userName ?? 'default';
  const contextName = options.contextName ?? 'default';
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`writeKubeconfig: server must be a URL, got ${JSON.stringify(server)}`);
  }
  if (url.protocol !== 'https:') throw new Error(`writeKubeconfig: server must be an https URL, got ${JSON.stringify(server)}`);
  if (typeof caPem !== 'string' || !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error('writeKubeconfig: caPem must be a PEM certificate');
  }
  if ((clientCertPem === undefined) !== (clientKeyPem === undefined)) {
    throw new Error('writeKubeconfig: clientCertPem and clientKeyPem must be given together');
  }
  for (const [field, value] of [['clusterName', clusterName], ['userName', userName], ['contextName', contextName]] as const) {
    if (typeof value !== 'string' || value === '') throw new Error(`writeKubeconfig: ${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  }

  const user: Record<string, string> = {};
  if (clientCertPem !== undefined && clientKeyPem !== undefined) {
    user['client-certificate-data'] = base64(clientCertPem);
    user['client-key-data'] = base64(clientKeyPem);
  }
  if (token !== undefined) user['token'] = token;
  const context: Record<string, string> = { cluster: clusterName, user: userName };
  if (namespace !== undefined) context['namespace'] = namespace;
  const doc = {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': base64(caPem), server }, name: clusterName }],
    contexts: [{ context, name: contextName }],
    'current-context': contextName,
    kind: 'Config',
    preferences: {},
    users: [{ name: userName, user }],
  };
  // lineWidth 0: never fold the long base64 scalars.
  return stringify(doc, { lineWidth: 0 });
}

/** Reads a kubeconfig and resolves its current context (or `contextName`). */
export async function readKubeconfig(path: string, contextName?: string): Promise<Kubeconfig> {
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`readKubeconfig: ${path} is not valid YAML: ${(err as Error).message}`);
  }
  const root = asRecord(doc, `${path}`);
  const ctxName = contextName ?? str(root['current-context']);
  if (!ctxName) throw new Error(`readKubeconfig: ${path} has no current-context`);
  const named = (list: unknown, key: string, name: string): Record<string, unknown> => {
    const entry = (Array.isArray(list) ? list : []).find((e) => asRecord(e, path)['name'] === name);
    if (entry === undefined) throw new Error(`readKubeconfig: ${path} has no ${key} named ${JSON.stringify(name)}`);
    return asRecord(asRecord(entry, path)[key] ?? {}, path);
  };
  const context = named(root['contexts'], 'context', ctxName);
  const clusterName = str(context['cluster']) ?? '';
  const userName = str(context['user']) ?? '';
  const cluster = named(root['clusters'], 'cluster', clusterName);
  const user = named(root['users'], 'user', userName);
  const server = str(cluster['server']);
  if (!server) throw new Error(`readKubeconfig: cluster ${JSON.stringify(clusterName)} in ${path} has no server`);
  const result: Kubeconfig = { server, clusterName, userName, contextName: ctxName };
  const fromData = (v: unknown): string | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);
  const caPem = fromData(cluster['certificate-authority-data']);
  if (caPem !== undefined) result.caPem = caPem;
  const clientCertPem = fromData(user['client-certificate-data']);
  if (clientCertPem !== undefined) result.clientCertPem = clientCertPem;
  const clientKeyPem = fromData(user['client-key-data']);
  if (clientKeyPem !== undefined) result.clientKeyPem = clientKeyPem;
  const token = str(user['token']);
  if (token !== undefined) result.token = token;
  const namespace = str(context['namespace']);
  if (namespace !== undefined) result.namespace = namespace;
  return result;
}

function base64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`readKubeconfig: ${where} is not a kubeconfig (expected a mapping)`);
  return v as Record<string, unknown>;
}

/** Writes via a temporary file and rename, so kubectl never reads a half-written file. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      // open()'s mode is filtered by the umask; the caller's mode is what they asked for.
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
