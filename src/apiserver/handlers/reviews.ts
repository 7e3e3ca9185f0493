// The review APIs clients ask questions with: SelfSubjectReview (`kubectl auth whoami`),
// SelfSubjectAccessReview / SubjectAccessReview / LocalSubjectAccessReview (`kubectl auth can-i`),
// SelfSubjectRulesReview (`can-i --list`). Nothing is stored; the answer is the request plus status.
import { newBadRequest } from '../errors.ts';
import { readBody, writeJSON } from '../http_util.ts';
import type { Attributes, Authorizer } from '../authz/authorizer.ts';
import type { HandlerContext, UserInfo } from './context.ts';

const REVIEWS = new Set(['authentication.k8s.io/selfsubjectreviews', 'authentication.k8s.io/tokenreviews',
  'authorization.k8s.io/selfsubjectaccessreviews', 'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews', 'authorization.k8s.io/selfsubjectrulesreviews']);

/** Checks bearer tokens for TokenReview (the server's authenticator). */
export interface TokenReviewer {
  reviewToken(token: string, audiences: readonly string[]): Promise<object>;
}

/** Whether a resource is one of the review APIs. */
export function isReview(group: string, resource: string): boolean {
  return REVIEWS.has(`${group}/${resource}`);
}

function userInfoOf(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name };
  if (u.uid) out['uid'] = u.uid;
  out['groups'] = [...u.groups];
  if (u.extra) out['extra'] = u.extra;
  return out;
}

/** POST of a review. */
export async function handleReview(ctx: HandlerContext, authorizer: Authorizer, tokens?: TokenReviewer): Promise<void> {
  const body = await readBody(ctx.req);
  const review = ctx.services.decodeBody(ctx.req, body, ctx.info);
  review['apiVersion'] = `${ctx.info.group}/${ctx.info.version}`;
  review['kind'] = ctx.info.kind;
  const spec = (review['spec'] ?? {}) as Record<string, unknown>;
  const meta = (review['metadata'] ?? {}) as Record<string, unknown>;
  review['metadata'] = { ...meta, creationTimestamp: null };
  switch (ctx.info.resource) {
    case 'selfsubjectreviews':
      review['status'] = { userInfo: userInfoOf(ctx.user) };
      break;
    case 'tokenreviews': {
      const token = typeof spec['token'] === 'string' ? spec['token'] : '';
      if (token === '') throw newBadRequest('token must be provided');
      const audiences = Array.isArray(spec['audiences']) ? (spec['audiences'] as unknown[]).filter((a): a is string => typeof a === 'string') : [];
      review['status'] = tokens ? await tokens.reviewToken(token, audiences) : { user: {} };
      break;
    }
    case 'selfsubjectrulesreviews': {
      const ns = typeof spec['namespace'] === 'string' ? spec['namespace'] : '';
      const rules = await authorizer.rulesFor(ctx.user, ns);
      const status: Record<string, unknown> = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
      const evaluationError = (rules as { evaluationError?: string }).evaluationError;
      if (evaluationError) status['evaluationError'] = evaluationError;
      review['status'] = status;
      break;
    }
    default: {
      let user = ctx.user;
      if (ctx.info.resource !== 'selfsubjectaccessreviews') {
        if (typeof spec['user'] !== 'string' && !Array.isArray(spec['groups'])) throw newBadRequest('spec.user or spec.groups: at least one of user or group must be specified');
        user = { name: String(spec['user'] ?? ''), groups: (spec['groups'] as string[] | undefined) ?? [], uid: typeof spec['uid'] === 'string' ? spec['uid'] : undefined };
      }
      const ra = spec['resourceAttributes'] as Record<string, string> | undefined;
      const nra = spec['nonResourceAttributes'] as Record<string, string> | undefined;
      if (!ra && !nra) throw newBadRequest('spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
      const namespace = ctx.info.resource === 'localsubjectaccessreviews' ? ctx.ri.namespace : (ra?.['namespace'] ?? '');
      const attrs: Attributes = ra
        ? { user, verb: ra['verb'] ?? '', isResourceRequest: true, namespace, apiGroup: ra['group'] ?? '', apiVersion: ra['version'] ?? '', resource: ra['resource'] ?? '', subresource: ra['subresource'] ?? '', name: ra['name'] ?? '', path: '' }
        : { user, verb: nra!['verb'] ?? '', isResourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: nra!['path'] ?? '' };
      const d = await authorizer.authorize(attrs);
      const status: Record<string, unknown> = { allowed: d.decision === 'allow' };
      if (d.decision === 'deny') status['denied'] = true;
      if (d.reason) status['reason'] = d.reason;
      review['status'] = status;
    }
  }
  writeJSON(ctx.res, 201, review);
}
