// apps/v1 workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet) and core ReplicationController:
// selectors that must select the pod template, rollout strategies, and the update rules (selector
// immutable, StatefulSet spec mostly immutable). ObjectMeta is validated by the apiserver.

import { forbidden, goValue, invalid, newPath, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import { isEmpty } from '../labels.ts';
import { goLabelSelector, goIntOrString, goPointerText, goStringMap, goStructText } from './go_format.ts';
import { goQuote } from '../go_strings.ts';
import { isEmptySelector, selectorMatches, selectorOrNull, validateLabelSelector } from './label_selector.ts';
import { isValidPercent } from './names.ts';
import { IsNegativeErrorMsg, validateAnnotations, validateLabels } from './object_meta.ts';
import { validatePodSpecificAnnotations, validatePodTemplateSpec } from './pod.ts';
import { isSet, num, objAt, objOr, optNum, semanticEqual, str, strMap, type Obj } from './values.ts';

const SPEC = newPath('spec');

function nonnegative(v: unknown, fldPath: Path): ErrorList {
  const n = num(v);
  return n < 0 ? [invalid(fldPath, n, IsNegativeErrorMsg)] : [];
}

function optNonnegative(v: unknown, fldPath: Path): ErrorList {
  return optNum(v) === undefined ? [] : nonnegative(v, fldPath);
}

/** ValidatePositiveIntOrPercent. */
function validatePositiveIntOrPercent(v: unknown, fldPath: Path): ErrorList {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalid(fldPath, goIntOrString(v), m));
  return nonnegative(v, fldPath);
}

function percentValue(v: unknown): number | null {
  return typeof v === 'string' && isValidPercent(v).length === 0 ? Number(v.slice(0, -1)) : null;
}

function intOrPercentValue(v: unknown): number {
  const p = percentValue(v);
  if (p !== null) return p;
  if (typeof v === 'string') return /^[+-]?\d+$/.test(v) ? Number(v) : 0;
  return num(v);
}

function notMoreThan100Percent(v: unknown, fldPath: Path): ErrorList {
  const p = percentValue(v);
  return p !== null && p > 100 ? [invalid(fldPath, goIntOrString(v), 'must not be greater than 100%')] : [];
}

/** spec.selector: required, valid and non-empty. */
function validateWorkloadSelector(spec: Obj, kindWord: string): ErrorList {
  const sel = spec['selector'];
  if (!isSet(sel)) return [required(SPEC.child('selector'), '')];
  const errs = validateLabelSelector(sel, {}, SPEC.child('selector'));
  if (isEmptySelector(sel)) errs.push(invalid(SPEC.child('selector'), goLabelSelector(sel), `empty selector is invalid for ${kindWord}`));
  return errs;
}

function templateLabels(spec: Obj): unknown {
  return objAt(spec, 'template', 'metadata')?.['labels'];
}

function selectorDoesNotMatch(path: Path, spec: Obj): ErrorList {
  return [invalid(path, goStringMap(templateLabels(spec)), '`selector` does not match template `labels`')];
}

/** ValidatePodTemplateSpecForReplicaSet (also RC's, with the kind in the activeDeadlineSeconds text). */
function validateTemplateForReplicaSet(spec: Obj, kind: string): ErrorList {
  const errs: ErrorList = [];
  const templatePath = SPEC.child('template');
  const selector = selectorOrNull(spec['selector']);
  if (selector === null) return [invalid(SPEC.child('selector'), goLabelSelector(spec['selector']), 'invalid label selector')];
  if (!isEmpty(selector) && !selectorMatches(selector, templateLabels(spec))) errs.push(...selectorDoesNotMatch(templatePath.child('metadata', 'labels'), spec));
  errs.push(...validatePodTemplateSpec(spec['template'], templatePath));
  errs.push(...restartAlwaysNoDeadline(spec, kind));
  return errs;
}

function restartAlwaysNoDeadline(spec: Obj, kind: string): ErrorList {
  const errs: ErrorList = [];
  const podSpec = objOr(objAt(spec, 'template')?.['spec']);
  const restartPolicy = str(podSpec['restartPolicy']);
  if (restartPolicy !== 'Always') errs.push(notSupported(SPEC.child('template', 'spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (isSet(podSpec['activeDeadlineSeconds'])) {
    errs.push(forbidden(SPEC.child('template', 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

function validateDeploymentStrategy(strategy: Obj, fldPath: Path): ErrorList {
  const type = str(strategy['type']);
  const rolling = objAt(strategy, 'rollingUpdate');
  if (type === 'Recreate') {
    return rolling ? [forbidden(fldPath.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
  }
  if (type === 'RollingUpdate') {
    if (!rolling) return [required(fldPath.child('rollingUpdate'), 'this should be defaulted and never be nil')];
    const p = fldPath.child('rollingUpdate');
    const errs = [
      ...validatePositiveIntOrPercent(rolling['maxUnavailable'], p.child('maxUnavailable')),
      ...validatePositiveIntOrPercent(rolling['maxSurge'], p.child('maxSurge')),
    ];
    if (intOrPercentValue(rolling['maxUnavailable']) === 0 && intOrPercentValue(rolling['maxSurge']) === 0) {
      errs.push(invalid(p.child('maxUnavailable'), goIntOrString(rolling['maxUnavailable']), 'may not be 0 when `maxSurge` is 0'));
    }
    errs.push(...notMoreThan100Percent(rolling['maxUnavailable'], p.child('maxUnavailable')));
    return errs;
  }
  const shown = goStructText('apps.DeploymentStrategy', [['Type', goQuote(type)], ['RollingUpdate', goPointerText('apps.RollingUpdateDeployment', rolling)]]);
  return [notSupported(fldPath, goValue(shown), ['Recreate', 'RollingUpdate'])];
}

/** ValidateDeploymentSpec. */
export function validateDeployment(obj: Obj): ErrorList {
  const spec = objOr(obj['spec']);
  const errs: ErrorList = [
    ...nonnegative(spec['replicas'], SPEC.child('replicas')),
    ...validateWorkloadSelector(spec, 'deployment'),
    ...validateTemplateForReplicaSet(spec, 'ReplicaSet'),
    ...validateDeploymentStrategy(objOr(spec['strategy']), SPEC.child('strategy')),
    ...nonnegative(spec['minReadySeconds'], SPEC.child('minReadySeconds')),
    ...optNonnegative(spec['revisionHistoryLimit'], SPEC.child('revisionHistoryLimit')),
  ];
  const pds = optNum(spec['progressDeadlineSeconds']);
  if (pds !== undefined) {
    errs.push(...nonnegative(pds, SPEC.child('progressDeadlineSeconds')));
    if (pds <= num(spec['minReadySeconds'])) errs.push(invalid(SPEC.child('progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

/** ValidateReplicaSetSpec. */
export function validateReplicaSet(obj: Obj): ErrorList {
  const spec = objOr(obj['spec']);
  return [
    ...nonnegative(spec['replicas'], SPEC.child('replicas')),
    ...nonnegative(spec['minReadySeconds'], SPEC.child('minReadySeconds')),
    ...validateWorkloadSelector(spec, 'deployment'),
    ...validateTemplateForReplicaSet(spec, 'ReplicaSet'),
  ];
}

/** Deployment, ReplicaSet and DaemonSet updates (apps/v1): the spec again, then an immutable selector. */
export function validateSelectorImmutable(obj: Obj, old: Obj): ErrorList {
  const sel = objOr(obj['spec'])['selector'];
  if (semanticEqual(sel, objOr(old['spec'])['selector'])) return [];
  return [invalid(SPEC.child('selector'), goLabelSelector(sel), 'field is immutable')];
}

function validateDaemonSetStrategy(strategy: Obj, fldPath: Path): ErrorList {
  const type = str(strategy['type']);
  const rolling = objAt(strategy, 'rollingUpdate');
  if (type === 'OnDelete') return [];
  if (type === 'RollingUpdate') {
    if (!rolling) return [required(fldPath.child('rollingUpdate'), '')];
    const p = fldPath.child('rollingUpdate');
    const errs = [
      ...validatePositiveIntOrPercent(rolling['maxUnavailable'], p.child('maxUnavailable')),
      ...validatePositiveIntOrPercent(rolling['maxSurge'], p.child('maxSurge')),
      ...notMoreThan100Percent(rolling['maxUnavailable'], p.child('maxUnavailable')),
      ...notMoreThan100Percent(rolling['maxSurge'], p.child('maxSurge')),
    ];
    const hasUnavailable = intOrPercentValue(rolling['maxUnavailable']) !== 0;
    const hasSurge = intOrPercentValue(rolling['maxSurge']) !== 0;
    if (hasUnavailable && hasSurge) errs.push(invalid(p.child('maxSurge'), goIntOrString(rolling['maxSurge']), 'may not be set when maxUnavailable is non-zero'));
    else if (!hasUnavailable && !hasSurge) errs.push(required(p.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
    return errs;
  }
  const shown = goStructText('apps.DaemonSetUpdateStrategy', [['Type', goQuote(type)], ['RollingUpdate', goPointerText('apps.RollingUpdateDaemonSet', rolling)]]);
  return [notSupported(fldPath, goValue(shown), ['RollingUpdate', 'OnDelete'])];
}

/** ValidateDaemonSetSpec. */
export function validateDaemonSet(obj: Obj): ErrorList {
  const spec = objOr(obj['spec']);
  const errs: ErrorList = [...validateLabelSelector(spec['selector'], {}, SPEC.child('selector'))];
  const selector = selectorOrNull(spec['selector']);
  if (selector !== null && !selectorMatches(selector, templateLabels(spec))) {
    errs.push(...selectorDoesNotMatch(SPEC.child('template', 'metadata', 'labels'), spec));
  }
  if (isSet(spec['selector']) && isEmptySelector(spec['selector'])) {
    errs.push(invalid(SPEC.child('selector'), goLabelSelector(spec['selector']), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(spec['template'], SPEC.child('template')));
  errs.push(...restartAlwaysNoDeadline(spec, 'DaemonSet'));
  errs.push(...nonnegative(spec['minReadySeconds'], SPEC.child('minReadySeconds')));
  errs.push(...validateDaemonSetStrategy(objOr(spec['updateStrategy']), SPEC.child('updateStrategy')));
  errs.push(...optNonnegative(spec['revisionHistoryLimit'], SPEC.child('revisionHistoryLimit')));
  return errs;
}

function validateStatefulSetStrategy(strategy: Obj, fldPath: Path): ErrorList {
  const type = str(strategy['type']);
  const rolling = objAt(strategy, 'rollingUpdate');
  const shownRolling = (): string => goStructText('apps.RollingUpdateStatefulSetStrategy', [
    ['Partition', String(num(rolling?.['partition']))], ['MaxUnavailable', goPointerText('intstr.IntOrString', rolling?.['maxUnavailable'])],
  ]);
  switch (type) {
    case '':
      return [required(fldPath, '')];
    case 'OnDelete':
      return rolling ? [invalid(fldPath.child('rollingUpdate'), goValue(shownRolling()), "only allowed for updateStrategy 'RollingUpdate'")] : [];
    case 'RollingUpdate':
      return rolling ? nonnegative(rolling['partition'], fldPath.child('rollingUpdate', 'partition')) : [];
    default: {
      const shown = goStructText('apps.StatefulSetUpdateStrategy', [
        ['Type', goQuote(type)], ['RollingUpdate', goPointerText('apps.RollingUpdateStatefulSetStrategy', rolling)],
      ]);
      return [invalid(fldPath, goValue(shown), "must be 'RollingUpdate' or 'OnDelete'")];
    }
  }
}

/** ValidateStatefulSetSpec (v1.32 leaves the template's pod spec to the controller, as upstream did). */
export function validateStatefulSet(obj: Obj): ErrorList {
  const spec = objOr(obj['spec']);
  const errs: ErrorList = [];
  const policy = str(spec['podManagementPolicy']);
  if (policy === '') errs.push(required(SPEC.child('podManagementPolicy'), ''));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(invalid(SPEC.child('podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  errs.push(...validateStatefulSetStrategy(objOr(spec['updateStrategy']), SPEC.child('updateStrategy')));
  const retention = objAt(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      const v = str(retention[f]);
      if (v !== 'Retain' && v !== 'Delete') errs.push(notSupported(SPEC.child('persistentVolumeClaimRetentionPolicy', f), v, ['Retain', 'Delete']));
    }
  }
  errs.push(...nonnegative(spec['replicas'], SPEC.child('replicas')));
  errs.push(...nonnegative(spec['minReadySeconds'], SPEC.child('minReadySeconds')));
  const ordinals = objAt(spec, 'ordinals');
  if (ordinals) errs.push(...nonnegative(ordinals['start'], SPEC.child('ordinals.start')));
  errs.push(...validateWorkloadSelector(spec, 'statefulset'));
  const selector = selectorOrNull(spec['selector']);
  const templatePath = SPEC.child('template');
  if (selector === null) {
    errs.push(invalid(SPEC.child('selector'), goLabelSelector(spec['selector']), ''));
  } else {
    if (!isEmpty(selector) && !selectorMatches(selector, templateLabels(spec))) errs.push(...selectorDoesNotMatch(templatePath.child('metadata', 'labels'), spec));
    const meta = objOr(objAt(spec, 'template')?.['metadata']);
    errs.push(...validateLabels(strMap(meta['labels']), templatePath.child('labels')));
    errs.push(...validateAnnotations(strMap(meta['annotations']), templatePath.child('annotations')));
    errs.push(...validatePodSpecificAnnotations(meta['annotations'], objOr(objAt(spec, 'template')?.['spec']), templatePath.child('annotations')));
  }
  errs.push(...restartAlwaysNoDeadline(spec, 'StatefulSet'));
  return errs;
}

/** ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy, retention policy and minReadySeconds change. */
export function validateStatefulSetUpdate(obj: Obj, old: Obj): ErrorList {
  const errs = validateStatefulSet(obj);
  const spec = { ...objOr(obj['spec']) };
  const oldSpec = objOr(old['spec']);
  for (const f of ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy']) {
    spec[f] = oldSpec[f];
  }
  if (!semanticEqual(spec, oldSpec)) {
    errs.push(forbidden(SPEC, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

/** ValidateReplicationControllerSpec (core/v1). */
export function validateReplicationController(obj: Obj): ErrorList {
  const spec = objOr(obj['spec']);
  const errs: ErrorList = [...nonnegative(spec['minReadySeconds'], SPEC.child('minReadySeconds'))];
  const selector = strMap(spec['selector']);
  if (Object.keys(selector).length === 0) errs.push(required(SPEC.child('selector'), ''));
  errs.push(...nonnegative(spec['replicas'], SPEC.child('replicas')));
  if (!isSet(spec['template'])) {
    errs.push(required(SPEC.child('template'), ''));
    return errs;
  }
  const templatePath = SPEC.child('template');
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => strMap(templateLabels(spec))[k] === v)) {
    errs.push(...selectorDoesNotMatch(templatePath.child('metadata', 'labels'), spec));
  }
  errs.push(...validatePodTemplateSpec(spec['template'], templatePath));
  errs.push(...restartAlwaysNoDeadline(spec, 'ReplicationController'));
  return errs;
}
