// Field and label selectors as authorizers see them (AuthorizeWithSelectors, beta and on in v1.32):
// parsed requirements from a list/watch request's query, or from an access review's
// resourceAttributes.fieldSelector / labelSelector, with upstream's validation, partial parsing and
// evaluationError texts (pkg/registry/authorization/util, pkg/apis/authorization/validation).
import { forbidden, invalid, required, type ErrorList, type Path } from '../../api/field_errors.ts';
import { parseFieldSelector, type FieldTerm } from '../../api/fields.ts';
import { newRequirement, parseSelector, type Requirement } from '../../api/labels.ts';
import { goQuote } from '../../api/go_strings.ts';
import { validateLabelSelectorRequirement } from '../../api/validation/meta_v1.ts';
import type { Attributes } from './authorizer.ts';

/** metav1.FieldSelectorRequirement / LabelSelectorRequirement as JSON. */
export interface SelectorRequirementJson {
  key?: string;
  operator?: string;
  values?: string[] | null;
}

/** authorizationv1.FieldSelectorAttributes / LabelSelectorAttributes as JSON. */
export interface SelectorAttributesJson {
  rawSelector?: string;
  requirements?: SelectorRequirementJson[] | null;
}

/** What the selectors of a request or review tell the authorizers. */
export interface SelectorRequirements {
  readonly fieldSelectorRequirements?: readonly FieldTerm[];
  /** Why (some of) the field selector was not understood; requirements that parsed still count. */
  readonly fieldSelectorError?: string;
  readonly labelSelectorRequirements?: readonly Requirement[];
  readonly labelSelectorError?: string;
}

function selectorOf(v: unknown): SelectorAttributesJson | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as SelectorAttributesJson) : undefined;
}

function requirementsOf(s: SelectorAttributesJson): SelectorRequirementJson[] {
  return Array.isArray(s.requirements) ? s.requirements.filter((r) => typeof r === 'object' && r !== null) : [];
}

function validateRawVersusRequirements(s: SelectorAttributesJson, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const raw = s.rawSelector ?? '';
  const n = requirementsOf(s).length;
  if (raw !== '' && n > 0) errs.push(invalid(fldPath.child('rawSelector'), raw, 'may not specified at the same time as requirements'));
  if (raw === '' && n === 0) errs.push(required(fldPath.child('requirements'), `when ${fldPath.toString()} is specified, requirements or rawSelector is required`));
  return errs;
}

function validateFieldSelectorRequirement(r: SelectorRequirementJson, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const values = r.values ?? [];
  if ((r.key ?? '') === '') errs.push(required(fldPath.child('key'), 'must be specified'));
  switch (r.operator) {
    case 'In': case 'NotIn':
      if (values.length === 0) errs.push(required(fldPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists': case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(fldPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default: break; // unknown operators pass validation, so newer clients can still be authorized
  }
  return errs;
}

/** Validation of resourceAttributes.fieldSelector and .labelSelector (`path` is spec.resourceAttributes). */
export function validateSelectorAttributes(resourceAttributes: Record<string, unknown>, path: Path): ErrorList {
  const errs: ErrorList = [];
  const field = selectorOf(resourceAttributes['fieldSelector']);
  if (field) {
    const p = path.child('fieldSelector');
    errs.push(...validateRawVersusRequirements(field, p));
    requirementsOf(field).forEach((r, i) => errs.push(...validateFieldSelectorRequirement(r, p.child('requirements').index(i))));
  }
  const label = selectorOf(resourceAttributes['labelSelector']);
  if (label) {
    const p = path.child('labelSelector');
    errs.push(...validateRawVersusRequirements(label, p));
    requirementsOf(label).forEach((r, i) => errs.push(...validateLabelSelectorRequirement(r, { allowUnknownOperatorInRequirement: true }, p.child('requirements').index(i))));
  }
  return errs;
}

/** Requirements from structured field selector requirements; unusable ones are dropped and reported. */
function fieldRequirementsFrom(reqs: readonly SelectorRequirementJson[]): { reqs: FieldTerm[]; errors: string[] } {
  const out: FieldTerm[] = [];
  const errors: string[] = [];
  for (const r of reqs) {
    const values = r.values ?? [];
    if (values.length > 1) {
      errors.push('fieldSelectors do not yet support multiple values');
      continue;
    }
    switch (r.operator) {
      case 'In':
        if (values.length !== 1) errors.push('fieldSelectors in must have one value');
        else out.push({ field: r.key ?? '', operator: '=', value: values[0]! });
        break;
      case 'NotIn':
        if (values.length !== 1) errors.push('fieldSelectors not in must have one value');
        else out.push({ field: r.key ?? '', operator: '!=', value: values[0]! });
        break;
      case 'Exists': case 'DoesNotExist':
        errors.push(`fieldSelectors do not yet support ${r.operator}`);
        break;
      default:
        errors.push(`${goQuote(r.operator ?? '')} is not a valid field selector operator`);
    }
  }
  return { reqs: out, errors };
}

const LABEL_OPERATORS: Readonly<Record<string, string>> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

function labelRequirementsFrom(reqs: readonly SelectorRequirementJson[]): { reqs: Requirement[]; errors: string[] } {
  const out: Requirement[] = [];
  const errors: string[] = [];
  for (const r of reqs) {
    const op = Object.prototype.hasOwnProperty.call(LABEL_OPERATORS, r.operator ?? '') ? LABEL_OPERATORS[r.operator ?? ''] : undefined;
    if (op === undefined) {
      errors.push(`${goQuote(r.operator ?? '')} is not a valid label selector operator`);
      continue;
    }
    try {
      out.push(newRequirement(r.key ?? '', op, r.values ?? []));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { reqs: out, errors };
}

/** utilerrors.NewAggregate's text: one error as is, several as a bracketed list. */
function aggregate(errors: readonly string[]): string | undefined {
  if (errors.length === 0) return undefined;
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}

/**
 * One selector of an access review: its raw form parsed (an error when it does not parse), then its
 * structured requirements, which replace the raw ones and their error when present.
 */
function reviewSelector<T>(
  sel: SelectorAttributesJson | undefined,
  parseRaw: (raw: string) => readonly T[],
  fromStructured: (reqs: readonly SelectorRequirementJson[]) => { reqs: T[]; errors: string[] },
): { reqs?: readonly T[]; error?: string } {
  const out: { reqs?: readonly T[]; error?: string } = {};
  if (!sel) return out;
  if ((sel.rawSelector ?? '') !== '') {
    try {
      out.reqs = parseRaw(sel.rawSelector!);
    } catch (err) {
      out.error = (err as Error).message;
    }
  }
  const structured = requirementsOf(sel);
  if (structured.length > 0) {
    const { reqs, errors } = fromStructured(structured);
    out.reqs = reqs;
    const error = aggregate(errors);
    if (error !== undefined) out.error = error;
    else delete out.error;
  }
  return out;
}

/** The requirements an access review's resourceAttributes carry (ResourceAttributesFrom). */
export function reviewSelectors(resourceAttributes: Record<string, unknown>): SelectorRequirements {
  const out: { -readonly [K in keyof SelectorRequirements]: SelectorRequirements[K] } = {};
  const label = reviewSelector(selectorOf(resourceAttributes['labelSelector']), (raw) => parseSelector(raw).requirements, labelRequirementsFrom);
  if (label.reqs !== undefined) out.labelSelectorRequirements = label.reqs;
  if (label.error !== undefined) out.labelSelectorError = label.error;
  const field = reviewSelector(selectorOf(resourceAttributes['fieldSelector']), (raw) => parseFieldSelector(raw).terms, fieldRequirementsFrom);
  if (field.reqs !== undefined) out.fieldSelectorRequirements = field.reqs;
  if (field.error !== undefined) out.fieldSelectorError = field.error;
  return out;
}

/** The requirements of a list/watch request's raw `fieldSelector` (unparsable: none, and the error). */
export function requestFieldSelector(raw: string): SelectorRequirements {
  if (raw === '') return {};
  try {
    return { fieldSelectorRequirements: parseFieldSelector(raw).terms };
  } catch (err) {
    return { fieldSelectorError: (err as Error).message };
  }
}

/** Attributes that may carry a raw request field selector (set by the request path for list/watch). */
interface WithRawFieldSelector extends Attributes {
  readonly fieldSelector?: string;
}

/** The field selector requirements authorizers should see for these attributes. */
export function fieldRequirementsOf(attrs: Attributes): readonly FieldTerm[] {
  if (attrs.fieldSelectorRequirements) return attrs.fieldSelectorRequirements;
  const raw = (attrs as WithRawFieldSelector).fieldSelector;
  return raw ? requestFieldSelector(raw).fieldSelectorRequirements ?? [] : [];
}

/** Whether the field selector requires `field` to equal `value` (a `field=value` or `field==value` term). */
export function selectsField(attrs: Attributes, field: string, value: string): boolean {
  return fieldRequirementsOf(attrs).some((r) => r.field === field && r.operator === '=' && r.value === value);
}

/** status.evaluationError of an access review (BuildEvaluationError): authorizer error and selector parse errors. */
export function buildEvaluationError(evaluationError: string | undefined, s: SelectorRequirements): string {
  const parts: string[] = [];
  if (evaluationError) parts.push(evaluationError);
  if (s.fieldSelectorError !== undefined) {
    parts.push(`spec.resourceAttributes.fieldSelector ${(s.fieldSelectorRequirements?.length ?? 0) > 0 ? 'partially ignored' : 'ignored'} due to parse error`);
  }
  if (s.labelSelectorError !== undefined) {
    parts.push(`spec.resourceAttributes.labelSelector ${(s.labelSelectorRequirements?.length ?? 0) > 0 ? 'partially ignored' : 'ignored'} due to parse error`);
  }
  return parts.join('; ');
}
