// How a joining node comes to trust the cluster CA before it sends its bootstrap token anywhere:
// a CA file, or kubeadm's `--discovery-token-ca-cert-hash` pin (sha256 of the CA's public key),
// checked against the certificate chain the API server presents in the TLS handshake.
import { X509Certificate, createHash } from 'node:crypto';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';

/** kubeadm's CA pin of a PEM certificate: `sha256:` + hex SHA-256 of its DER SubjectPublicKeyInfo. */
export function caCertHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Why a `--ca-cert-hash` value is malformed, or undefined. */
export function validateCaCertHash(pin: string): string | undefined {
  return /^sha256:[0-9a-f]{64}$/.test(pin) ? undefined : `want sha256:<64 hex digits>, got ${JSON.stringify(pin)}`;
}

function pemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The certificates the server sent, leaf first (Node links them through issuerCertificate). */
function chainOf(leaf: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

/**
 * Connects to the API server without trusting it yet, and returns the CA certificate (PEM) from its
 * handshake whose public key matches `pin` and that issued the server's certificate. Nothing but
 * the TLS handshake is sent, so a server that fails the check learns nothing.
 */
export async function discoverPinnedCa(server: string, pin: string, timeoutMs = 10_000): Promise<string> {
  const why = validateCaCertHash(pin);
  if (why) throw new Error(`--ca-cert-hash: ${why}`);
  const url = new URL(server);
  const peer = await new Promise<PeerCertificate>((resolve, reject) => {
    const socket = connect({
      host: url.hostname, port: Number(url.port || 443), rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(url.hostname) ? {} : { servername: url.hostname }),
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake with ${url.host} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(true);
      socket.end();
      resolve(cert);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  if (!peer || !peer.raw) throw new Error(`${url.host} presented no certificate`);
  const chain = chainOf(peer as DetailedPeerCertificate);
  const leaf = chain[0]!;
  for (const cert of chain) {
    const pem = pemOf(cert.raw);
    if (caCertHash(pem) !== pin) continue;
    if (!cert.ca) throw new Error(`the certificate matching --ca-cert-hash is not a CA (subject ${cert.subject})`);
    if (cert !== leaf && !leaf.verify(cert.publicKey)) throw new Error('the server certificate is not signed by the pinned CA');
    return pem;
  }
  throw new Error(`none of the ${chain.length} certificate(s) ${url.host} presented matches --ca-cert-hash ${pin}; `
    + 'check the hash (tkube token create --print-join-command prints it), or pass the cluster CA with --ca-file');
}
