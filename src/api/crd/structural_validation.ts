// The structural-schema rules of CRD schemas (apiextensions' schema.ValidateStructural: the
// invariants of schema/validation.go and the completeness of schema/complete.go), with upstream's
// paths and messages, sorted by their text as upstream sorts them.

import { errorString, forbidden, invalid, required, type FieldError, type Path } from '../field_errors.ts';
import { sortGoStrings } from '../go_strings.ts';
import { asObject } from './structural.ts';
import { deepEqualJson } from './values.ts';

type Schema = Record<string, unknown>;

// The JSONSchemaProps keys that count as "specified" for the root metadata rule.
const STRUCTURAL_KEYS = ['description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum',
  'maxProperties', 'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties',
  'additionalProperties', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type',
  'x-kubernetes-validations'];

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return true;
  return Array.isArray(v) && v.length === 0;
}

function props(s: Schema): Record<string, Schema> | undefined {
  const p = asObject(s['properties']);
  return p && Object.keys(p).length > 0 ? (p as Record<string, Schema>) : undefined;
}

function subList(s: Schema, key: string): Schema[] {
  return Array.isArray(s[key]) ? (s[key] as unknown[]).map((x) => asObject(x) ?? {}) : [];
}

type Level = 'root' | 'item' | 'field';

const INT_OR_STRING_ANY_OF = [{ type: 'integer' }, { type: 'string' }];

function isIntOrStringAnyOf(s: Schema): boolean {
  return deepEqualJson(s['anyOf'], INT_OR_STRING_ANY_OF);
}

function isIntOrStringAllOf(s: Schema): boolean {
  const first = subList(s, 'allOf')[0];
  return first !== undefined && deepEqualJson(first['anyOf'], INT_OR_STRING_ANY_OF);
}

function structuralInvariants(s: Schema | undefined, lvl: Level, p: Path, out: FieldError[]): void {
  if (!s) return;
  const type = str(s['type']);
  const items = asObject(s['items']);
  if (type === 'array' && s['items'] === undefined) out.push(required(p.child('items'), 'must be specified'));
  if (items) structuralInvariants(items, 'item', p.child('items'), out);
  for (const [k, v] of Object.entries(props(s) ?? {})) structuralInvariants(asObject(v) ?? {}, 'field', p.child('properties').key(k), out);
  const ap = s['additionalProperties'];
  if (ap !== undefined) {
    if (lvl === 'root') out.push(forbidden(p.child('additionalProperties'), 'must not be used at the root'));
    const aps = asObject(ap);
    if (aps) structuralInvariants(aps, 'field', p.child('additionalProperties'), out);
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) out.push(invalid(p.child('x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) out.push(invalid(p.child('x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  valueValidation(s, isIntOrStringAnyOf(s), isIntOrStringAllOf(s), lvl, p, out);
  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && type !== 'object') {
    if (type === '') out.push(required(p.child('type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else out.push(invalid(p.child('type'), type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (type === '' && !intOrString && !preserve) {
    const detail = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    out.push(required(p.child('type'), detail));
  }
  if (embedded && ap !== undefined) out.push(forbidden(p.child('additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && type !== '' && type !== 'object') out.push(invalid(p.child('type'), type, 'must be object at the root'));
  const properties = props(s) ?? {};
  for (const name of ['kind', 'apiVersion']) {
    const f = asObject(properties[name]);
    if (f && checkMetadata && str(f['type']) !== 'string') out.push(invalid(p.child('properties').key(name).child('type'), str(f['type']), 'must be string'));
  }
  const metadata = asObject(properties['metadata']);
  if (metadata) {
    const mp = p.child('properties').key('metadata');
    if (checkMetadata && str(metadata['type']) !== 'object') out.push(invalid(mp.child('type'), str(metadata['type']), 'must be object'));
    if (lvl === 'root') {
      const rest: Schema = { ...metadata };
      const mprops = props(metadata) ?? {};
      const names = Object.keys(mprops);
      const onlyNames = names.length > 0 && names.every((n) => n === 'name' || n === 'generateName');
      if (onlyNames) delete rest['properties'];
      delete rest['type'];
      delete rest['default'];
      if (Object.entries(rest).some(([k, v]) => STRUCTURAL_KEYS.includes(k) && !isZero(v))) {
        out.push(forbidden(mp, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
      }
    }
  }
  if (embedded && !preserve && !props(s)) {
    out.push(required(p.child('properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function valueValidation(v: Schema, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, lvl: Level, p: Path, out: FieldError[]): void {
  if (!skipAnyOf) subList(v, 'anyOf').forEach((x, i) => nestedValueValidation(x, false, lvl, p.child('anyOf').index(i), out));
  subList(v, 'allOf').forEach((x, i) => nestedValueValidation(x, skipFirstAllOfAnyOf && i === 0, lvl, p.child('allOf').index(i), out));
  subList(v, 'oneOf').forEach((x, i) => nestedValueValidation(x, false, lvl, p.child('oneOf').index(i), out));
  const not = asObject(v['not']);
  if (not) nestedValueValidation(not, false, lvl, p.child('not'), out);
  const pattern = str(v['pattern']);
  if (pattern !== '') {
    const err = regexpError(pattern);
    if (err) out.push(invalid(p.child('pattern'), pattern, `must be a valid regular expression, but isn't: ${err}`));
  }
}

/** Go's regexp.Compile error for the common mistakes, or undefined. */
export function regexpError(pattern: string): string | undefined {
  const lead = /^[*+?]/.exec(pattern);
  if (lead) return `error parsing regexp: missing argument to repetition operator: \`${lead[0]}\``;
  if (/\(\?<?[=!]/.test(pattern)) return `error parsing regexp: invalid or unsupported Perl syntax: \`${/\(\?<?[=!]?/.exec(pattern)![0]}\``;
  try {
    new RegExp(pattern.replaceAll('(?P<', '(?<').replaceAll('\\z', '$').replaceAll('\\A', '^'), 'u');
    return undefined;
  } catch {
    try {
      new RegExp(pattern.replaceAll('(?P<', '(?<'));
      return undefined;
    } catch (e) {
      return `error parsing regexp: ${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e)}`;
    }
  }
}

function nestedValueValidation(v: Schema, skipAnyOf: boolean, lvl: Level, p: Path, out: FieldError[]): void {
  valueValidation(v, skipAnyOf, false, lvl, p, out);
  const items = asObject(v['items']);
  if (items) nestedValueValidation(items, false, lvl, p.child('items'), out);
  for (const [k, f] of Object.entries(props(v) ?? {})) nestedValueValidation(asObject(f) ?? {}, false, 'field', p.child('properties').key(k), out);
  if (str(v['type']) !== '') out.push(forbidden(p.child('type'), 'must be empty to be structural'));
  if (v['additionalProperties'] !== undefined) out.push(forbidden(p.child('additionalProperties'), 'must be undefined to be structural'));
  if (v['default'] !== undefined && v['default'] !== null) out.push(forbidden(p.child('default'), 'must be undefined to be structural'));
  if (str(v['title']) !== '') out.push(forbidden(p.child('title'), 'must be empty to be structural'));
  if (str(v['description']) !== '') out.push(forbidden(p.child('description'), 'must be empty to be structural'));
  if (v['nullable'] === true) out.push(forbidden(p.child('nullable'), 'must be false to be structural'));
  if (v['x-kubernetes-preserve-unknown-fields'] === true) out.push(forbidden(p.child('x-kubernetes-preserve-unknown-fields'), 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource'] === true) out.push(forbidden(p.child('x-kubernetes-embedded-resource'), 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string'] === true) out.push(forbidden(p.child('x-kubernetes-int-or-string'), 'must be false to be structural'));
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length > 0) out.push(forbidden(p.child('x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) out.push(forbidden(p.child('x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined) out.push(forbidden(p.child('x-kubernetes-map-type'), 'must be undefined to be structural'));
  if (Array.isArray(v['x-kubernetes-validations']) && v['x-kubernetes-validations'].length > 0) out.push(forbidden(p.child('x-kubernetes-validations'), 'must be empty to be structural'));
  if (props(v)?.['metadata'] !== undefined) out.push(forbidden(p.child('properties').key('metadata'), 'must not be specified in a nested context'));
}

function completeness(v: Schema, s: Schema | undefined, sPath: Path, vPath: Path, out: FieldError[]): void {
  if (!s) {
    out.push(required(sPath, `because it is defined in ${vPath.toString()}`));
    return;
  }
  const not = asObject(v['not']);
  if (not) nestedCompleteness(not, s, sPath, vPath.child('not'), out);
  subList(v, 'allOf').forEach((x, i) => nestedCompleteness(x, s, sPath, vPath.child('allOf').index(i), out));
  subList(v, 'anyOf').forEach((x, i) => nestedCompleteness(x, s, sPath, vPath.child('anyOf').index(i), out));
  subList(v, 'oneOf').forEach((x, i) => nestedCompleteness(x, s, sPath, vPath.child('oneOf').index(i), out));
}

function nestedCompleteness(v: Schema, s: Schema | undefined, sPath: Path, vPath: Path, out: FieldError[]): void {
  if (!s) {
    out.push(required(sPath, `because it is defined in ${vPath.toString()}`));
    return;
  }
  completeness(v, s, sPath, vPath, out);
  const vItems = asObject(v['items']);
  if (vItems) nestedCompleteness(vItems, asObject(s['items']), sPath.child('items'), vPath.child('items'), out);
  const sProps = props(s) ?? {};
  for (const [k, f] of Object.entries(props(v) ?? {})) {
    const sf = asObject(sProps[k]);
    if (!sf) out.push(required(sPath.child('properties').key(k), `because it is defined in ${vPath.child('properties').key(k).toString()}`));
    else nestedCompleteness(asObject(f) ?? {}, sf, sPath.child('properties').key(k), vPath.child('properties').key(k), out);
  }
}

/** ValidateStructural: its errors sorted by their text, as upstream sorts them. */
export function validateStructural(p: Path, s: Schema): FieldError[] {
  const out: FieldError[] = [];
  structuralInvariants(s, 'root', p, out);
  completeness(s, s, p, p, out);
  const texts = out.map(errorString);
  const order = sortGoStrings(texts);
  return order.map((t) => out[texts.indexOf(t)]!);
}
