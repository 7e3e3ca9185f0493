// metav1.LabelSelector validation (apimachinery meta/v1/validation) and the "does the selector
// select the pod template" check every workload kind shares.

import { forbidden, invalid, required, type ErrorList, type Path } from '../field_errors.ts';
import { LabelSelectorError, labelSelectorAsSelector, matches, type LabelSelectorLike, type Selector } from '../labels.ts';
import { isValidLabelValue } from './names.ts';
import { validateLabelName, validateLabels } from './object_meta.ts';
import { isObj, list, objList, objOr, str, strMap } from './values.ts';

/** LabelSelectorValidationOptions. */
export interface LabelSelectorOptions {
  readonly allowInvalidLabelValueInSelector?: boolean;
}

/** ValidateLabelSelectorRequirement. */
export function validateLabelSelectorRequirement(sr: unknown, opts: LabelSelectorOptions, fldPath: Path): ErrorList {
  const r = objOr(sr);
  const errs: ErrorList = [];
  const operator = str(r['operator']);
  const values = list(r['values']);
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push(required(fldPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(forbidden(fldPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    default:
      errs.push(invalid(fldPath.child('operator'), operator, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(r['key']), fldPath.child('key')));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(str(v))) errs.push(invalid(fldPath.child('values').index(i), str(v), msg));
    });
  }
  return errs;
}

/** ValidateLabelSelector: nothing for a nil selector. */
export function validateLabelSelector(sel: unknown, opts: LabelSelectorOptions, fldPath: Path): ErrorList {
  if (!isObj(sel)) return [];
  const errs: ErrorList = [...validateLabels(strMap(sel['matchLabels']), fldPath.child('matchLabels'))];
  objList(sel['matchExpressions']).forEach((e, i) => {
    errs.push(...validateLabelSelectorRequirement(e, opts, fldPath.child('matchExpressions').index(i)));
  });
  return errs;
}

/** metav1.LabelSelectorAsSelector, or null where upstream returns an error. */
export function selectorOrNull(sel: unknown): Selector | null {
  try {
    return labelSelectorAsSelector(isObj(sel) ? (sel as LabelSelectorLike) : null);
  } catch (e) {
    if (e instanceof LabelSelectorError) return null;
    throw e;
  }
}

/** selector.Matches(labels.Set(m)). */
export function selectorMatches(sel: Selector, m: unknown): boolean {
  return matches(sel, strMap(m));
}

/** len(matchLabels)+len(matchExpressions) == 0. */
export function isEmptySelector(sel: unknown): boolean {
  const s = objOr(sel);
  return Object.keys(objOr(s['matchLabels'])).length + list(s['matchExpressions']).length === 0;
}
