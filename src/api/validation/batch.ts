// batch/v1 Job and CronJob validation beyond ObjectMeta: the generated selector and labels, job
// spec limits (indexed jobs, backoff per index, pod failure and success policies), the template's
// restart policy, CronJob schedules and time zones, and what a Job update may change.

import { duplicate, goValue, invalid, newPath, notSupported, omitValue, required, tooLong, tooMany, type ErrorList, type Path } from '../field_errors.ts';
import { cronScheduleError, isKnownTimeZone } from './cron.ts';
import { goLabelSelector, goStringMap } from './go_format.ts';
import { selectorMatches, selectorOrNull, validateLabelSelector } from './label_selector.ts';
import { isDNS1123Label, isDomainPrefixedPath, maxLenError } from './names.ts';
import { IsNegativeErrorMsg, validateLabelName } from './object_meta.ts';
import { validatePodTemplateSpec } from './pod.ts';
import { isSet, list, num, objAt, objList, objOr, optNum, optStr, semanticEqual, str, strMap, type Obj } from './values.ts';

const SPEC = newPath('spec');
const MAX_PARALLELISM_INDEXED = 100000;
const MAX_FAILED_INDEXES = 100000;
const COMPLETIONS_SOFT_LIMIT = 100000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCESS_POLICY_RULES = 20;

/** Label keys the Job strategy generates. */
export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

function nonnegativeOpt(v: unknown, fldPath: Path): ErrorList {
  const n = optNum(v);
  return n !== undefined && n < 0 ? [invalid(fldPath, n, IsNegativeErrorMsg)] : [];
}

function hasLabel(meta: Obj, fldPath: Path, key: string, expected: string): ErrorList {
  const labels = strMap(meta['labels']);
  if (!(key in labels)) return [required(fldPath.child('labels').key(key), `must be '${expected}'`)];
  if (labels[key] !== expected) return [invalid(fldPath.child('labels').key(key), goStringMap(meta['labels']), `must be '${expected}'`)];
  return [];
}

function validateGeneratedSelector(job: Obj, requirePrefixedLabels: boolean): ErrorList {
  const spec = objOr(job['spec']);
  if (spec['manualSelector'] === true || !isSet(spec['selector'])) return [];
  const meta = objOr(job['metadata']);
  const uid = str(meta['uid']);
  const name = str(meta['name']);
  const errs: ErrorList = [];
  if (uid === '') errs.push(required(newPath('metadata', 'uid'), ''));
  const templateMeta = objOr(objAt(spec, 'template')?.['metadata']);
  const tp = SPEC.child('template', 'metadata');
  errs.push(...hasLabel(templateMeta, tp, JOB_LABELS.legacyControllerUid, uid));
  errs.push(...hasLabel(templateMeta, tp, JOB_LABELS.legacyJobName, name));
  const expected: Record<string, string> = {};
  if (requirePrefixedLabels) {
    errs.push(...hasLabel(templateMeta, tp, JOB_LABELS.controllerUid, uid));
    errs.push(...hasLabel(templateMeta, tp, JOB_LABELS.jobName, name));
    expected[JOB_LABELS.controllerUid] = uid;
    expected[JOB_LABELS.jobName] = name;
  }
  expected[JOB_LABELS.legacyControllerUid] = uid;
  expected[JOB_LABELS.legacyJobName] = name;
  const selector = selectorOrNull(spec['selector']);
  if (selector !== null && !selectorMatches(selector, expected)) {
    errs.push(invalid(SPEC.child('selector'), goLabelSelector(spec['selector']), '`selector` not auto-generated'));
  }
  return errs;
}

function validatePodFailurePolicy(spec: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const rules = objList(objAt(spec, 'podFailurePolicy')?.['rules']);
  const rulesPath = fldPath.child('rules');
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const template = objOr(objAt(spec, 'template', 'spec'));
  const containerNames = new Set([...objList(template['containers']), ...objList(template['initContainers'])].map((c) => str(c['name'])));
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  rules.forEach((rule, i) => {
    const rulePath = rulesPath.index(i);
    const action = str(rule['action']);
    if (action === '') errs.push(required(rulePath.child('action'), `valid values: ["${actions.join('" "')}"]`));
    else if (action === 'FailIndex') {
      if (!isSet(spec['backoffLimitPerIndex'])) errs.push(invalid(rulePath.child('action'), action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!actions.includes(action)) errs.push(notSupported(rulePath.child('action'), action, actions));
    const onExitCodes = objAt(rule, 'onExitCodes');
    const onPodConditions = objList(rule['onPodConditions']);
    if (onExitCodes) {
      const p = rulePath.child('onExitCodes');
      const op = str(onExitCodes['operator']);
      if (op === '') errs.push(required(p.child('operator'), 'valid values: ["In" "NotIn"]'));
      else if (op !== 'In' && op !== 'NotIn') errs.push(notSupported(p.child('operator'), op, ['In', 'NotIn']));
      const containerName = optStr(onExitCodes['containerName']);
      if (containerName !== undefined && !containerNames.has(containerName)) {
        errs.push(invalid(p.child('containerName'), containerName, 'must be one of the container or initContainer names in the pod template'));
      }
      const values = list(onExitCodes['values']).map(num);
      const vp = p.child('values');
      if (values.length === 0) errs.push(invalid(vp, goValue('[]int32{}'), 'at least one value is required'));
      else if (values.length > MAX_ON_EXIT_CODES_VALUES) errs.push(tooMany(vp, values.length, MAX_ON_EXIT_CODES_VALUES));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (op === 'In' && v === 0) errs.push(invalid(vp.index(j), v, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(duplicate(vp.index(j), v));
        else seen.add(v);
        if (j > 0 && (values[j - 1] as number) > v) ordered = false;
      });
      if (!ordered) errs.push(invalid(vp, goValue(`[]int32{${values.join(', ')}}`), 'must be ordered'));
    }
    if (onPodConditions.length > 0) {
      const p = rulePath.child('onPodConditions');
      if (onPodConditions.length > MAX_ON_POD_CONDITIONS) errs.push(tooMany(p, onPodConditions.length, MAX_ON_POD_CONDITIONS));
      onPodConditions.forEach((pattern, j) => {
        errs.push(...validateLabelName(str(pattern['type']), p.index(j).child('type')));
        const status = str(pattern['status']);
        if (status === '') errs.push(required(p.index(j).child('status'), 'valid values: ["False" "True" "Unknown"]'));
        else if (!['False', 'True', 'Unknown'].includes(status)) errs.push(notSupported(p.index(j).child('status'), status, ['False', 'True', 'Unknown']));
      });
    }
    if (onExitCodes && onPodConditions.length > 0) errs.push(invalid(rulePath, omitValue, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExitCodes && onPodConditions.length === 0) errs.push(invalid(rulePath, omitValue, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

function validateJobSpecCommon(spec: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex']) {
    errs.push(...nonnegativeOpt(spec[f], fldPath.child(f)));
  }
  const parallelism = optNum(spec['parallelism']);
  const completions = optNum(spec['completions']);
  const maxFailed = optNum(spec['maxFailedIndexes']);
  const perIndex = optNum(spec['backoffLimitPerIndex']);
  if (maxFailed !== undefined) {
    errs.push(...nonnegativeOpt(maxFailed, fldPath.child('maxFailedIndexes')));
    if (perIndex === undefined) errs.push(required(fldPath.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  const managedBy = optStr(spec['managedBy']);
  if (managedBy !== undefined) {
    errs.push(...isDomainPrefixedPath(fldPath.child('managedBy'), managedBy));
    if (managedBy.length > MAX_MANAGED_BY_LENGTH) errs.push(tooLong(fldPath.child('managedBy'), MAX_MANAGED_BY_LENGTH));
  }
  const mode = optStr(spec['completionMode']);
  if (mode !== undefined) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(fldPath.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (completions === undefined) errs.push(required(fldPath.child('completions'), 'when completion mode is Indexed'));
      if (parallelism !== undefined && parallelism > MAX_PARALLELISM_INDEXED) {
        errs.push(invalid(fldPath.child('parallelism'), parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
      if (completions !== undefined && maxFailed !== undefined && maxFailed > completions) {
        errs.push(invalid(fldPath.child('maxFailedIndexes'), maxFailed, 'must be less than or equal to completions'));
      }
      if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES) {
        errs.push(invalid(fldPath.child('maxFailedIndexes'), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
      }
      if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && perIndex !== undefined) {
        if (maxFailed === undefined) errs.push(required(fldPath.child('maxFailedIndexes'), `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
        if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS) {
          errs.push(invalid(fldPath.child('parallelism'), parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`));
        }
        if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_HIGH_COMPLETIONS) {
          errs.push(invalid(fldPath.child('maxFailedIndexes'), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`));
        }
      }
    }
  }
  if (mode === undefined || mode === 'NonIndexed') {
    if (perIndex !== undefined) errs.push(invalid(fldPath.child('backoffLimitPerIndex'), perIndex, 'requires indexed completion mode'));
    if (maxFailed !== undefined) errs.push(invalid(fldPath.child('maxFailedIndexes'), maxFailed, 'requires indexed completion mode'));
  }
  if (isSet(spec['podFailurePolicy'])) errs.push(...validatePodFailurePolicy(spec, fldPath.child('podFailurePolicy')));
  const successPolicy = objAt(spec, 'successPolicy');
  if (successPolicy) {
    const p = fldPath.child('successPolicy');
    if (mode !== 'Indexed') {
      errs.push(invalid(p, goValue('batch.SuccessPolicy{...}'), 'requires indexed completion mode'));
    } else {
      const rules = objList(successPolicy['rules']);
      if (rules.length === 0) errs.push(required(p.child('rules'), 'at least one rules must be specified when the successPolicy is specified'));
      if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(p.child('rules'), rules.length, MAX_SUCCESS_POLICY_RULES));
      rules.forEach((rule, i) => {
        const rp = p.child('rules').index(i);
        if (!isSet(rule['succeededCount']) && !isSet(rule['succeededIndexes'])) {
          errs.push(required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
        }
        const count = optNum(rule['succeededCount']);
        if (count !== undefined) {
          errs.push(...nonnegativeOpt(count, rp.child('succeededCount')));
          if (completions !== undefined && count > completions) {
            errs.push(invalid(rp.child('succeededCount'), count, `must be less than or equal to ${completions} (the number of specified completions)`));
          }
        }
      });
    }
  }
  const replacement = optStr(spec['podReplacementPolicy']);
  if (replacement !== undefined) {
    if (isSet(spec['podFailurePolicy'])) {
      if (replacement !== 'Failed') errs.push(notSupported(fldPath.child('podReplacementPolicy'), replacement, ['Failed']));
    } else if (replacement !== 'Failed' && replacement !== 'TerminatingOrFailed') {
      errs.push(notSupported(fldPath.child('podReplacementPolicy'), replacement, ['Failed', 'TerminatingOrFailed']));
    }
  }
  errs.push(...validatePodTemplateSpec(spec['template'], fldPath.child('template')));
  const restartPolicy = str(objAt(spec, 'template', 'spec')?.['restartPolicy']);
  const rpPath = fldPath.child('template', 'spec', 'restartPolicy');
  if (restartPolicy === 'Always' || restartPolicy === '') {
    errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported(rpPath, restartPolicy, ['OnFailure', 'Never']));
  } else if (isSet(spec['podFailurePolicy']) && restartPolicy !== 'Never') {
    errs.push(invalid(rpPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

function validateJobSpec(spec: Obj): ErrorList {
  const errs = validateJobSpecCommon(spec, SPEC);
  if (!isSet(spec['selector'])) errs.push(required(SPEC.child('selector'), ''));
  else errs.push(...validateLabelSelector(spec['selector'], {}, SPEC.child('selector')));
  const selector = selectorOrNull(spec['selector']);
  if (selector !== null && !selectorMatches(selector, objAt(spec, 'template', 'metadata')?.['labels'])) {
    errs.push(invalid(SPEC.child('template', 'metadata', 'labels'), goStringMap(objAt(spec, 'template', 'metadata')?.['labels']), '`selector` does not match template `labels`'));
  }
  return errs;
}

function prefixedLabelsRequired(old: Obj | null): boolean {
  if (old === null) return true;
  const labels = strMap(objAt(old, 'spec', 'template', 'metadata')?.['labels']);
  return JOB_LABELS.jobName in labels && JOB_LABELS.controllerUid in labels;
}

/** ValidateJob (old is the stored Job on update, for the label requirement). */
export function validateJob(job: Obj, old: Obj | null = null): ErrorList {
  const spec = objOr(job['spec']);
  const errs = [...validateGeneratedSelector(job, prefixedLabelsRequired(old)), ...validateJobSpec(spec)];
  const completions = optNum(spec['completions']);
  if (str(spec['completionMode']) === 'Indexed' && completions !== undefined && completions > 0) {
    const name = str(objOr(job['metadata'])['name']);
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(invalid(newPath('metadata', 'name'), name, `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

function immutable(newVal: unknown, oldVal: unknown, shown: unknown, fldPath: Path): ErrorList {
  return semanticEqual(newVal, oldVal) ? [] : [invalid(fldPath, shown, 'field is immutable')];
}

/** The Job strategy's update validation: ValidateJob, then ValidateJobUpdate's spec rules. */
export function validateJobUpdate(job: Obj, old: Obj): ErrorList {
  const spec = objOr(job['spec']);
  const oldSpec = objOr(old['spec']);
  const errs = [...validateJob(job, old), ...validateJobSpec(spec)];
  const mode = str(spec['completionMode']);
  const completions = optNum(spec['completions']);
  if (mode !== 'Indexed') {
    errs.push(...immutable(completions, optNum(oldSpec['completions']), completions ?? null, SPEC.child('completions')));
  } else if (completions !== undefined && completions !== optNum(oldSpec['completions']) && completions !== optNum(spec['parallelism'])) {
    errs.push(invalid(SPEC.child('completions'), completions, 'can only be modified in tandem with spec.parallelism'));
  }
  errs.push(...immutable(spec['selector'], oldSpec['selector'], goLabelSelector(spec['selector']), SPEC.child('selector')));
  const template = objOr(spec['template']);
  let oldTemplate = objOr(oldSpec['template']);
  const suspended = oldSpec['suspend'] === true;
  if (suspended && !isSet(objAt(old, 'status')?.['startTime'])) {
    // Suspended jobs that never started may change their scheduling directives.
    oldTemplate = JSON.parse(JSON.stringify(oldTemplate)) as Obj;
    const ots = objOr(oldTemplate['spec']);
    const ts = objOr(template['spec']);
    oldTemplate['spec'] = { ...ots, nodeSelector: ts['nodeSelector'], tolerations: ts['tolerations'], schedulingGates: ts['schedulingGates'] };
    const aff = objAt(ts, 'affinity');
    const oldAff = objAt(ots, 'affinity');
    if (aff || oldAff) (oldTemplate['spec'] as Obj)['affinity'] = { ...objOr(oldAff), nodeAffinity: aff?.['nodeAffinity'] };
    oldTemplate['metadata'] = { ...objOr(oldTemplate['metadata']), labels: objAt(template, 'metadata')?.['labels'], annotations: objAt(template, 'metadata')?.['annotations'] };
  }
  errs.push(...immutable(template, oldTemplate, goValue('core.PodTemplateSpec{...}'), SPEC.child('template')));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    const v = spec[f];
    const shown = typeof v === 'string' || typeof v === 'number' ? v : isSet(v) ? goValue(`${f}{...}`) : null;
    errs.push(...immutable(v, oldSpec[f], shown, SPEC.child(f)));
  }
  return errs;
}

function validateTimeZone(tz: unknown, fldPath: Path): ErrorList {
  if (typeof tz !== 'string') return [];
  if (tz === '') return [invalid(fldPath, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part)) {
      return [invalid(fldPath, tz, `unknown time zone ${tz}`)];
    }
  }
  const errs: ErrorList = [];
  if (tz.toLowerCase() === 'local') errs.push(invalid(fldPath, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isKnownTimeZone(tz)) errs.push(invalid(fldPath, tz, `unknown time zone ${tz}`));
  return errs;
}

function validateCronJobSpec(spec: Obj, oldSpec: Obj | null): ErrorList {
  const errs: ErrorList = [];
  const schedule = str(spec['schedule']);
  const sp = SPEC.child('schedule');
  if (schedule === '') {
    errs.push(required(sp, ''));
  } else {
    const e = cronScheduleError(schedule);
    if (e !== null) errs.push(invalid(sp, schedule, e));
    const allowTZ = oldSpec !== null && str(oldSpec['schedule']).includes('TZ');
    if (allowTZ && schedule.includes('TZ') && isSet(spec['timeZone'])) {
      errs.push(invalid(sp, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(invalid(sp, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  errs.push(...nonnegativeOpt(spec['startingDeadlineSeconds'], SPEC.child('startingDeadlineSeconds')));
  if (oldSpec === null || optStr(oldSpec['timeZone']) !== optStr(spec['timeZone'])) {
    errs.push(...validateTimeZone(spec['timeZone'], SPEC.child('timeZone')));
  }
  const policy = str(spec['concurrencyPolicy']);
  if (policy === '') errs.push(required(SPEC.child('concurrencyPolicy'), ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupported(SPEC.child('concurrencyPolicy'), policy, ['Allow', 'Forbid', 'Replace']));
  const jt = SPEC.child('jobTemplate');
  const jobSpec = objOr(objAt(spec, 'jobTemplate')?.['spec']);
  errs.push(...validateJobSpecCommon(jobSpec, jt.child('spec')));
  if (isSet(jobSpec['selector'])) errs.push(invalid(jt.child('spec', 'selector'), goLabelSelector(jobSpec['selector']), '`selector` will be auto-generated'));
  if (jobSpec['manualSelector'] === true) errs.push(notSupported(jt.child('spec', 'manualSelector'), true, ['nil', 'false']));
  errs.push(...nonnegativeOpt(spec['successfulJobsHistoryLimit'], SPEC.child('successfulJobsHistoryLimit')));
  errs.push(...nonnegativeOpt(spec['failedJobsHistoryLimit'], SPEC.child('failedJobsHistoryLimit')));
  return errs;
}

/** ValidateCronJobCreate without ObjectMeta: the spec, then the 52-character name limit. */
export function validateCronJob(cj: Obj): ErrorList {
  const errs = validateCronJobSpec(objOr(cj['spec']), null);
  const name = str(objOr(cj['metadata'])['name']);
  if (name.length > 52) errs.push(invalid(newPath('metadata', 'name'), name, maxLenError(52)));
  return errs;
}

/** ValidateCronJobUpdate without ObjectMeta. */
export function validateCronJobUpdate(cj: Obj, old: Obj): ErrorList {
  return validateCronJobSpec(objOr(cj['spec']), objOr(old['spec']));
}
