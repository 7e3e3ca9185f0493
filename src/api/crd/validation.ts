// Validation of CustomResourceDefinition objects (apiextensions' ValidateCustomResourceDefinition and
// ValidateCustomResourceDefinitionUpdate): names, versions, structural schemas, subresources, columns,
// CEL rules and the update rules, with upstream's field paths and messages. Like upstream, a v1 CRD
// is first seen as the internal type: per-version schemas, subresources, columns and selectable
// fields that are identical in every version are validated at spec.validation, spec.subresources,
// spec.additionalPrinterColumns and spec.selectableFields. ObjectMeta itself is the caller's.

import {
  duplicate, forbidden, goValue, invalid, newPath, notSupported, required, tooMany, type FieldError, type Path,
} from '../field_errors.ts';
import { goQuote, utf8Length } from '../go_strings.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { validateWebhookService, validateWebhookURL } from '../validation/admissionregistration.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.ts';
import { validFieldPath } from './cel_compile.ts';
import { asObject, toStructural } from './structural.ts';
import { mapListKeysMapSet, validateCRDSchema, type SchemaOptions } from './schema_validation.ts';
import { validateStructural } from './structural_validation.ts';
import { deepEqualJson } from './values.ts';

type Obj = Record<string, unknown>;

const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const MAX_SELECTABLE_FIELDS = 8;

/** One version of the internal CRD spec (per-version fields may have moved to the spec). */
interface Version {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly deprecated: boolean;
  readonly deprecationWarning: string | undefined;
  readonly schema: Obj | undefined;
  readonly subresources: Obj | undefined;
  readonly additionalPrinterColumns: Obj[];
  readonly selectableFields: Obj[];
}

/** The internal CRD spec (apiextensions.CustomResourceDefinitionSpec) of a v1 CRD. */
interface Spec {
  readonly group: string;
  readonly version: string;
  readonly names: Obj;
  readonly scope: string;
  readonly versions: Version[];
  readonly validation: Obj | undefined;
  readonly subresources: Obj | undefined;
  readonly additionalPrinterColumns: Obj[];
  readonly selectableFields: Obj[];
  readonly conversion: Obj | undefined;
  readonly preserveUnknownFields: boolean;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map((x) => asObject(x) ?? {}) : [];
}

function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => (Array.isArray(v) && v.length === 0 ? undefined : v);
  return deepEqualJson(norm(a) ?? null, norm(b) ?? null);
}

/** Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_CustomResourceDefinitionSpec. */
function internalSpec(crd: CustomResourceDefinition): Spec {
  const spec = (asObject(crd.spec) ?? {}) as Obj;
  let versions: Version[] = objs(spec['versions']).map((v) => ({
    name: str(v['name']),
    served: v['served'] === true,
    storage: v['storage'] === true,
    deprecated: v['deprecated'] === true,
    deprecationWarning: typeof v['deprecationWarning'] === 'string' ? v['deprecationWarning'] : undefined,
    schema: asObject(v['schema']),
    subresources: asObject(v['subresources']),
    additionalPrinterColumns: objs(v['additionalPrinterColumns']),
    selectableFields: objs(v['selectableFields']),
  }));
  let validation: Obj | undefined;
  let subresources: Obj | undefined;
  let columns: Obj[] = [];
  let selectable: Obj[] = [];
  const first = versions[0];
  if (first) {
    const same = (f: (v: Version) => unknown): boolean => versions.every((v) => semanticEqual(f(v), f(first)));
    const schemaSame = same((v) => v.schema);
    const subSame = same((v) => v.subresources);
    const colSame = same((v) => v.additionalPrinterColumns);
    const selSame = same((v) => v.selectableFields);
    if (schemaSame) validation = first.schema;
    if (subSame) subresources = first.subresources;
    if (colSame) columns = first.additionalPrinterColumns;
    if (selSame) selectable = first.selectableFields;
    versions = versions.map((v) => ({
      ...v,
      schema: schemaSame ? undefined : v.schema,
      subresources: subSame ? undefined : v.subresources,
      additionalPrinterColumns: colSame ? [] : v.additionalPrinterColumns,
      selectableFields: selSame ? [] : v.selectableFields,
    }));
  }
  return {
    group: str(spec['group']),
    version: first?.name ?? '',
    names: asObject(spec['names']) ?? {},
    scope: str(spec['scope']),
    versions,
    validation,
    subresources,
    additionalPrinterColumns: columns,
    selectableFields: selectable,
    conversion: asObject(spec['conversion']),
    // v1's preserveUnknownFields is a plain bool: the internal pointer is never nil.
    preserveUnknownFields: spec['preserveUnknownFields'] === true,
  };
}

function schemaOf(v: Obj | undefined): Obj | undefined {
  return asObject(v?.['openAPIV3Schema']);
}

/** Whether pred holds for any node of the schema (SchemaHas). */
function schemaHas(s: Obj | undefined, pred: (s: Obj) => boolean): boolean {
  if (!s) return false;
  if (pred(s)) return true;
  const items = s['items'];
  if (asObject(items) && schemaHas(items as Obj, pred)) return true;
  if (Array.isArray(items) && items.some((x) => schemaHas(asObject(x), pred))) return true;
  for (const key of ['allOf', 'anyOf', 'oneOf']) if (objs(s[key]).some((x) => schemaHas(x, pred))) return true;
  if (schemaHas(asObject(s['not']), pred)) return true;
  for (const key of ['properties', 'patternProperties', 'definitions', 'dependencies']) {
    for (const v of Object.values(asObject(s[key]) ?? {})) if (schemaHas(asObject(v), pred)) return true;
  }
  if (schemaHas(asObject(s['additionalProperties']), pred)) return true;
  return schemaHas(asObject(s['additionalItems']), pred);
}

function specSchemas(spec: Spec): Obj[] {
  const out: Obj[] = [];
  const top = schemaOf(spec.validation);
  if (top) out.push(top);
  for (const v of spec.versions) {
    const s = schemaOf(v.schema);
    if (s) out.push(s);
  }
  return out;
}

function hasSchemaWith(spec: Spec, pred: (s: Obj) => boolean): boolean {
  return specSchemas(spec).some((s) => schemaHas(s, pred));
}

const hasDefault = (s: Obj): boolean => s['default'] !== undefined && s['default'] !== null;
const hasKubernetesExtensions = (s: Obj): boolean => s['x-kubernetes-embedded-resource'] === true || s['x-kubernetes-preserve-unknown-fields'] !== undefined
  || s['x-kubernetes-int-or-string'] === true || (Array.isArray(s['x-kubernetes-list-map-keys']) && s['x-kubernetes-list-map-keys'].length > 0)
  || s['x-kubernetes-list-type'] !== undefined || (Array.isArray(s['x-kubernetes-validations']) && s['x-kubernetes-validations'].length > 0);

function hasNonAtomicSetType(s: Obj): boolean {
  const items = asObject(s['items']);
  if (s['x-kubernetes-list-type'] !== 'set' || !items) return false;
  if (items['type'] === 'array') return items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic';
  if (items['type'] === 'object') return items['x-kubernetes-map-type'] !== 'atomic';
  return false;
}

function isNonStructural(s: Obj): boolean {
  return validateStructural(newPath('x'), s).length > 0;
}

function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

function versionsValue(spec: Spec): unknown {
  return goValue(`[]apiextensions.CustomResourceDefinitionVersion{${spec.versions.map((v) => `apiextensions.CustomResourceDefinitionVersion{Name:${goQuote(v.name)}, Served:${v.served}, Storage:${v.storage}, Deprecated:${v.deprecated}, ...}`).join(', ')}}`);
}

function validateDeprecationWarning(v: Version): string[] {
  if (!v.deprecated && v.deprecationWarning !== undefined) return ['can only be set for deprecated versions'];
  if (v.deprecationWarning === undefined) return [];
  const w = v.deprecationWarning;
  const errs: string[] = [];
  if (utf8Length(w) > 256) errs.push('must be <= 256 characters long');
  if (w.length === 0) errs.push('must not be an empty string');
  let i = 0;
  for (const ch of w) {
    if (/\p{Cc}/u.test(ch)) {
      errs.push(`must only contain printable UTF-8 characters; ${/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch) ? 'control' : 'non-printable'} character found at index ${i}`);
      break;
    }
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      errs.push(`must only contain printable UTF-8 characters; non-printable character found at index ${i}`);
      break;
    }
    i += utf8Length(ch);
  }
  return errs;
}

function validateSimpleJSONPath(s: string, p: Path): FieldError[] {
  if (s.length === 0) return [invalid(p, s, 'must not be empty')];
  if (s[0] !== '.') return [invalid(p, s, 'must be a simple json path starting with .')];
  return [];
}

function validateSubresources(sub: Obj | undefined, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  const scale = asObject(sub?.['scale']);
  if (!scale) return errs;
  const check = (key: string, prefixes: string[], msg: string, requiredPath: boolean): void => {
    const v = str(scale[key]);
    const fp = p.child(`scale.${key}`);
    if (v.length === 0) {
      if (requiredPath) errs.push(required(fp, ''));
      return;
    }
    const e = validateSimpleJSONPath(v, fp);
    if (e.length > 0) errs.push(...e);
    else if (!prefixes.some((x) => v.startsWith(x))) errs.push(invalid(fp, v, msg));
  };
  check('specReplicasPath', ['.spec.'], 'should be a json path under .spec', true);
  check('statusReplicasPath', ['.status.'], 'should be a json path under .status', true);
  check('labelSelectorPath', ['.spec.', '.status.'], 'should be a json path under either .spec or .status', false);
  return errs;
}

function validateColumn(col: Obj, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (str(col['name']) === '') errs.push(required(p.child('name'), ''));
  const type = str(col['type']);
  const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
  if (type === '') errs.push(required(p.child('type'), types));
  else if (!PRINTER_COLUMN_TYPES.includes(type)) errs.push(invalid(p.child('type'), type, types));
  const format = str(col['format']);
  if (format !== '' && !COLUMN_FORMATS.includes(format)) errs.push(invalid(p.child('format'), format, `must be one of ${COLUMN_FORMATS.join(',')}`));
  const jsonPath = str(col['jsonPath']);
  if (jsonPath === '') errs.push(required(p.child('JSONPath'), ''));
  else errs.push(...validateSimpleJSONPath(jsonPath, p.child('JSONPath')));
  return errs;
}

function validateSelectableFields(fields: Obj[], schema: Obj, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  const structural = toStructural(schema);
  const unique = new Set<string>();
  fields.forEach((f, i) => {
    const jp = str(f['jsonPath']);
    const ip = p.index(i).child('jsonPath');
    if (jp === '') {
      errs.push(required(ip, ''));
      return;
    }
    const r = validFieldPath(jp, structural, false);
    if ('error' in r) {
      errs.push(invalid(ip, jp, `is an invalid path: ${r.error}`));
      return;
    }
    const text = r.path?.toString() ?? '';
    if (text === 'metadata' || text.startsWith('metadata.') || text.startsWith('metadata[')) errs.push(invalid(ip, jp, 'must not point to fields in metadata'));
    const t = r.schema?.type;
    if (t !== 'string' && t !== 'boolean' && t !== 'integer') {
      errs.push(invalid(ip, jp, 'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.'));
    }
    if (unique.has(text)) errs.push(duplicate(ip, jp));
    else unique.add(text);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS) errs.push(tooMany(p, unique.size, MAX_SELECTABLE_FIELDS));
  return errs;
}

/** ValidateCustomResourceDefinitionNames. */
function validateNames(names: Obj, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  const plural = str(names['plural']);
  const singular = str(names['singular']);
  const kind = str(names['kind']);
  const listKind = str(names['listKind']);
  let e = isDNS1035Label(plural);
  if (plural.length > 0 && e.length > 0) errs.push(invalid(p.child('plural'), plural, e.join(',')));
  e = isDNS1035Label(singular);
  if (singular.length > 0 && e.length > 0) errs.push(invalid(p.child('singular'), singular, e.join(',')));
  e = isDNS1035Label(kind.toLowerCase());
  if (kind.length > 0 && e.length > 0) errs.push(invalid(p.child('kind'), kind, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  e = isDNS1035Label(listKind.toLowerCase());
  if (listKind.length > 0 && e.length > 0) errs.push(invalid(p.child('listKind'), listKind, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  (Array.isArray(names['shortNames']) ? names['shortNames'] : []).forEach((s: unknown, i: number) => {
    const x = isDNS1035Label(str(s));
    if (x.length > 0) errs.push(invalid(p.child('shortNames').index(i), str(s), x.join(',')));
  });
  if (kind.length > 0 && kind === listKind) errs.push(invalid(p.child('listKind'), listKind, 'kind and listKind may not be the same'));
  (Array.isArray(names['categories']) ? names['categories'] : []).forEach((c: unknown, i: number) => {
    const x = isDNS1035Label(str(c));
    if (x.length > 0) errs.push(invalid(p.child('categories').index(i), str(c), x.join(',')));
  });
  return errs;
}

function validateEnumString(p: Path, value: string, accepted: string[]): FieldError[] {
  if (value === '') return [required(p, '')];
  return accepted.includes(value) ? [] : [notSupported(p, value, accepted)];
}

function validateConversion(conv: Obj | undefined, requireRecognized: boolean, p: Path): FieldError[] {
  if (!conv) return [];
  const errs: FieldError[] = [];
  const strategy = str(conv['strategy']);
  errs.push(...validateEnumString(p.child('strategy'), strategy, ['None', 'Webhook']));
  const webhook = asObject(conv['webhook']);
  const cc = asObject(webhook?.['clientConfig']);
  const reviewVersions = Array.isArray(webhook?.['conversionReviewVersions']) ? (webhook!['conversionReviewVersions'] as unknown[]).map(str) : [];
  if (strategy === 'Webhook') {
    if (!cc) {
      errs.push(required(p.child('webhookClientConfig'), 'required when strategy is set to Webhook'));
    } else {
      const url = cc['url'];
      const svc = asObject(cc['service']);
      if ((url === undefined) === (svc === undefined)) errs.push(required(p.child('webhookClientConfig'), 'exactly one of url or service is required'));
      else if (typeof url === 'string') errs.push(...validateWebhookURL(p.child('webhookClientConfig').child('url'), url));
      else if (svc) errs.push(...validateWebhookService(p.child('webhookClientConfig').child('service'), svc));
    }
    const rp = p.child('conversionReviewVersions');
    if (reviewVersions.length < 1) errs.push(required(rp, ''));
    else {
      const seen = new Set<string>();
      let accepted = false;
      reviewVersions.forEach((v, i) => {
        if (seen.has(v)) {
          errs.push(invalid(rp.index(i), v, 'duplicate version'));
          return;
        }
        seen.add(v);
        for (const e of isDNS1035Label(v)) errs.push(invalid(rp.index(i), v, e));
        if (v === 'v1' || v === 'v1beta1') accepted = true;
      });
      if (requireRecognized && !accepted) errs.push(invalid(rp, reviewVersions, 'must include at least one of v1, v1beta1'));
    }
  } else {
    if (cc) errs.push(forbidden(p.child('webhookClientConfig'), 'should not be set when strategy is not set to Webhook'));
    if (reviewVersions.length > 0) errs.push(forbidden(p.child('conversionReviewVersions'), 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

interface Options extends SchemaOptions {
  readonly requireRecognizedConversionReviewVersion: boolean;
  readonly requireOpenAPISchema: boolean;
}

function validateSpec(spec: Spec, opts: Options, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.group === '') errs.push(required(p.child('group'), ''));
  else {
    const e = isDNS1123Subdomain(spec.group);
    if (e.length > 0) errs.push(invalid(p.child('group'), spec.group, e.join(',')));
    else if (spec.group.split('.').length < 2) errs.push(invalid(p.child('group'), spec.group, 'should be a domain with at least one dot'));
  }
  errs.push(...validateEnumString(p.child('scope'), spec.scope, ['Cluster', 'Namespaced']));
  let o: Options = opts;
  if (spec.preserveUnknownFields !== true) o = { ...o, requireStructuralSchema: true };
  if (o.requireOpenAPISchema) {
    if (!schemaOf(spec.validation)) {
      spec.versions.forEach((v, i) => {
        if (!schemaOf(v.schema)) errs.push(required(p.child('versions').index(i).child('schema').child('openAPIV3Schema'), 'schemas are required'));
      });
    }
  } else if (spec.preserveUnknownFields !== true && !schemaOf(spec.validation)) {
    spec.versions.forEach((v, i) => {
      if (v.served && !schemaOf(v.schema)) errs.push(required(p.child('versions').index(i).child('schema', 'openAPIV3Schema'), 'because otherwise all fields are pruned'));
    });
  }
  if (o.allowDefaults && hasSchemaWith(spec, hasDefault)) {
    o = { ...o, requireStructuralSchema: true };
    if (spec.preserveUnknownFields) {
      errs.push(invalid(p.child('preserveUnknownFields'), true, 'must be false in order to use defaults in the schema'));
    }
  }
  if (hasSchemaWith(spec, hasKubernetesExtensions)) o = { ...o, requireStructuralSchema: true };
  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  spec.versions.forEach((v, i) => {
    if (v.storage) storageCount++;
    if (seen.has(v.name)) unique = false;
    else seen.add(v.name);
    const vp = p.child('versions').index(i);
    const e = isDNS1035Label(v.name);
    if (e.length > 0) errs.push(invalid(vp.child('name'), v.name, e.join(',')));
    const subresources = spec.versions.some((x) => x.subresources !== undefined) ? v.subresources : spec.subresources;
    for (const msg of validateDeprecationWarning(v)) errs.push(invalid(vp.child('deprecationWarning'), v.deprecationWarning ?? null, msg));
    errs.push(...validateCRDSchema(v.schema, asObject(subresources?.['status']) !== undefined, o, vp.child('schema')));
    errs.push(...validateSubresources(v.subresources, vp.child('subresources')));
    v.additionalPrinterColumns.forEach((c, j) => errs.push(...validateColumn(c, vp.child('additionalPrinterColumns').index(j))));
    if (v.selectableFields.length > 0) {
      const schema = schemaOf(v.schema);
      if (!schema) errs.push(invalid(vp.child('selectableFields'), '', 'selectableFields may only be set when version.schema.openAPIV3Schema is not included'));
      else errs.push(...validateSelectableFields(v.selectableFields, schema, vp.child('selectableFields')));
    }
  });
  if (!unique) errs.push(invalid(p.child('versions'), versionsValue(spec), 'must contain unique version names'));
  if (storageCount !== 1) errs.push(invalid(p.child('versions'), versionsValue(spec), 'must have exactly one version marked as storage version'));
  if (spec.version !== '') {
    const e = isDNS1035Label(spec.version);
    if (e.length > 0) errs.push(invalid(p.child('version'), spec.version, e.join(',')));
  }
  const names = spec.names;
  for (const n of ['plural', 'singular', 'kind', 'listKind']) {
    if (str(names[n]) === '') errs.push(required(p.child('names', n), ''));
  }
  errs.push(...validateNames(names, p.child('names')));
  const anyStatus = asObject(spec.subresources?.['status']) !== undefined || spec.versions.some((v) => asObject(v.subresources?.['status']) !== undefined);
  errs.push(...validateCRDSchema(spec.validation, anyStatus, o, p.child('validation')));
  errs.push(...validateSubresources(spec.subresources, p.child('subresources')));
  spec.additionalPrinterColumns.forEach((c, i) => errs.push(...validateColumn(c, p.child('additionalPrinterColumns').index(i))));
  if (spec.selectableFields.length > 0) {
    const schema = schemaOf(spec.validation);
    if (!schema) errs.push(invalid(p.child('selectableFields'), '', 'selectableFields may only be set when validations.schema is included'));
    else errs.push(...validateSelectableFields(spec.selectableFields, schema, p.child('selectableFields')));
  }
  const strategy = str(spec.conversion?.['strategy']);
  if (spec.conversion && strategy !== 'None' && spec.preserveUnknownFields) {
    errs.push(invalid(p.child('conversion').child('strategy'), strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  errs.push(...validateConversion(spec.conversion, opts.requireRecognizedConversionReviewVersion, p.child('conversion')));
  return errs;
}

function validateStoredVersions(stored: readonly string[] | undefined, spec: Spec, p: Path): FieldError[] {
  if (!stored || stored.length === 0) return [invalid(p, goValue(stored ? '[]string{}' : '[]string(nil)'), 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map<string, number>();
  stored.forEach((v, i) => remaining.set(v, i));
  for (const v of spec.versions) {
    const has = remaining.has(v.name);
    if (v.storage && !has) errs.push(invalid(p, [...stored], `must have the storage version ${v.name}`));
    if (has) remaining.delete(v.name);
  }
  for (const [v, i] of remaining) errs.push(invalid(p.index(i), v, 'must appear in spec.versions'));
  return errs;
}

/** Whether a group needs the api-approved.kubernetes.io annotation (*.k8s.io and *.kubernetes.io). */
function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

type ApprovalState = 'Invalid' | 'Missing' | 'Approved' | 'Bypassed';

function approvalState(annotations: Readonly<Record<string, string>> | undefined): { state: ApprovalState; reason: string } {
  const key = 'api-approved.kubernetes.io';
  const v = annotations?.[key];
  if (v === undefined) return { state: 'Missing', reason: `protected groups must have approval annotation "${key}", see https://github.com/kubernetes/enhancements/pull/1111` };
  if (v.startsWith('unapproved')) return { state: 'Bypassed', reason: `not approved: ${goQuote(v)}` };
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return { state: 'Approved', reason: `approved in ${v}` };
  } catch {
    // falls through to Invalid
  }
  return { state: 'Invalid', reason: `protected groups must have approval annotation "${key}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111` };
}

function validateAPIApproval(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  if (!isProtectedCommunityGroup(str(crd.spec?.group))) return [];
  const next = approvalState(crd.metadata?.annotations);
  if (old && approvalState(old.metadata?.annotations).state === next.state) return [];
  const p = newPath('metadata', 'annotations').key('api-approved.kubernetes.io');
  switch (next.state) {
    case 'Missing': return [required(p, next.reason)];
    case 'Invalid': return [invalid(p, crd.metadata?.annotations?.['api-approved.kubernetes.io'] ?? '', next.reason)];
    default: return [];
  }
}

function immutable(p: Path, now: string, before: string): FieldError[] {
  return now === before ? [] : [invalid(p, now, 'field is immutable')];
}

/**
 * ValidateCustomResourceDefinition (no `old`) or ValidateCustomResourceDefinitionUpdate, minus the
 * generic ObjectMeta checks the API server runs for every kind.
 */
export function validateCustomResourceDefinition(crd: CustomResourceDefinition, old?: CustomResourceDefinition): FieldError[] {
  const spec = internalSpec(crd);
  const errs: FieldError[] = [];
  let opts: Options;
  if (!old) {
    const name = str(crd.metadata?.name);
    if (name !== '' && name !== `${str(spec.names['plural'])}.${spec.group}`) {
      errs.push(invalid(newPath('metadata', 'name'), name, 'must be spec.names.plural+"."+spec.group'));
    }
    opts = {
      allowDefaults: true, requireRecognizedConversionReviewVersion: true, requireOpenAPISchema: true,
      requireValidPropertyType: true, requireStructuralSchema: true, requirePrunedDefaults: true,
      requireAtomicSetType: true, requireMapListKeysMapSetValidation: true,
    };
  } else {
    const oldSpec = internalSpec(old);
    const oldReview = asObject(asObject(old.spec?.conversion)?.['webhook'])?.['conversionReviewVersions'];
    const oldVersions = Array.isArray(oldReview) ? oldReview.map(str) : [];
    const oldSchemas = specSchemas(oldSpec);
    opts = {
      allowDefaults: true,
      requireRecognizedConversionReviewVersion: old.spec?.conversion === undefined || oldVersions.length === 0 || oldVersions.some((v) => v === 'v1' || v === 'v1beta1'),
      requireOpenAPISchema: schemaOf(oldSpec.validation) !== undefined || oldSpec.versions.every((v) => schemaOf(v.schema) !== undefined),
      requireValidPropertyType: !hasSchemaWith(oldSpec, (s) => str(s['type']) !== '' && !['string', 'number', 'integer', 'boolean', 'array', 'object'].includes(str(s['type']))),
      requireStructuralSchema: !oldSchemas.some(isNonStructural),
      requirePrunedDefaults: true,
      requireAtomicSetType: !hasSchemaWith(oldSpec, hasNonAtomicSetType),
      requireMapListKeysMapSetValidation: !hasSchemaWith(oldSpec, (s) => mapListKeysMapSet(s, newPath('x')).length > 0),
    };
  }
  errs.push(...validateSpec(spec, opts, newPath('spec')));
  if (old) {
    const oldSpec = internalSpec(old);
    const sp = newPath('spec');
    if (isEstablished(old)) {
      errs.push(...immutable(sp.child('scope'), spec.scope, oldSpec.scope));
      errs.push(...immutable(sp.child('names', 'kind'), str(spec.names['kind']), str(oldSpec.names['kind'])));
    }
    errs.push(...immutable(sp.child('group'), spec.group, oldSpec.group));
    errs.push(...immutable(sp.child('names', 'plural'), str(spec.names['plural']), str(oldSpec.names['plural'])));
  }
  errs.push(...validateNames(asObject(crd.status?.acceptedNames) ?? {}, newPath('status', 'acceptedNames')));
  errs.push(...validateStoredVersions(crd.status?.storedVersions, spec, newPath('status', 'storedVersions')));
  errs.push(...validateAPIApproval(crd, old));
  if (!(old && old.spec?.preserveUnknownFields === true) && crd.spec?.preserveUnknownFields === true) {
    errs.push(invalid(newPath('spec', 'preserveUnknownFields'), true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  }
  return errs;
}
