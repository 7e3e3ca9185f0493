// ValidatingAdmissionPolicies with their bindings, read from the API server's watch caches and
// compiled once per object version (upstream's policy_source): match criteria, the param
// resource, and every CEL expression (matchConditions, variables, validations, auditAnnotations).
import { compileExpression, type CompilationResult, type ExpressionOptions } from '../../../api/cel/environment.ts';
import type { ResourceInfo } from '../../../api/resource_types.ts';
import { resourceForKind } from '../../../api/resource_table.ts';
import type { KObject } from '../../registry/strategy.ts';
import type { NamedCondition } from '../cel/matcher.ts';
import { getArr, getObj, getStr, metaOf, type Obj } from '../plugin_util.ts';
import type { AdmissionLister } from '../types.ts';
import { matchCriteria, type MatchCriteria } from './matching.ts';

const GROUP = 'admissionregistration.k8s.io';

/** One validation, compiled. */
export interface CompiledValidation {
  readonly expression: CompilationResult;
  readonly messageExpression: CompilationResult | undefined;
  readonly message: string;
  readonly reason: string | undefined;
}

/** A policy ready to evaluate. */
export interface CompiledPolicy {
  readonly name: string;
  readonly failurePolicy: string;
  readonly paramKind: { readonly apiVersion: string; readonly kind: string } | undefined;
  /** The resource of paramKind, when it is served. */
  readonly paramResource: ResourceInfo | undefined;
  /** Why the policy cannot be used at all (an unknown paramKind). */
  readonly configurationError: string | undefined;
  readonly matchConstraints: MatchCriteria;
  readonly matchConditions: readonly NamedCondition[];
  readonly variables: readonly { readonly name: string; readonly compiled: CompilationResult }[];
  readonly validations: readonly CompiledValidation[];
  readonly auditAnnotations: readonly { readonly key: string; readonly compiled: CompilationResult }[];
}

/** A binding ready to evaluate. */
export interface CompiledBinding {
  readonly name: string;
  readonly policyName: string;
  readonly paramRef: Obj | undefined;
  /** Undefined: the binding selects whatever the policy does. */
  readonly matchResources: MatchCriteria | undefined;
  readonly validationActions: readonly string[];
}

/** A policy with the bindings that name it. */
export interface PolicyHook {
  readonly policy: CompiledPolicy;
  readonly bindings: readonly CompiledBinding[];
}

function compilePolicy(p: KObject): CompiledPolicy {
  const spec = getObj(p, 'spec') ?? {};
  const pk = getObj(spec, 'paramKind');
  const paramKind = pk ? { apiVersion: getStr(pk, 'apiVersion'), kind: getStr(pk, 'kind') } : undefined;
  let paramResource: ResourceInfo | undefined;
  let configurationError: string | undefined;
  if (paramKind) {
    const [group, version] = paramKind.apiVersion.includes('/') ? paramKind.apiVersion.split('/', 2) as [string, string] : ['', paramKind.apiVersion];
    paramResource = resourceForKind(group, version, paramKind.kind);
    if (!paramResource) configurationError = `failed to find resource referenced by paramKind: '${group}/${version}, Kind=${paramKind.kind}'`;
  }
  const variables = getArr(spec, 'variables');
  const opts: ExpressionOptions = { hasParams: paramKind !== undefined, hasAuthorizer: true, hasVariables: variables.length > 0 };
  return {
    name: getStr(metaOf(p), 'name'),
    failurePolicy: getStr(spec, 'failurePolicy') || 'Fail',
    paramKind, paramResource, configurationError,
    matchConstraints: matchCriteria(getObj(spec, 'matchConstraints') ?? {}),
    matchConditions: getArr(spec, 'matchConditions').map((mc) => ({
      name: getStr(mc, 'name'),
      compiled: compileExpression(getStr(mc, 'expression'), 'bool', { hasParams: paramKind !== undefined, hasAuthorizer: true }),
    })),
    variables: variables.map((v) => ({ name: getStr(v, 'name'), compiled: compileExpression(getStr(v, 'expression'), 'any', opts) })),
    validations: getArr(spec, 'validations').map((v) => ({
      expression: compileExpression(getStr(v, 'expression'), 'bool', opts),
      messageExpression: getStr(v, 'messageExpression').trim() === ''
        ? undefined : compileExpression(getStr(v, 'messageExpression'), 'string', { ...opts, hasAuthorizer: false }),
      message: getStr(v, 'message'),
      reason: typeof v['reason'] === 'string' ? v['reason'] : undefined,
    })),
    auditAnnotations: getArr(spec, 'auditAnnotations').map((a) => ({
      key: getStr(a, 'key'),
      compiled: compileExpression(getStr(a, 'valueExpression').trim(), 'string|null', opts),
    })),
  };
}

function compileBinding(b: KObject): CompiledBinding {
  const spec = getObj(b, 'spec') ?? {};
  const mr = getObj(spec, 'matchResources');
  const actions = spec['validationActions'];
  return {
    name: getStr(metaOf(b), 'name'),
    policyName: getStr(spec, 'policyName'),
    paramRef: getObj(spec, 'paramRef'),
    matchResources: mr ? matchCriteria(mr) : undefined,
    validationActions: Array.isArray(actions) ? actions.filter((x): x is string => typeof x === 'string') : [],
  };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Keeps compiled objects per uid and resourceVersion, dropping those that went away. */
class CompiledCache<T> {
  #items = new Map<string, { rv: string; value: T }>();
  readonly #compile: (o: KObject) => T;
  constructor(compile: (o: KObject) => T) {
    this.#compile = compile;
  }
  all(objects: readonly KObject[]): T[] {
    const next = new Map<string, { rv: string; value: T }>();
    const out: T[] = [];
    for (const o of objects) {
      const uid = getStr(metaOf(o), 'uid'), rv = getStr(metaOf(o), 'resourceVersion');
      const hit = this.#items.get(uid);
      const entry = hit && hit.rv === rv ? hit : { rv, value: this.#compile(o) };
      next.set(uid, entry);
      out.push(entry.value);
    }
    this.#items = next;
    return out;
  }
}

/** The policies that have bindings, in name order, each with its bindings in name order. */
export class PolicySource {
  readonly #policies = new CompiledCache(compilePolicy);
  readonly #bindings = new CompiledCache(compileBinding);

  hooks(lister: AdmissionLister): PolicyHook[] {
    const bindingObjs = lister.list(GROUP, 'validatingadmissionpolicybindings');
    if (bindingObjs.length === 0) return [];
    const bindings = this.#bindings.all(bindingObjs).sort(byName);
    const policies = this.#policies.all(lister.list(GROUP, 'validatingadmissionpolicies')).sort(byName);
    const out: PolicyHook[] = [];
    for (const policy of policies) {
      const mine = bindings.filter((b) => b.policyName === policy.name);
      if (mine.length > 0) out.push({ policy, bindings: mine });
    }
    return out;
  }
}
