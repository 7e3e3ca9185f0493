// Validation of admissionregistration.k8s.io/v1 objects beyond ObjectMeta (upstream's
// pkg/apis/admissionregistration/validation): webhook configurations, ValidatingAdmissionPolicy
// and its bindings, including compiling their CEL expressions. Objects are the defaulted v1 JSON.
import {
  duplicate, forbidden, goValue, internalError, invalid, newPath, notSupported, required, tooMany,
  type ErrorList, type Path,
} from '../field_errors.ts';
import { compileExpression, type ExpressionOptions, type ReturnTypes } from '../cel/environment.ts';
import { goQuote } from '../go_strings.ts';
import { validateLabelSelector } from './label_selector.ts';
import { isDNS1035Label, isDNS1123Subdomain, isFullyQualifiedName, isQualifiedName, isValidPortNum, validatePathSegmentName } from './names.ts';
import { isObj, isSet, list, num, obj, objList, objOr, str, type Obj } from './values.ts';

interface Options {
  readonly ignoreMatchConditions: boolean;
  readonly allowParamsInMatchConditions: boolean;
  readonly requireNoSideEffects: boolean;
  readonly requireRecognizedAdmissionReviewVersion: boolean;
  readonly requireUniqueWebhookNames: boolean;
  readonly allowInvalidLabelValueInSelector: boolean;
}

const CREATE_OPTIONS: Options = {
  ignoreMatchConditions: false, allowParamsInMatchConditions: false, requireNoSideEffects: true,
  requireRecognizedAdmissionReviewVersion: true, requireUniqueWebhookNames: true, allowInvalidLabelValueInSelector: false,
};

const ACCEPTED_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const SIDE_EFFECTS = ['None', 'NoneOnDryRun', 'Some', 'Unknown'];
const NO_SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const REINVOCATION_POLICIES = ['IfNeeded', 'Never'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const VALIDATION_ACTIONS = ['Audit', 'Deny', 'Warn'];
const POLICY_REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const MAX_AUDIT_ANNOTATIONS = 20;
const MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH = 5 * 1024;
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

function strs(v: unknown): string[] {
  return list(v).map(str);
}

function goSlice(type: string, values: readonly string[]): unknown {
  return goValue(`${type}{${values.map((v) => goQuote(v)).join(', ')}}`);
}

function validateQualifiedName(value: string, fldPath: Path): ErrorList {
  return isQualifiedName(value).map((msg) => invalid(fldPath, value, msg));
}

function validateResources(resources: string[], fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (resources.length === 0) errs.push(required(fldPath, ''));
  const resWithWildcardSub = new Set<string>();
  const subWithWildcardRes = new Set<string>();
  let hasDoubleWildcard = false, hasSingleWildcard = false, hasResourceWithoutSubresource = false;
  resources.forEach((resSub, i) => {
    if (resSub === '') {
      errs.push(required(fldPath.index(i), ''));
      return;
    }
    if (resSub === '*/*') hasDoubleWildcard = true;
    if (resSub === '*') hasSingleWildcard = true;
    const slash = resSub.indexOf('/');
    if (slash < 0) {
      hasResourceWithoutSubresource = resSub !== '*';
      return;
    }
    const res = resSub.slice(0, slash), sub = resSub.slice(slash + 1);
    if (resWithWildcardSub.has(res)) errs.push(invalid(fldPath.index(i), resSub, `if '${res}/*' is present, must not specify ${resSub}`));
    if (subWithWildcardRes.has(sub)) errs.push(invalid(fldPath.index(i), resSub, `if '*/${sub}' is present, must not specify ${resSub}`));
    if (sub === '*') resWithWildcardSub.add(res);
    if (res === '*') subWithWildcardRes.add(sub);
  });
  if (resources.length > 1 && hasDoubleWildcard) errs.push(invalid(fldPath, resources, "if '*/*' is present, must not specify other resources"));
  if (hasSingleWildcard && hasResourceWithoutSubresource) errs.push(invalid(fldPath, resources, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

function validateRule(rule: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const groups = strs(rule['apiGroups']), versions = strs(rule['apiVersions']);
  if (groups.length === 0) errs.push(required(fldPath.child('apiGroups'), ''));
  if (groups.length > 1 && groups.includes('*')) errs.push(invalid(fldPath.child('apiGroups'), groups, "if '*' is present, must not specify other API groups"));
  if (versions.length === 0) errs.push(required(fldPath.child('apiVersions'), ''));
  if (versions.length > 1 && versions.includes('*')) errs.push(invalid(fldPath.child('apiVersions'), versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((v, i) => {
    if (v === '') errs.push(required(fldPath.child('apiVersions').index(i), ''));
  });
  errs.push(...validateResources(strs(rule['resources']), fldPath.child('resources')));
  if (isSet(rule['scope']) && !SCOPES.includes(str(rule['scope']))) errs.push(notSupported(fldPath.child('scope'), rule['scope'], SCOPES));
  return errs;
}

function validateRuleWithOperations(rule: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const ops = strs(rule['operations']);
  if (ops.length === 0) errs.push(required(fldPath.child('operations'), ''));
  if (ops.length > 1 && ops.includes('*')) {
    errs.push(invalid(fldPath.child('operations'), goSlice('[]admissionregistration.OperationType', ops), "if '*' is present, must not specify other operations"));
  }
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op)) errs.push(notSupported(fldPath.child('operations').index(i), op, OPERATIONS));
  });
  errs.push(...validateRule(rule, fldPath));
  return errs;
}

function validateReviewVersions(versions: string[], requireRecognized: boolean, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (versions.length < 1) return [required(fldPath, `must specify one of ${ACCEPTED_REVIEW_VERSIONS.join(', ')}`)];
  const seen = new Set<string>();
  let accepted = false;
  versions.forEach((v, i) => {
    if (seen.has(v)) {
      errs.push(invalid(fldPath.index(i), v, 'duplicate version'));
      return;
    }
    seen.add(v);
    for (const msg of isDNS1035Label(v)) errs.push(invalid(fldPath.index(i), v, msg));
    if (ACCEPTED_REVIEW_VERSIONS.includes(v)) accepted = true;
  });
  if (requireRecognized && !accepted) errs.push(invalid(fldPath, versions, `must include at least one of ${ACCEPTED_REVIEW_VERSIONS.join(', ')}`));
  return errs;
}

/** Go's url.Parse, far enough to tell scheme, user, host, query and fragment apart. */
function splitURL(raw: string): { scheme: string; user?: string; host: string; query: string; fragment: string } | { error: string } {
  let rest = raw, fragment = '', query = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let scheme = '';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (rest.startsWith(':')) {
    return { error: `parse ${goQuote(raw)}: missing protocol scheme` };
  }
  if (!rest.startsWith('//')) return { scheme, host: '', query, fragment };
  const authority = rest.slice(2).split('/')[0]!;
  const at = authority.lastIndexOf('@');
  return at >= 0
    ? { scheme, user: authority.slice(0, at), host: authority.slice(at + 1), query, fragment }
    : { scheme, host: authority, query, fragment };
}

/** webhook.ValidateWebhookURL with https forced. */
export function validateWebhookURL(fldPath: Path, url: string): ErrorList {
  const form = '; desired format: https://host[/path]';
  const u = splitURL(url);
  if ('error' in u) return [required(fldPath, `url must be a valid URL: ${u.error}${form}`)];
  const errs: ErrorList = [];
  if (u.scheme !== 'https') errs.push(invalid(fldPath, u.scheme, `'https' is the only allowed URL scheme${form}`));
  if (u.host === '') errs.push(invalid(fldPath, u.host, `host must be provided${form}`));
  if (u.user !== undefined) errs.push(invalid(fldPath, u.user, 'user information is not permitted in the URL'));
  if (u.fragment !== '') errs.push(invalid(fldPath, u.fragment, 'fragments are not permitted in the URL'));
  if (u.query !== '') errs.push(invalid(fldPath, u.query, 'query parameters are not permitted in the URL'));
  return errs;
}

/** webhook.ValidateWebhookService. */
export function validateWebhookService(fldPath: Path, svc: Obj): ErrorList {
  const errs: ErrorList = [];
  if (str(svc['name']) === '') errs.push(required(fldPath.child('name'), 'service name is required'));
  if (str(svc['namespace']) === '') errs.push(required(fldPath.child('namespace'), 'service namespace is required'));
  const port = num(svc['port']);
  const portErrs = isValidPortNum(port);
  if (portErrs.length > 0) errs.push(invalid(fldPath.child('port'), port, `port is not valid: ${portErrs.join(', ')}`));
  if (!isSet(svc['path'])) return errs;
  const path = str(svc['path']);
  if (path === '/' || path === '') return errs;
  if (path === '//') return [...errs, invalid(fldPath.child('path'), path, 'segment[0] may not be empty')];
  if (!path.startsWith('/')) errs.push(invalid(fldPath.child('path'), path, "must start with a '/'"));
  let check = path.slice(1);
  if (check.endsWith('/')) check = check.slice(0, -1);
  check.split('/').forEach((step, i) => {
    if (step === '') {
      errs.push(invalid(fldPath.child('path'), path, `segment[${i}] may not be empty`));
      return;
    }
    for (const failure of isDNS1123Subdomain(step)) errs.push(invalid(fldPath.child('path'), path, `segment[${i}]: ${failure}`));
  });
  return errs;
}

function celError(fldPath: Path, expression: string, returns: ReturnTypes, opts: ExpressionOptions): ErrorList {
  const r = compileExpression(expression, returns, opts);
  if (!r.error) return [];
  if (r.error.type === 'Required') return [required(fldPath, r.error.detail)];
  if (r.error.type === 'Invalid') return [invalid(fldPath, expression, r.error.detail)];
  return [internalError(fldPath, r.error.detail)];
}

function validateMatchConditions(conditions: Obj[], allowParams: boolean, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (conditions.length > 64) errs.push(tooMany(fldPath, conditions.length, 64));
  const names = new Set<string>();
  conditions.forEach((mc, i) => {
    const expr = str(mc['expression']).trim();
    if (expr === '') errs.push(required(fldPath.index(i).child('expression'), ''));
    else errs.push(...celError(fldPath.index(i).child('expression'), expr, 'bool', { hasParams: allowParams, hasAuthorizer: true }));
    const name = str(mc['name']);
    if (name === '') errs.push(required(fldPath.index(i).child('name'), ''));
    else errs.push(...validateQualifiedName(name, fldPath.index(i).child('name')));
    if (name !== '') {
      if (names.has(name)) errs.push(duplicate(fldPath.index(i).child('name'), name));
      else names.add(name);
    }
  });
  return errs;
}

function validateWebhook(hook: Obj, opts: Options, mutating: boolean, fldPath: Path): ErrorList {
  const errs: ErrorList = [...isFullyQualifiedName(fldPath.child('name'), str(hook['name']))];
  const selOpts = { allowInvalidLabelValueInSelector: opts.allowInvalidLabelValueInSelector };
  objList(hook['rules']).forEach((r, i) => errs.push(...validateRuleWithOperations(r, fldPath.child('rules').index(i))));
  if (isSet(hook['failurePolicy']) && !FAILURE_POLICIES.includes(str(hook['failurePolicy']))) {
    errs.push(notSupported(fldPath.child('failurePolicy'), hook['failurePolicy'], FAILURE_POLICIES));
  }
  if (isSet(hook['matchPolicy']) && !MATCH_POLICIES.includes(str(hook['matchPolicy']))) {
    errs.push(notSupported(fldPath.child('matchPolicy'), hook['matchPolicy'], MATCH_POLICIES));
  }
  const allowedSideEffects = opts.requireNoSideEffects ? NO_SIDE_EFFECTS : SIDE_EFFECTS;
  if (!isSet(hook['sideEffects'])) errs.push(required(fldPath.child('sideEffects'), `must specify one of ${allowedSideEffects.join(', ')}`));
  else if (!allowedSideEffects.includes(str(hook['sideEffects']))) errs.push(notSupported(fldPath.child('sideEffects'), hook['sideEffects'], allowedSideEffects));
  if (isSet(hook['timeoutSeconds'])) {
    const t = num(hook['timeoutSeconds']);
    if (t > 30 || t < 1) errs.push(invalid(fldPath.child('timeoutSeconds'), t, 'the timeout value must be between 1 and 30 seconds'));
  }
  if (isSet(hook['namespaceSelector'])) errs.push(...validateLabelSelector(hook['namespaceSelector'], selOpts, fldPath.child('namespaceSelector')));
  if (isSet(hook['objectSelector'])) errs.push(...validateLabelSelector(hook['objectSelector'], selOpts, fldPath.child('objectSelector')));
  if (mutating && isSet(hook['reinvocationPolicy']) && !REINVOCATION_POLICIES.includes(str(hook['reinvocationPolicy']))) {
    errs.push(notSupported(fldPath.child('reinvocationPolicy'), hook['reinvocationPolicy'], REINVOCATION_POLICIES));
  }
  const cc = objOr(hook['clientConfig']);
  const hasURL = isSet(cc['url']), hasService = isSet(cc['service']);
  const ccPath = fldPath.child('clientConfig');
  if (hasURL === hasService) errs.push(required(ccPath, 'exactly one of url or service is required'));
  else if (hasURL) errs.push(...validateWebhookURL(ccPath.child('url'), str(cc['url'])));
  else errs.push(...validateWebhookService(ccPath.child('service'), objOr(cc['service'])));
  if (!opts.ignoreMatchConditions) {
    errs.push(...validateMatchConditions(objList(hook['matchConditions']), opts.allowParamsInMatchConditions, fldPath.child('matchConditions')));
  }
  return errs;
}

function validateWebhookConfiguration(cfg: Obj, opts: Options, mutating: boolean): ErrorList {
  const errs: ErrorList = [];
  const names = new Set<string>();
  objList(cfg['webhooks']).forEach((hook, i) => {
    const p = newPath('webhooks').index(i);
    errs.push(...validateWebhook(hook, opts, mutating, p));
    errs.push(...validateReviewVersions(strs(hook['admissionReviewVersions']), opts.requireRecognizedAdmissionReviewVersion, p.child('admissionReviewVersions')));
    const name = str(hook['name']);
    if (opts.requireUniqueWebhookNames && name !== '') {
      if (names.has(name)) errs.push(duplicate(p.child('name'), name));
      else names.add(name);
    }
  });
  return errs;
}

function selectorInvalid(sel: unknown): boolean {
  return isSet(sel) && validateLabelSelector(sel, { allowInvalidLabelValueInSelector: false }, newPath('x')).length > 0;
}

// Updates keep accepting what the stored object already had (upstream's ratcheting options).
function updateOptions(obj: Obj, old: Obj): Options {
  const hooks = objList(old['webhooks']), newHooks = objList(obj['webhooks']);
  const sameMatchConditions = hooks.length === newHooks.length
    && hooks.every((h, i) => JSON.stringify(h['matchConditions'] ?? []) === JSON.stringify(newHooks[i]!['matchConditions'] ?? []));
  const names = hooks.map((h) => str(h['name']));
  return {
    ignoreMatchConditions: sameMatchConditions,
    allowParamsInMatchConditions: false,
    requireNoSideEffects: hooks.every((h) => NO_SIDE_EFFECTS.includes(str(h['sideEffects']))),
    requireRecognizedAdmissionReviewVersion: hooks.every((h) => {
      const v = strs(h['admissionReviewVersions']);
      return v.length === 0 || v.some((x) => ACCEPTED_REVIEW_VERSIONS.includes(x));
    }),
    requireUniqueWebhookNames: new Set(names).size === names.length,
    allowInvalidLabelValueInSelector: hooks.some((h) => selectorInvalid(h['namespaceSelector']) || selectorInvalid(h['objectSelector'])),
  };
}

/** ValidateValidatingWebhookConfiguration. */
export function validateValidatingWebhookConfiguration(cfg: Obj): ErrorList {
  return validateWebhookConfiguration(cfg, CREATE_OPTIONS, false);
}

/** ValidateValidatingWebhookConfigurationUpdate. */
export function validateValidatingWebhookConfigurationUpdate(cfg: Obj, old: Obj): ErrorList {
  return validateWebhookConfiguration(cfg, updateOptions(cfg, old), false);
}

/** ValidateMutatingWebhookConfiguration. */
export function validateMutatingWebhookConfiguration(cfg: Obj): ErrorList {
  return validateWebhookConfiguration(cfg, CREATE_OPTIONS, true);
}

/** ValidateMutatingWebhookConfigurationUpdate. */
export function validateMutatingWebhookConfigurationUpdate(cfg: Obj, old: Obj): ErrorList {
  return validateWebhookConfiguration(cfg, updateOptions(cfg, old), true);
}

function validateNamedRuleWithOperations(rule: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  strs(rule['resourceNames']).forEach((name, i) => {
    for (const msg of validatePathSegmentName(name, false)) errs.push(invalid(fldPath.child('resourceNames').index(i), name, msg));
    if (seen.has(name)) errs.push(duplicate(fldPath.child('resourceNames').index(i), name));
    else seen.add(name);
  });
  errs.push(...validateRuleWithOperations(rule, fldPath));
  return errs;
}

function validateMatchResources(mr: Obj | undefined, fldPath: Path): ErrorList {
  if (!mr) return [];
  const errs: ErrorList = [];
  if (!isSet(mr['matchPolicy'])) errs.push(required(fldPath.child('matchPolicy'), ''));
  else if (!MATCH_POLICIES.includes(str(mr['matchPolicy']))) errs.push(notSupported(fldPath.child('matchPolicy'), mr['matchPolicy'], MATCH_POLICIES));
  for (const key of ['namespaceSelector', 'objectSelector']) {
    if (!isSet(mr[key])) errs.push(required(fldPath.child(key), ''));
    else errs.push(...validateLabelSelector(mr[key], {}, fldPath.child(key)));
  }
  objList(mr['resourceRules']).forEach((r, i) => errs.push(...validateNamedRuleWithOperations(r, fldPath.child('resourceRules').index(i))));
  objList(mr['excludeResourceRules']).forEach((r, i) => errs.push(...validateNamedRuleWithOperations(r, fldPath.child('excludeResourceRules').index(i))));
  return errs;
}

function validateParamKind(pk: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const apiVersion = str(pk['apiVersion']);
  if (apiVersion === '') errs.push(required(fldPath.child('apiVersion'), ''));
  else {
    const slashes = apiVersion.split('/').length - 1;
    if (slashes > 1) errs.push(invalid(fldPath.child('apiVersion'), apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
    else {
      const [group, version] = slashes === 0 ? ['', apiVersion] : apiVersion.split('/') as [string, string];
      if (group !== '') {
        const e = isDNS1123Subdomain(group);
        if (e.length > 0) errs.push(invalid(fldPath.child('apiVersion'), group, e.join(',')));
      }
      if (version === '') errs.push(invalid(fldPath.child('apiVersion'), apiVersion, 'version must be specified'));
      else {
        const e = isDNS1035Label(version);
        if (e.length > 0) errs.push(invalid(fldPath.child('apiVersion'), version, e.join(',')));
      }
    }
  }
  const kind = str(pk['kind']);
  if (kind === '') errs.push(required(fldPath.child('kind'), ''));
  else {
    const e = isDNS1035Label(kind.toLowerCase());
    if (e.length > 0) errs.push(invalid(fldPath.child('kind'), kind, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  }
  return errs;
}

function isCELIdentifier(name: string): boolean {
  return /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(name) && !CEL_RESERVED.has(name);
}

function validateValidation(v: Obj, cel: ExpressionOptions, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const expression = str(v['expression']), message = str(v['message']), messageExpression = str(v['messageExpression']);
  if (expression.trim() === '') errs.push(required(fldPath.child('expression'), 'expression is not specified'));
  else errs.push(...celError(fldPath.child('expression'), expression, 'bool', cel));
  if (messageExpression.length > 0 && messageExpression.trim() === '') {
    errs.push(invalid(fldPath.child('messageExpression'), messageExpression, 'must be non-empty if specified'));
  } else if (messageExpression.trim() !== '') {
    errs.push(...celError(fldPath.child('messageExpression'), messageExpression, 'string', { ...cel, hasAuthorizer: false }));
  }
  if (message.length > 0 && message.trim() === '') errs.push(invalid(fldPath.child('message'), message, 'message must be non-empty if specified'));
  else if (/[\n\r]/.test(message.trim())) errs.push(invalid(fldPath.child('message'), message, 'message must not contain line breaks'));
  if (isSet(v['reason']) && !POLICY_REASONS.includes(str(v['reason']))) errs.push(notSupported(fldPath.child('reason'), v['reason'], POLICY_REASONS));
  return errs;
}

function validateAuditAnnotation(policyName: string, a: Obj, cel: ExpressionOptions, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const key = str(a['key']);
  if (policyName !== '') errs.push(...validateQualifiedName(`${policyName}/${key}`, fldPath.child('key')));
  else errs.push(invalid(fldPath.child('key'), key, 'requires metadata.name be non-empty'));
  const valueExpression = str(a['valueExpression']).trim();
  if (valueExpression === '') errs.push(required(fldPath.child('valueExpression'), 'valueExpression is not specified'));
  else if (valueExpression.length > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH) {
    errs.push(required(fldPath.child('valueExpression'), `must not exceed ${MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length`));
  } else errs.push(...celError(fldPath.child('valueExpression'), valueExpression, 'string|null', cel));
  return errs;
}

function validatePolicy(policy: Obj, ignoreMatchConditions: boolean): ErrorList {
  const errs: ErrorList = [];
  const spec = objOr(policy['spec']);
  const fldPath = newPath('spec');
  if (!isSet(spec['failurePolicy'])) errs.push(required(fldPath.child('failurePolicy'), ''));
  else if (!FAILURE_POLICIES.includes(str(spec['failurePolicy']))) errs.push(notSupported(fldPath.child('failurePolicy'), spec['failurePolicy'], FAILURE_POLICIES));
  const paramKind = obj(spec['paramKind']);
  if (paramKind) errs.push(...validateParamKind(paramKind, fldPath.child('paramKind')));
  const mc = obj(spec['matchConstraints']);
  if (!mc) errs.push(required(fldPath.child('matchConstraints'), ''));
  else {
    errs.push(...validateMatchResources(mc, fldPath.child('matchConstraints')));
    if (objList(mc['resourceRules']).length === 0) errs.push(required(fldPath.child('matchConstraints', 'resourceRules'), ''));
  }
  if (!ignoreMatchConditions) errs.push(...validateMatchConditions(objList(spec['matchConditions']), paramKind !== undefined, fldPath.child('matchConditions')));
  const variables = objList(spec['variables']);
  const cel: ExpressionOptions = { hasParams: paramKind !== undefined, hasAuthorizer: true, hasVariables: variables.length > 0 };
  variables.forEach((v, i) => {
    const p = fldPath.child('variables').index(i);
    const name = str(v['name']), expression = str(v['expression']);
    if (name.trim() === '') errs.push(required(p.child('name'), 'name is not specified'));
    else if (!isCELIdentifier(name)) errs.push(invalid(p.child('name'), name, 'name is not a valid CEL identifier'));
    if (expression.trim() === '') errs.push(required(p.child('expression'), 'expression is not specified'));
    else errs.push(...celError(p.child('expression'), expression, 'any', cel));
  });
  const validations = objList(spec['validations']);
  const auditAnnotations = list(spec['auditAnnotations']);
  if (validations.length === 0 && auditAnnotations.length === 0) {
    errs.push(required(fldPath.child('validations'), 'validations or auditAnnotations must contain at least one item'));
    errs.push(required(fldPath.child('auditAnnotations'), 'validations or auditAnnotations must contain at least one item'));
    return errs;
  }
  validations.forEach((v, i) => errs.push(...validateValidation(v, cel, fldPath.child('validations').index(i))));
  if (auditAnnotations.length > MAX_AUDIT_ANNOTATIONS) {
    errs.push(invalid(fldPath.child('auditAnnotations'), goValue('[]admissionregistration.AuditAnnotation{...}'), `must not have more than ${MAX_AUDIT_ANNOTATIONS} auditAnnotations`));
  }
  const keys = new Set<string>();
  const name = str(objOr(policy['metadata'])['name']);
  objList(spec['auditAnnotations']).forEach((a, i) => {
    const p = fldPath.child('auditAnnotations').index(i);
    errs.push(...validateAuditAnnotation(name, a, cel, p));
    const key = str(a['key']);
    if (keys.has(key)) errs.push(duplicate(p.child('key'), key));
    keys.add(key);
  });
  return errs;
}

/** ValidateValidatingAdmissionPolicy. */
export function validateValidatingAdmissionPolicy(policy: Obj): ErrorList {
  return validatePolicy(policy, false);
}

/** ValidateValidatingAdmissionPolicyUpdate: unchanged match conditions are not compiled again. */
export function validateValidatingAdmissionPolicyUpdate(policy: Obj, old: Obj): ErrorList {
  const spec = objOr(policy['spec']), oldSpec = objOr(old['spec']);
  const same = JSON.stringify(spec['paramKind'] ?? null) === JSON.stringify(oldSpec['paramKind'] ?? null)
    && JSON.stringify(spec['matchConditions'] ?? []) === JSON.stringify(oldSpec['matchConditions'] ?? []);
  return validatePolicy(policy, same);
}

function validateParamRef(pr: Obj | undefined, fldPath: Path): ErrorList {
  if (!pr) return [];
  const errs: ErrorList = [];
  const name = str(pr['name']);
  const hasSelector = isSet(pr['selector']);
  if (name !== '') {
    for (const msg of validatePathSegmentName(name, false)) errs.push(invalid(fldPath.child('name'), name, msg));
    if (hasSelector) errs.push(forbidden(fldPath.child('name'), 'name and selector are mutually exclusive'));
  }
  if (hasSelector) {
    errs.push(...validateLabelSelector(pr['selector'], {}, fldPath.child('selector')));
    if (name !== '') errs.push(forbidden(fldPath.child('selector'), 'name and selector are mutually exclusive'));
  }
  if (name === '' && !hasSelector) errs.push(required(fldPath, 'one of name or selector must be specified'));
  const action = str(pr['parameterNotFoundAction']);
  if (action === '') errs.push(required(fldPath.child('parameterNotFoundAction'), ''));
  else if (action !== 'Deny' && action !== 'Allow') errs.push(notSupported(fldPath.child('parameterNotFoundAction'), action, ['Deny', 'Allow']));
  return errs;
}

function validateValidationActions(actions: string[], fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!VALIDATION_ACTIONS.includes(a)) errs.push(notSupported(fldPath.index(i), a, VALIDATION_ACTIONS));
    if (seen.has(a)) errs.push(duplicate(fldPath.index(i), a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) {
    errs.push(invalid(fldPath, goSlice('[]admissionregistration.ValidationAction', actions),
      'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
  }
  if (seen.size === 0) errs.push(required(fldPath, 'at least one validation action is required'));
  return errs;
}

/** ValidateValidatingAdmissionPolicyBinding (create and update alike). */
export function validateValidatingAdmissionPolicyBinding(binding: Obj): ErrorList {
  const errs: ErrorList = [];
  const spec = objOr(binding['spec']);
  const fldPath = newPath('spec');
  const policyName = str(spec['policyName']);
  if (policyName === '') errs.push(required(fldPath.child('policyName'), ''));
  else for (const msg of isDNS1123Subdomain(policyName)) errs.push(invalid(fldPath.child('policyName'), policyName, msg));
  errs.push(...validateParamRef(obj(spec['paramRef']), fldPath.child('paramRef')));
  // upstream's field path has this spelling
  errs.push(...validateMatchResources(isObj(spec['matchResources']) ? spec['matchResources'] : undefined, fldPath.child('matchResouces')));
  errs.push(...validateValidationActions(strs(spec['validationActions']), fldPath.child('validationActions')));
  return errs;
}
