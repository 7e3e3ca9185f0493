// The rest of apimachinery's meta/v1 validation: metav1.LabelSelector fields (as in Deployment
// spec.selector), request options (dryRun, fieldValidation, fieldManager, delete and patch
// options) and metav1.Condition lists. Same paths, order and messages as upstream.

import {
  duplicate,
  forbidden,
  goValue,
  invalid,
  newPath,
  notSupported,
  required,
  tooLong,
  type ErrorList,
  type Path,
} from '../field_errors.ts';
import { goQuote, utf8Length } from '../go_strings.ts';
import type { LabelSelectorLike, LabelSelectorRequirementLike } from '../labels.ts';
import { isValidLabelValue, regexError } from './names.ts';
import { validateFieldManager, validateLabelName, validateLabels } from './object_meta.ts';

/** Options of validateLabelSelector. */
export interface LabelSelectorValidationOptions {
  /** Tolerate invalid values in matchExpressions (only for data already stored that way). */
  readonly allowInvalidLabelValueInSelector?: boolean;
  /** Let unknown operators through (SubjectAccessReview-style checks). */
  readonly allowUnknownOperatorInRequirement?: boolean;
}

/** True when some matchExpressions value is not a valid label value. */
export function labelSelectorHasInvalidLabelValue(ps: LabelSelectorLike | null | undefined): boolean {
  for (const e of ps?.matchExpressions ?? []) {
    for (const v of e.values ?? []) if (isValidLabelValue(v).length > 0) return true;
  }
  return false;
}

/** One matchExpressions entry: values per operator, key a qualified name, values label values. */
export function validateLabelSelectorRequirement(
  sr: LabelSelectorRequirementLike,
  opts: LabelSelectorValidationOptions,
  fldPath: Path,
): ErrorList {
  const errs: ErrorList = [];
  const values = sr.values ?? [];
  switch (sr.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(fldPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(fldPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      if (!opts.allowUnknownOperatorInRequirement) errs.push(invalid(fldPath.child('operator'), sr.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(sr.key ?? '', fldPath.child('key')));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(v)) errs.push(invalid(fldPath.child('values').index(i), v, msg));
    });
  }
  return errs;
}

/** A metav1.LabelSelector field: matchLabels as labels, then each matchExpressions entry. */
export function validateLabelSelector(
  ps: LabelSelectorLike | null | undefined,
  opts: LabelSelectorValidationOptions,
  fldPath: Path,
): ErrorList {
  if (ps === null || ps === undefined) return [];
  const errs: ErrorList = [...validateLabels(ps.matchLabels, fldPath.child('matchLabels'))];
  (ps.matchExpressions ?? []).forEach((e, i) => {
    errs.push(...validateLabelSelectorRequirement(e, opts, fldPath.child('matchExpressions').index(i)));
  });
  return errs;
}

/** `dryRun` may only hold "All". */
export function validateDryRun(fldPath: Path, dryRun: readonly string[] | null | undefined): ErrorList {
  const values = dryRun ?? [];
  if (values.every((v) => v === 'All')) return [];
  return [notSupported(fldPath, goValue(`[]string{${values.map((v) => goQuote(v)).join(', ')}}`), ['All'])];
}

const fieldValidationValues = ['', 'Ignore', 'Strict', 'Warn'];

/** `fieldValidation` is "", Ignore, Strict or Warn. */
export function validateFieldValidation(fldPath: Path, fieldValidation: string | null | undefined): ErrorList {
  const v = fieldValidation ?? '';
  return fieldValidationValues.includes(v) ? [] : [notSupported(fldPath, v, fieldValidationValues)];
}

/** Query options shared by create and update. */
export interface WriteOptionsLike {
  fieldManager?: string;
  dryRun?: string[] | null;
  fieldValidation?: string;
}

/** ValidateCreateOptions / ValidateUpdateOptions (identical upstream). */
export function validateWriteOptions(opts: WriteOptionsLike): ErrorList {
  return [
    ...validateFieldManager(opts.fieldManager ?? '', newPath('fieldManager')),
    ...validateDryRun(newPath('dryRun'), opts.dryRun),
    ...validateFieldValidation(newPath('fieldValidation'), opts.fieldValidation),
  ];
}

/** Patch query options. */
export interface PatchOptionsLike extends WriteOptionsLike {
  force?: boolean | null;
}

/** ValidatePatchOptions: apply patches need a fieldManager; only they may set force. */
export function validatePatchOptions(opts: PatchOptionsLike, patchType: string): ErrorList {
  const errs: ErrorList = [];
  if (patchType === 'application/apply-patch+yaml' || patchType === 'application/apply-patch+cbor') {
    if ((opts.fieldManager ?? '') === '') errs.push(required(newPath('fieldManager'), 'is required for apply patch'));
  } else if (opts.force !== undefined && opts.force !== null) {
    errs.push(forbidden(newPath('force'), 'may not be specified for non-apply patch'));
  }
  errs.push(...validateWriteOptions(opts));
  return errs;
}

/** metav1.DeleteOptions as JSON. */
export interface DeleteOptionsLike {
  orphanDependents?: boolean | null;
  propagationPolicy?: string | null;
  dryRun?: string[] | null;
  gracePeriodSeconds?: number | null;
  preconditions?: unknown;
  ignoreStoreReadErrorWithClusterBreakingPotential?: boolean | null;
}

/** ValidateDeleteOptions: propagation policy, dryRun, and the unsafe-delete flag's exclusions. */
export function validateDeleteOptions(opts: DeleteOptionsLike): ErrorList {
  const errs: ErrorList = [];
  const policy = opts.propagationPolicy;
  const hasPolicy = policy !== undefined && policy !== null;
  if (opts.orphanDependents !== undefined && opts.orphanDependents !== null && hasPolicy) {
    errs.push(invalid(newPath('propagationPolicy'), policy, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (hasPolicy && policy !== 'Foreground' && policy !== 'Background' && policy !== 'Orphan') {
    errs.push(notSupported(newPath('propagationPolicy'), policy, ['Foreground', 'Background', 'Orphan', 'nil']));
  }
  errs.push(...validateDryRun(newPath('dryRun'), opts.dryRun));
  if (opts.ignoreStoreReadErrorWithClusterBreakingPotential === true) {
    const p = newPath('ignoreStoreReadErrorWithClusterBreakingPotential');
    if ((opts.dryRun ?? []).length > 0) errs.push(invalid(p, true, 'cannot be set together with .dryRun'));
    if (hasPolicy) errs.push(invalid(p, true, 'cannot be set together with .propagationPolicy'));
    if (opts.orphanDependents !== undefined && opts.orphanDependents !== null) errs.push(invalid(p, true, 'cannot be set together with .orphanDependents'));
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds !== null) errs.push(invalid(p, true, 'cannot be set together with .gracePeriodSeconds'));
    if (opts.preconditions !== undefined && opts.preconditions !== null) errs.push(invalid(p, true, 'cannot be set together with .preconditions'));
  }
  return errs;
}

/** Table request option `includeObject`: Metadata, Object, None or empty. */
export function validateTableOptions(includeObject: string | null | undefined): ErrorList {
  const v = includeObject ?? '';
  if (v === '' || v === 'Metadata' || v === 'None' || v === 'Object') return [];
  return [invalid(newPath('includeObject'), v, "must be 'Metadata', 'Object', 'None', or empty")];
}

/** metav1.Condition as JSON. */
export interface ConditionLike {
  type?: string;
  status?: string;
  observedGeneration?: number;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
}

const conditionReasonFmt = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const conditionReasonErrMsg =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const conditionReasonRegexp = new RegExp('^' + conditionReasonFmt + '$');
const maxReasonLen = 1024;
const maxMessageLen = 32 * 1024;

/** One metav1.Condition. */
export function validateCondition(c: ConditionLike, fldPath: Path): ErrorList {
  const errs: ErrorList = [...validateLabelName(c.type ?? '', fldPath.child('type'))];
  const status = c.status ?? '';
  if (status !== 'True' && status !== 'False' && status !== 'Unknown') {
    errs.push(notSupported(fldPath.child('status'), status, ['False', 'True', 'Unknown']));
  }
  const gen = c.observedGeneration ?? 0;
  if (gen < 0) errs.push(invalid(fldPath.child('observedGeneration'), gen, 'must be greater than or equal to zero'));
  if (!c.lastTransitionTime) errs.push(required(fldPath.child('lastTransitionTime'), 'must be set'));
  const reason = c.reason ?? '';
  if (reason.length === 0) {
    errs.push(required(fldPath.child('reason'), 'must be set'));
  } else {
    if (!conditionReasonRegexp.test(reason)) {
      errs.push(
        invalid(
          fldPath.child('reason'),
          reason,
          regexError(conditionReasonErrMsg, conditionReasonFmt, 'my_name', 'MY_NAME', 'MyName', 'ReasonA,ReasonB', 'ReasonA:ReasonB'),
        ),
      );
    }
    if (utf8Length(reason) > maxReasonLen) errs.push(tooLong(fldPath.child('reason'), maxReasonLen));
  }
  if (utf8Length(c.message ?? '') > maxMessageLen) errs.push(tooLong(fldPath.child('message'), maxMessageLen));
  return errs;
}

/** A list of metav1.Conditions: each valid, types unique. */
export function validateConditions(conditions: readonly ConditionLike[] | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const t = c.type ?? '';
    if (seen.has(t)) errs.push(duplicate(fldPath.index(i).child('type'), t));
    else seen.add(t);
    errs.push(...validateCondition(c, fldPath.index(i)));
  });
  return errs;
}
