// PodSecurity admission: namespaces choose a Pod Security Standards level per mode through labels
// (pod-security.kubernetes.io/enforce|audit|warn and their -version); pods violating the enforce
// level are refused, warn violations become warnings, audit violations and the enforced policy
// become audit annotations, and workload templates are warned about.
import { aggregateMessage, invalid, newPath, type FieldError } from '../../api/field_errors.ts';
import { newInternal, newInvalid } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { checksFor, MAX_POLICY_VERSION, type CheckFailure, type Level } from './pod_security_checks.ts';
import { forbidden, getArr, getFresh, getMap, getObj, getStr, metaOf, type Obj } from './plugin_util.ts';
import {
  addAuditAnnotation, auditAnnotationSink, registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin,
} from './types.ts';

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
/** Audit annotation keys (api.AuditAnnotationPrefix + EnforcedPolicyAnnotationKey …). */
const ANNOTATION = {
  enforcePolicy: `${LABEL_PREFIX}enforce-policy`,
  auditViolations: `${LABEL_PREFIX}audit-violations`,
  exempt: `${LABEL_PREFIX}exempt`,
  error: `${LABEL_PREFIX}error`,
} as const;
const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];
/** A version: the minor of v1.x, or Infinity for "latest". */
type Version = number;
const LATEST: Version = Number.POSITIVE_INFINITY;

/** A level at a version ("restricted:latest"). */
export interface LevelVersion {
  readonly level: Level;
  readonly version: Version;
}

/** The three modes' levels. */
export interface Policy {
  readonly enforce: LevelVersion;
  readonly audit: LevelVersion;
  readonly warn: LevelVersion;
}

/** "restricted:latest", "baseline:v1.24". */
export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${lv.version === LATEST ? 'latest' : `v1.${lv.version}`}`;
}

const PRIVILEGED_LATEST: LevelVersion = { level: 'privileged', version: LATEST };
const PRIVILEGED_LATEST_TEXT = levelVersionString(PRIVILEGED_LATEST);
/** The server's defaults when a namespace has no labels (kube-apiserver: privileged everywhere). */
export const DEFAULT_POLICY: Policy = { enforce: PRIVILEGED_LATEST, audit: PRIVILEGED_LATEST, warn: PRIVILEGED_LATEST };

function compareLevels(a: Level, b: Level): number {
  return LEVELS.indexOf(a) - LEVELS.indexOf(b);
}

/** Reads the policy from namespace labels (api.PolicyToEvaluate), with field errors for bad values. */
export function policyFromLabels(labels: Readonly<Record<string, string>>, defaults: Policy = DEFAULT_POLICY): { policy: Policy; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const path = newPath('metadata', 'labels');
  const p = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const parseLevel = (label: string): Level | undefined => {
    const v = labels[label];
    if (v === undefined) return undefined;
    if ((LEVELS as readonly string[]).includes(v)) return v as Level;
    errs.push(invalid(path.key(label), v, `must be one of ${LEVELS.join(', ')}`));
    return 'restricted';
  };
  const parseVersion = (label: string): Version | undefined => {
    const v = labels[label];
    if (v === undefined) return undefined;
    if (v === 'latest') return LATEST;
    const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(v);
    if (m) return Number(m[1]);
    errs.push(invalid(path.key(label), v, 'must be "latest" or "v1.x"'));
    return LATEST;
  };
  let hasEnforceLevel = false;
  const enforceErrs = errs.length;
  const el = parseLevel(`${LABEL_PREFIX}enforce`);
  if (el !== undefined) {
    p.enforce.level = el;
    hasEnforceLevel = errs.length === enforceErrs;
  }
  const ev = parseVersion(`${LABEL_PREFIX}enforce-version`);
  if (ev !== undefined) p.enforce.version = ev;
  // A bad audit or warn level fails open.
  for (const mode of ['audit', 'warn'] as const) {
    const before = errs.length;
    const l = parseLevel(`${LABEL_PREFIX}${mode}`);
    if (l !== undefined) p[mode].level = errs.length === before ? l : 'privileged';
    const v = parseVersion(`${LABEL_PREFIX}${mode}-version`);
    if (v !== undefined) p[mode].version = v;
  }
  // Without a warn label, warn at least at the enforce level, so `kubectl apply` tells why.
  const hasWarnLevel = `${LABEL_PREFIX}warn` in labels, hasWarnVersion = `${LABEL_PREFIX}warn-version` in labels;
  if (!hasWarnLevel && hasEnforceLevel && compareLevels(p.enforce.level, p.warn.level) > 0) {
    p.warn.level = p.enforce.level;
    if (!hasWarnVersion) p.warn.version = p.enforce.version;
  }
  return { policy: p, errs };
}

/** The failures of a pod (metadata and spec) at a level and version. */
export function evaluatePod(lv: LevelVersion, meta: Obj, spec: Obj): CheckFailure[] {
  const out: CheckFailure[] = [];
  for (const check of checksFor(lv.level, Math.min(lv.version, MAX_POLICY_VERSION))) {
    const f = check(meta, spec);
    if (f) out.push(f);
  }
  return out;
}

/** `reason (detail), reason2 (detail2)` (AggregateCheckResult.ForbiddenDetail). */
export function forbiddenDetail(failures: readonly CheckFailure[]): string {
  return failures.map((f) => (f.detail === '' ? f.reason : `${f.reason} (${f.detail})`)).join(', ');
}

function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.version === b.version;
}

/** Where workload resources keep their pod template. */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/replicationcontrollers': ['spec', 'template'],
  '/podtemplates': ['template'],
  'apps/replicasets': ['spec', 'template'],
  'apps/deployments': ['spec', 'template'],
  'apps/statefulsets': ['spec', 'template'],
  'apps/daemonsets': ['spec', 'template'],
  'batch/jobs': ['spec', 'template'],
  'batch/cronjobs': ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Subresources of pods whose writes cannot change anything PodSecurity cares about. */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

function templateOf(obj: KObject, path: readonly string[]): Obj | undefined {
  let cur: Obj | undefined = obj;
  for (const p of path) cur = getObj(cur, p);
  return cur;
}

function isSignificantPodUpdate(pod: KObject, old: KObject): boolean {
  const spec = getObj(pod, 'spec') ?? {}, oldSpec = getObj(old, 'spec') ?? {};
  for (const key of ['containers', 'initContainers']) {
    const a = getArr(spec, key), b = getArr(oldSpec, key);
    if (a.length !== b.length) return true;
    if (a.some((c, i) => getStr(c, 'image') !== getStr(b[i], 'image'))) return true;
  }
  const oldEphemeral = getArr(oldSpec, 'ephemeralContainers');
  for (const c of getArr(spec, 'ephemeralContainers')) {
    const o = oldEphemeral.find((x) => getStr(x, 'name') === getStr(c, 'name'));
    if (!o || getStr(o, 'image') !== getStr(c, 'image')) return true;
  }
  return false;
}

/** A namespace's policy and the label errors it was read with. */
interface NamespacePolicy {
  readonly policy: Policy;
  readonly errs: readonly FieldError[];
}

function fullyPrivileged(p: Policy): boolean {
  return p.enforce.level === 'privileged' && p.audit.level === 'privileged' && p.warn.level === 'privileged';
}

/** The PodSecurity plugin. */
export class PodSecurityAdmission implements AdmissionPlugin {
  readonly name = 'PodSecurity';
  readonly #defaults: Policy;
  readonly #policies = new WeakMap<object, NamespacePolicy>();
  readonly #exemptNamespaces: ReadonlySet<string>;
  readonly #exemptUsers: ReadonlySet<string>;
  readonly #exemptRuntimeClasses: ReadonlySet<string>;

  constructor(opts: { defaults?: Policy; exemptNamespaces?: readonly string[]; exemptUsers?: readonly string[]; exemptRuntimeClasses?: readonly string[] } = {}) {
    this.#defaults = opts.defaults ?? DEFAULT_POLICY;
    this.#exemptNamespaces = new Set(opts.exemptNamespaces ?? []);
    this.#exemptUsers = new Set(opts.exemptUsers ?? []);
    this.#exemptRuntimeClasses = new Set(opts.exemptRuntimeClasses ?? []);
  }

  handles(a: AdmissionAttributes): boolean {
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return false;
    const key = `${a.info.group}/${a.info.resource}`;
    return key === '/pods' || key === '/namespaces' || key in POD_TEMPLATE_PATHS;
  }

  async validate(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    if (a.info.group === '' && a.info.resource === 'namespaces') return this.#validateNamespace(a, lister);
    if (a.info.group === '' && a.info.resource === 'pods') return this.#validatePod(a, lister);
    return this.#validatePodController(a, lister);
  }

  async #namespacePolicy(a: AdmissionAttributes, lister: AdmissionLister): Promise<NamespacePolicy | undefined> {
    const ns = await getFresh(lister, '', 'namespaces', '', a.namespace);
    if (!ns) return undefined;
    // Namespaces from the cache never change: their labels are read once, not on every pod write.
    let p = this.#policies.get(ns);
    if (p === undefined) {
      p = policyFromLabels(getMap(metaOf(ns), 'labels'), this.#defaults);
      this.#policies.set(ns, p);
    }
    return p;
  }

  /** Exempt namespaces, then exempt users: true (and the exempt annotation) when one applies. */
  #exempt(a: AdmissionAttributes): boolean {
    if (a.namespace !== '' && this.#exemptNamespaces.has(a.namespace)) {
      addAuditAnnotation(a, ANNOTATION.exempt, 'namespace');
      return true;
    }
    if (a.user !== undefined && a.user.name !== '' && this.#exemptUsers.has(a.user.name)) {
      addAuditAnnotation(a, ANNOTATION.exempt, 'user');
      return true;
    }
    return false;
  }

  async #validatePod(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    if (IGNORED_POD_SUBRESOURCES.has(a.subresource) || !a.object || this.#exempt(a)) return;
    const ns = await this.#namespacePolicy(a, lister);
    if (!ns) throw newInternal(new Error(`failed to lookup namespace "${a.namespace}"`));
    if (ns.errs.length === 0 && fullyPrivileged(ns.policy)) {
      addAuditAnnotation(a, ANNOTATION.enforcePolicy, PRIVILEGED_LATEST_TEXT);
      return;
    }
    if (a.operation === 'UPDATE' && a.oldObject && !isSignificantPodUpdate(a.object, a.oldObject)) return;
    this.#evaluate(a, ns, metaOf(a.object), getObj(a.object, 'spec') ?? {}, true);
  }

  async #validatePodController(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    if (a.subresource !== '' || !a.object || this.#exempt(a)) return;
    const ns = await this.#namespacePolicy(a, lister);
    if (!ns) {
      if (auditAnnotationSink(a)) addAuditAnnotation(a, ANNOTATION.error, `failed to lookup namespace "${a.namespace}": namespaces "${a.namespace}" not found`);
      return;
    }
    if (ns.errs.length === 0 && ns.policy.warn.level === 'privileged' && ns.policy.audit.level === 'privileged') return;
    const template = templateOf(a.object, POD_TEMPLATE_PATHS[`${a.info.group}/${a.info.resource}`] ?? []);
    if (!template) return;
    this.#evaluate(a, ns, getObj(template, 'metadata') ?? {}, getObj(template, 'spec') ?? {}, false);
  }

  /** EvaluatePod: refuses enforce violations, annotates audit violations, warns about warn violations. */
  #evaluate(a: AdmissionAttributes, ns: NamespacePolicy, meta: Obj, spec: Obj, enforce: boolean): void {
    const { policy } = ns;
    const rc = getStr(spec, 'runtimeClassName');
    if (rc !== '' && this.#exemptRuntimeClasses.has(rc)) {
      addAuditAnnotation(a, ANNOTATION.exempt, 'runtimeClass');
      return;
    }
    // The audit mode is only visible in the audit log: not evaluated for requests nobody audits.
    const audited = auditAnnotationSink(a) !== undefined;
    if (audited && ns.errs.length > 0) addAuditAnnotation(a, ANNOTATION.error, `Failed to parse policy: ${aggregateMessage(ns.errs)}`);
    let denial: string | undefined;
    let enforceFailures: CheckFailure[] | undefined;
    if (enforce) {
      if (audited) addAuditAnnotation(a, ANNOTATION.enforcePolicy, levelVersionString(policy.enforce));
      enforceFailures = evaluatePod(policy.enforce, meta, spec);
      if (enforceFailures.length > 0) denial = `violates PodSecurity "${levelVersionString(policy.enforce)}": ${forbiddenDetail(enforceFailures)}`;
    }
    let auditFailures: CheckFailure[] | undefined;
    if (audited) {
      auditFailures = enforceFailures && sameLevelVersion(policy.audit, policy.enforce) ? enforceFailures : evaluatePod(policy.audit, meta, spec);
      if (auditFailures.length > 0) {
        addAuditAnnotation(a, ANNOTATION.auditViolations, `would violate PodSecurity "${levelVersionString(policy.audit)}": ${forbiddenDetail(auditFailures)}`);
      }
    }
    if (denial !== undefined) throw forbidden(a, denial);
    const warn = enforceFailures && sameLevelVersion(policy.warn, policy.enforce) ? enforceFailures
      : auditFailures && sameLevelVersion(policy.warn, policy.audit) ? auditFailures : evaluatePod(policy.warn, meta, spec);
    if (warn.length > 0) a.warnings.push(`would violate PodSecurity "${levelVersionString(policy.warn)}": ${forbiddenDetail(warn)}`);
  }

  #validateNamespace(a: AdmissionAttributes, lister: AdmissionLister): void {
    if (a.subresource !== '' || !a.object) return;
    const { policy, errs } = policyFromLabels(getMap(metaOf(a.object), 'labels'), this.#defaults);
    if (a.operation === 'CREATE') {
      if (errs.length > 0) throw newInvalid('', 'Namespace', a.name, errs);
      return;
    }
    const old = policyFromLabels(getMap(metaOf(a.oldObject), 'labels'), this.#defaults);
    if (errs.length > 0 && (old.errs.length === 0 || JSON.stringify(errs) !== JSON.stringify(old.errs))) {
      throw newInvalid('', 'Namespace', a.name, errs);
    }
    if (sameLevelVersion(policy.enforce, old.policy.enforce) || policy.enforce.level === 'privileged') return;
    if (policy.enforce.version === old.policy.enforce.version && compareLevels(policy.enforce.level, old.policy.enforce.level) < 1) return;
    if (this.#exemptNamespaces.has(a.name)) return;
    a.warnings.push(...this.#evaluatePodsInNamespace(a.name, policy.enforce, lister));
  }

  /** Warnings about existing pods that the new enforce level would refuse. */
  #evaluatePodsInNamespace(namespace: string, enforce: LevelVersion, lister: AdmissionLister): string[] {
    const pods = lister.list('', 'pods', namespace);
    // One pod per controller first, so a few checks cover many workloads.
    const seenControllers = new Set<string>();
    const first: KObject[] = [], rest: KObject[] = [];
    for (const pod of pods) {
      const rc = getStr(getObj(pod, 'spec'), 'runtimeClassName');
      if (rc !== '' && this.#exemptRuntimeClasses.has(rc)) continue;
      const owner = getArr(metaOf(pod), 'ownerReferences').find((r) => r['controller'] === true);
      if (!owner) first.push(pod);
      else if (seenControllers.has(getStr(owner, 'uid'))) rest.push(pod);
      else {
        seenControllers.add(getStr(owner, 'uid'));
        first.push(pod);
      }
    }
    const counts = new Map<string, { podName: string; count: number }>();
    const order: string[] = [];
    for (const pod of [...first, ...rest]) {
      const failures = evaluatePod(enforce, metaOf(pod), getObj(pod, 'spec') ?? {});
      if (failures.length === 0) continue;
      const warning = failures.map((f) => f.reason).join(', ');
      const name = getStr(metaOf(pod), 'name');
      const c = counts.get(warning);
      if (!c) {
        counts.set(warning, { podName: name, count: 1 });
        order.push(warning);
      } else {
        if (name < c.podName) c.podName = name;
        c.count++;
      }
    }
    if (order.length === 0) return [];
    const decorated = order.map((w) => {
      const c = counts.get(w) as { podName: string; count: number };
      if (c.count === 1) return `${c.podName}: ${w}`;
      if (c.count === 2) return `${c.podName} (and 1 other pod): ${w}`;
      return `${c.podName} (and ${c.count - 1} other pods): ${w}`;
    }).sort();
    return [`existing pods in namespace "${namespace}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`, ...decorated];
  }
}

registerAdmissionPlugin('PodSecurity', () => new PodSecurityAdmission());
