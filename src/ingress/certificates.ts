// TLS for the ingress proxy: secure contexts from kubernetes.io/tls Secrets chosen per SNI name, and
// the self-signed fallback certificate served for names no Ingress covers (as ingress-nginx's
// "Kubernetes Ingress Controller Fake Certificate").
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../base/pki.ts';
import { logger } from '../base/log.ts';
import type { Secret } from '../api/types/core_v1.ts';
import type { SecretRef } from './routing.ts';

const log = logger('ingress');

/** The Secret type holding a certificate and key. */
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
/** Subject of the fallback certificate, as ingress-nginx names its own. */
export const FALLBACK_COMMON_NAME = 'Kubernetes Ingress Controller Fake Certificate';

/** A certificate served for some SNI names; the PEMs travel to proxy worker processes. */
export interface ServedCertificate {
  readonly context: SecureContext;
  readonly certPem: string;
  readonly keyPem: string;
}

/** SNI name (exact or "*.foo.com") → certificate; consulted by the HTTPS server on each handshake. */
export type CertTable = ReadonlyMap<string, ServedCertificate>;

/** Makes the fallback certificate: a throwaway CA and a leaf for ingress.local. */
export async function selfSignedCertificate(): Promise<IssuedCertificate> {
  const ca = await createCertificateAuthority({ commonName: `${FALLBACK_COMMON_NAME} CA`, days: 3650 });
  return issueCertificate({ ca, commonName: FALLBACK_COMMON_NAME, dnsNames: ['ingress.local'], usages: 'server', days: 3650 });
}

/** The context for an SNI name: exact, then one-label wildcard; undefined means the fallback. */
export function contextFor(certs: CertTable, servername: string): SecureContext | undefined {
  const name = servername.toLowerCase();
  const exact = certs.get(name);
  if (exact) return exact.context;
  const dot = name.indexOf('.');
  return dot > 0 ? certs.get(`*${name.slice(dot)}`)?.context : undefined;
}

interface Parsed {
  readonly version: string;
  readonly served: ServedCertificate | undefined;
  readonly cert: X509Certificate | undefined;
}

/**
 * Builds CertTables from Secrets, parsing each Secret once per resourceVersion (contexts are costly
 * to make and handshakes far outnumber Secret changes).
 */
export class CertificateCache {
  #parsed = new Map<string, Parsed>();

  /** The certificates of `tls` (host → Secret) whose Secrets exist, are valid and cover the host. */
  build(tls: ReadonlyMap<string, SecretRef>, getSecret: (namespace: string, name: string) => Secret | undefined): CertTable {
    const out = new Map<string, ServedCertificate>();
    const used = new Set<string>();
    for (const [host, ref] of tls) {
      const id = `${ref.namespace}/${ref.name}`;
      const secret = getSecret(ref.namespace, ref.name);
      if (!secret) {
        log.warn('TLS secret not found; serving the fallback certificate', { host, secret: id });
        continue;
      }
      used.add(id);
      const parsed = this.#parse(id, secret);
      if (!parsed.served || !parsed.cert) continue;
      // A wildcard TLS host is checked with a sample name under it.
      const probe = host.startsWith('*.') ? `x${host.slice(1)}` : host;
      if (parsed.cert.checkHost(probe) === undefined) {
        log.warn('certificate does not cover the host; serving the fallback certificate', { host, secret: id });
        continue;
      }
      out.set(host, parsed.served);
    }
    for (const id of this.#parsed.keys()) if (!used.has(id)) this.#parsed.delete(id);
    return out;
  }

  #parse(id: string, secret: Secret): Parsed {
    const version = `${secret.metadata?.uid ?? ''}/${secret.metadata?.resourceVersion ?? ''}`;
    const cached = this.#parsed.get(id);
    if (cached && cached.version === version) return cached;
    let parsed: Parsed = { version, served: undefined, cert: undefined };
    if ((secret.type ?? '') !== TLS_SECRET_TYPE) {
      log.warn('secret is not of type kubernetes.io/tls', { secret: id, type: secret.type });
    } else {
      const certPem = decode(secret.data?.['tls.crt']);
      const keyPem = decode(secret.data?.['tls.key']);
      try {
        if (!certPem || !keyPem) throw new Error('tls.crt or tls.key is missing');
        parsed = { version, served: { context: createSecureContext({ cert: certPem, key: keyPem }), certPem, keyPem }, cert: new X509Certificate(certPem) };
      } catch (err) {
        log.warn('invalid TLS secret; serving the fallback certificate', { secret: id, err: err instanceof Error ? err.message : String(err) });
      }
    }
    this.#parsed.set(id, parsed);
    return parsed;
  }
}

/**
 * Rebuilds a table from PEMs received from another process, reusing contexts of unchanged pairs
 * from `cache` (which it updates).
 */
export function certTableFromPems(pems: ReadonlyMap<string, { readonly certPem: string; readonly keyPem: string }>, cache: Map<string, ServedCertificate>): CertTable {
  const out = new Map<string, ServedCertificate>();
  const used = new Set<string>();
  for (const [host, p] of pems) {
    const id = `${p.certPem}\n${p.keyPem}`;
    let served = cache.get(id);
    if (!served) {
      try {
        served = { context: createSecureContext({ cert: p.certPem, key: p.keyPem }), certPem: p.certPem, keyPem: p.keyPem };
      } catch (err) {
        log.warn('invalid certificate from the controller; serving the fallback certificate', { host, err: err instanceof Error ? err.message : String(err) });
        continue;
      }
      cache.set(id, served);
    }
    used.add(id);
    out.set(host, served);
  }
  for (const id of cache.keys()) if (!used.has(id)) cache.delete(id);
  return out;
}

function decode(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}
