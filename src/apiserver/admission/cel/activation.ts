// The variables admission CEL expressions see (upstream's plugin/cel activation): object,
// oldObject, request, params, namespaceObject, authorizer and variables, built from the
// admission attributes in the version the policy or webhook matched.
import { CelAuthorizer, type AuthzAnswer, type AuthzCheck } from '../../../api/cel/authorizer.ts';
import { toCel } from '../../../api/cel/values.ts';
import type { Authorizer } from '../../authz/authorizer.ts';
import type { UserInfo } from '../../handlers/context.ts';
import type { KObject } from '../../registry/strategy.ts';
import { getObj, metaOf, type Obj } from '../plugin_util.ts';
import type { AdmissionAttributes } from '../types.ts';
import { admissionRequest, type VersionedObjects } from '../webhook/admission_review.ts';
import type { MatchedResource } from '../webhook/rules.ts';

/** Inputs of one evaluation. */
export interface ActivationInput {
  readonly attrs: AdmissionAttributes;
  readonly matched: MatchedResource;
  readonly objects: VersionedObjects;
  /** The binding's param object (null when the policy has none). */
  readonly params?: KObject | null;
  /** The request's namespace (undefined for cluster-scoped requests). */
  readonly namespace?: KObject;
  /** The server's authorizer, for the `authorizer` variable. */
  readonly authorizer?: Authorizer;
}

/** The authorizer a plugin factory finds in the server's options (for CEL's `authorizer`). */
export function authorizerOption(opts: Readonly<Record<string, unknown>>): Authorizer | undefined {
  const a = opts['authorizer'] as Authorizer | undefined;
  return a && typeof a.authorize === 'function' ? a : undefined;
}

/** CreateNamespaceObject: the fields of a Namespace an expression may read. */
export function namespaceObject(ns: KObject | undefined): Obj | null {
  if (!ns) return null;
  const m = metaOf(ns);
  const meta: Obj = {};
  for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
    'deletionGracePeriodSeconds', 'labels', 'annotations', 'finalizers']) {
    if (m[k] !== undefined) meta[k] = m[k];
  }
  const out: Obj = { metadata: meta };
  const spec = getObj(ns, 'spec'), status = getObj(ns, 'status');
  out['spec'] = spec ?? {};
  out['status'] = status ?? {};
  return out;
}

function userFor(user: UserInfo | undefined, check: AuthzCheck): UserInfo {
  if (!check.serviceAccount) return user ?? { name: '', groups: [] };
  const { namespace, name } = check.serviceAccount;
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
  };
}

/** The `authorizer` value for the requesting user, answering through the server's authorizer. */
export function celAuthorizer(a: AdmissionAttributes, matched: MatchedResource, authz: Authorizer | undefined): CelAuthorizer {
  const cb = async (check: AuthzCheck): Promise<AuthzAnswer> => {
    if (!authz) return { decision: 'noopinion', reason: '', error: 'no authorizer configured' };
    const d = await authz.authorize({
      user: userFor(a.user, check), verb: check.verb, isResourceRequest: check.path === undefined,
      namespace: check.namespace, apiGroup: check.group, apiVersion: '*', resource: check.resource,
      subresource: check.subresource, name: check.name, path: check.path ?? '',
    });
    return { decision: d.decision, reason: d.reason };
  };
  return new CelAuthorizer(cb, {
    requestResource: {
      group: matched.info.group, resource: matched.info.resource, subresource: a.subresource,
      namespace: a.namespace, name: a.name,
    },
  });
}

/** The activation (without `variables`, which the caller adds when it composes them). */
export function newActivation(input: ActivationInput): Record<string, unknown> {
  const { attrs, matched, objects } = input;
  return {
    object: toCel(objects.object ?? null),
    oldObject: toCel(objects.oldObject ?? null),
    request: toCel(admissionRequest(attrs, matched)),
    params: toCel(input.params ?? null),
    namespaceObject: toCel(namespaceObject(input.namespace)),
    authorizer: celAuthorizer(attrs, matched, input.authorizer),
  };
}
