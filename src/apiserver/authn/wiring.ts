// Puts authentication into the running server: the request authenticator (client certificate, then
// bearer token: static token file, bootstrap tokens, service-account JWTs; anonymous last when
// enabled), TokenReview over the same tokens, the signing key for TokenRequest and OIDC discovery,
// and the filler of Secret-based tokens.
import type { Disposable } from '../../base/disposable.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { newInternal, newUnauthorized } from '../errors.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { Req } from '../http_util.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import {
  ANONYMOUS_USER, UNAUTHENTICATED_GROUP, UnionTokenAuthenticator, audienceAgnostic, withAuthenticatedGroup,
  type TokenAuthenticator, type TokenResult,
} from './authenticator.ts';
import { BootstrapTokenAuthenticator } from './bootstrap_token.ts';
import { LegacyTokenController } from './legacy_token_controller.ts';
import { storeObjectGetter, type ObjectGetter } from './object_getter.ts';
import {
  DEFAULT_ISSUER, LEGACY_ISSUER, ServiceAccountTokenAuthenticator, TokenSigner, boundTokenValidator, legacyTokenValidator,
} from './service_account.ts';
import { ensureServiceAccountKeyFile, generateServiceAccountKeyPem, loadServiceAccountKey, type ServiceAccountKey } from './service_account_key.ts';
import { StaticTokenAuthenticator } from './token_file.ts';

/** Authentication options of the API server. */
export interface AuthenticationOptions {
  /** `--token-auth-file`: CSV of static bearer tokens. */
  readonly tokenAuthFile?: string;
  /** PEM private key signing service-account tokens; generated (ECDSA P-256) when the file is missing. Without it, a key lives in memory only. */
  readonly serviceAccountKeyFile?: string;
  /** `--service-account-issuer` (default https://kubernetes.default.svc.cluster.local); also the API audience. */
  readonly issuer?: string;
  /** `--anonymous-auth`: requests without credentials run as system:anonymous and RBAC decides (default false: 401). */
  readonly anonymousAuth?: boolean;
  /** The cluster CA (PEM), put into Secret-based tokens as ca.crt. */
  readonly caPem: string;
}

/** TokenReview's status. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user: Record<string, unknown>;
  audiences?: string[];
  error?: string;
}

/** The parsed `Authorization: Bearer` token, or undefined (no header, other scheme, empty token). */
export function bearerToken(req: Req): string | undefined {
  const raw = req.headers['authorization'];
  const header = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!header) return undefined;
  const parts = header.split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return undefined;
  return parts[1] === '' ? undefined : parts[1];
}

/** The server's authentication. */
export class AuthenticationWiring implements Disposable {
  readonly issuer: string;
  /** The API server's audiences (the issuer, as upstream defaults --api-audiences). */
  readonly apiAudiences: readonly string[];
  readonly anonymousAuth: boolean;
  #opts: AuthenticationOptions;
  #key: ServiceAccountKey | undefined;
  #signer: TokenSigner | undefined;
  #tokens: TokenAuthenticator = new UnionTokenAuthenticator([]);
  #getter: ObjectGetter | undefined;
  #legacy: LegacyTokenController | undefined;

  constructor(opts: AuthenticationOptions) {
    const issuer = opts.issuer ?? DEFAULT_ISSUER;
    if (typeof issuer !== 'string' || issuer === '' || issuer.includes(':') && !/^https:\/\/[^/]/.test(issuer)) {
      throw new Error(`issuer must be a non-empty string, and an https:// URL when it contains a colon; got ${JSON.stringify(issuer)}`);
    }
    this.#opts = opts;
    this.issuer = issuer;
    this.apiAudiences = [issuer];
    this.anonymousAuth = opts.anonymousAuth ?? false;
  }

  /** Loads the token file and the signing key, and starts filling token Secrets. */
  async start(storeFor: (info: ResourceInfo) => GenericStore): Promise<void> {
    const pem = this.#opts.serviceAccountKeyFile !== undefined
      ? await ensureServiceAccountKeyFile(this.#opts.serviceAccountKeyFile)
      : generateServiceAccountKeyPem();
    this.#key = await loadServiceAccountKey(pem);
    this.#signer = new TokenSigner(this.#key);
    const getter = storeObjectGetter(storeFor);
    this.#getter = getter;
    const members: TokenAuthenticator[] = [];
    if (this.#opts.tokenAuthFile !== undefined) {
      members.push(audienceAgnostic(this.apiAudiences, await StaticTokenAuthenticator.fromFile(this.#opts.tokenAuthFile)));
    }
    members.push(new ServiceAccountTokenAuthenticator({
      issuers: [LEGACY_ISSUER], keys: [this.#key], implicitAudiences: this.apiAudiences, validator: legacyTokenValidator(getter),
    }));
    members.push(new ServiceAccountTokenAuthenticator({
      issuers: [this.issuer], keys: [this.#key], implicitAudiences: this.apiAudiences, validator: boundTokenValidator(getter),
    }));
    members.push(audienceAgnostic(this.apiAudiences, new BootstrapTokenAuthenticator(getter)));
    this.#tokens = new UnionTokenAuthenticator(members);
    const secrets = storeFor(resourceFor('', 'v1', 'secrets')!);
    await secrets.cache.start();
    this.#legacy = new LegacyTokenController({ secrets, getter, signer: this.#signer, caPem: this.#opts.caPem });
    this.#legacy.start();
  }

  /** The signing key (after start). */
  get key(): ServiceAccountKey {
    if (!this.#key) throw new Error('authentication not started');
    return this.#key;
  }

  /** Signs service-account tokens (after start). */
  get signer(): TokenSigner {
    if (!this.#signer) throw new Error('authentication not started');
    return this.#signer;
  }

  /** Reads the objects tokens refer to (after start). */
  get getter(): ObjectGetter {
    if (!this.#getter) throw new Error('authentication not started');
    return this.#getter;
  }

  /** Resolves when Secret-based tokens queued so far are filled (tests). */
  whenTokensFilled(): Promise<void> {
    return this.#legacy?.whenIdle() ?? Promise.resolve();
  }

  /** Authenticates a bearer token for the API server's own audiences (or the given ones). */
  authenticateToken(token: string, audiences: readonly string[] = this.apiAudiences): Promise<TokenResult> {
    return Promise.resolve(this.#tokens.authenticateToken(token, audiences));
  }

  /**
   * The user of a request: the client certificate's when there is one, else the bearer token's
   * (401 when it is not valid), else system:anonymous when enabled; undefined means 401. A
   * certificate from another CA is a failed credential, never a reason to fall back to anonymous.
   */
  async authenticateRequest(req: Req, certUser: UserInfo | undefined, certRejected = false): Promise<UserInfo | undefined> {
    if (certUser) return certUser;
    const token = bearerToken(req);
    if (token !== undefined) {
      const r = await this.authenticateToken(token);
      if (r.kind !== 'authenticated') throw newUnauthorized();
      return withAuthenticatedGroup(r.user);
    }
    if (certRejected) throw newUnauthorized();
    if (this.anonymousAuth) return { name: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
    return undefined;
  }

  /** TokenReview: the token checked against `audiences` (default the API audiences), as upstream's REST handler. */
  async reviewToken(token: string, audiences: readonly string[]): Promise<TokenReviewStatus> {
    const auds = audiences.length > 0 ? audiences : this.apiAudiences;
    const r = await this.authenticateToken(token, auds);
    if (r.kind === 'rejected') return { user: {}, error: r.error };
    if (r.kind === 'unrecognized') return { user: {} };
    // The authenticators check audiences themselves; a mismatch here is a bug, reported as upstream does.
    if (!r.audiences.some((a) => auds.includes(a))) throw newInternal(new Error('error validating audiences'));
    const u = withAuthenticatedGroup(r.user);
    const user: Record<string, unknown> = { username: u.name };
    if (u.uid) user['uid'] = u.uid;
    user['groups'] = [...u.groups];
    if (u.extra) user['extra'] = u.extra;
    return { authenticated: true, user, audiences: [...r.audiences] };
  }

  dispose(): void {
    this.#legacy?.dispose();
  }
}
