// ValidatePodSpec: volumes, the container lists, restart/DNS policies, scheduling constraints
// (affinity, tolerations, topology spread), DNS config and the remaining pod-level fields.
// Used by Pods and by every workload's pod template.

import { duplicate, forbidden, invalid, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import { validateContainers, validateEphemeralContainers, validateInitContainers, type PodOptions } from './container.ts';
import { goStringSlice } from './go_format.ts';
import { validateLabelSelector } from './label_selector.ts';
import {
  inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isValidIP, isValidLabelValue, nameIsDNSSubdomain,
  validateNamespaceName, validateServiceAccountName,
} from './names.ts';
import { validateLabelName, validateLabels } from './object_meta.ts';
import { validateContainerResourceRequirements } from './resources.ts';
import { validatePodOS, validatePodSecurityContext } from './security.ts';
import { validateVolumes } from './volumes.ts';
import { isSet, list, num, objAt, objList, objOr, optNum, optStr, str, strList, strMap, type Obj } from './values.ts';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const MAX_INT32 = 2147483647;

function validateEnum(value: string, valid: readonly string[], fldPath: Path): ErrorList {
  if (valid.includes(value)) return [];
  if (value === '') return [required(fldPath, '')];
  return [notSupported(fldPath, value, valid)];
}

function validateNodeSelectorRequirement(rq: Obj, fldPath: Path, allowInvalidValues: boolean): ErrorList {
  const errs: ErrorList = [];
  const values = strList(rq['values']);
  const op = str(rq['operator']);
  switch (op) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(fldPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(fldPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(required(fldPath.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(fldPath.child('operator'), op, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(rq['key']), fldPath.child('key')));
  if (!allowInvalidValues) {
    values.forEach((v, i) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid(fldPath.child('values').index(i), v, m));
    });
  }
  return errs;
}

function validateNodeSelectorTerm(term: Obj, fldPath: Path, allowInvalidValues: boolean): ErrorList {
  const errs: ErrorList = [];
  objList(term['matchExpressions']).forEach((req, j) => {
    errs.push(...validateNodeSelectorRequirement(req, fldPath.child('matchExpressions').index(j), allowInvalidValues));
  });
  objList(term['matchFields']).forEach((req, j) => {
    const p = fldPath.child('matchFields').index(j);
    const op = str(req['operator']);
    const values = strList(req['values']);
    if (op === 'In' || op === 'NotIn') {
      if (values.length !== 1) errs.push(required(p.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else {
      errs.push(invalid(p.child('operator'), op, 'not a valid selector operator'));
    }
    if (str(req['key']) !== 'metadata.name') {
      errs.push(invalid(p.child('key'), str(req['key']), 'not a valid field selector key'));
    } else {
      values.forEach((v, i) => {
        for (const m of nameIsDNSSubdomain(v, false)) errs.push(invalid(p.child('values').index(i), v, m));
      });
    }
  });
  return errs;
}

/** ValidateNodeSelector (a required node affinity or a PV's node affinity). */
export function validateNodeSelector(sel: Obj, fldPath: Path, allowInvalidValues = false): ErrorList {
  const termsPath = fldPath.child('nodeSelectorTerms');
  const terms = objList(sel['nodeSelectorTerms']);
  if (terms.length === 0) return [required(termsPath, 'must have at least one node selector term')];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, termsPath.index(i), allowInvalidValues));
}

function validateLabelKeys(fldPath: Path, keys: string[], selector: unknown): ErrorList {
  if (keys.length === 0) return [];
  if (!isSet(selector)) return [forbidden(fldPath, 'must not be specified when labelSelector is not set')];
  return keys.flatMap((k, i) => validateLabelName(k, fldPath.index(i)));
}

function validatePodAffinityTerm(term: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [
    ...validateLabelSelector(term['labelSelector'], {}, fldPath.child('labelSelector')),
    ...validateLabelSelector(term['namespaceSelector'], {}, fldPath.child('namespaceSelector')),
  ];
  for (const ns of strList(term['namespaces'])) {
    for (const m of validateNamespaceName(ns, false)) errs.push(invalid(fldPath.child('namespace'), ns, m));
  }
  const matchKeys = strList(term['matchLabelKeys']);
  const mismatchKeys = strList(term['mismatchLabelKeys']);
  errs.push(...validateLabelKeys(fldPath.child('matchLabelKeys'), matchKeys, term['labelSelector']));
  errs.push(...validateLabelKeys(fldPath.child('mismatchLabelKeys'), mismatchKeys, term['labelSelector']));
  const selector = objAt(term, 'labelSelector');
  if (selector) {
    const keyIndex = new Map(matchKeys.map((k, i) => [k, i] as const));
    const selectorKeys = new Set(Object.keys(objOr(selector['matchLabels'])));
    for (const expr of objList(selector['matchExpressions'])) {
      const key = str(expr['key']);
      const i = keyIndex.get(key);
      if (i !== undefined && selectorKeys.has(key)) errs.push(invalid(fldPath.index(i), key, 'exists in both matchLabelKeys and labelSelector'));
      selectorKeys.add(key);
    }
  }
  const mismatch = new Set(mismatchKeys);
  matchKeys.forEach((k, i) => {
    if (mismatch.has(k)) errs.push(invalid(fldPath.child('matchLabelKeys').index(i), k, 'exists in both matchLabelKeys and mismatchLabelKeys'));
  });
  const topologyKey = str(term['topologyKey']);
  if (topologyKey === '') errs.push(required(fldPath.child('topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(topologyKey, fldPath.child('topologyKey')));
  return errs;
}

function validateWeight(weight: unknown, fldPath: Path): ErrorList {
  const w = num(weight);
  return w <= 0 || w > 100 ? [invalid(fldPath, w, 'must be in the range 1-100')] : [];
}

function validateAffinity(affinity: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const na = objAt(affinity, 'nodeAffinity');
  if (na) {
    const p = fldPath.child('nodeAffinity');
    const req = objAt(na, 'requiredDuringSchedulingIgnoredDuringExecution');
    if (req) errs.push(...validateNodeSelector(req, p.child('requiredDuringSchedulingIgnoredDuringExecution')));
    objList(na['preferredDuringSchedulingIgnoredDuringExecution']).forEach((term, i) => {
      const tp = p.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      errs.push(...validateWeight(term['weight'], tp.child('weight')));
      errs.push(...validateNodeSelectorTerm(objOr(term['preference']), tp.child('preference'), true));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = objAt(affinity, kind);
    if (!pa) continue;
    const p = fldPath.child(kind);
    objList(pa['requiredDuringSchedulingIgnoredDuringExecution']).forEach((term, i) => {
      errs.push(...validatePodAffinityTerm(term, p.child('requiredDuringSchedulingIgnoredDuringExecution').index(i)));
    });
    objList(pa['preferredDuringSchedulingIgnoredDuringExecution']).forEach((wt, i) => {
      const tp = p.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      errs.push(...validateWeight(wt['weight'], tp.child('weight')));
      errs.push(...validatePodAffinityTerm(objOr(wt['podAffinityTerm']), tp.child('podAffinityTerm')));
    });
  }
  return errs;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** validateTaintEffect. */
export function validateTaintEffect(effect: string, allowEmpty: boolean, fldPath: Path): ErrorList {
  if (!allowEmpty && effect === '') return [required(fldPath, '')];
  return TAINT_EFFECTS.includes(effect) ? [] : [notSupported(fldPath, effect, TAINT_EFFECTS)];
}

/** ValidateTolerations. */
export function validateTolerations(tolerations: unknown, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  objList(tolerations).forEach((t, i) => {
    const p = fldPath.index(i);
    const key = str(t['key']);
    const op = str(t['operator']);
    const effect = str(t['effect']);
    const value = str(t['value']);
    if (key !== '') errs.push(...validateLabelName(key, p.child('key')));
    if (key === '' && op !== 'Exists') {
      errs.push(invalid(p.child('operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (isSet(t['tolerationSeconds']) && effect !== 'NoExecute') {
      errs.push(invalid(p.child('effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length > 0) errs.push(invalid(p.child('operator'), value, msgs.join(';')));
    } else if (op === 'Exists') {
      if (value !== '') errs.push(invalid(p.child('operator'), value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(p.child('operator'), op, ['Equal', 'Exists']));
    }
    if (effect !== '') errs.push(...validateTaintEffect(effect, true, p.child('effect')));
  });
  return errs;
}

function validateDNSConfig(spec: Obj, fldPath: Path): ErrorList {
  const dnsConfig = objAt(spec, 'dnsConfig');
  if (str(spec['dnsPolicy']) === 'None') {
    if (!dnsConfig) return [required(fldPath, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (list(dnsConfig['nameservers']).length === 0) {
      return [required(fldPath.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (!dnsConfig) return [];
  const errs: ErrorList = [];
  const nameservers = strList(dnsConfig['nameservers']);
  if (nameservers.length > 3) errs.push(invalid(fldPath.child('nameservers'), goStringSlice(nameservers), 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => errs.push(...isValidIP(fldPath.child('nameservers').index(i), ns)));
  const searches = strList(dnsConfig['searches']);
  if (searches.length > 32) errs.push(invalid(fldPath.child('searches'), goStringSlice(searches), 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) {
    errs.push(invalid(fldPath.child('searches'), goStringSlice(searches), 'must not have more than 2048 characters (including spaces) in the search list'));
  }
  searches.forEach((s, i) => {
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(invalid(fldPath.child('searches').index(i), trimmed, m));
  });
  objList(dnsConfig['options']).forEach((o, i) => {
    if (str(o['name']) === '') errs.push(required(fldPath.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

function validateTopologySpreadConstraints(constraints: unknown, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const items = objList(constraints);
  items.forEach((c, i) => {
    const p = fldPath.index(i);
    const maxSkew = num(c['maxSkew']);
    if (maxSkew <= 0) errs.push(invalid(p.child('maxSkew'), maxSkew, 'must be greater than zero'));
    const key = str(c['topologyKey']);
    if (key === '') errs.push(required(p.child('topologyKey'), 'can not be empty'));
    const action = str(c['whenUnsatisfiable']);
    if (action !== 'DoNotSchedule' && action !== 'ScheduleAnyway') {
      errs.push(notSupported(p.child('whenUnsatisfiable'), action, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (items.slice(i + 1).some((o) => str(o['topologyKey']) === key && str(o['whenUnsatisfiable']) === action)) {
      errs.push(duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${key}, ${action}}`));
    }
    const minDomains = optNum(c['minDomains']);
    if (minDomains !== undefined) {
      if (minDomains <= 0) errs.push(invalid(p.child('minDomains'), minDomains, 'must be greater than zero'));
      if (action !== 'DoNotSchedule') errs.push(invalid(p.child('minDomains'), minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`));
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      const v = optStr(c[f]);
      if (v !== undefined && v !== 'Honor' && v !== 'Ignore') errs.push(notSupported(p.child(f), v, ['Honor', 'Ignore']));
    }
    const matchKeys = strList(c['matchLabelKeys']);
    if (matchKeys.length > 0) {
      const selector = objAt(c, 'labelSelector');
      const selectorKeys = new Set<string>();
      if (selector) {
        for (const k of Object.keys(objOr(selector['matchLabels']))) selectorKeys.add(k);
        for (const e of objList(selector['matchExpressions'])) selectorKeys.add(str(e['key']));
      } else {
        errs.push(forbidden(p.child('matchLabelKeys'), 'must not be specified when labelSelector is not set'));
      }
      matchKeys.forEach((k, j) => {
        errs.push(...validateLabelName(k, p.child('matchLabelKeys').index(j)));
        if (selectorKeys.has(k)) errs.push(invalid(p.child('matchLabelKeys').index(j), k, 'exists in both matchLabelKeys and labelSelector'));
      });
    }
    errs.push(...validateLabelSelector(c['labelSelector'], {}, p.child('labelSelector')));
  });
  return errs;
}

function validateHostNetworkDeps(spec: Obj, fldPath: Path, opts: PodOptions): ErrorList {
  if (spec['hostNetwork'] !== true) return [];
  const errs: ErrorList = [];
  objList(spec['containers']).forEach((c, i) => {
    objList(c['ports']).forEach((port, j) => {
      const hp = num(port['hostPort']);
      const cp = num(port['containerPort']);
      if ((opts.resourceIsPod || hp !== 0) && hp !== cp) {
        errs.push(invalid(fldPath.child('containers').index(i).child('ports').index(j).child('hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
      }
    });
  });
  return errs;
}

/** ValidatePodSpec. podName is the Pod's name (empty for templates). */
export function validatePodSpec(specValue: unknown, podName: string, fldPath: Path, opts: PodOptions): ErrorList {
  const spec = objOr(specValue);
  const errs: ErrorList = [];
  const gracePeriod = optNum(spec['terminationGracePeriodSeconds']);
  if (gracePeriod === undefined) errs.push(required(fldPath.child('terminationGracePeriodSeconds'), ''));
  const hostUsers = spec['hostUsers'] !== false;
  const { vols, errs: volErrs } = validateVolumes(spec['volumes'], fldPath.child('volumes'), { podName, resourceIsPod: opts.resourceIsPod });
  errs.push(...volErrs);
  const ctx = { volumes: vols, gracePeriod, opts, hostUsers };
  errs.push(...validateContainers(spec['containers'], fldPath.child('containers'), ctx));
  errs.push(...validateInitContainers(spec['initContainers'], spec['containers'], fldPath.child('initContainers'), ctx));
  errs.push(...validateEphemeralContainers(spec['ephemeralContainers'], spec['containers'], spec['initContainers'], fldPath.child('ephemeralContainers'), ctx));
  errs.push(...validateHostNetworkDeps(spec, fldPath, opts));
  errs.push(...validateEnum(str(spec['restartPolicy']), RESTART_POLICIES, fldPath.child('restartPolicy')));
  errs.push(...validateEnum(str(spec['dnsPolicy']), DNS_POLICIES, fldPath.child('dnsPolicy')));
  errs.push(...validateLabels(strMap(spec['nodeSelector']), fldPath.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec, fldPath.child('securityContext')));
  const affinity = objAt(spec, 'affinity');
  if (affinity) errs.push(...validateAffinity(affinity, fldPath.child('affinity')));
  errs.push(...validateDNSConfig(spec, fldPath.child('dnsConfig')));
  objList(spec['readinessGates']).forEach((g, i) => {
    const ct = str(g['conditionType']);
    errs.push(...validateLabelName(ct, fldPath.child('readinessGates').index(i).child('conditionType')));
  });
  const gates = new Set<string>();
  objList(spec['schedulingGates']).forEach((g, i) => {
    const name = str(g['name']);
    errs.push(...validateLabelName(name, fldPath.child('schedulingGates').index(i)));
    if (gates.has(name)) errs.push(duplicate(fldPath.child('schedulingGates').index(i), name));
    gates.add(name);
  });
  errs.push(...validateTopologySpreadConstraints(spec['topologySpreadConstraints'], fldPath.child('topologySpreadConstraints')));
  if (spec['hostUsers'] === false) {
    if (spec['hostNetwork'] === true) errs.push(forbidden(fldPath.child('hostNetwork'), 'when `pod.Spec.HostUsers` is false'));
    if (spec['hostPID'] === true) errs.push(forbidden(fldPath.child('HostPID'), 'when `pod.Spec.HostUsers` is false'));
    if (spec['hostIPC'] === true) errs.push(forbidden(fldPath.child('HostIPC'), 'when `pod.Spec.HostUsers` is false'));
  }
  const sa = str(spec['serviceAccountName']);
  if (sa !== '') for (const m of validateServiceAccountName(sa, false)) errs.push(invalid(fldPath.child('serviceAccountName'), sa, m));
  const nodeName = str(spec['nodeName']);
  if (nodeName !== '') for (const m of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(fldPath.child('nodeName'), nodeName, m));
  const ads = optNum(spec['activeDeadlineSeconds']);
  if (ads !== undefined && (ads < 1 || ads > MAX_INT32)) errs.push(invalid(fldPath.child('activeDeadlineSeconds'), ads, inclusiveRangeError(1, MAX_INT32)));
  for (const f of ['hostname', 'subdomain']) {
    const v = str(spec[f]);
    if (v !== '') for (const m of isDNS1123Label(v)) errs.push(invalid(fldPath.child(f), v, m));
  }
  errs.push(...validateTolerations(spec['tolerations'], fldPath.child('tolerations')));
  objList(spec['hostAliases']).forEach((alias, i) => {
    const p = fldPath.child('hostAliases').index(i);
    errs.push(...isValidIP(p.child('ip'), str(alias['ip'])));
    strList(alias['hostnames']).forEach((h, j) => {
      for (const m of isDNS1123Subdomain(h)) errs.push(invalid(p.child('hostnames').index(j), h, m));
    });
  });
  const pcn = str(spec['priorityClassName']);
  if (pcn !== '') for (const m of nameIsDNSSubdomain(pcn, false)) errs.push(invalid(fldPath.child('priorityClassName'), pcn, m));
  const rcn = optStr(spec['runtimeClassName']);
  if (rcn !== undefined) for (const m of nameIsDNSSubdomain(rcn, false)) errs.push(invalid(fldPath.child('runtimeClassName'), rcn, m));
  const pp = optStr(spec['preemptionPolicy']);
  if (pp !== undefined) errs.push(...validateEnum(pp, ['PreemptLowerPriority', 'Never'], fldPath.child('preemptionPolicy')));
  if (isSet(spec['overhead'])) errs.push(...validateContainerResourceRequirements({ limits: spec['overhead'] }, fldPath.child('overhead')));
  errs.push(...validatePodOS(spec, fldPath.child('os')));
  return errs;
}
