// The token authentication contract (upstream's authenticator.Token): each authenticator either
// recognizes a bearer token and returns the user, rejects it with a reason, or does not know it.
// A union tries them in order, as upstream's union authenticator does.
import type { UserInfo } from '../handlers/context.ts';

/** The outcome of authenticating one token. */
export type TokenResult =
  | { readonly kind: 'authenticated'; readonly user: UserInfo; readonly audiences: readonly string[] }
  | { readonly kind: 'rejected'; readonly error: string }
  | { readonly kind: 'unrecognized' };

/** A bearer-token authenticator. `audiences` are the audiences the caller accepts (the API audiences, or a TokenReview's). */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenResult> | TokenResult;
}

/** The user of anonymous requests. */
export const ANONYMOUS_USER = 'system:anonymous';
/** The group of anonymous requests. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
/** The group every authenticated user is in. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

export const UNRECOGNIZED: TokenResult = { kind: 'unrecognized' };

/** Go's utilerrors.NewAggregate(...).Error(): one message as is, several as "[a, b]". */
export function aggregateErrors(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** Tries each authenticator in order; the first success wins, otherwise the errors are aggregated. */
export class UnionTokenAuthenticator implements TokenAuthenticator {
  readonly #members: readonly TokenAuthenticator[];

  constructor(members: readonly TokenAuthenticator[]) {
    this.#members = members;
  }

  async authenticateToken(token: string, audiences: readonly string[]): Promise<TokenResult> {
    const errors: string[] = [];
    for (const m of this.#members) {
      const r = await m.authenticateToken(token, audiences);
      if (r.kind === 'authenticated') return r;
      if (r.kind === 'rejected') errors.push(r.error);
    }
    return errors.length > 0 ? { kind: 'rejected', error: aggregateErrors(errors) } : UNRECOGNIZED;
  }
}

/** Adds system:authenticated to an authenticated user (upstream's AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.groups.includes(UNAUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/**
 * Wraps an authenticator whose tokens carry no audience (token file, bootstrap tokens): it answers
 * only when the requested audiences include one of the API server's, and reports those (upstream's
 * WrapAudienceAgnosticToken).
 */
export function audienceAgnostic(apiAudiences: readonly string[], inner: TokenAuthenticator): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      if (audiences.length === 0) return inner.authenticateToken(token, audiences);
      const auds = apiAudiences.filter((a) => audiences.includes(a));
      if (auds.length === 0) return UNRECOGNIZED;
      const r = await inner.authenticateToken(token, audiences);
      if (r.kind !== 'authenticated' || r.audiences.length > 0) return r;
      return { ...r, audiences: auds };
    },
  };
}
