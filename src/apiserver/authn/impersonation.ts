// Impersonation (upstream's WithImpersonation filter): Impersonate-User, -Group, -Uid and
// -Extra-<key> headers, each checked with the `impersonate` verb against the requester before the
// request runs as the impersonated user. Headers are read raw so repeated ones stay separate.
import { isDNS1123Label, isDNS1123Subdomain } from '../../api/validation/names.ts';
import type { UserInfo } from '../handlers/context.ts';
import { forbiddenReason, type Attributes, type Authorizer } from '../authz/authorizer.ts';
import { newForbidden } from '../errors.ts';

const SA_PREFIX = 'system:serviceaccount:';
const ANONYMOUS = 'system:anonymous';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';
const AUTHN_VERSION = 'authentication.k8s.io/v1';

/** What one header asks to impersonate (upstream's ObjectReference per request). */
interface ImpersonationRequest {
  readonly kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  readonly namespace?: string;
  readonly name: string;
  readonly apiVersion?: string;
  /** The extra key, for UserExtra. */
  readonly fieldPath?: string;
}

/** The outcome: the user to run as, or the text of upstream's plain-text 500 for a malformed request. */
export type ImpersonationResult = { readonly user: UserInfo } | { readonly internalError: string };

/** serviceaccount.SplitUsername: namespace and name, when the user name is a valid service account's. */
function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (isDNS1123Label(namespace).length > 0 || isDNS1123Subdomain(name).length > 0) return undefined;
  return { namespace, name };
}

/** Go's %v of a core/v1 ObjectReference: its seven fields in order, space-separated. */
function goObjectReference(r: ImpersonationRequest): string {
  return `{${[r.kind, r.namespace ?? '', r.name, '', r.apiVersion ?? '', '', r.fieldPath ?? ''].join(' ')}}`;
}

function extraKey(headerSuffix: string): string {
  const key = headerSuffix.toLowerCase();
  try {
    return decodeURIComponent(key);
  } catch {
    return key; // upstream keeps a malformed key as sent
  }
}

/** buildImpersonationRequests from the raw header list (name, value, name, value …). */
function buildRequests(rawHeaders: readonly string[]): { requests: ImpersonationRequest[]; hasUser: boolean } {
  let user: string | undefined;
  let uid: string | undefined;
  const groups: string[] = [];
  const extras: ImpersonationRequest[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'impersonate-user') user ??= value;
    else if (name === 'impersonate-group') groups.push(value);
    else if (name === 'impersonate-uid') uid ??= value;
    else if (name.startsWith('impersonate-extra-')) {
      extras.push({ kind: 'UserExtra', name: value, apiVersion: AUTHN_VERSION, fieldPath: extraKey(name.slice('impersonate-extra-'.length)) });
    }
  }
  const requests: ImpersonationRequest[] = [];
  const hasUser = user !== undefined && user !== '';
  if (hasUser) {
    const sa = splitServiceAccount(user!);
    requests.push(sa ? { kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name } : { kind: 'User', name: user! });
  }
  for (const g of groups) requests.push({ kind: 'Group', name: g });
  requests.push(...extras);
  if (uid !== undefined && uid !== '') requests.push({ kind: 'UID', name: uid, apiVersion: AUTHN_VERSION });
  return { requests, hasUser };
}

/**
 * Applies the impersonation headers of a request made by `requestor`. Returns the requestor
 * itself when there are none; throws upstream's Forbidden when a check fails.
 */
export async function impersonate(rawHeaders: readonly string[], requestor: UserInfo, authorizer: Authorizer): Promise<ImpersonationResult> {
  const { requests, hasUser } = buildRequests(rawHeaders);
  if (requests.length === 0) return { user: requestor };
  if (!hasUser) return { internalError: `requested [${requests.map(goObjectReference).join(' ')}] without impersonating a user` };
  const groupsSpecified = requests.some((r) => r.kind === 'Group');
  let username = '';
  let uid: string | undefined;
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const authnGroup = r.kind === 'UserExtra' || r.kind === 'UID';
    let attrs: Attributes = {
      user: requestor, verb: 'impersonate', isResourceRequest: true, namespace: r.namespace ?? '', apiGroup: authnGroup ? 'authentication.k8s.io' : '',
      apiVersion: 'v1', resource: '', subresource: '', name: r.name, path: '',
    };
    switch (r.kind) {
      case 'ServiceAccount':
        attrs = { ...attrs, resource: 'serviceaccounts' };
        username = `${SA_PREFIX}${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'User':
        attrs = { ...attrs, resource: 'users' };
        username = r.name;
        break;
      case 'Group':
        attrs = { ...attrs, resource: 'groups' };
        groups.push(r.name);
        break;
      case 'UserExtra':
        attrs = { ...attrs, resource: 'userextras', subresource: r.fieldPath! };
        (extra[r.fieldPath!] ??= []).push(r.name);
        break;
      case 'UID':
        attrs = { ...attrs, resource: 'uids' };
        uid = r.name;
        break;
    }
    const d = await authorizer.authorize(attrs);
    if (d.decision !== 'allow') {
      throw newForbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, forbiddenReason(attrs) + (d.reason ? `: ${d.reason}` : ''));
    }
  }
  if (username !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED);
  }
  return { user: { name: username, groups, ...(uid !== undefined ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) } };
}
