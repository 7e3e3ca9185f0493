// The key pair that signs service-account tokens: loaded from a PEM private key (RSA or ECDSA, as
// upstream's --service-account-key-file / --service-account-signing-key-file), or generated once
// (ECDSA P-256) and kept under DATA/tls/service-account.key. Its public half is served as a JWKS.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportJWK, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose';

/** A signing key with what verification and the JWKS need. */
export interface ServiceAccountKey {
  /** JWS algorithm: RS256 for RSA; ES256/ES384/ES512 by curve. */
  readonly alg: string;
  /** Key id: base64url(SHA-256(PKIX DER of the public key)), as upstream derives it. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public key as a JWK with kid, alg and use "sig". */
  readonly jwk: JWK;
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    switch (key.asymmetricKeyDetails?.namedCurve) {
      case 'prime256v1': return 'ES256';
      case 'secp384r1': return 'ES384';
      case 'secp521r1': return 'ES512';
      default: throw new Error('unknown private key curve, must be 256, 384, or 521');
    }
  }
  throw new Error(`service account key must be RSA or ECDSA, got ${String(key.asymmetricKeyType)}`);
}

/** Builds the key from a PEM private key (PKCS#1, SEC1 or PKCS#8). */
export async function loadServiceAccountKey(pem: string): Promise<ServiceAccountKey> {
  let priv: KeyObject;
  try {
    priv = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`service account key is not a PEM private key: ${(err as Error).message}`);
  }
  const alg = algorithmOf(priv);
  const pub = createPublicKey(priv);
  const spkiDer = pub.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(spkiDer).digest('base64url');
  const privateKey = await importPKCS8(priv.export({ type: 'pkcs8', format: 'pem' }) as string, alg, { extractable: false });
  const publicKey = await importSPKI(pub.export({ type: 'spki', format: 'pem' }) as string, alg, { extractable: true });
  const { kty, ...params } = await exportJWK(publicKey);
  // JWKS members in upstream's order: use, kty, kid, alg, then the key parameters.
  const jwk: JWK = { use: 'sig', kty, kid, alg, ...params };
  return { alg, kid, privateKey, publicKey, jwk };
}

/** A fresh ECDSA P-256 private key as PKCS#8 PEM. */
export function generateServiceAccountKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The PEM private key at `path`, generated (mode 0600) when the file does not exist. */
export async function ensureServiceAccountKeyFile(path: string): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new Error(`serviceAccountKeyFile must be a non-empty path, got ${JSON.stringify(path)}`);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pem = generateServiceAccountKeyPem();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(pem);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return pem;
}
