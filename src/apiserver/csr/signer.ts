// Signing of approved CertificateSigningRequests with the cluster CA (upstream's csrsigning
// controller) for the three kubernetes.io signers, with each signer's subject and usage rules.
import { signPublicKey, type CertificateAuthority, type CertificateUsages } from '../../base/pki.ts';
import type { ParsedCsr } from './request.ts';
import { Signers } from './strategy.ts';

/** Upstream's default --cluster-signing-duration: one year. */
export const DEFAULT_SIGNING_DAYS = 365;
const MIN_SIGNING_SECONDS = 600;

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === b.length && b.every((x) => a.includes(x));

const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

/** Go's %v of a sorted string set: [a b c]. */
function listText(items: readonly string[]): string {
  return `[${[...items].sort().join(' ')}]`;
}

/** Why a request does not fit the kubelet client signer (upstream's ValidateKubeletClientCSR), or undefined. */
export function validateKubeletClientCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (req.dnsNames.length > 0) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length > 0) return 'IP subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) return `usages did not match ${listText(KUBELET_CLIENT_USAGES)}`;
  return undefined;
}

/** Why a request does not fit the kubelet serving signer (ValidateKubeletServingCSR), or undefined. */
export function validateKubeletServingCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (req.dnsNames.length === 0 && req.ipAddresses.length === 0) return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) return `usages did not match ${listText(KUBELET_SERVING_USAGES)}`;
  if (!req.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** Why usages do not fit the API-server client signer, or undefined. */
export function validateApiServerClientUsages(usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') clientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

/** Whether this server signs for the signer, and if so why the request is refused (undefined: fine). */
export function checkForSigner(signerName: string, req: ParsedCsr, usages: readonly string[]): { recognized: boolean; error?: string } {
  switch (signerName) {
    case Signers.KubeletServing: return { recognized: true, error: validateKubeletServingCsr(req, usages) };
    case Signers.KubeAPIServerClientKubelet: return { recognized: true, error: validateKubeletClientCsr(req, usages) };
    case Signers.KubeAPIServerClient: return { recognized: true, error: validateApiServerClientUsages(usages) };
    default: return { recognized: false };
  }
}

/** Upstream's --cluster-signing-duration default (8760h), in seconds. */
export const DEFAULT_SIGNING_DURATION_SECONDS = DEFAULT_SIGNING_DAYS * 86400;
/** How far back NotBefore is dated, so clocks a little behind accept the certificate at once. */
const BACKDATE_SECONDS = 5 * 60;
/** Certificates shorter than this do not give up their backdate at the end (upstream's Short). */
const SHORT_SECONDS = 8 * 3600;

/** The signed lifetime: the requested expirationSeconds within [10 minutes, the signing duration] (upstream's signer.duration). */
export function signingDurationSeconds(expirationSeconds: number | undefined, maxSeconds = DEFAULT_SIGNING_DURATION_SECONDS): number {
  if (expirationSeconds === undefined) return maxSeconds;
  return Math.min(Math.max(expirationSeconds, MIN_SIGNING_SECONDS), maxSeconds);
}

/**
 * Days from now to NotAfter for a lifetime (NotBefore is always now - 5 minutes): a long-lived
 * certificate ends at now + ttl - 5 minutes, a short-lived one (< 8h) at now + ttl.
 */
export function notAfterDays(ttlSeconds: number): number {
  return (ttlSeconds < SHORT_SECONDS ? ttlSeconds : ttlSeconds - BACKDATE_SECONDS) / 86400;
}

/** The certificate lifetime in days: the requested expirationSeconds within [10 minutes, the signing duration]. */
export function signingDays(expirationSeconds: number | undefined, maxDays = DEFAULT_SIGNING_DAYS): number {
  return notAfterDays(signingDurationSeconds(expirationSeconds, maxDays * 86400));
}

function extendedUsages(usages: readonly string[]): CertificateUsages {
  const server = usages.includes('server auth'), client = usages.includes('client auth');
  if (server && client) return 'both';
  return server ? 'server' : 'client';
}

/** Signs the request's key for its subject and SANs; returns the certificate PEM. `maxSeconds` is --cluster-signing-duration. */
export async function signRequest(ca: CertificateAuthority, req: ParsedCsr, usages: readonly string[], expirationSeconds?: number, maxSeconds = DEFAULT_SIGNING_DURATION_SECONDS): Promise<string> {
  return signPublicKey({
    ca, publicKey: req.publicKey, commonName: req.commonName, organizations: req.organizations,
    dnsNames: req.dnsNames, ips: req.ipAddresses, usages: extendedUsages(usages), days: notAfterDays(signingDurationSeconds(expirationSeconds, maxSeconds)),
  });
}
