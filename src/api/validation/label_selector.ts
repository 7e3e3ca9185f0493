// metav1.LabelSelector validation (apimachinery meta/v1/validation) and the "does the selector
// select the pod template" check every workload kind shares.

import type { ErrorList, Path } from '../field_errors.ts';
import { LabelSelectorError, labelSelectorAsSelector, matches, type LabelSelectorLike, type Selector } from '../labels.ts';
import { validateLabelSelector as validateMetaLabelSelector, type LabelSelectorValidationOptions } from './meta_v1.ts';
import { isObj, list, objList, objOr, str, strMap } from './values.ts';

/** LabelSelectorValidationOptions. */
export type LabelSelectorOptions = LabelSelectorValidationOptions;

/** ValidateLabelSelector on a decoded value: nothing for a nil selector. */
export function validateLabelSelector(sel: unknown, opts: LabelSelectorOptions, fldPath: Path): ErrorList {
  if (!isObj(sel)) return [];
  const typed: LabelSelectorLike = {
    matchLabels: strMap(sel['matchLabels']),
    matchExpressions: objList(sel['matchExpressions']).map((e) => ({
      key: str(e['key']),
      operator: str(e['operator']),
      values: list(e['values']).map(str),
    })),
  };
  return validateMetaLabelSelector(typed, opts, fldPath);
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
