// Service-account tokens for projected volumes (upstream's token manager): one TokenRequest per
// (account, audiences, expiry, pod), cached and reissued once 80% of its life has passed or it is a
// day old, so a pod's token file is renewed well before the token expires.
import type { Clock } from '../../client/clock.ts';
import type { IssuedToken, TokenIssuer, TokenIssuerCache, TokenRequestSpec } from './types.ts';

/** Tokens older than this are reissued whatever their expiry (maxTTL). */
const MAX_TTL_MS = 24 * 60 * 60 * 1000;

interface Entry {
  readonly token: IssuedToken;
  readonly issuedAt: number;
}

function keyOf(s: TokenRequestSpec): string {
  return JSON.stringify([s.namespace, s.serviceAccount, [...s.audiences].sort(), s.expirationSeconds, s.podName, s.podUID]);
}

/** Caches tokens and decides when they need reissuing. */
export class TokenManager implements TokenIssuerCache {
  readonly #issue: TokenIssuer;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Entry>();

  constructor(issue: TokenIssuer, clock: Clock) {
    this.#issue = issue;
    this.#clock = clock;
  }

  /** Whether a cached token should be replaced now. */
  requiresRefresh(e: Entry): boolean {
    const now = this.#clock.now();
    if (now >= e.issuedAt + MAX_TTL_MS) return true;
    const life = e.token.expiresAt - e.issuedAt;
    return now >= e.issuedAt + life * 0.8;
  }

  async get(spec: TokenRequestSpec): Promise<string> {
    const key = keyOf(spec);
    const cached = this.#cache.get(key);
    if (cached && !this.requiresRefresh(cached)) return cached.token.token;
    const issuedAt = this.#clock.now();
    try {
      const token = await this.#issue(spec);
      this.#cache.set(key, { token, issuedAt });
      return token.token;
    } catch (err) {
      // a still valid token beats none while the API server is unreachable
      if (cached && cached.token.expiresAt > this.#clock.now()) return cached.token.token;
      throw err;
    }
  }

  /** Forgets the tokens bound to a pod (on its removal). */
  deletePodTokens(podUID: string): void {
    for (const k of [...this.#cache.keys()]) {
      if ((JSON.parse(k) as unknown[])[5] === podUID) this.#cache.delete(k);
    }
  }
}
