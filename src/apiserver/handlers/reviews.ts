// The review APIs clients ask questions with: SelfSubjectReview (`kubectl auth whoami`),
// SelfSubjectAccessReview / SubjectAccessReview / LocalSubjectAccessReview (`kubectl auth can-i`),
// SelfSubjectRulesReview (`can-i --list`). Nothing is stored; the answer is the request plus status.
import { goValue, invalid, newPath, type ErrorList } from '../../api/field_errors.ts';
import { goQuote } from '../../api/go_strings.ts';
import { newBadRequest, newInvalid } from '../errors.ts';
import { readBody, writeJSON } from '../http_util.ts';
import type { Attributes, Authorizer } from '../authz/authorizer.ts';
import { buildEvaluationError, reviewSelectors, validateSelectorAttributes } from '../authz/selectors.ts';
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
    default:
      review['status'] = await accessReviewStatus(ctx, authorizer, spec);
  }
  writeJSON(ctx.res, 201, review);
}

type Obj = Record<string, unknown>;

function objectOf(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function text(o: Obj, key: string): string {
  return typeof o[key] === 'string' ? (o[key] as string) : '';
}

/** Go's %#v of the internal NonResourceAttributes, as field.Invalid prints a struct. */
function nonResourceValue(nra: Obj): ReturnType<typeof goValue> {
  return goValue(`authorization.NonResourceAttributes{Path:${goQuote(text(nra, 'path'))}, Verb:${goQuote(text(nra, 'verb'))}}`);
}

/** Upstream's validation of the three access review kinds (pkg/apis/authorization/validation). */
function validateAccessReview(resource: string, spec: Obj, requestNamespace: string): ErrorList {
  const errs: ErrorList = [];
  const specPath = newPath('spec');
  const ra = objectOf(spec['resourceAttributes']);
  const nra = objectOf(spec['nonResourceAttributes']);
  if (ra && nra) errs.push(invalid(specPath.child('nonResourceAttributes'), nonResourceValue(nra), 'cannot be specified in combination with resourceAttributes'));
  if (!ra && !nra) errs.push(invalid(specPath.child('resourceAttributes'), 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (resource !== 'selfsubjectaccessreviews') {
    const groups = Array.isArray(spec['groups']) ? spec['groups'] : [];
    if (text(spec, 'user') === '' && groups.length === 0) errs.push(invalid(specPath.child('user'), text(spec, 'user'), 'at least one of user or group must be specified'));
  }
  if (ra) errs.push(...validateSelectorAttributes(ra, newPath('spec.resourceAttributes')));
  if (resource === 'localsubjectaccessreviews') {
    if (ra && text(ra, 'namespace') !== requestNamespace) errs.push(invalid(newPath('spec.resourceAttributes.namespace'), text(ra, 'namespace'), 'must match metadata.namespace'));
    if (nra) errs.push(invalid(newPath('spec.nonResourceAttributes'), nonResourceValue(nra), 'disallowed on this kind of request'));
  }
  return errs;
}

/** Answers a SubjectAccessReview, SelfSubjectAccessReview or LocalSubjectAccessReview. */
async function accessReviewStatus(ctx: HandlerContext, authorizer: Authorizer, spec: Obj): Promise<Obj> {
  const resource = ctx.info.resource;
  const errs = validateAccessReview(resource, spec, ctx.ri.namespace);
  if (errs.length > 0) throw newInvalid(ctx.info.group, ctx.info.kind, '', errs);
  let user = ctx.user;
  if (resource !== 'selfsubjectaccessreviews') {
    const groups = Array.isArray(spec['groups']) ? (spec['groups'] as unknown[]).filter((g): g is string => typeof g === 'string') : [];
    const extra = objectOf(spec['extra']) as Record<string, string[]> | undefined;
    user = { name: text(spec, 'user'), groups, ...(text(spec, 'uid') !== '' ? { uid: text(spec, 'uid') } : {}), ...(extra ? { extra } : {}) };
  }
  const ra = objectOf(spec['resourceAttributes']);
  const selectors = ra ? reviewSelectors(ra) : {};
  let attrs: Attributes;
  if (ra) {
    attrs = {
      user, verb: text(ra, 'verb'), isResourceRequest: true,
      namespace: resource === 'localsubjectaccessreviews' ? ctx.ri.namespace : text(ra, 'namespace'),
      // an empty version matches every version, as upstream's matchAllVersionIfEmpty
      apiGroup: text(ra, 'group'), apiVersion: text(ra, 'version') === '' ? '*' : text(ra, 'version'),
      resource: text(ra, 'resource'), subresource: text(ra, 'subresource'), name: text(ra, 'name'), path: '',
      ...selectors,
    };
  } else {
    const nra = objectOf(spec['nonResourceAttributes'])!;
    attrs = { user, verb: text(nra, 'verb'), isResourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: text(nra, 'path') };
  }
  const d = await authorizer.authorize(attrs);
  const status: Obj = { allowed: d.decision === 'allow' };
  if (d.decision === 'deny') status['denied'] = true;
  if (d.reason) status['reason'] = d.reason;
  const evaluationError = buildEvaluationError(undefined, selectors);
  if (evaluationError !== '') status['evaluationError'] = evaluationError;
  return status;
}
