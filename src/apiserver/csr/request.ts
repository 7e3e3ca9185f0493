// PKCS#10 certificate requests as CertificateSigningRequests carry them: spec.request is the
// base64 of a PEM "CERTIFICATE REQUEST". Parsing is synchronous once the certificate library is
// loaded (loadCsrSupport); the signature check is asynchronous.
import { preloadPki } from '../../base/pki.ts';
import type * as X509 from '@peculiar/x509';

/** What the signers and approvers look at in a certificate request. */
export interface ParsedCsr {
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly uris: readonly string[];
  /** SPKI DER of the requested key. */
  readonly publicKey: Uint8Array;
  /** Checks the request's self-signature. */
  verify(): Promise<boolean>;
}

let lib: typeof X509 | undefined;

/** Loads the certificate library (once); parseCsr needs it. */
export async function loadCsrSupport(): Promise<void> {
  if (lib) return;
  await preloadPki();
  lib = await import('@peculiar/x509');
}

const SAN_OID = '2.5.29.17';

/** Decodes spec.request (base64 of PEM, or the PEM text itself) and parses it; throws with upstream's words. */
export function parseCsr(request: string | Uint8Array): ParsedCsr {
  if (!lib) throw new Error('certificate support not loaded');
  const x = lib;
  const text = typeof request === 'string' ? Buffer.from(request, 'base64').toString('latin1') : Buffer.from(request).toString('latin1');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m || m[1] !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x.Pkcs10CertificateRequest(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw new Error(`x509: malformed certificate request: ${(err as Error).message}`);
  }
  const dns: string[] = [], ips: string[] = [], emails: string[] = [], uris: string[] = [];
  const ext = csr.getExtension(SAN_OID);
  if (ext) {
    const san = new x.SubjectAlternativeNameExtension(ext.rawData);
    for (const n of san.names.items) {
      if (n.type === 'dns') dns.push(n.value);
      else if (n.type === 'ip') ips.push(n.value);
      else if (n.type === 'email') emails.push(n.value);
      else if (n.type === 'url') uris.push(n.value);
    }
  }
  const cns = csr.subjectName.getField('CN');
  return {
    // Go's pkix.Name keeps the last CN when there are several.
    commonName: cns[cns.length - 1] ?? '',
    organizations: csr.subjectName.getField('O'),
    dnsNames: dns, ipAddresses: ips, emailAddresses: emails, uris,
    publicKey: new Uint8Array(csr.publicKey.rawData),
    verify: () => csr.verify(),
  };
}
