// Go's %#v rendering of the internal API values that upstream validation puts into messages
// (maps, slices, label selectors, IntOrString, small structs), so "Invalid value: ..." reads the
// same as against upstream. Pointers inside structs print as an address we cannot know; a fixed
// placeholder stands in for it.

import { goValue, type GoValue } from '../field_errors.ts';
import { compareGoStrings, goQuote } from '../go_strings.ts';
import { isObj, objOr, str } from './values.ts';

/** The address Go would print for a set pointer field (unknowable here; fixed for stable output). */
export const GO_POINTER = '0xc000000000';

/** %#v of a map[string]string: `map[string]string{"a":"b"}`, nil as `map[string]string(nil)`. */
export function goStringMapText(m: unknown, type = 'map[string]string'): string {
  if (!isObj(m)) return `${type}(nil)`;
  const keys = Object.keys(m).sort(compareGoStrings);
  return `${type}{${keys.map((k) => `${goQuote(k)}:${goQuote(str(m[k]))}`).join(', ')}}`;
}

/** %#v of a []string, nil as `[]string(nil)`. */
export function goStringSliceText(v: unknown, type = '[]string'): string {
  if (!Array.isArray(v)) return `${type}(nil)`;
  return `${type}{${v.map((s) => goQuote(str(s))).join(', ')}}`;
}

/** %#v of a struct: `pkg.Type{A:x, B:y}` from already-rendered field values. */
export function goStructText(type: string, fields: ReadonlyArray<readonly [string, string]>): string {
  return `${type}{${fields.map(([k, v]) => `${k}:${v}`).join(', ')}}`;
}

/** %#v of a pointer field: `(*T)(nil)` or an address. */
export function goPointerText(type: string, v: unknown): string {
  return v === undefined || v === null ? `(*${type})(nil)` : `(*${type})(${GO_POINTER})`;
}

/** %#v of a metav1.LabelSelector (as a dereferenced *LabelSelector bad value). */
export function goLabelSelectorText(sel: unknown): string {
  const s = objOr(sel);
  const exprs = s['matchExpressions'];
  const exprText = Array.isArray(exprs)
    ? `[]v1.LabelSelectorRequirement{${exprs
        .map((e) => {
          const r = objOr(e);
          return goStructText('v1.LabelSelectorRequirement', [
            ['Key', goQuote(str(r['key']))],
            ['Operator', goQuote(str(r['operator']))],
            ['Values', goStringSliceText(r['values'])],
          ]);
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return goStructText('v1.LabelSelector', [
    ['MatchLabels', goStringMapText(s['matchLabels'])],
    ['MatchExpressions', exprText],
  ]);
}

/** %#v of an intstr.IntOrString. */
export function goIntOrStringText(v: unknown): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`;
  const n = typeof v === 'number' ? v : 0;
  return `intstr.IntOrString{Type:0, IntVal:${n}, StrVal:""}`;
}

/** map[string]string bad value. */
export function goStringMap(m: unknown): GoValue {
  return goValue(goStringMapText(m));
}

/** []string bad value (nil-aware). */
export function goStringSlice(v: unknown): GoValue {
  return goValue(goStringSliceText(v));
}

/** *metav1.LabelSelector bad value ("null" when nil, as upstream prints a nil pointer). */
export function goLabelSelector(sel: unknown): GoValue | null {
  return isObj(sel) ? goValue(goLabelSelectorText(sel)) : null;
}

/** intstr.IntOrString bad value. */
export function goIntOrString(v: unknown): GoValue {
  return goValue(goIntOrStringText(v));
}
