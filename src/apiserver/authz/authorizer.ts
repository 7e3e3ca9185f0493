// The authorization contract (upstream's authorizer.Authorizer): every request is checked against
// attributes (user, verb, resource …). Implementations register by mode name; until RBAC lands the
// server runs "AlwaysAllow" for authenticated users, as upstream's --authorization-mode=AlwaysAllow.
import type { FieldTerm } from '../../api/fields.ts';
import type { Requirement } from '../../api/labels.ts';
import type { UserInfo } from '../handlers/context.ts';

/** What a request wants to do (authorizer.Attributes). */
export interface Attributes {
  readonly user: UserInfo;
  readonly verb: string;
  readonly isResourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** For non-resource requests. */
  readonly path: string;
  /** Parsed field selector of an access review (AuthorizeWithSelectors); list/watch requests may give the raw one instead. */
  readonly fieldSelectorRequirements?: readonly FieldTerm[];
  readonly fieldSelectorError?: string;
  /** Parsed label selector of an access review. */
  readonly labelSelectorRequirements?: readonly Requirement[];
  readonly labelSelectorError?: string;
}

/** The answer: allow, deny, or no opinion (the next authorizer decides). */
export interface Decision {
  readonly decision: 'allow' | 'deny' | 'noopinion';
  readonly reason: string;
}

/** A rule a subject holds (for SelfSubjectRulesReview). */
export interface ResourceRule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** A non-resource rule. */
export interface NonResourceRule {
  readonly verbs: readonly string[];
  readonly nonResourceURLs: readonly string[];
}

/** An authorizer. */
export interface Authorizer {
  authorize(attrs: Attributes): Decision | Promise<Decision>;
  /** The rules a user holds in a namespace, and whether the list is incomplete. */
  rulesFor(user: UserInfo, namespace: string): { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean } | Promise<{ resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean }>;
}

/** Allows every authenticated request. */
export const alwaysAllow: Authorizer = {
  authorize: () => ({ decision: 'allow', reason: '' }),
  rulesFor: () => ({
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  }),
};

/** The words upstream uses in Forbidden messages: `User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenReason(a: Attributes): string {
  if (!a.isResourceRequest) return sanitizeHTML(`User "${a.user.name}" cannot ${a.verb} path "${a.path}"`);
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return sanitizeHTML(`User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}" ${scope}`);
}

/** Upstream escapes &, < and > in these messages, so a crafted path or name never reads as HTML. */
export function sanitizeHTML(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : s;
}
