// The Kubernetes CEL authz library: `authorizer.group('apps').resource('deployments')
// .namespace('ns').check('get').allowed()`, path checks and `authorizer.requestResource`.
// Pure: the actual decision comes from a callback the API server supplies per request.
import type { Environment } from '@marcbachmann/cel-js';

/** What one check asks (authorizer.Attributes without the user, which the callback knows). */
export interface AuthzCheck {
  readonly verb: string;
  /** Set for non-resource checks. */
  readonly path?: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** Set when checking as a service account (authorizer.serviceAccount). */
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
}

/** The answer of a check. */
export interface AuthzAnswer {
  readonly decision: 'allow' | 'deny' | 'noopinion';
  readonly reason: string;
  readonly error?: string;
}

/** The callback answering checks for the requesting user. */
export type AuthzCallback = (check: AuthzCheck) => AuthzAnswer | Promise<AuthzAnswer>;

const T = {
  authorizer: 'kubernetes.authorization.Authorizer',
  path: 'kubernetes.authorization.PathCheck',
  group: 'kubernetes.authorization.GroupCheck',
  resource: 'kubernetes.authorization.ResourceCheck',
  decision: 'kubernetes.authorization.Decision',
} as const;

/** The CEL type name of the `authorizer` variable. */
export const AUTHORIZER_TYPE = T.authorizer;

/** A decision (kubernetes.authorization.Decision). */
export class CelDecision {
  readonly answer: AuthzAnswer;
  constructor(answer: AuthzAnswer) {
    this.answer = answer;
  }
}

/** A resource check being built (kubernetes.authorization.ResourceCheck). */
export class CelResourceCheck {
  readonly cb: AuthzCallback;
  readonly attrs: Omit<AuthzCheck, 'verb'>;
  constructor(cb: AuthzCallback, attrs: Omit<AuthzCheck, 'verb'>) {
    this.cb = cb;
    this.attrs = attrs;
  }
  with(change: Partial<Omit<AuthzCheck, 'verb'>>): CelResourceCheck {
    return new CelResourceCheck(this.cb, { ...this.attrs, ...change });
  }
}

/** A group check (kubernetes.authorization.GroupCheck). */
export class CelGroupCheck {
  readonly cb: AuthzCallback;
  readonly group: string;
  readonly serviceAccount: AuthzCheck['serviceAccount'];
  constructor(cb: AuthzCallback, group: string, serviceAccount: AuthzCheck['serviceAccount']) {
    this.cb = cb;
    this.group = group;
    this.serviceAccount = serviceAccount;
  }
}

/** A path check (kubernetes.authorization.PathCheck). */
export class CelPathCheck {
  readonly cb: AuthzCallback;
  readonly path: string;
  readonly serviceAccount: AuthzCheck['serviceAccount'];
  constructor(cb: AuthzCallback, path: string, serviceAccount: AuthzCheck['serviceAccount']) {
    this.cb = cb;
    this.path = path;
    this.serviceAccount = serviceAccount;
  }
}

/** The `authorizer` variable (kubernetes.authorization.Authorizer). */
export class CelAuthorizer {
  readonly cb: AuthzCallback;
  readonly serviceAccount: AuthzCheck['serviceAccount'];
  /** `authorizer.requestResource`: a check on the resource of the request being admitted. */
  readonly requestResource: CelResourceCheck | undefined;
  constructor(cb: AuthzCallback, opts: { serviceAccount?: AuthzCheck['serviceAccount']; requestResource?: Omit<AuthzCheck, 'verb' | 'serviceAccount'> } = {}) {
    this.cb = cb;
    this.serviceAccount = opts.serviceAccount;
    this.requestResource = opts.requestResource ? new CelResourceCheck(cb, opts.requestResource) : undefined;
  }
}

async function decide(cb: AuthzCallback, check: AuthzCheck): Promise<CelDecision> {
  try {
    return new CelDecision(await cb(check));
  } catch (e) {
    return new CelDecision({ decision: 'noopinion', reason: '', error: e instanceof Error ? e.message : String(e) });
  }
}

/** Registers the authz types and functions on `env`. */
export function registerAuthorizerLibrary(env: Environment): Environment {
  return env
    .registerType(T.authorizer, CelAuthorizer)
    .registerType(T.path, CelPathCheck)
    .registerType(T.group, CelGroupCheck)
    .registerType(T.resource, CelResourceCheck)
    .registerType(T.decision, CelDecision)
    .registerFunction(`${T.authorizer}.path(string): ${T.path}`, (a: CelAuthorizer, p: string) => new CelPathCheck(a.cb, p, a.serviceAccount))
    .registerFunction(`${T.authorizer}.group(string): ${T.group}`, (a: CelAuthorizer, g: string) => new CelGroupCheck(a.cb, g, a.serviceAccount))
    .registerFunction(`${T.authorizer}.serviceAccount(string, string): ${T.authorizer}`,
      (a: CelAuthorizer, namespace: string, name: string) => new CelAuthorizer(a.cb, { serviceAccount: { namespace, name } }))
    .registerFunction(`${T.group}.resource(string): ${T.resource}`, (g: CelGroupCheck, r: string) => new CelResourceCheck(g.cb, {
      group: g.group, resource: r, subresource: '', namespace: '', name: '', serviceAccount: g.serviceAccount,
    }))
    .registerFunction(`${T.resource}.subresource(string): ${T.resource}`, (r: CelResourceCheck, s: string) => r.with({ subresource: s }))
    .registerFunction(`${T.resource}.namespace(string): ${T.resource}`, (r: CelResourceCheck, s: string) => r.with({ namespace: s }))
    .registerFunction(`${T.resource}.name(string): ${T.resource}`, (r: CelResourceCheck, s: string) => r.with({ name: s }))
    .registerFunction(`${T.resource}.check(string): ${T.decision}`, (r: CelResourceCheck, verb: string) => decide(r.cb, { ...r.attrs, verb }))
    .registerFunction(`${T.path}.check(string): ${T.decision}`, (p: CelPathCheck, verb: string) => decide(p.cb, {
      verb, path: p.path, group: '', resource: '', subresource: '', namespace: '', name: '', serviceAccount: p.serviceAccount,
    }))
    .registerFunction(`${T.decision}.allowed(): bool`, (d: CelDecision) => d.answer.decision === 'allow')
    .registerFunction(`${T.decision}.reason(): string`, (d: CelDecision) => d.answer.reason)
    .registerFunction(`${T.decision}.errored(): bool`, (d: CelDecision) => d.answer.error !== undefined)
    .registerFunction(`${T.decision}.error(): string`, (d: CelDecision) => d.answer.error ?? '');
}
