// OpenAPI schema validation of custom resources as upstream runs it (kube-openapi's validate
// package over the CRD's JSONSchemaProps, mapped to field errors by apiextensions'
// kubeOpenAPIResultToFieldErrors), with the messages, value kinds and field names it produces, and
// CRD validation ratcheting: on update, errors inside values equal to their correlated old values
// are dropped.

import { goFormatFloat, goQuote } from '../go_strings.ts';
import { regexMatches } from '../cel/regex.ts';
import {
  invalid, newPath, notSupported, required, tooLong, tooMany, typeInvalid, type FieldError, type Path,
} from '../field_errors.ts';
import { checkFormat, supportedFormat } from './formats.ts';
import { correlateByMapKeys } from './list_type.ts';
import { asObject } from './structural.ts';
import { deepEqualJson, goSharpV } from './values.ts';

type Schema = Readonly<Record<string, unknown>>;

/** The old value correlated with the value being validated (ratcheting), when there is one. */
interface Old {
  readonly value: unknown;
}

const IN = 'body';

/** The base path errors hang under (upstream's fldPath argument; null at a resource's root). */
let base: Path | null = null;

/** The field path of an error named `name` (upstream trims the leading dot; the root is the base path). */
function errPath(name: string): Path | null {
  const n = name.startsWith('.') ? name.slice(1) : name;
  if (name.length === 0 || name === '.') return base;
  return base === null ? newPath(n) : base.child(n);
}

/** JSON kind of a decoded value as kube-openapi infers it from the Go type. */
function schType(v: unknown): { type: string; format: string } {
  if (typeof v === 'boolean') return { type: 'boolean', format: '' };
  if (typeof v === 'string') return { type: 'string', format: '' };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'integer', format: 'int64' } : { type: 'number', format: 'float64' };
  if (typeof v === 'bigint') return { type: 'integer', format: 'int64' };
  if (Array.isArray(v)) return { type: 'array', format: '' };
  return { type: 'object', format: '' };
}

function typesOf(s: Schema): string[] {
  if (s['x-kubernetes-int-or-string'] === true) return ['integer', 'string'];
  return typeof s['type'] === 'string' && s['type'] !== '' ? [s['type']] : [];
}

/** The format upstream keeps (unsupported formats are stripped before validation). */
function formatOf(s: Schema): string {
  const f = typeof s['format'] === 'string' ? s['format'] : '';
  return supportedFormat(f) !== undefined ? f : '';
}

function typeError(name: string, typeName: string, value: string): FieldError {
  return typeInvalid(errPath(name), value, `${name} in ${IN} must be of type ${typeName}: ${goQuote(value)}`);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** The Go regexp syntax the JavaScript engine spells differently. */
function jsPattern(p: string): string {
  return p
    .replaceAll('(?P<', '(?<')
    .replaceAll('\\z', '$')
    .replaceAll('\\A', '^')
    .replaceAll('[:alpha:]', 'a-zA-Z')
    .replaceAll('[:digit:]', '0-9')
    .replaceAll('[:alnum:]', 'a-zA-Z0-9')
    .replaceAll('[:upper:]', 'A-Z')
    .replaceAll('[:lower:]', 'a-z')
    .replaceAll('[:space:]', '\\s');
}

/** Whether `s` matches the schema pattern, or the text of the pattern's parse error. */
function matchPattern(s: string, pattern: string): boolean | string {
  const lead = /^[*+?]/.exec(pattern) ?? /^\{\d/.exec(pattern);
  if (lead) return `error parsing regexp: missing argument to repetition operator: \`${lead[0]}\``;
  try {
    return regexMatches(s, jsPattern(pattern));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith('operation cancelled')) return false;
    return msg.startsWith('error parsing regexp') ? msg : `error parsing regexp: ${msg}`;
  }
}

/** Validates values against one CRD version's openAPIV3Schema. */
export class OpenAPIValidator {
  private readonly root: Schema;
  private readonly base: Path | null;
  /** `fldPath` prefixes every error path (upstream's ValidateCustomResource fldPath; nil for resources). */
  constructor(root: Schema, fldPath: Path | null = null) {
    this.root = root;
    this.base = fldPath;
  }

  /** ValidateCustomResource (create) or, with `old`, the ratcheting ValidateCustomResourceUpdate. */
  validate(obj: unknown, old?: unknown): FieldError[] {
    const errs: FieldError[] = [];
    const saved = base;
    base = this.base;
    try {
      this.node(this.root, obj, '', old === undefined ? undefined : { value: old }, errs, true);
    } finally {
      base = saved;
    }
    return errs;
  }

  /** Validates `data` against `s`; returns whether it produced no errors. */
  private node(s: Schema, data: unknown, name: string, old: Old | undefined, out: FieldError[], isRoot = false): boolean {
    if (old !== undefined && deepEqualJson(data, old.value)) {
      // Ratcheting: an unchanged value keeps whatever errors it had (they become warnings upstream).
      return true;
    }
    const errs: FieldError[] = [];
    if (data === null || data === undefined) {
      this.typeCheck(s, null, name, errs);
      this.enumCheck(s, null, name, errs);
    } else {
      this.typeCheck(s, data, name, errs);
      this.schemaProps(s, data, name, errs);
      if (typeof data === 'string') {
        this.stringCheck(s, data, name, errs);
        const f = formatOf(s);
        if (f !== '' && !checkFormat(f, data)) errs.push(typeInvalid(errPath(name), data, `${name} in ${IN} must be of type ${f}: ${goQuote(data)}`));
      }
      if (typeof data === 'number') this.numberCheck(s, data, name, errs);
      if (Array.isArray(data)) this.sliceCheck(s, data, name, old, errs);
      this.enumCheck(s, data, name, errs);
      const m = asObject(data);
      if (m) this.objectCheck(s, m, name, old, errs, isRoot);
    }
    out.push(...errs);
    return errs.length === 0;
  }

  private typeCheck(s: Schema, data: unknown, name: string, errs: FieldError[]): void {
    const types = typesOf(s);
    const format = formatOf(s);
    if (types.length === 0 && format === '') return;
    if (data === null) {
      if (types.length > 0 && !types.includes('null') && s['nullable'] !== true) errs.push(typeError(name, types.join(','), 'null'));
      return;
    }
    const t = schType(data);
    const isIntFloat = t.type === 'integer' && types.includes('number');
    const isStringOrSlice = typeof data === 'string' || Array.isArray(data);
    if (!isStringOrSlice && format !== '' && !(types.includes(t.type) || t.format === format || isIntFloat)) {
      errs.push(typeError(name, format, t.format));
      return;
    }
    if (!(types.includes('number') || types.includes('integer')) && format !== '' && isStringOrSlice) return;
    if (!(types.includes(t.type) || isIntFloat)) errs.push(typeError(name, types.join(','), t.type));
  }

  private enumCheck(s: Schema, data: unknown, name: string, errs: FieldError[]): void {
    const en = s['enum'];
    if (!Array.isArray(en) || en.length === 0) return;
    if (data !== null && en.some((e) => deepEqualJson(e, data))) return;
    const values = en.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    errs.push(notSupported(errPath(name), data === null || typeof data !== 'object' ? data : goSharpV(data), values));
  }

  private stringCheck(s: Schema, data: string, name: string, errs: FieldError[]): void {
    const maxLength = num(s['maxLength']);
    const minLength = num(s['minLength']);
    const pattern = typeof s['pattern'] === 'string' ? s['pattern'] : '';
    const len = [...data].length;
    if (maxLength !== undefined && len > maxLength) {
      errs.push(tooLong(errPath(name), maxLength));
      return;
    }
    if (minLength !== undefined && len < minLength) {
      errs.push(invalid(errPath(name), data, `${name} in ${IN} should be at least ${minLength} chars long`));
      return;
    }
    if (pattern !== '') {
      const r = matchPattern(data, pattern);
      if (typeof r === 'string') errs.push(invalid(errPath(name), data, `${name} in ${IN} should match '${pattern}, but pattern is invalid: ${r}'`));
      else if (!r) errs.push(invalid(errPath(name), data, `${name} in ${IN} should match '${pattern}'`));
    }
  }

  private numberCheck(s: Schema, data: number, name: string, errs: FieldError[]): void {
    const isInt = Number.isInteger(data);
    const show = (n: number): string => (isInt ? String(Math.trunc(n)) : goFormatFloat(n));
    const multipleOf = num(s['multipleOf']);
    if (multipleOf !== undefined) {
      const intFactor = Math.trunc(multipleOf);
      if (multipleOf < 0) {
        errs.push(invalid(errPath(name), multipleOf, `factor MultipleOf declared for ${name} must be positive: ${show(multipleOf)}`));
      } else if (isInt && intFactor !== 0) {
        if (data % intFactor !== 0) errs.push(invalid(errPath(name), data, `${name} in ${IN} should be a multiple of ${intFactor}`));
      } else {
        const mult = multipleOf < 1 ? (1 / multipleOf) * data : data / multipleOf;
        if (!Number.isInteger(mult)) errs.push(invalid(errPath(name), data, `${name} in ${IN} should be a multiple of ${goFormatFloat(multipleOf)}`));
      }
    }
    const minimum = num(s['minimum']);
    if (minimum !== undefined) {
      const min = isInt ? Math.trunc(minimum) : minimum;
      const exclusive = s['exclusiveMinimum'] === true;
      if ((!exclusive && data < min) || (exclusive && data <= min)) {
        errs.push(invalid(errPath(name), data, `${name} in ${IN} should be greater than ${exclusive ? '' : 'or equal to '}${show(min)}`));
      }
    }
    const maximum = num(s['maximum']);
    if (maximum !== undefined) {
      const max = isInt ? Math.trunc(maximum) : maximum;
      const exclusive = s['exclusiveMaximum'] === true;
      if ((!exclusive && data > max) || (exclusive && data >= max)) {
        errs.push(invalid(errPath(name), data, `${name} in ${IN} should be less than ${exclusive ? '' : 'or equal to '}${show(max)}`));
      }
    }
  }

  private sliceCheck(s: Schema, data: unknown[], name: string, old: Old | undefined, errs: FieldError[]): void {
    const items = asObject(s['items']);
    if (items) {
      const oldItems = old !== undefined ? correlateListItems(s, data, old.value) : undefined;
      data.forEach((v, i) => this.node(items, v, `${name}[${i}]`, oldItems?.[i], errs));
    } else if (Array.isArray(s['items'])) {
      (s['items'] as unknown[]).forEach((sub, i) => {
        const o = asObject(sub);
        if (o && i < data.length) this.node(o, data[i], `${name}[${i}]`, undefined, errs);
      });
    }
    const minItems = num(s['minItems']);
    const maxItems = num(s['maxItems']);
    if (minItems !== undefined && data.length < minItems) {
      errs.push(invalid(errPath(name), data.length, `${name} in ${IN} should have at least ${minItems} items`));
    }
    if (maxItems !== undefined && data.length > maxItems) errs.push(tooMany(errPath(name), data.length, maxItems));
    if (s['uniqueItems'] === true) {
      const dup = data.some((v, i) => data.slice(0, i).some((u) => deepEqualJson(u, v)));
      if (dup) errs.push(invalid(errPath(name), '', `${name} in ${IN} shouldn't contain duplicates`));
    }
  }

  private objectCheck(s: Schema, m: Record<string, unknown>, name: string, old: Old | undefined, errs: FieldError[], isRoot: boolean): void {
    const keys = Object.keys(m);
    const minProperties = num(s['minProperties']);
    const maxProperties = num(s['maxProperties']);
    if (minProperties !== undefined && keys.length < minProperties) {
      errs.push(invalid(errPath(name), keys.length, `${name} in ${IN} should have at least ${minProperties} properties`));
      return;
    }
    if (maxProperties !== undefined && keys.length > maxProperties) {
      errs.push(tooMany(errPath(name), keys.length, maxProperties));
      return;
    }
    const properties = asObject(s['properties']) ?? {};
    const patternProperties = asObject(s['patternProperties']) ?? {};
    const ap = s['additionalProperties'];
    const oldMap = old !== undefined ? asObject(old.value) : undefined;
    const oldOf = (k: string): Old | undefined => {
      if (!oldMap || !(k in oldMap) || (isRoot && (k === 'apiVersion' || k === 'kind'))) return undefined;
      return { value: oldMap[k] };
    };
    const matchingPatterns = (k: string): string[] => Object.keys(patternProperties).filter((p) => matchPattern(k, p) === true);
    if (ap === false) {
      for (const k of keys) {
        if (!(k in properties) && matchingPatterns(k).length === 0) {
          errs.push(invalid(errPath(name), k, `${name}.${k} in ${IN} is a forbidden property`));
        }
      }
    } else {
      const apSchema = asObject(ap);
      for (const k of keys) {
        if (k in properties) continue;
        const patterns = matchingPatterns(k);
        for (const p of patterns) this.node(asObject(patternProperties[p]) ?? {}, m[k], `${name}.${k}`, oldOf(k), errs);
        if (patterns.length === 0 && apSchema) this.node(apSchema, m[k], `${name}.${k}`, oldOf(k), errs);
      }
    }
    for (const [p, ps] of Object.entries(properties)) {
      if (!(p in m)) continue;
      const sub = asObject(ps) ?? {};
      this.node(sub, m[p], name === '' ? p : `${name}.${p}`, oldOf(p), errs);
    }
    const req = s['required'];
    if (Array.isArray(req)) {
      for (const k of req) {
        if (typeof k === 'string' && !(k in m)) errs.push(required(errPath(`${name}.${k}`), ''));
      }
    }
  }

  /** allOf / anyOf / oneOf / not (value validations only in structural schemas). */
  private schemaProps(s: Schema, data: unknown, name: string, errs: FieldError[]): void {
    const subs = (key: string): Schema[] => (Array.isArray(s[key]) ? (s[key] as unknown[]).map((x) => asObject(x) ?? {}) : []);
    const composite = (msg: string): FieldError => invalid(base, '', `${goQuote(name)} ${msg}`);
    const anyOf = subs('anyOf');
    if (anyOf.length > 0) {
      let best: FieldError[] | undefined;
      let ok = false;
      for (const sub of anyOf) {
        const r: FieldError[] = [];
        if (this.node(sub, data, name, undefined, r)) {
          ok = true;
          best = undefined;
          break;
        }
        best ??= r;
      }
      if (!ok) errs.push(composite('must validate at least one schema (anyOf)'));
      if (best) errs.push(...best);
    }
    const oneOf = subs('oneOf');
    if (oneOf.length > 0) {
      let best: FieldError[] | undefined;
      let validated = 0;
      for (const sub of oneOf) {
        const r: FieldError[] = [];
        if (this.node(sub, data, name, undefined, r)) {
          validated++;
          best = undefined;
        } else if (validated === 0) best ??= r;
      }
      if (validated !== 1) {
        errs.push(composite(`must validate one and only one schema (oneOf). ${validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`}`));
        if (best) errs.push(...best);
      }
    }
    const allOf = subs('allOf');
    if (allOf.length > 0) {
      let validated = 0;
      for (const sub of allOf) if (this.node(sub, data, name, undefined, errs)) validated++;
      if (validated !== allOf.length) errs.push(composite(`must validate all the schemas (allOf)${validated === 0 ? '. None validated' : ''}`));
    }
    const not = asObject(s['not']);
    if (not && this.node(not, data, name, undefined, [])) errs.push(composite('must not validate the schema (not)'));
  }
}

/** The old items correlated with new ones: by key for x-kubernetes-list-type=map, none otherwise. */
export function correlateListItems(s: Schema, items: readonly unknown[], old: unknown): (Old | undefined)[] | undefined {
  if (s['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old)) return undefined;
  const keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [];
  return correlateByMapKeys(keys, items, old);
}
