// What mutating and validating webhook dispatch share (upstream's webhook/generic): whether a
// webhook is called for a request (selectors, rules, matchPolicy, matchConditions) and the call
// (dry-run guard, AdmissionReview, HTTPS, answer checks, audit annotations, warnings, denial).
import { newForbidden } from '../../errors.ts';
import type { Authorizer } from '../../authz/authorizer.ts';
import { newActivation } from '../cel/activation.ts';
import { matchConditions } from '../cel/matcher.ts';
import type { AdmissionAttributes, AdmissionLister } from '../types.ts';
import {
  createAdmissionReview, reviewVersion, verifyAdmissionResponse, versionedObjects, type AdmissionResult, type VersionedObjects,
} from './admission_review.ts';
import { addWebhookAuditAnnotations } from './annotations.ts';
import { postReview, resolveTarget } from './client.ts';
import { dryRunUnsupported, webhookDenied, WebhookCallError } from './errors.ts';
import { matchNamespaceSelector, matchObjectSelector } from './predicates.ts';
import { matchRules, type MatchedResource } from './rules.ts';
import type { WebhookAccessor } from './source.ts';

/** A webhook to call for a request, with the resource and objects in the version it matched. */
export interface Invocation {
  readonly hook: WebhookAccessor;
  readonly matched: MatchedResource;
  readonly objects: VersionedObjects;
}

/**
 * ShouldCallHook: undefined when the webhook does not apply; throws when it applies but its
 * selectors or matchConditions cannot be evaluated (failing closed, as upstream).
 */
export async function shouldCallHook(hook: WebhookAccessor, a: AdmissionAttributes, lister: AdmissionLister,
  authorizer: Authorizer | undefined): Promise<Invocation | undefined> {
  const nsMatch = await matchNamespaceSelector(hook.namespaceSelector, a, lister);
  if (nsMatch === false) return undefined;
  const objMatch = matchObjectSelector(hook.objectSelector, a);
  if (objMatch === false) return undefined;
  const matched = matchRules(hook.rules, hook.matchPolicy, a);
  if (!matched) return undefined;
  if (nsMatch instanceof Error) throw nsMatch;
  if (objMatch instanceof Error) throw objMatch;
  const objects = versionedObjects(a, matched);
  if (hook.matchConditions.length > 0) {
    const activation = newActivation({ attrs: a, matched, objects, authorizer });
    const r = await matchConditions(hook.matchConditions, activation, hook.failurePolicy);
    if (r.error !== undefined) throw newForbidden({ group: a.info.group, resource: a.info.resource }, a.name, r.error);
    if (!r.matches) return undefined;
  }
  return { hook, matched, objects };
}

/**
 * Calls the webhook and returns its answer when it allowed the request. Throws a WebhookCallError
 * for a failed call (failurePolicy decides) and an ApiError for a denial or an unsupported dry run.
 */
export async function callHook(inv: Invocation, a: AdmissionAttributes, lister: AdmissionLister, mutating: boolean): Promise<AdmissionResult> {
  const { hook } = inv;
  if (a.dryRun) {
    if (hook.sideEffects === undefined) throw new WebhookCallError(hook.name, 'Webhook SideEffects is nil');
    if (hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') throw dryRunUnsupported(hook.name);
  }
  const version = reviewVersion(hook.admissionReviewVersions);
  if (!version) throw new WebhookCallError(hook.name, 'could not create admission objects: webhook does not accept known AdmissionReview versions');
  const review = createAdmissionReview(a, inv.matched, inv.objects, version);
  let answer: unknown;
  try {
    const target = await resolveTarget(hook.hook['clientConfig'] as Record<string, unknown> ?? {}, hook.timeoutSeconds, lister);
    answer = await postReview(target, Buffer.from(JSON.stringify(review.body)), hook.timeoutSeconds);
  } catch (e) {
    throw new WebhookCallError(hook.name, `failed to call webhook: ${e instanceof Error ? e.message : String(e)}`);
  }
  let result: AdmissionResult;
  try {
    result = verifyAdmissionResponse(review, mutating, answer);
  } catch (e) {
    throw new WebhookCallError(hook.name, `received invalid webhook response: ${e instanceof Error ? e.message : String(e)}`);
  }
  addWebhookAuditAnnotations(a, hook.name, result.auditAnnotations);
  a.warnings.push(...result.warnings);
  if (!result.allowed) throw webhookDenied(hook.name, result.result);
  return result;
}
