// POST .../serviceaccounts/<name>/token (TokenRequest, `kubectl create token`): issues a bound
// service-account JWT for the API audiences or the requested ones, optionally bound to a Pod,
// Secret or Node, after the same admission as any create (NodeRestriction limits kubelets).
import type { ResourceInfo } from '../../api/resource_types.ts';
import { invalid, newPath, type FieldError } from '../../api/field_errors.ts';
import type { AdmissionAttributes } from '../admission/types.ts';
import type { AuthenticationWiring } from '../authn/wiring.ts';
import {
  EXPIRATION_EXTENSION_SECONDS, WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, boundTokenClaims,
} from '../authn/service_account.ts';
import { newBadRequest, newConflict, newInvalid, newNotFound } from '../errors.ts';
import { readBody, writeJSON } from '../http_util.ts';
import type { GenericStoreHooks } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { rfc3339 } from '../registry/object_meta.ts';
import type { HandlerContext } from './context.ts';

/** Default and bounds of spec.expirationSeconds. */
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

type Obj = Record<string, unknown>;

function tokenRequestInfo(sa: ResourceInfo): ResourceInfo {
  return { ...sa, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', definition: 'io.k8s.api.authentication.v1.TokenRequest' };
}

/** Field errors of a TokenRequest (upstream's ValidateTokenRequest). */
export function validateTokenRequest(tr: KObject): FieldError[] {
  const spec = (tr['spec'] ?? {}) as Obj;
  const exp = spec['expirationSeconds'] as number;
  const errs: FieldError[] = [];
  const path = newPath('spec', 'expirationSeconds');
  if (exp < MIN_EXPIRATION_SECONDS) errs.push(invalid(path, exp, 'may not specify a duration less than 10 minutes'));
  if (exp > MAX_EXPIRATION_SECONDS) errs.push(invalid(path, exp, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}

/** Go's GroupVersionKind.String() of an apiVersion and kind. */
function gvkString(apiVersion: string, kind: string): string {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `${group}/${version}, Kind=${kind}`;
}

function uidOf(o: KObject): string {
  return String(((o['metadata'] ?? {}) as Obj)['uid'] ?? '');
}

/** Handles the create of a TokenRequest. */
export async function handleTokenRequest(ctx: HandlerContext, authn: AuthenticationWiring): Promise<void> {
  const info = tokenRequestInfo(ctx.info);
  const body = await readBody(ctx.req);
  const tr = ctx.services.decodeBody(ctx.req, body, info);
  const namespace = ctx.ri.namespace;
  const name = ctx.ri.name;
  tr['apiVersion'] = 'authentication.k8s.io/v1';
  tr['kind'] = 'TokenRequest';
  tr['metadata'] = { ...((tr['metadata'] ?? {}) as Obj), name, namespace, creationTimestamp: null };
  const spec = (tr['spec'] ??= {}) as Obj;
  if (typeof spec['expirationSeconds'] !== 'number') spec['expirationSeconds'] = DEFAULT_EXPIRATION_SECONDS;

  // Admission as for any create (NodeRestriction checks a kubelet's pod binding here).
  const hooks = (ctx.services as { storeHooks?: GenericStoreHooks }).storeHooks;
  if (hooks?.admission) {
    const attrs: AdmissionAttributes = {
      operation: 'CREATE', info: ctx.store.storageInfo, subresource: 'token', namespace, name, object: tr, oldObject: undefined,
      user: ctx.user, dryRun: ctx.query.getAll('dryRun').length > 0, warnings: ctx.warnings,
    };
    await hooks.admission.admit(attrs);
    await hooks.admission.validate(attrs);
  }
  const errs = validateTokenRequest(tr);
  if (errs.length > 0) throw newInvalid('authentication.k8s.io', 'TokenRequest', '', errs);

  const getter = authn.getter;
  const sa = await getter.get('serviceaccounts', namespace, name);
  if (!sa) throw newNotFound({ group: '', resource: 'serviceaccounts' }, name);
  let pod: KObject | undefined, secret: KObject | undefined, node: KObject | undefined;
  const ref = spec['boundObjectRef'] as Obj | undefined | null;
  if (ref) {
    const apiVersion = String(ref['apiVersion'] ?? '');
    const kind = String(ref['kind'] ?? '');
    const refName = String(ref['name'] ?? '');
    const core = apiVersion === 'v1';
    let uid: string;
    if (core && kind === 'Pod') {
      pod = await getter.get('pods', namespace, refName);
      if (!pod) throw newNotFound({ group: '', resource: 'pods' }, refName);
      if (String(((pod['spec'] ?? {}) as Obj)['serviceAccountName'] ?? '') !== name) {
        throw newBadRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      }
      uid = uidOf(pod);
      const nodeName = String(((pod['spec'] ?? {}) as Obj)['nodeName'] ?? '');
      // The pod's node is recorded too (informational), when it can be read.
      if (nodeName !== '') node = await getter.get('nodes', '', nodeName).catch(() => undefined);
    } else if (core && kind === 'Secret') {
      secret = await getter.get('secrets', namespace, refName);
      if (!secret) throw newNotFound({ group: '', resource: 'secrets' }, refName);
      uid = uidOf(secret);
    } else if (core && kind === 'Node') {
      node = await getter.get('nodes', '', refName);
      if (!node) throw newNotFound({ group: '', resource: 'nodes' }, refName);
      uid = uidOf(node);
    } else {
      throw newBadRequest(`cannot bind token to object of type ${gvkString(apiVersion, kind)}`);
    }
    const wantUID = String(ref['uid'] ?? '');
    if (wantUID !== '' && wantUID !== uid) {
      throw newConflict({ group: '', resource: kind }, refName,
        `the UID in the bound object reference (${wantUID}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
  }
  const audiences = Array.isArray(spec['audiences']) && spec['audiences'].length > 0 ? spec['audiences'] as string[] : [...authn.apiAudiences];
  spec['audiences'] = audiences;
  const requested = spec['expirationSeconds'] as number;
  // Kubelets ask for 3607 s: such pod-bound tokens for the API server live a year but warn after the hour.
  let exp = requested;
  let warnAfter: number | undefined;
  if (pod && requested === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS && audiences.every((a) => authn.apiAudiences.includes(a))) {
    warnAfter = requested;
    exp = EXPIRATION_EXTENSION_SECONDS;
  }
  const now = new Date();
  const claims = boundTokenClaims({ serviceAccount: sa, pod, secret, node, expirationSeconds: exp, warnAfterSeconds: warnAfter, audiences, now });
  const token = await authn.signer.sign(claims, authn.issuer);
  tr['status'] = { token, expirationTimestamp: rfc3339(new Date(now.getTime() + requested * 1000)) };
  writeJSON(ctx.res, 201, tr);
}
