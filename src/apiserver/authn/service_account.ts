// Service-account JWTs (upstream's pkg/serviceaccount): signing bound tokens for TokenRequest and
// legacy tokens for Secret-based credentials, and authenticating both. A token is accepted only
// while what it names still exists with the same uid: the ServiceAccount, and the Pod, Secret or
// Node it is bound to, so deleting any of them revokes it.
import { randomUUID } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { UserInfo } from '../handlers/context.ts';
import type { KObject } from '../registry/strategy.ts';
import { aggregateErrors, UNRECOGNIZED, type TokenAuthenticator, type TokenResult } from './authenticator.ts';
import type { ObjectGetter } from './object_getter.ts';
import type { ServiceAccountKey } from './service_account_key.ts';
import { secretData } from './bootstrap_token.ts';

/** The issuer of Secret-based (legacy) tokens. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** The default issuer (and API audience) of bound tokens. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Tokens requested for this many seconds by kubelets get a year, with a warning after the hour (upstream's safe rollout). */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7;
/** How long such tokens actually live. */
export const EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60;
/** Secret label that disables a legacy token (upstream's legacy token cleaner). */
export const LEGACY_TOKEN_INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';

/** go-jose's leeway for exp/nbf. */
const LEEWAY_MS = 60_000;
const EXTRA_PREFIX = 'authentication.kubernetes.io/';

/** `system:serviceaccount:<ns>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The groups of a service account. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** Who a validated token speaks for (upstream's ServiceAccountInfo). */
export interface ServiceAccountInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly podName?: string;
  readonly podUID?: string;
  readonly nodeName?: string;
  readonly nodeUID?: string;
  readonly credentialID?: string;
}

/** The user of a service-account token, with the pod, node and credential extras. */
export function serviceAccountUser(info: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {};
  // Sorted keys, as Go serializes the map.
  if (info.credentialID) extra[`${EXTRA_PREFIX}credential-id`] = [info.credentialID];
  if (info.nodeName) extra[`${EXTRA_PREFIX}node-name`] = [info.nodeName];
  if (info.nodeUID) extra[`${EXTRA_PREFIX}node-uid`] = [info.nodeUID];
  if (info.podName) extra[`${EXTRA_PREFIX}pod-name`] = [info.podName];
  if (info.podUID) extra[`${EXTRA_PREFIX}pod-uid`] = [info.podUID];
  const user: UserInfo = { name: serviceAccountUsername(info.namespace, info.name), uid: info.uid, groups: serviceAccountGroups(info.namespace) };
  return Object.keys(extra).length > 0 ? { ...user, extra } : user;
}

type Obj = Record<string, unknown>;

function metaOf(o: KObject | undefined): Obj {
  const m = o?.['metadata'];
  return typeof m === 'object' && m !== null ? (m as Obj) : {};
}

function str(o: Obj, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : '';
}

function ref(o: KObject): { name: string; uid: string } {
  const m = metaOf(o);
  return { name: str(m, 'name'), uid: str(m, 'uid') };
}

/** What a bound token is for. */
export interface BoundTokenRequest {
  readonly serviceAccount: KObject;
  readonly pod?: KObject;
  readonly secret?: KObject;
  readonly node?: KObject;
  readonly expirationSeconds: number;
  /** Set for extended tokens: the claim `warnafter` this many seconds from now. */
  readonly warnAfterSeconds?: number;
  readonly audiences: readonly string[];
  readonly now: Date;
}

/** The claims of a bound token (without `iss`, which the issuer adds), keys sorted as go-jose writes them. */
export function boundTokenClaims(r: BoundTokenRequest): Obj {
  const nowSec = Math.floor(r.now.getTime() / 1000);
  const sa = ref(r.serviceAccount);
  const namespace = str(metaOf(r.serviceAccount), 'namespace');
  const k8s: Obj = { namespace };
  if (r.node) k8s['node'] = ref(r.node);
  if (r.pod) k8s['pod'] = ref(r.pod);
  else if (r.secret) k8s['secret'] = ref(r.secret);
  k8s['serviceaccount'] = sa;
  if (r.warnAfterSeconds) k8s['warnafter'] = nowSec + r.warnAfterSeconds;
  return {
    aud: [...r.audiences],
    exp: nowSec + r.expirationSeconds,
    iat: nowSec,
    jti: randomUUID(),
    'kubernetes.io': k8s,
    nbf: nowSec,
    sub: serviceAccountUsername(namespace, sa.name),
  };
}

/** The claims of a legacy (Secret-based) token. */
export function legacyTokenClaims(serviceAccount: KObject, secret: KObject): Obj {
  const sa = ref(serviceAccount);
  const namespace = str(metaOf(serviceAccount), 'namespace');
  return {
    iss: LEGACY_ISSUER,
    'kubernetes.io/serviceaccount/namespace': namespace,
    'kubernetes.io/serviceaccount/secret.name': ref(secret).name,
    'kubernetes.io/serviceaccount/service-account.name': sa.name,
    'kubernetes.io/serviceaccount/service-account.uid': sa.uid,
    sub: serviceAccountUsername(namespace, sa.name),
  };
}

/** Signs claims with the service-account key. */
export class TokenSigner {
  readonly #key: ServiceAccountKey;

  constructor(key: ServiceAccountKey) {
    this.#key = key;
  }

  /** A compact JWS of the claims; `iss` is set when given (bound tokens). */
  async sign(claims: Obj, issuer?: string): Promise<string> {
    const payload = issuer === undefined ? claims : insertSorted(claims, 'iss', issuer);
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: this.#key.alg, kid: this.#key.kid })
      .sign(this.#key.privateKey);
  }
}

function insertSorted(o: Obj, key: string, value: unknown): Obj {
  const out: Obj = {};
  for (const k of [...Object.keys(o).filter((x) => x !== key), key].sort()) out[k] = k === key ? value : o[k];
  return out;
}

/** Checks what a verified token claims; an error string rejects the token. */
export type ClaimsValidator = (token: string, claims: Obj, now: Date) => Promise<ServiceAccountInfo | { error: string }>;

/** Options of ServiceAccountTokenAuthenticator. */
export interface ServiceAccountAuthenticatorOptions {
  /** Issuers this authenticator handles; other tokens are not its business. */
  readonly issuers: readonly string[];
  readonly keys: readonly ServiceAccountKey[];
  /** The API server's audiences: the audiences of audience-less (legacy) tokens. */
  readonly implicitAudiences: readonly string[];
  readonly validator: ClaimsValidator;
  readonly now?: () => Date;
}

function unverifiedIssuer(token: string): string | undefined {
  if (token.trimStart().startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    const iss = (payload as Obj)['iss'];
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

function audiencesOf(claims: Obj): string[] {
  const aud = claims['aud'];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** Go's %q of a string slice: ["a" "b"]. */
function quoteList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Authenticates service-account JWTs of some issuers (upstream's jwtTokenAuthenticator). */
export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  readonly #o: ServiceAccountAuthenticatorOptions;

  constructor(o: ServiceAccountAuthenticatorOptions) {
    this.#o = o;
  }

  async authenticateToken(token: string, audiences: readonly string[]): Promise<TokenResult> {
    const iss = unverifiedIssuer(token);
    if (iss === undefined || !this.#o.issuers.includes(iss)) return UNRECOGNIZED;
    let kid = '';
    try {
      const header = decodeProtectedHeader(token);
      kid = typeof header.kid === 'string' ? header.kid : '';
    } catch {
      return UNRECOGNIZED;
    }
    const keys = kid === '' ? this.#o.keys : this.#o.keys.filter((k) => k.kid === kid);
    if (keys.length === 0) return { kind: 'rejected', error: 'invalid signature, no keys found' };
    let claims: Obj | undefined;
    const errors: string[] = [];
    for (const key of keys) {
      try {
        const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
        const parsed = JSON.parse(new TextDecoder().decode(payload)) as unknown;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return UNRECOGNIZED;
        claims = parsed as Obj;
        break;
      } catch (err) {
        errors.push(err instanceof SyntaxError ? 'go-jose/go-jose: invalid payload' : 'go-jose/go-jose: error in cryptographic primitive');
      }
    }
    if (!claims) return { kind: 'rejected', error: aggregateErrors(errors) };
    if (claims['iss'] !== iss) return { kind: 'rejected', error: `token issuer ${JSON.stringify(String(claims['iss']))} is invalid` };

    let tokenAudiences = audiencesOf(claims);
    if (tokenAudiences.length === 0) tokenAudiences = [...this.#o.implicitAudiences];
    const requested = audiences.length > 0 ? audiences : this.#o.implicitAudiences;
    const auds = tokenAudiences.filter((a) => requested.includes(a));
    if (auds.length === 0 && this.#o.implicitAudiences.length > 0) {
      return { kind: 'rejected', error: `token audiences ${quoteList(tokenAudiences)} is invalid for the target audiences ${quoteList(requested)}` };
    }
    const info = await this.#o.validator(token, claims, (this.#o.now ?? (() => new Date()))());
    if ('error' in info) return { kind: 'rejected', error: info.error };
    return { kind: 'authenticated', user: serviceAccountUser(info), audiences: auds };
  }
}

function numericDate(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v * 1000 : undefined;
}

function isDeletedBefore(obj: KObject, limit: number): boolean {
  const ts = metaOf(obj)['deletionTimestamp'];
  if (typeof ts !== 'string') return false;
  const t = Date.parse(ts);
  return !Number.isNaN(t) && t < limit;
}

function claimRef(o: unknown): { name: string; uid: string } | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  return { name: str(o as Obj, 'name'), uid: str(o as Obj, 'uid') };
}

/** Validates bound tokens: time, and that the ServiceAccount and the bound object still exist unchanged. */
export function boundTokenValidator(getter: ObjectGetter): ClaimsValidator {
  return async (_token, claims, now) => {
    const t = now.getTime();
    const nbf = numericDate(claims['nbf']);
    const exp = numericDate(claims['exp']);
    if (nbf !== undefined && t + LEEWAY_MS < nbf) return { error: 'service account token is not valid yet' };
    if (exp !== undefined && t - LEEWAY_MS > exp) return { error: 'service account token has expired' };
    const k8s = claims['kubernetes.io'];
    if (typeof k8s !== 'object' || k8s === null) return { error: 'service account token claims could not be validated due to unexpected private claim' };
    const pc = k8s as Obj;
    const namespace = str(pc, 'namespace');
    const saRef = claimRef(pc['serviceaccount']) ?? { name: '', uid: '' };
    const podRef = claimRef(pc['pod']);
    const secretRef = claimRef(pc['secret']);
    const nodeRef = claimRef(pc['node']);
    const deletedBefore = t - LEEWAY_MS;
    const sa = await getter.get('serviceaccounts', namespace, saRef.name);
    if (!sa) return { error: `serviceaccounts "${saRef.name}" not found` };
    if (isDeletedBefore(sa, deletedBefore)) return { error: `service account ${namespace}/${saRef.name} has been deleted` };
    const saUID = str(metaOf(sa), 'uid');
    if (saUID !== saRef.uid) return { error: `service account UID (${saUID}) does not match claim (${saRef.uid})` };
    if (secretRef) {
      const secret = await getter.get('secrets', namespace, secretRef.name);
      if (!secret || isDeletedBefore(secret, deletedBefore)) return { error: 'service account token has been invalidated' };
      const uid = str(metaOf(secret), 'uid');
      if (uid !== secretRef.uid) return { error: `secret UID (${uid}) does not match service account secret ref claim (${secretRef.uid})` };
    }
    let podName: string | undefined, podUID: string | undefined;
    if (podRef) {
      const pod = await getter.get('pods', namespace, podRef.name);
      if (!pod || isDeletedBefore(pod, deletedBefore)) return { error: 'service account token has been invalidated' };
      const uid = str(metaOf(pod), 'uid');
      if (uid !== podRef.uid) return { error: `pod UID (${uid}) does not match service account pod ref claim (${podRef.uid})` };
      podName = podRef.name;
      podUID = podRef.uid;
    }
    let nodeName: string | undefined, nodeUID: string | undefined;
    if (nodeRef) {
      // With a pod binding the node is informational; bound to a node alone, the node must still exist.
      if (!podRef) {
        const node = await getter.get('nodes', '', nodeRef.name);
        if (!node || isDeletedBefore(node, deletedBefore)) return { error: 'service account token has been invalidated' };
        const uid = str(metaOf(node), 'uid');
        if (uid !== nodeRef.uid) return { error: `node UID (${uid}) does not match service account node ref claim (${nodeRef.uid})` };
      }
      nodeName = nodeRef.name;
      nodeUID = nodeRef.uid;
    }
    const jti = typeof claims['jti'] === 'string' ? claims['jti'] : '';
    return {
      namespace, name: saRef.name, uid: saRef.uid, podName, podUID, nodeName, nodeUID,
      credentialID: jti ? `JTI=${jti}` : undefined,
    };
  };
}

/** Validates legacy tokens: the Secret holding them and the ServiceAccount must still exist, unchanged. */
export function legacyTokenValidator(getter: ObjectGetter): ClaimsValidator {
  return async (token, claims) => {
    const namespace = str(claims, 'kubernetes.io/serviceaccount/namespace');
    const secretName = str(claims, 'kubernetes.io/serviceaccount/secret.name');
    const saName = str(claims, 'kubernetes.io/serviceaccount/service-account.name');
    const saUID = str(claims, 'kubernetes.io/serviceaccount/service-account.uid');
    if (namespace === '') return { error: 'namespace claim is missing' };
    if (secretName === '') return { error: 'secretName claim is missing' };
    if (saName === '') return { error: 'serviceAccountName claim is missing' };
    if (saUID === '') return { error: 'serviceAccountUID claim is missing' };
    const secret = await getter.get('secrets', namespace, secretName);
    if (!secret || metaOf(secret)['deletionTimestamp']) return { error: 'token has been invalidated' };
    if (secretData(secret, 'token') !== token) return { error: 'token does not match secret' };
    const sa = await getter.get('serviceaccounts', namespace, saName);
    if (!sa) return { error: `serviceaccounts "${saName}" not found` };
    if (metaOf(sa)['deletionTimestamp']) return { error: `service account ${namespace}/${saName} has been deleted` };
    const uid = str(metaOf(sa), 'uid');
    if (uid !== saUID) return { error: `service account UID (${uid}) does not match claim (${saUID})` };
    const labels = metaOf(secret)['labels'];
    if (typeof labels === 'object' && labels !== null && str(labels as Obj, LEGACY_TOKEN_INVALID_SINCE_LABEL) !== '') {
      return {
        error: `the token in secret ${namespace}/${secretName} for service account ${namespace}/${saName} has been marked invalid. `
          + `Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '${LEGACY_TOKEN_INVALID_SINCE_LABEL}' label from the secret to temporarily allow use of this token`,
      };
    }
    return { namespace, name: saName, uid: saUID };
  };
}
