// Bootstrap tokens (upstream's bootstrap token authenticator): `<id>.<secret>` bearer tokens backed
// by `bootstrap-token-<id>` Secrets in kube-system, used by joining nodes. A token that does not
// match its Secret is simply not recognized, so nothing is revealed about which part was wrong.
import { timingSafeEqual } from 'node:crypto';
import { logger } from '../../base/log.ts';
import type { KObject } from '../registry/strategy.ts';
import { UNRECOGNIZED, type TokenAuthenticator, type TokenResult } from './authenticator.ts';
import type { ObjectGetter } from './object_getter.ts';

const log = logger('authn');

/** The Secret type of bootstrap tokens. */
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** Bootstrap token Secrets are named this plus the token id. */
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** The group every bootstrap token user is in. */
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';
/** User names of bootstrap tokens are this plus the token id. */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';

const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/** Splits a bootstrap token into id and secret, or undefined when it is not one. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** A data value of a Secret (base64 in `data`), or ''. */
export function secretData(secret: KObject, key: string): string {
  const data = secret['data'];
  if (typeof data !== 'object' || data === null) return '';
  const v = (data as Record<string, unknown>)[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

/** Whether the Secret's `expiration` has passed; an unparsable one counts as expired. */
export function bootstrapTokenExpired(secret: KObject, now: Date): boolean {
  const exp = secretData(secret, 'expiration');
  if (exp === '') return false;
  const t = Date.parse(exp);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(exp)) {
    log.warn(`bootstrap token ${secretName(secret)} has an unparsable expiration ${JSON.stringify(exp)}; treating it as expired`);
    return true;
  }
  return now.getTime() > t;
}

/** The token's groups: system:bootstrappers plus `auth-extra-groups`, sorted; an error for a bad extra group. */
export function bootstrapTokenGroups(secret: KObject): string[] | { error: string } {
  const groups = new Set([BOOTSTRAP_DEFAULT_GROUP]);
  const extra = secretData(secret, 'auth-extra-groups');
  if (extra !== '') {
    for (const raw of extra.split(',')) {
      const g = raw.trim();
      if (!GROUP_PATTERN.test(g)) return { error: `bootstrap group ${JSON.stringify(g)} is invalid (must match ${GROUP_PATTERN.source})` };
      groups.add(g);
    }
  }
  return [...groups].sort();
}

function secretName(secret: KObject): string {
  const m = (secret['metadata'] ?? {}) as Record<string, unknown>;
  return `${String(m['namespace'] ?? '')}/${String(m['name'] ?? '')}`;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Authenticates bootstrap tokens against their Secrets. */
export class BootstrapTokenAuthenticator implements TokenAuthenticator {
  readonly #getter: ObjectGetter;
  readonly #now: () => Date;

  constructor(getter: ObjectGetter, now: () => Date = () => new Date()) {
    this.#getter = getter;
    this.#now = now;
  }

  async authenticateToken(token: string): Promise<TokenResult> {
    const parsed = parseBootstrapToken(token);
    if (!parsed) return UNRECOGNIZED;
    const secret = await this.#getter.get('secrets', 'kube-system', BOOTSTRAP_TOKEN_SECRET_PREFIX + parsed.id);
    if (!secret) return UNRECOGNIZED;
    const deny = (why: string): TokenResult => {
      log.debug(`bootstrap token secret ${secretName(secret)} ${why}`);
      return UNRECOGNIZED;
    };
    if (((secret['metadata'] ?? {}) as Record<string, unknown>)['deletionTimestamp']) return deny('is deleted and awaiting removal');
    if (secret['type'] !== BOOTSTRAP_TOKEN_SECRET_TYPE || typeof secret['data'] !== 'object' || secret['data'] === null) {
      return deny(`has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}`);
    }
    if (!sameString(secretData(secret, 'token-secret'), parsed.secret)) return deny('has invalid value for key token-secret');
    if (secretData(secret, 'token-id') !== parsed.id) return deny('has invalid value for key token-id');
    if (bootstrapTokenExpired(secret, this.#now())) return deny('has expired');
    if (secretData(secret, 'usage-bootstrap-authentication') !== 'true') return deny('not marked usage-bootstrap-authentication=true');
    const groups = bootstrapTokenGroups(secret);
    if (!Array.isArray(groups)) return deny(`has invalid value for key auth-extra-groups: ${groups.error}`);
    return { kind: 'authenticated', user: { name: BOOTSTRAP_USER_PREFIX + parsed.id, groups }, audiences: [] };
  }
}
