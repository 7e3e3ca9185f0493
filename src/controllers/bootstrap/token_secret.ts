// Bootstrap token Secrets as data (upstream's k8s.io/cluster-bootstrap token/api and util): the
// Secret layout `tkube token` writes and the token cleaner and bootstrap signer read, and the
// detached JWS that signs the cluster-info ConfigMap for joining nodes.
import { createHmac, randomInt } from 'node:crypto';
import type { Secret } from '../../api/types/core_v1.ts';

/** The Secret type of bootstrap tokens. */
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** Bootstrap token Secrets live in kube-system, named this plus the token id. */
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
/** The group every bootstrap token user is in; extra groups must start with it plus ':'. */
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';
/** The ConfigMap joining nodes discover the cluster from, and its key and signature keys. */
export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const CLUSTER_INFO_KUBECONFIG_KEY = 'kubeconfig';
export const JWS_SIGNATURE_PREFIX = 'jws-kubeconfig-';

/** The Secret's data keys. */
export const TokenKeys = {
  id: 'token-id',
  secret: 'token-secret',
  expiration: 'expiration',
  description: 'description',
  extraGroups: 'auth-extra-groups',
  usagePrefix: 'usage-bootstrap-',
} as const;

/** The usages a token may carry (`usage-bootstrap-<usage>: "true"`). */
export const KNOWN_USAGES = ['authentication', 'signing'] as const;

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ID_RE = /^[a-z0-9]{6}$/;
const GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Splits `<id>.<secret>`, or undefined when the text is not a bootstrap token. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Whether a token id is well formed. */
export function isValidTokenId(id: string): boolean {
  return ID_RE.test(id);
}

/** Why an extra group is refused (upstream's ValidateBootstrapGroupName), or undefined. */
export function validateGroup(group: string): string | undefined {
  return GROUP_RE.test(group) ? undefined : `bootstrap group ${JSON.stringify(group)} is invalid (must match ${GROUP_RE.source})`;
}

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh random token `<6>.<16>` from [a-z0-9]. */
export function generateToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

/** A decoded data value of a Secret (`data` is base64; `stringData` counts for objects not yet stored). */
export function secretValue(secret: Secret, key: string): string {
  const s = secret.stringData?.[key];
  if (typeof s === 'string') return s;
  const v = secret.data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

/** Milliseconds until the token expires (negative: expired), undefined when it never does; NaN for an unparsable expiration. */
export function msUntilExpiry(secret: Secret, nowMs: number): number | undefined {
  const exp = secretValue(secret, TokenKeys.expiration);
  if (exp === '') return undefined;
  const t = /^\d{4}-\d{2}-\d{2}T/.test(exp) ? Date.parse(exp) : NaN;
  return Number.isNaN(t) ? NaN : t - nowMs;
}

/** Whether the token has expired; an unparsable expiration counts as expired, as upstream. */
export function isExpired(secret: Secret, nowMs: number): boolean {
  const ms = msUntilExpiry(secret, nowMs);
  return ms !== undefined && !(ms > 0);
}

/** The id and secret of a well-formed bootstrap token Secret, or undefined. */
export function tokenOf(secret: Secret): { id: string; secret: string } | undefined {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  const id = secretValue(secret, TokenKeys.id);
  const sec = secretValue(secret, TokenKeys.secret);
  if (secret.metadata?.name !== BOOTSTRAP_TOKEN_SECRET_PREFIX + id) return undefined;
  return parseToken(`${id}.${sec}`);
}

/** Options of tokenSecret. */
export interface TokenSecretOptions {
  /** Lifetime in ms; 0 or undefined: never expires. */
  readonly ttlMs?: number;
  readonly description?: string;
  /** Usages (default authentication and signing, as kubeadm). */
  readonly usages?: readonly string[];
  /** Extra groups, each system:bootstrappers:<...>. */
  readonly groups?: readonly string[];
  readonly nowMs?: number;
}

/** The Secret for a token, with the fields kubeadm writes. Throws on a bad token, usage or group. */
export function tokenSecret(token: string, o: TokenSecretOptions = {}): Secret {
  const parsed = parseToken(token);
  if (!parsed) throw new Error(`token ${JSON.stringify(token)} does not match the format [a-z0-9]{6}.[a-z0-9]{16}`);
  const data: Record<string, string> = { [TokenKeys.id]: parsed.id, [TokenKeys.secret]: parsed.secret };
  if (o.description) data[TokenKeys.description] = o.description;
  if (o.ttlMs !== undefined && o.ttlMs > 0) {
    data[TokenKeys.expiration] = new Date((o.nowMs ?? Date.now()) + o.ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  for (const u of o.usages ?? KNOWN_USAGES) {
    if (!(KNOWN_USAGES as readonly string[]).includes(u)) throw new Error(`invalid bootstrap token usage ${JSON.stringify(u)}; valid usages: ${KNOWN_USAGES.join(',')}`);
    data[TokenKeys.usagePrefix + u] = 'true';
  }
  if (o.groups && o.groups.length > 0) {
    for (const g of o.groups) {
      const why = validateGroup(g);
      if (why) throw new Error(why);
    }
    data[TokenKeys.extraGroups] = [...new Set(o.groups)].join(',');
  }
  return {
    apiVersion: 'v1', kind: 'Secret', type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    metadata: { name: BOOTSTRAP_TOKEN_SECRET_PREFIX + parsed.id, namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/**
 * The detached JWS (RFC 7515 appendix F) of `content` with the token: HS256 keyed by the token
 * secret zero-padded to 32 bytes, header {"alg":"HS256","kid":<id>}, serialized `header..signature`.
 */
export function detachedSignature(content: string, tokenId: string, tokenSecret: string): string {
  const raw = Buffer.from(tokenSecret, 'utf8');
  const key = raw.length < 32 ? Buffer.concat([raw, Buffer.alloc(32 - raw.length)]) : raw;
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const sig = createHmac('sha256', key).update(`${header}.${b64url(content)}`).digest();
  return `${header}..${b64url(sig)}`;
}
