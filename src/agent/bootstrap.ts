// TLS bootstrap of a joining node (upstream kubelet's --bootstrap-kubeconfig flow): with a bootstrap
// token it requests a client certificate (CN system:node:<name>, O system:nodes) through a
// kubernetes.io/kube-apiserver-client-kubelet CSR, waits for it to be approved and signed, and
// keeps the result as DATA/agent/kubelet.kubeconfig, reused on later starts while it is valid.
// The kubelet's serving certificate comes the same way, through kubernetes.io/kubelet-serving.
import { X509Certificate, createHash, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateSigningRequest } from '../api/types/certificates_v1.ts';
import { readKubeconfig, writeKubeconfig } from '../base/kubeconfig.ts';
import { logger } from '../base/log.ts';
import { preloadPki } from '../base/pki.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';

const log = logger('agent');

/** The signer of kubelet client certificates. */
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
/** The signer of kubelet serving certificates. */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/**
 * A kept certificate this close to its end is not used at start: the node joins again. Earlier
 * renewal is the certificate manager's (certificate_manager.ts, at 70-90% of the lifetime).
 */
const RENEW_BEFORE_MS = 60_000;

/** Where the node keeps its credentials. */
export function nodeKubeconfigPath(dataDir: string): string {
  return join(dataDir, 'agent', 'kubelet.kubeconfig');
}

function writeFileAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

function pkiDir(dataDir: string): string {
  return join(dataDir, 'agent', 'pki');
}

/** What a certificate request asks for. */
export interface CertificateRequest {
  readonly signerName: string;
  readonly usages: readonly string[];
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

/** A fresh P-256 key and a PEM PKCS#10 request for it. */
async function makeRequest(r: CertificateRequest): Promise<{ csrPem: string; keyPem: string; spki: Buffer }> {
  await preloadPki();
  const x = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const names = [...(r.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(r.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const csr = await x.Pkcs10CertificateRequestGenerator.create({
    // Go orders O before CN.
    name: [...r.organizations.map((o) => ({ O: [o] })), { CN: [r.commonName] }],
    keys: keys as never, signingAlgorithm: EC,
    extensions: names.length > 0 ? [new x.SubjectAlternativeNameExtension(names)] : [],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  return { csrPem: csr.toString('pem'), keyPem, spki };
}

/** The CSR's name: a digest of key and subject, as the kubelet names its bootstrap requests (node-csr-...). */
function csrName(spki: Buffer, r: CertificateRequest): string {
  const h = createHash('sha512').update(spki).update(r.commonName).update(r.organizations.join(',')).update(r.usages.join(',')).digest('base64url');
  return `node-csr-${h.slice(0, 43)}`;
}

/** Why a CSR will never be signed, or undefined while it may be. */
function refusal(csr: CertificateSigningRequest): string | undefined {
  for (const c of csr.status?.conditions ?? []) {
    if ((c.type === 'Denied' || c.type === 'Failed') && c.status === 'True') {
      return `certificate signing request ${csr.metadata?.name} was ${c.type === 'Denied' ? 'denied' : 'failed'}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
    }
  }
  return undefined;
}

/** Options of requestCertificate. */
export interface RequestCertificateOptions {
  /** Longest wait for approval and signing (default 15 minutes: an admin may approve by hand). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Name the CSR csr-<random> (rotation, as client-go does) instead of the bootstrap's digest name. */
  readonly generateName?: boolean;
  /** spec.expirationSeconds: the lifetime asked for (the signer caps it at its signing duration). */
  readonly expirationSeconds?: number;
}

/** Creates a CSR with `client`, waits until it is signed, and returns the certificate and its key. */
export async function requestCertificate(client: RestClient, r: CertificateRequest, o: RequestCertificateOptions = {}): Promise<{ certPem: string; keyPem: string }> {
  const { csrPem, keyPem, spki } = await makeRequest(r);
  let name = csrName(spki, r);
  const csrs = client.resource<CertificateSigningRequest>(resourceDescriptor('certificates.k8s.io/v1', 'certificatesigningrequests'));
  try {
    const created = await csrs.create({
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: o.generateName ? { generateName: 'csr-' } : { name },
      spec: {
        request: Buffer.from(csrPem).toString('base64'), signerName: r.signerName, usages: [...r.usages],
        ...(o.expirationSeconds !== undefined ? { expirationSeconds: o.expirationSeconds } : {}),
      },
    });
    name = created.metadata?.name ?? name;
  } catch (err) {
    if (o.generateName || !isAlreadyExists(err)) throw err;
  }
  log.info('waiting for the certificate signing request to be approved and signed', { csr: name, signer: r.signerName });
  const deadline = Date.now() + (o.timeoutMs ?? 15 * 60_000);
  let wait = Math.min(o.pollMs ?? 200, 1000);
  for (;;) {
    o.signal?.throwIfAborted();
    let csr: CertificateSigningRequest | undefined;
    try {
      csr = await csrs.get(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new Error(`certificate signing request ${name} was deleted before it was signed`);
    }
    const why = refusal(csr);
    if (why) throw new Error(why);
    const cert = csr.status?.certificate;
    if (cert) {
      const certPem = Buffer.from(cert, 'base64').toString('utf8');
      log.info('certificate signed', { csr: name, signer: r.signerName });
      return { certPem, keyPem };
    }
    if (Date.now() > deadline) throw new Error(`certificate signing request ${name} was not signed in time; approve it with: kubectl certificate approve ${name}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      o.signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    wait = Math.min(wait * 2, 2000);
  }
}

/** Whether a PEM certificate is signed by the CA, names `commonName` and is valid for a while yet. */
function stillGood(certPem: string, caPem: string, commonName: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.verify(ca.publicKey) && /(^|\n)CN=([^\n]*)/.exec(cert.subject)?.[2] === commonName
      && Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS && Date.parse(cert.validFrom) <= Date.now() + 60_000;
  } catch {
    return false;
  }
}

function sameCertificate(a: string, b: string): boolean {
  try {
    return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
  } catch {
    return false;
  }
}

/** Options of bootstrapNodeKubeconfig. */
export interface NodeBootstrapOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  /** The API server URL. */
  readonly server: string;
  /** The cluster CA the server's certificate must chain to (PEM). */
  readonly caPem: string;
  /** `<id>.<secret>`; needed only when there is no usable kubeconfig yet. */
  readonly token?: string;
  readonly userAgent?: string;
  readonly request?: RequestCertificateOptions;
}

/**
 * The node's kubeconfig: the one under the data dir when its certificate is still good for this
 * cluster and node, otherwise a new one bootstrapped with the token. Returns its path.
 */
export async function bootstrapNodeKubeconfig(o: NodeBootstrapOptions): Promise<string> {
  const path = nodeKubeconfigPath(o.dataDir);
  const commonName = `system:node:${o.nodeName}`;
  if (existsSync(path)) {
    try {
      const kc = await readKubeconfig(path);
      if (kc.clientCertPem && kc.clientKeyPem && kc.caPem && sameCertificate(kc.caPem, o.caPem) && stillGood(kc.clientCertPem, o.caPem, commonName)) {
        log.info('using the node credentials from an earlier join', { kubeconfig: path });
        return path;
      }
    } catch {
      // unreadable: bootstrap again
    }
  }
  if (!o.token) throw new Error(`no usable node credentials in ${path}; join with a bootstrap token (--token)`);
  const client = new RestClient({ server: o.server, caPem: o.caPem, token: o.token, protocol: 'http1', ...(o.userAgent ? { userAgent: o.userAgent } : {}) });
  let issued: { certPem: string; keyPem: string };
  try {
    issued = await requestCertificate(client, clientRequest(o.nodeName), o.request);
  } finally {
    await client.dispose();
  }
  mkdirSync(join(o.dataDir, 'agent'), { recursive: true, mode: 0o711 });
  await writeKubeconfig(path, {
    server: o.server, caPem: o.caPem, clientCertPem: issued.certPem, clientKeyPem: issued.keyPem,
    clusterName: 'default-cluster', userName: 'default-auth', contextName: 'default-context',
  });
  log.info('joined the cluster: node credentials written', { kubeconfig: path, user: commonName });
  return path;
}

/** The names and addresses a node's serving certificate covers. */
export interface ServingNames {
  readonly nodeName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

function sansOf(certPem: string): { dns: string[]; ips: string[] } {
  const alt = new X509Certificate(certPem).subjectAltName ?? '';
  const dns: string[] = [], ips: string[] = [];
  for (const part of alt.split(', ')) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11));
  }
  return { dns, ips };
}

/** A serving certificate kept from an earlier start when it is good and covers exactly these names. */
export function loadServingCertificate(dataDir: string, caPem: string, names: ServingNames): { certPem: string; keyPem: string } | undefined {
  try {
    const certPem = readFileSync(join(pkiDir(dataDir), 'kubelet-serving.crt'), 'utf8');
    const keyPem = readFileSync(join(pkiDir(dataDir), 'kubelet-serving.key'), 'utf8');
    if (!stillGood(certPem, caPem, `system:node:${names.nodeName}`)) return undefined;
    const { dns, ips } = sansOf(certPem);
    const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
    return same(dns, [...new Set(names.dnsNames)]) && same(ips, [...new Set(names.ips)]) ? { certPem, keyPem } : undefined;
  } catch {
    return undefined;
  }
}

/** Requests a serving certificate for the node with its own credentials, and keeps it under the data dir. */
export async function requestServingCertificate(client: RestClient, dataDir: string, names: ServingNames, o: RequestCertificateOptions = {}): Promise<{ certPem: string; keyPem: string }> {
  const issued = await requestCertificate(client, servingRequest(names), o);
  storeServingCertificate(dataDir, issued);
  return issued;
}

/** Keeps a serving certificate under DATA/agent/pki for the next start. */
export function storeServingCertificate(dataDir: string, pair: { certPem: string; keyPem: string }): void {
  mkdirSync(pkiDir(dataDir), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(pkiDir(dataDir), 'kubelet-serving.key'), pair.keyPem, 0o600);
  writeFileAtomic(join(pkiDir(dataDir), 'kubelet-serving.crt'), pair.certPem, 0o644);
}

/** The request a node's serving certificate is made from. */
export function servingRequest(names: ServingNames): CertificateRequest {
  return {
    signerName: KUBELET_SERVING_SIGNER, usages: ['digital signature', 'server auth'],
    commonName: `system:node:${names.nodeName}`, organizations: ['system:nodes'],
    dnsNames: [...new Set(names.dnsNames)], ips: [...new Set(names.ips)],
  };
}

/** The request a node's client certificate is made from. */
export function clientRequest(nodeName: string): CertificateRequest {
  return { signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'client auth'], commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] };
}
