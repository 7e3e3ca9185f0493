// The audit policy (`--audit-policy-file`, audit.k8s.io/v1 Policy): its types, loading and
// validation with upstream's field errors, and the checker that picks the level and omitted stages
// of a request (the first matching rule wins; no match means level None).
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { aggregateMessage, invalid, newPath, notSupported, required, type ErrorList, type Path } from '../../api/field_errors.ts';
import { nameIsDNSSubdomain } from '../../api/validation/names.ts';
import type { UserInfo } from '../handlers/context.ts';

/** How much of a request is recorded. */
export const AuditLevel = { None: 'None', Metadata: 'Metadata', Request: 'Request', RequestResponse: 'RequestResponse' } as const;
export type AuditLevel = (typeof AuditLevel)[keyof typeof AuditLevel];

/** When in the request's life an event is written. */
export const AuditStage = {
  RequestReceived: 'RequestReceived', ResponseStarted: 'ResponseStarted', ResponseComplete: 'ResponseComplete', Panic: 'Panic',
} as const;
export type AuditStage = (typeof AuditStage)[keyof typeof AuditStage];

const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: readonly AuditStage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

/** True when level `a` records less than level `b` (Level.Less). */
export function levelLess(a: AuditLevel, b: AuditLevel): boolean {
  return LEVELS.indexOf(a) < LEVELS.indexOf(b);
}

/** Resources of one API group a rule matches. */
export interface GroupResources {
  readonly group?: string;
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** One rule of a policy; every field that is set must match. */
export interface PolicyRule {
  readonly level: AuditLevel;
  readonly users?: readonly string[];
  readonly userGroups?: readonly string[];
  readonly verbs?: readonly string[];
  readonly resources?: readonly GroupResources[];
  readonly namespaces?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly omitStages?: readonly AuditStage[];
  readonly omitManagedFields?: boolean;
}

/** An audit.k8s.io/v1 Policy. */
export interface AuditPolicy {
  readonly rules: readonly PolicyRule[];
  readonly omitStages?: readonly AuditStage[];
  readonly omitManagedFields?: boolean;
}

/** What the checker sees of a request (authorizer.Attributes; user absent when authentication failed). */
export interface AuditAttributes {
  readonly user?: UserInfo;
  readonly verb: string;
  readonly isResourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly path: string;
}

/** The outcome of evaluating a policy for one request (RequestAuditConfig plus the level). */
export interface RequestAuditConfig {
  readonly level: AuditLevel;
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields: boolean;
}

/** A policy file that cannot be used; the message is upstream's. */
export class AuditPolicyError extends Error {
  readonly code = 'AuditPolicyInvalid';
  constructor(message: string) {
    super(message);
    this.name = 'AuditPolicyError';
  }
}

/** Reads, decodes and validates a policy file (policy.LoadPolicyFromFile). */
export async function loadAuditPolicy(path: string): Promise<AuditPolicy> {
  if (path === '') throw new AuditPolicyError('file path not specified');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AuditPolicyError(`failed to read file path ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseAuditPolicy(text);
  } catch (err) {
    if (err instanceof AuditPolicyError) throw new AuditPolicyError(`${err.message}: from file ${path}`);
    throw err;
  }
}

/** Decodes and validates policy text (YAML or JSON). */
export function parseAuditPolicy(text: string): AuditPolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AuditPolicyError(`failed decoding: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AuditPolicyError('failed decoding: the policy must be an object with apiVersion, kind and rules');
  }
  const o = doc as Record<string, unknown>;
  const apiVersion = typeof o['apiVersion'] === 'string' ? o['apiVersion'] : '';
  const kind = typeof o['kind'] === 'string' ? o['kind'] : '';
  if (apiVersion === '' || kind === '') {
    throw new AuditPolicyError(`failed decoding: Object 'Kind' is missing in '${text.trim().slice(0, 200)}'`);
  }
  if (apiVersion !== 'audit.k8s.io/v1' || kind !== 'Policy') {
    throw new AuditPolicyError(`failed decoding: no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "k8s.io/apiserver/pkg/audit/scheme.go:30"`);
  }
  const policy = decodePolicy(o);
  const errs = validatePolicy(policy);
  if (errs.length > 0) throw new AuditPolicyError(aggregateMessage(errs));
  if (policy.rules.length === 0) throw new AuditPolicyError('loaded illegal policy with 0 rules');
  return policy;
}

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new AuditPolicyError(`failed decoding: ${what}: expected a list of strings`);
  }
  return v as string[];
}

function bool(v: unknown, what: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new AuditPolicyError(`failed decoding: ${what}: expected a boolean`);
  return v;
}

function decodePolicy(o: Record<string, unknown>): AuditPolicy {
  const rawRules = o['rules'] ?? [];
  if (!Array.isArray(rawRules)) throw new AuditPolicyError('failed decoding: rules: expected a list');
  const rules = rawRules.map((r, i): PolicyRule => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new AuditPolicyError(`failed decoding: rules[${i}]: expected an object`);
    const rr = r as Record<string, unknown>;
    const at = `rules[${i}]`;
    const rawRes = rr['resources'];
    if (rawRes !== undefined && rawRes !== null && !Array.isArray(rawRes)) throw new AuditPolicyError(`failed decoding: ${at}.resources: expected a list`);
    const resources = (rawRes as unknown[] | undefined | null)?.map((g, j): GroupResources => {
      if (typeof g !== 'object' || g === null) throw new AuditPolicyError(`failed decoding: ${at}.resources[${j}]: expected an object`);
      const gg = g as Record<string, unknown>;
      const group = gg['group'];
      if (group !== undefined && group !== null && typeof group !== 'string') throw new AuditPolicyError(`failed decoding: ${at}.resources[${j}].group: expected a string`);
      return {
        group: (group as string | undefined | null) ?? '',
        resources: strings(gg['resources'], `${at}.resources[${j}].resources`),
        resourceNames: strings(gg['resourceNames'], `${at}.resources[${j}].resourceNames`),
      };
    });
    const level = rr['level'];
    return {
      level: (typeof level === 'string' ? level : '') as AuditLevel,
      users: strings(rr['users'], `${at}.users`),
      userGroups: strings(rr['userGroups'], `${at}.userGroups`),
      verbs: strings(rr['verbs'], `${at}.verbs`),
      resources,
      namespaces: strings(rr['namespaces'], `${at}.namespaces`),
      nonResourceURLs: strings(rr['nonResourceURLs'], `${at}.nonResourceURLs`),
      omitStages: strings(rr['omitStages'], `${at}.omitStages`) as AuditStage[] | undefined,
      omitManagedFields: bool(rr['omitManagedFields'], `${at}.omitManagedFields`),
    };
  });
  return {
    rules,
    omitStages: strings(o['omitStages'], 'omitStages') as AuditStage[] | undefined,
    omitManagedFields: bool(o['omitManagedFields'], 'omitManagedFields') ?? false,
  };
}

/** validation.ValidatePolicy: per rule, level, URLs, resources and stages. */
export function validatePolicy(policy: AuditPolicy): ErrorList {
  const errs: ErrorList = [];
  const rulesPath = newPath('rules');
  policy.rules.forEach((rule, i) => errs.push(...validateRule(rule, rulesPath.index(i))));
  return errs;
}

function validateRule(rule: PolicyRule, p: Path): ErrorList {
  const errs: ErrorList = [];
  if ((rule.level as string) === '') errs.push(required(p.child('level')));
  else if (!LEVELS.includes(rule.level)) errs.push(notSupported(p.child('level'), rule.level, LEVELS));
  (rule.nonResourceURLs ?? []).forEach((url, i) => {
    if (url === '*') return;
    if (!url.startsWith('/')) errs.push(invalid(p.child('nonResourceURLs').index(i), url, "non-resource URL rules must begin with a '/' character"));
    if (url !== '' && url.slice(0, -1).includes('*')) {
      errs.push(invalid(p.child('nonResourceURLs').index(i), url, "non-resource URL wildcards '*' must be the final character of the rule"));
    }
  });
  for (const gr of rule.resources ?? []) {
    const group = gr.group ?? '';
    if (group !== '') {
      const msgs = nameIsDNSSubdomain(group, false);
      if (msgs.length > 0) errs.push(invalid(p.child('resources').child('group'), group, msgs.join(',')));
    }
    if ((gr.resourceNames ?? []).length > 0 && (gr.resources ?? []).length === 0) {
      errs.push(invalid(p.child('resources').child('resourceNames'), gr.resourceNames, 'using resourceNames requires at least one resource'));
    }
  }
  (rule.omitStages ?? []).forEach((s, i) => {
    if (!STAGES.includes(s)) errs.push(invalid(p.child('omitStages').index(i), s, `allowed stages are ${STAGES.join(',')}`));
  });
  if ((rule.nonResourceURLs ?? []).length > 0 && ((rule.resources ?? []).length > 0 || (rule.namespaces ?? []).length > 0)) {
    errs.push(invalid(p.child('nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
  }
  return errs;
}

/** Picks the level and stages of requests under one policy (policy.NewPolicyRuleEvaluator). */
export class PolicyChecker {
  readonly #policy: AuditPolicy;

  constructor(policy: AuditPolicy) {
    this.#policy = policy;
  }

  /** The first matching rule's level, with its omitStages unioned with the policy's. */
  evaluate(attrs: AuditAttributes): RequestAuditConfig {
    const global = this.#policy.omitStages ?? [];
    for (const rule of this.#policy.rules) {
      if (ruleMatches(rule, attrs)) {
        return {
          level: rule.level,
          omitStages: [...new Set([...global, ...(rule.omitStages ?? [])])],
          omitManagedFields: rule.omitManagedFields ?? this.#policy.omitManagedFields ?? false,
        };
      }
    }
    return { level: 'None', omitStages: global, omitManagedFields: this.#policy.omitManagedFields ?? false };
  }
}

/** Whether a rule applies to a request. */
export function ruleMatches(r: PolicyRule, attrs: AuditAttributes): boolean {
  const user = attrs.user;
  if ((r.users ?? []).length > 0 && (!user || !r.users!.includes(user.name))) return false;
  if ((r.userGroups ?? []).length > 0 && (!user || !user.groups.some((g) => r.userGroups!.includes(g)))) return false;
  if ((r.verbs ?? []).length > 0 && !r.verbs!.includes(attrs.verb)) return false;
  if ((r.namespaces ?? []).length > 0 || (r.resources ?? []).length > 0) return ruleMatchesResource(r, attrs);
  if ((r.nonResourceURLs ?? []).length > 0) return !attrs.isResourceRequest && r.nonResourceURLs!.some((spec) => pathMatches(attrs.path, spec));
  return true;
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function ruleMatchesResource(r: PolicyRule, attrs: AuditAttributes): boolean {
  if (!attrs.isResourceRequest) return false;
  // Cluster-scoped resources have the namespace "", which a rule names to match them.
  if ((r.namespaces ?? []).length > 0 && !r.namespaces!.includes(attrs.namespace)) return false;
  if ((r.resources ?? []).length === 0) return true;
  const { resource, subresource, name } = attrs;
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  for (const gr of r.resources!) {
    if ((gr.group ?? '') !== attrs.apiGroup) continue;
    if ((gr.resources ?? []).length === 0) return true;
    for (const res of gr.resources!) {
      if ((gr.resourceNames ?? []).length > 0 && !gr.resourceNames!.includes(name)) continue;
      if (res === combined || res === '*') return true;
      if (subresource !== '' && res.startsWith('*/') && subresource === res.slice(2)) return true;
      if (res.endsWith('/*') && resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}
