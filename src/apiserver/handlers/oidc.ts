// Service-account issuer discovery (upstream's ServiceAccountIssuerDiscovery): the OpenID
// configuration document and the JWKS with the token-signing public key, so other systems can
// verify service-account tokens. They sit behind authentication and RBAC like any non-resource URL:
// system:service-account-issuer-discovery grants them to service accounts (anonymous needs a binding).
import type { AuthenticationWiring } from '../authn/wiring.ts';
import { newMethodNotAllowed, newNoResource } from '../errors.ts';
import { writeRaw, type Res } from '../http_util.ts';

/** The discovery document's path. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
/** The JWKS path. */
export const JWKS_PATH = '/openid/v1/jwks';

const CACHE_CONTROL = 'public, max-age=3600';

/** Whether a path is one of the discovery endpoints. */
export function isOidcPath(path: string): boolean {
  return path === OPENID_CONFIGURATION_PATH || path === JWKS_PATH;
}

/** The OpenID provider configuration for the issuer; `externalAddress` is host:port clients reach the server at. */
export function openIdConfiguration(issuer: string, externalAddress: string, alg: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `https://${externalAddress}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [alg],
  };
}

/** Serves GET of a discovery path; 404 when the issuer is not an https URL (discovery is off, as upstream). */
export function serveOidc(res: Res, path: string, method: string, authn: AuthenticationWiring, externalAddress: string): void {
  if (!authn.issuer.startsWith('https://')) throw newNoResource();
  if (method !== 'GET' && method !== 'HEAD') throw newMethodNotAllowed();
  const headers = { 'Cache-Control': CACHE_CONTROL };
  if (path === OPENID_CONFIGURATION_PATH) {
    writeRaw(res, 200, JSON.stringify(openIdConfiguration(authn.issuer, externalAddress, authn.key.alg)), 'application/json', headers);
    return;
  }
  writeRaw(res, 200, JSON.stringify({ keys: [authn.key.jwk] }), 'application/jwk-set+json', headers);
}
