// The pure parts of upstream's registry strategies' PrepareForCreate (and the service allocator's
// IP family defaulting): what a created object gains beyond its versioned defaults. The apiserver
// calls these after defaulting; uid, names and cluster IPs stay the server's to assign.

import { computeQOSClass } from './qos.ts';
import { at, child, eachIn, ensure, ensurePath, isEmptyLen, isNil, isObject, type JsonObject } from './json.ts';
import { applyDefaults } from './registry.ts';

/** Inputs of prepareForCreate that are not in the object. */
export interface PrepareForCreateOptions {
  /** RFC 3339 time stamped on conditions and phase transitions (default: now). */
  readonly now?: string;
  /** The cluster's primary service IP family (default IPv4). */
  readonly primaryIPFamily?: 'IPv4' | 'IPv6';
  /** Whether the cluster serves both IP families (default false). */
  readonly dualStack?: boolean;
}

/** Annotation prefix of the deprecated per-container AppArmor profile. */
export const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function nowString(opts: PrepareForCreateOptions): string {
  return opts.now ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Pod: status becomes {phase: Pending, qosClass}, gated pods get a PodScheduled=False condition,
 * affinity matchLabelKeys turn into selector requirements, and the AppArmor annotations and fields
 * are synced. Returns the warnings upstream would send.
 */
export function preparePodForCreate(pod: JsonObject, opts: PrepareForCreateOptions = {}): string[] {
  pod['status'] = { phase: 'Pending', qosClass: computeQOSClass(pod) };
  const spec = child(pod, 'spec');
  if (spec === undefined) return [];
  if (!isEmptyLen(spec['schedulingGates'])) {
    (pod['status'] as JsonObject)['conditions'] = [{
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: nowString(opts),
      reason: 'SchedulingGated',
      message: 'Scheduling is blocked due to non-empty scheduling gates',
    }];
  }
  mutatePodAffinity(pod, spec);
  return applyAppArmorVersionSkew(pod, spec);
}

// MatchLabelKeysInPodAffinity (beta, on in v1.32): each matchLabelKeys / mismatchLabelKeys entry the
// pod has a label for becomes an In / NotIn requirement of the term's labelSelector.
function mutatePodAffinity(pod: JsonObject, spec: JsonObject): void {
  const labels = at(pod, 'metadata.labels') ?? {};
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const affinity = at(spec, `affinity.${kind}`);
    eachIn(affinity, 'requiredDuringSchedulingIgnoredDuringExecution', (term) => applyLabelKeys(term, labels));
    eachIn(affinity, 'preferredDuringSchedulingIgnoredDuringExecution', (weighted) => {
      const term = child(weighted, 'podAffinityTerm');
      if (term) applyLabelKeys(term, labels);
    });
  }
}

function applyLabelKeys(term: JsonObject, labels: JsonObject): void {
  const selector = child(term, 'labelSelector');
  if (selector === undefined || (isEmptyLen(term['matchLabelKeys']) && isEmptyLen(term['mismatchLabelKeys']))) return;
  const add = (keys: unknown, operator: 'In' | 'NotIn'): void => {
    if (!Array.isArray(keys)) return;
    for (const key of keys) {
      const value = typeof key === 'string' ? labels[key] : undefined;
      if (typeof value !== 'string') continue;
      if (!Array.isArray(selector['matchExpressions'])) selector['matchExpressions'] = [];
      (selector['matchExpressions'] as unknown[]).push({ key, operator, values: [value] });
    }
  };
  add(term['matchLabelKeys'], 'In');
  add(term['mismatchLabelKeys'], 'NotIn');
}

// The deprecated AppArmor annotations and the appArmorProfile fields are kept in step (not for
// Windows pods): a field without an annotation gains one; an annotation without a field gains a
// field unless the pod-level profile already says the same.
function applyAppArmorVersionSkew(pod: JsonObject, spec: JsonObject): string[] {
  if (at(spec, 'os')?.['name'] === 'windows') return [];
  const warnings: string[] = [];
  const podProfile = at(spec, 'securityContext.appArmorProfile');
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    eachIn(spec, list, (container) => {
      const key = `${APPARMOR_ANNOTATION_PREFIX}${String(container['name'] ?? '')}`;
      const annotations = at(pod, 'metadata.annotations');
      const annotation = annotations?.[key];
      const containerProfile = at(container, 'securityContext.appArmorProfile');
      if (typeof annotation !== 'string') {
        const value = annotationForProfile(containerProfile ?? podProfile);
        if (value !== '') {
          const target = ensurePath(pod, 'metadata.annotations');
          if (target) target[key] = value;
        }
        return;
      }
      if (containerProfile !== undefined) return;
      const field = profileForAnnotation(annotation);
      let warn = field === undefined;
      if (field !== undefined && !sameProfile(field, podProfile)) {
        const securityContext = ensure(container, 'securityContext');
        if (securityContext) securityContext['appArmorProfile'] = field;
        warn = true;
      }
      if (warn) warnings.push(`metadata.annotations[${key}]: deprecated since v1.30; use the "appArmorProfile" field instead`);
    });
  }
  return warnings;
}

function annotationForProfile(profile: JsonObject | undefined): string {
  switch (profile?.['type']) {
    case 'Unconfined': return 'unconfined';
    case 'RuntimeDefault': return 'runtime/default';
    case 'Localhost': return typeof profile['localhostProfile'] === 'string' ? `localhost/${profile['localhostProfile']}` : '';
    default: return '';
  }
}

function profileForAnnotation(annotation: string): JsonObject | undefined {
  if (annotation === 'unconfined') return { type: 'Unconfined' };
  if (annotation === 'runtime/default') return { type: 'RuntimeDefault' };
  if (annotation.startsWith('localhost/') && annotation.length > 'localhost/'.length) {
    return { type: 'Localhost', localhostProfile: annotation.slice('localhost/'.length) };
  }
  return undefined;
}

function sameProfile(a: JsonObject, b: JsonObject | undefined): boolean {
  return b !== undefined && a['type'] === b['type'] && (a['localhostProfile'] ?? null) === (b['localhostProfile'] ?? null);
}

/** Label keys of the generated Job selector and pod template labels. */
export const JobLabel = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  legacyControllerUid: 'controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyJobName: 'job-name',
} as const;

/**
 * Job without manualSelector: labels the pod template with the job's name and uid (both the
 * batch.kubernetes.io/ keys and the legacy ones, keeping values the client set) and selects the
 * uid label. Needs metadata.uid (and name) to be set already.
 */
export function generateJobSelector(job: JsonObject): void {
  if (at(job, 'spec')?.['manualSelector'] === true) return;
  const metadata = child(job, 'metadata');
  const name = String(metadata?.['name'] ?? '');
  const uid = String(metadata?.['uid'] ?? '');
  const labels = ensurePath(job, 'spec.template.metadata.labels');
  if (labels === undefined) return;
  for (const key of [JobLabel.legacyJobName, JobLabel.jobName]) if (!(key in labels)) labels[key] = name;
  for (const key of [JobLabel.legacyControllerUid, JobLabel.controllerUid]) if (!(key in labels)) labels[key] = uid;
  const matchLabels = ensurePath(job, 'spec.selector.matchLabels');
  if (matchLabels && !(JobLabel.controllerUid in matchLabels)) matchLabels[JobLabel.controllerUid] = uid;
}

/** Namespace: phase Active, and the "kubernetes" finalizer, which every namespace starts with. */
export function prepareNamespaceForCreate(ns: JsonObject): void {
  ns['status'] = { phase: 'Active' };
  const spec = ensure(ns, 'spec');
  if (spec === undefined) return;
  const finalizers = Array.isArray(spec['finalizers']) ? spec['finalizers'] : [];
  if (!finalizers.includes('kubernetes')) spec['finalizers'] = [...finalizers, 'kubernetes'];
}

/**
 * Service ipFamilyPolicy and ipFamilies as the allocator defaults them before assigning IPs:
 * SingleStack (RequireDualStack for headless services without selector), families from the
 * requested cluster IPs or else the primary family (plus the secondary one on dual-stack clusters
 * when the policy asks for it). ExternalName services have neither.
 */
export function defaultServiceIPFamilies(svc: JsonObject, opts: PrepareForCreateOptions = {}): void {
  const spec = child(svc, 'spec');
  if (spec === undefined) return;
  if (spec['type'] === 'ExternalName') {
    delete spec['ipFamilyPolicy'];
    delete spec['ipFamilies'];
    return;
  }
  const primary = opts.primaryIPFamily ?? 'IPv4';
  const secondary = primary === 'IPv4' ? 'IPv6' : 'IPv4';
  const headlessSelectorless = spec['clusterIP'] === 'None' && isEmptyLen(spec['selector']);
  if (isNil(spec['ipFamilies']) || isEmptyLen(spec['ipFamilies'])) {
    const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : typeof spec['clusterIP'] === 'string' ? [spec['clusterIP']] : [];
    const families = ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None')
      .map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
    if (families.length > 0) spec['ipFamilies'] = families;
  }
  if (isNil(spec['ipFamilyPolicy'])) {
    const families = Array.isArray(spec['ipFamilies']) ? spec['ipFamilies'] : [];
    spec['ipFamilyPolicy'] = families.length === 2 ? 'PreferDualStack' : headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  }
  if (!Array.isArray(spec['ipFamilies']) || spec['ipFamilies'].length === 0) spec['ipFamilies'] = [primary];
  const families = spec['ipFamilies'] as unknown[];
  const wantsDual = spec['ipFamilyPolicy'] === 'PreferDualStack' || spec['ipFamilyPolicy'] === 'RequireDualStack';
  if (wantsDual && opts.dualStack === true && families.length === 1) {
    families.push(families[0] === secondary ? primary : secondary);
  }
}

// Create-time steps by kind. Those that replace the client's status with a fresh one rely on the
// defaults applied afterwards to fill it again, as upstream's decode from storage does (a PVC
// reads back as phase Pending).
const createSteps: Readonly<Record<string, (obj: JsonObject, opts: PrepareForCreateOptions) => string[] | void>> = {
  '/v1/Pod': preparePodForCreate,
  '/v1/Namespace': prepareNamespaceForCreate,
  '/v1/Service': (svc, opts) => {
    svc['status'] = { loadBalancer: {} };
    defaultServiceIPFamilies(svc, opts);
  },
  '/v1/PersistentVolume': (pv, opts) => {
    pv['status'] = { phase: 'Pending', lastPhaseTransitionTime: nowString(opts) };
  },
  '/v1/PersistentVolumeClaim': (pvc) => {
    pvc['status'] = {};
  },
  'networking.k8s.io/v1/Ingress': (ingress) => {
    ingress['status'] = { loadBalancer: {} };
  },
  'batch/v1/Job': generateJobSelector,
};

/**
 * The kind's defaults, its create-time step (if any), then its defaults again (they are idempotent);
 * keyed like applyDefaults. Returns the warnings upstream would send with the response.
 */
export function prepareForCreate(group: string, version: string, kind: string, obj: unknown, opts: PrepareForCreateOptions = {}): string[] {
  if (!isObject(obj)) return [];
  applyDefaults(group, version, kind, obj);
  const warnings = createSteps[`${group}/${version}/${kind}`]?.(obj, opts) ?? [];
  applyDefaults(group, version, kind, obj);
  return warnings;
}
