// The cluster's certificates: a CA, the API server's serving certificate and the admin client
// certificate, created on first start under DATA/tls and reused (or renewed) on later starts.
// ECDSA P-256 keys on WebCrypto via @peculiar/x509; PEM files; private keys mode 0600.

import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import type * as X509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A certificate authority: its certificate and private key, both PEM. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

/** A certificate (PEM) with its private key (PKCS#8 PEM). */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** What a certificate is for: TLS server, TLS client, or both (extended key usages). */
export type CertificateUsages = 'server' | 'client' | 'both';

/** Options of issueCertificate. */
export interface IssueCertificateOptions {
  ca: CertificateAuthority;
  commonName: string;
  /** Subject O values; the API server reads them as the user's groups. */
  organizations?: readonly string[];
  dnsNames?: readonly string[];
  ips?: readonly string[];
  usages: CertificateUsages;
  /** Validity in days; capped at the CA's own expiry. */
  days: number;
}

/** Options of signPublicKey: as issueCertificate, for a key someone else holds (a CSR's). */
export interface SignPublicKeyOptions extends IssueCertificateOptions {
  /** SPKI public key as PEM ("PUBLIC KEY") or DER. */
  publicKey: string | Uint8Array;
}

/** The user a client certificate names: CN is the user name, each O a group. */
export interface CertificateIdentity {
  commonName: string;
  organizations: string[];
}

/** Options of ensureClusterPki. */
export interface ClusterPkiOptions {
  /** Directory for the PEM files (created 0700 if missing), e.g. DATA/tls. */
  dir: string;
  /** The machine's host name, added as a DNS (or IP) SAN; empty to skip. */
  hostname: string;
  /** The node's IP address, added as an IP SAN. */
  nodeIp?: string;
  /** More SANs: each is taken as an IP address if it parses as one, else as a DNS name. */
  extraSans?: readonly string[];
  /** The first IP of the service CIDR (the `kubernetes` Service); default 10.43.0.1. */
  serviceIp?: string;
}

/** Paths of the files ensureClusterPki manages. */
export interface ClusterPkiPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
}

/** The cluster's PKI after ensureClusterPki; clients are verified against `ca` too. */
export interface ClusterPki {
  ca: CertificateAuthority;
  server: IssuedCertificate;
  admin: IssuedCertificate;
  paths: ClusterPkiPaths;
  /** Base names of the files written by this call (empty when everything was reused). */
  written: string[];
}

/** The CA's common name. */
export const CA_COMMON_NAME = 'tkube-ca';
/** Subject of the API server's serving certificate. */
export const SERVER_COMMON_NAME = 'kube-apiserver';
/** Subject of the admin client certificate (user and group). */
export const ADMIN_COMMON_NAME = 'system:admin';
/** The admin's group: bound to cluster-admin by the default RBAC policy. */
export const ADMIN_ORGANIZATION = 'system:masters';
/** DNS names every serving certificate carries. */
export const SERVER_DNS_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
] as const;
/** The `kubernetes` Service's IP: the first of the default service CIDR 10.43.0.0/16. */
export const DEFAULT_SERVICE_IP = '10.43.0.1';

const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** A leaf certificate closer than this to its expiry is reissued at start. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** Backdating tolerates clocks a little behind ours (other nodes, containers). */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const KU_DIGITAL_SIGNATURE = 1;
const KU_KEY_ENCIPHERMENT = 4;
const KU_KEY_CERT_SIGN = 32;
const KU_CRL_SIGN = 64;

let x509Module: Promise<typeof X509> | undefined;

/**
 * Loads @peculiar/x509 on first use. Its dependency tsyringe refuses to load without a Reflect
 * metadata polyfill; the library only needs the three calls below, so we supply them if absent
 * rather than pull in another package. Lazy, so commands that never touch TLS skip the ~100 ms load.
 */
function x509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    installReflectMetadata();
    const mod = await import('@peculiar/x509');
    mod.cryptoProvider.set(webcrypto as unknown as Parameters<typeof mod.cryptoProvider.set>[0]);
    return mod;
  })();
  return x509Module;
}

function installReflectMetadata(): void {
  const r = Reflect as unknown as Record<string, unknown>;
  if (typeof r['getMetadata'] === 'function') return;
  const store = new WeakMap<object, Map<unknown, unknown>>();
  const own = (target: object, create: boolean): Map<unknown, unknown> | undefined => {
    let m = store.get(target);
    if (!m && create) store.set(target, (m = new Map()));
    return m;
  };
  r['defineMetadata'] = (key: unknown, value: unknown, target: object): void => {
    own(target, true)!.set(key, value);
  };
  r['getOwnMetadata'] = (key: unknown, target: object): unknown => own(target, false)?.get(key);
  r['getMetadata'] = (key: unknown, target: object): unknown => {
    for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
      const m = own(o, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

/** Loads the certificate library ahead of time (e.g. in parallel with opening storage). */
export async function preloadPki(): Promise<void> {
  await x509();
}

/**
 * Creates the cluster CA, serving certificate and admin certificate in `dir` on first start;
 * on later starts reuses them, reissuing a leaf that expires within 30 days, no longer matches
 * its key or the CA, or (serving certificate) no longer covers the requested SANs.
 */
export async function ensureClusterPki(options: ClusterPkiOptions): Promise<ClusterPki> {
  const { dir } = options;
  if (typeof dir !== 'string' || dir === '') throw new Error(`ensureClusterPki: dir must be a non-empty path, got ${JSON.stringify(dir)}`);
  const wanted = servingSans(options);
  const paths: ClusterPkiPaths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const writePair = async (certPath: string, keyPath: string, pair: IssuedCertificate): Promise<void> => {
    // Key first: a crash between the two leaves a mismatched pair, which the next start reissues.
    await writeFileAtomic(keyPath, pair.keyPem, 0o600);
    await writeFileAtomic(certPath, pair.certPem, 0o644);
    written.push(basename(keyPath), basename(certPath));
  };

  const [caCertPem, caKeyPem] = await Promise.all([readOptional(paths.caCert), readOptional(paths.caKey)]);
  let ca: CertificateAuthority;
  if (caCertPem === undefined && caKeyPem === undefined) {
    ca = await createCertificateAuthority({ commonName: CA_COMMON_NAME, days: CA_DAYS });
    await writePair(paths.caCert, paths.caKey, ca);
  } else if (caCertPem === undefined || caKeyPem === undefined) {
    // Replacing half a CA would silently invalidate every credential issued from it.
    const missing = caCertPem === undefined ? paths.caCert : paths.caKey;
    throw new Error(`ensureClusterPki: ${missing} is missing but its pair exists; restore it or remove both to create a new CA`);
  } else {
    ca = { certPem: caCertPem, keyPem: caKeyPem };
    if (!keyMatchesCertificate(ca.certPem, ca.keyPem)) {
      throw new Error(`ensureClusterPki: ${paths.caKey} does not belong to ${paths.caCert}`);
    }
  }
  const caCert = new NodeX509(ca.certPem);

  let server = await loadPair(paths.serverCert, paths.serverKey);
  if (!server || !leafStillGood(server, caCert) || !(await coversSans(server.certPem, wanted))) {
    server = await issueCertificate({
      ca,
      commonName: SERVER_COMMON_NAME,
      dnsNames: wanted.dnsNames,
      ips: wanted.ips,
      usages: 'server',
      days: LEAF_DAYS,
    });
    await writePair(paths.serverCert, paths.serverKey, server);
  }

  let admin = await loadPair(paths.adminCert, paths.adminKey);
  if (!admin || !leafStillGood(admin, caCert) || !isAdminIdentity(admin.certPem)) {
    admin = await issueCertificate({
      ca,
      commonName: ADMIN_COMMON_NAME,
      organizations: [ADMIN_ORGANIZATION],
      usages: 'client',
      days: LEAF_DAYS,
    });
    await writePair(paths.adminCert, paths.adminKey, admin);
  }

  return { ca, server, admin, paths, written };
}

/** Creates a self-signed CA with a fresh P-256 key. */
export async function createCertificateAuthority(options: { commonName: string; days: number }): Promise<CertificateAuthority> {
  const { commonName, days } = options;
  requireName('createCertificateAuthority', commonName);
  requireDays('createCertificateAuthority', days);
  const x = await x509();
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    keys,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x.BasicConstraintsExtension(true, undefined, true),
      new x.KeyUsagesExtension(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKey(keys.privateKey) };
}

/** Issues a certificate signed by `ca` for a fresh P-256 key (kubelet serving certs, admin, …). */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certPem = await signCertificate(options, keys.publicKey, 'issueCertificate');
  return { certPem, keyPem: await exportPrivateKey(keys.privateKey) };
}

/** Signs someone else's public key (e.g. from a CertificateSigningRequest); returns the PEM certificate. */
export async function signPublicKey(options: SignPublicKeyOptions): Promise<string> {
  const x = await x509();
  let key: X509.PublicKey;
  try {
    key = new x.PublicKey(typeof options.publicKey === 'string' ? options.publicKey : toArrayBuffer(options.publicKey));
  } catch (err) {
    throw new Error(`signPublicKey: publicKey is not a valid SPKI public key: ${(err as Error).message}`);
  }
  return signCertificate(options, key, 'signPublicKey');
}

async function signCertificate(
  options: IssueCertificateOptions,
  publicKey: CryptoKey | X509.PublicKey,
  caller: string,
): Promise<string> {
  const { ca, commonName, usages, days } = options;
  requireName(caller, commonName);
  requireDays(caller, days);
  if (usages !== 'server' && usages !== 'client' && usages !== 'both') {
    throw new Error(`${caller}: usages must be 'server', 'client' or 'both', got ${JSON.stringify(usages)}`);
  }
  const organizations = [...(options.organizations ?? [])];
  for (const o of organizations) requireName(`${caller}: organization`, o);
  const dnsNames = unique((options.dnsNames ?? []).map((d) => d.toLowerCase()));
  for (const d of dnsNames) requireName(`${caller}: dnsName`, d);
  const ips = unique((options.ips ?? []).map((ip) => normalizeIp(ip, `${caller}: ip`)));

  const x = await x509();
  let caCert: X509.X509Certificate;
  let caKey: CryptoKey;
  try {
    caCert = new x.X509Certificate(ca.certPem);
    caKey = await importPrivateKey(ca.keyPem);
  } catch (err) {
    throw new Error(`${caller}: ca is not a PEM certificate and PKCS#8 EC key: ${(err as Error).message}`);
  }
  const now = Date.now();
  const notAfter = Math.min(now + days * DAY_MS, caCert.notAfter.getTime());
  const subjectKey = publicKey instanceof x.PublicKey ? publicKey : new x.PublicKey(await webcrypto.subtle.exportKey('spki', publicKey));

  // RSA keys encrypt the TLS key exchange in old suites, so they get keyEncipherment as upstream gives them.
  let keyUsage = KU_DIGITAL_SIGNATURE;
  if (subjectKey.algorithm.name.startsWith('RSA')) keyUsage |= KU_KEY_ENCIPHERMENT;
  const ekus = usages === 'server' ? [OID_SERVER_AUTH] : usages === 'client' ? [OID_CLIENT_AUTH] : [OID_SERVER_AUTH, OID_CLIENT_AUTH];
  const extensions: X509.Extension[] = [
    new x.BasicConstraintsExtension(false, undefined, true),
    new x.KeyUsagesExtension(keyUsage, true),
    new x.ExtendedKeyUsageExtension(ekus),
    await x.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (dnsNames.length + ips.length > 0) {
    extensions.push(
      new x.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: newSerialNumber(),
    // Go orders O before CN; kubectl and openssl print subjects that way.
    subject: [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: subjectKey,
    signingKey: caKey,
    signingAlgorithm: EC_ALGORITHM,
    extensions,
  });
  return cert.toString('pem') + '\n';
}

/**
 * Reads the user name (CN) and groups (O) of a certificate, PEM or DER (as from
 * `tlsSocket.getPeerCertificate().raw`). Only trust it after the chain was verified
 * (`tlsSocket.authorized`). Attributes are read one by one, never by splitting a printed
 * subject, so a value containing `,` or a newline cannot forge a group.
 */
export function parseCertificateIdentity(cert: string | Uint8Array): CertificateIdentity {
  const subject = new NodeX509(typeof cert === 'string' ? cert : Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength)).toLegacyObject()
    .subject as unknown as Record<string, string | string[] | undefined>;
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const cns = list(subject['CN']);
  // Go's pkix.Name keeps the last CN when there are several; do the same.
  return { commonName: cns[cns.length - 1] ?? '', organizations: list(subject['O']) };
}

// ---- checks on existing files ----

interface WantedSans {
  dnsNames: string[];
  ips: string[];
}

function servingSans(options: ClusterPkiOptions): WantedSans {
  const dnsNames: string[] = [...SERVER_DNS_NAMES];
  const ips: string[] = ['127.0.0.1', '::1'];
  const add = (value: string, field: string): void => {
    if (isIP(value) !== 0) ips.push(normalizeIp(value, field));
    else {
      requireName(field, value);
      dnsNames.push(value.toLowerCase());
    }
  };
  if (typeof options.hostname !== 'string') throw new Error(`ensureClusterPki: hostname must be a string, got ${JSON.stringify(options.hostname)}`);
  if (options.hostname !== '') add(options.hostname, 'ensureClusterPki: hostname');
  if (options.nodeIp !== undefined) ips.push(normalizeIp(options.nodeIp, 'ensureClusterPki: nodeIp'));
  ips.push(normalizeIp(options.serviceIp ?? DEFAULT_SERVICE_IP, 'ensureClusterPki: serviceIp'));
  for (const san of options.extraSans ?? []) add(san, 'ensureClusterPki: extraSans');
  return { dnsNames: unique(dnsNames), ips: unique(ips) };
}

async function loadPair(certPath: string, keyPath: string): Promise<IssuedCertificate | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  return { certPem, keyPem };
}

/** True when the pair parses, belongs together, was signed by the CA and has 30+ days left. */
function leafStillGood(pair: IssuedCertificate, caCert: NodeX509): boolean {
  try {
    const cert = new NodeX509(pair.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    return keyMatchesCertificate(pair.certPem, pair.keyPem);
  } catch {
    return false;
  }
}

function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    return new NodeX509(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

async function coversSans(certPem: string, wanted: WantedSans): Promise<boolean> {
  const x = await x509();
  const ext = new x.X509Certificate(certPem).getExtension(x.SubjectAlternativeNameExtension);
  if (!ext) return false;
  const have = new Set<string>();
  for (const n of ext.names.items) {
    if (n.type === 'dns') have.add('dns:' + n.value.toLowerCase());
    else if (n.type === 'ip' && isIP(n.value) !== 0) have.add('ip:' + normalizeIp(n.value, 'certificate'));
  }
  return wanted.dnsNames.every((d) => have.has('dns:' + d)) && wanted.ips.every((ip) => have.has('ip:' + ip));
}

function isAdminIdentity(certPem: string): boolean {
  try {
    const id = parseCertificateIdentity(certPem);
    return id.commonName === ADMIN_COMMON_NAME && id.organizations.includes(ADMIN_ORGANIZATION);
  } catch {
    return false;
  }
}

// ---- small helpers ----

/** Canonical text of an IP address, so "::1" and "0:0:0:0:0:0:0:1" compare equal. */
function normalizeIp(ip: string, field: string): string {
  const family = typeof ip === 'string' ? isIP(ip) : 0;
  if (family === 4) return ip;
  if (family === 6) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  throw new Error(`${field} must be an IP address, got ${JSON.stringify(ip)}`);
}

function requireName(field: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw new Error(`${field} must be a non-empty string, got ${JSON.stringify(value)}`);
}

function requireDays(caller: string, days: unknown): void {
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new Error(`${caller}: days must be a positive number, got ${JSON.stringify(days)}`);
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** 16 random bytes as a positive, minimally encoded DER integer (Go rejects negative serials). */
function newSerialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b.toString('hex');
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  // Through node:crypto so SEC1 ("EC PRIVATE KEY") files from other tools load as well as PKCS#8.
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']) as Promise<CryptoKey>;
}

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes via a temporary file and rename, so readers never see half a key. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
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

/**
 * A client certificate kept as `<dir>/<file>.crt|.key`: reused while it is signed by `ca`, has the
 * asked identity and is valid for more than 30 days; issued (1 year) otherwise. For component
 * identities such as the API server's kubelet client or a node's kubelet.
 */
export async function ensureClientCertificate(options: {
  dir: string; file: string; ca: CertificateAuthority; commonName: string; organizations?: readonly string[];
}): Promise<IssuedCertificate> {
  const { readFile: rf, writeFile: wf, mkdir: mk } = await import('node:fs/promises');
  const certPath = join(options.dir, `${options.file}.crt`);
  const keyPath = join(options.dir, `${options.file}.key`);
  try {
    const [certPem, keyPem] = await Promise.all([rf(certPath, 'utf8'), rf(keyPath, 'utf8')]);
    const cert = new NodeX509(certPem);
    const id = parseCertificateIdentity(certPem);
    const wantOrgs = [...(options.organizations ?? [])].sort().join(',');
    const fresh = new Date(cert.validTo).getTime() - Date.now() > 30 * 24 * 3600 * 1000;
    if (cert.verify(new NodeX509(options.ca.certPem).publicKey) && id.commonName === options.commonName
      && [...id.organizations].sort().join(',') === wantOrgs && fresh) {
      return { certPem, keyPem };
    }
  } catch {
    // missing or unreadable: issue a new one
  }
  const issued = await issueCertificate({
    ca: options.ca, commonName: options.commonName, organizations: [...(options.organizations ?? [])], usages: 'client', days: 365,
  });
  await mk(options.dir, { recursive: true, mode: 0o700 });
  await wf(certPath, issued.certPem, { mode: 0o644 });
  await wf(keyPath, issued.keyPem, { mode: 0o600 });
  return issued;
}
