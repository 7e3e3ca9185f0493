// Validation of one openAPIV3Schema of a CustomResourceDefinition (apiextensions'
// validateCustomResourceDefinitionValidation): the structural-schema rules (schema.ValidateStructural),
// the defaults (defaulting.ValidateDefaults), the per-node rules of
// ValidateCustomResourceDefinitionOpenAPISchema and the compilation of x-kubernetes-validations.

import {
  forbidden, goValue, internalError, invalid, notSupported, required, type FieldError, type Path,
} from '../field_errors.ts';
import { goQuote } from '../go_strings.ts';
import { compileRule, validFieldPath } from './cel_compile.ts';
import { costErrorMessage, multiplyCost, STATIC_ESTIMATED_COST_LIMIT, STATIC_ESTIMATED_CRD_COST_LIMIT, TotalCost } from './cel_cost.ts';
import { CelValidator } from './cel_validate.ts';
import { validateEmbeddedResources } from './embedded.ts';
import { OpenAPIValidator } from './openapi_validate.ts';
import { pruneValue } from './prune.ts';
import { asObject, toStructural, type Structural } from './structural.ts';
import { validateStructural } from './structural_validation.ts';
import { deepEqualJson, goSharpV } from './values.ts';
import { copyJson } from '../json_copy.ts';

type Schema = Record<string, unknown>;

/** What the caller decided from the old CRD (upstream's validationOptions). */
export interface SchemaOptions {
  readonly allowDefaults: boolean;
  readonly requireValidPropertyType: boolean;
  readonly requireStructuralSchema: boolean;
  readonly requirePrunedDefaults: boolean;
  readonly requireAtomicSetType: boolean;
  readonly requireMapListKeysMapSetValidation: boolean;
}

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const SUPPORTED_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);

// JSONSchemaProps' Go field names in declaration order, with their JSON names.
const GO_FIELDS: readonly (readonly [string, string])[] = [
  ['ID', 'id'], ['Schema', '$schema'], ['Ref', '$ref'], ['Description', 'description'], ['Type', 'type'],
  ['Format', 'format'], ['Title', 'title'], ['Default', 'default'], ['Maximum', 'maximum'],
  ['ExclusiveMaximum', 'exclusiveMaximum'], ['Minimum', 'minimum'], ['ExclusiveMinimum', 'exclusiveMinimum'],
  ['MaxLength', 'maxLength'], ['MinLength', 'minLength'], ['Pattern', 'pattern'], ['MaxItems', 'maxItems'],
  ['MinItems', 'minItems'], ['UniqueItems', 'uniqueItems'], ['MultipleOf', 'multipleOf'], ['Enum', 'enum'],
  ['MaxProperties', 'maxProperties'], ['MinProperties', 'minProperties'], ['Required', 'required'], ['Items', 'items'],
  ['AllOf', 'allOf'], ['OneOf', 'oneOf'], ['AnyOf', 'anyOf'], ['Not', 'not'], ['Properties', 'properties'],
  ['AdditionalProperties', 'additionalProperties'], ['PatternProperties', 'patternProperties'],
  ['Dependencies', 'dependencies'], ['AdditionalItems', 'additionalItems'], ['Definitions', 'definitions'],
  ['ExternalDocs', 'externalDocs'], ['Example', 'example'], ['Nullable', 'nullable'],
  ['XPreserveUnknownFields', 'x-kubernetes-preserve-unknown-fields'], ['XEmbeddedResource', 'x-kubernetes-embedded-resource'],
  ['XIntOrString', 'x-kubernetes-int-or-string'], ['XListMapKeys', 'x-kubernetes-list-map-keys'],
  ['XListType', 'x-kubernetes-list-type'], ['XMapType', 'x-kubernetes-map-type'], ['XValidations', 'x-kubernetes-validations'],
];
const ALLOWED_AT_ROOT = ['Description', 'Type', 'Format', 'Title', 'Maximum', 'ExclusiveMaximum', 'Minimum', 'ExclusiveMinimum',
  'MaxLength', 'MinLength', 'Pattern', 'MaxItems', 'MinItems', 'UniqueItems', 'MultipleOf', 'Required', 'Items', 'Properties',
  'ExternalDocs', 'Example', 'XPreserveUnknownFields', 'XValidations'];

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isZero(v: unknown): boolean {
  if (v === undefined || v === false || v === '' || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

function props(s: Schema): Record<string, Schema> | undefined {
  const p = asObject(s['properties']);
  return p && Object.keys(p).length > 0 ? (p as Record<string, Schema>) : undefined;
}

function subList(s: Schema, key: string): Schema[] {
  return Array.isArray(s[key]) ? (s[key] as unknown[]).map((x) => asObject(x) ?? {}) : [];
}

/** The %#v of an internal ValidationRule, as upstream shows it in rule compile errors. */
export function goValidationRule(r: Schema): ReturnType<typeof goValue> {
  const ptr = (v: unknown, t: string): string => (v === undefined || v === null ? `(*${t})(nil)` : `(*${t})(0xc000010000)`);
  return goValue(`apiextensions.ValidationRule{Rule:${goQuote(str(r['rule']))}, Message:${goQuote(str(r['message']))}, `
    + `MessageExpression:${goQuote(str(r['messageExpression']))}, Reason:${ptr(r['reason'], 'apiextensions.FieldValueErrorReason')}, `
    + `FieldPath:${goQuote(str(r['fieldPath']))}, OptionalOldSelf:${ptr(r['optionalOldSelf'], 'bool')}}`);
}

// ---- defaults (defaulting/validation.go) ----

function validateDefaults(p: Path, s: Schema, requirePrunedDefaults: boolean): FieldError[] {
  const out: FieldError[] = [];
  const root = { ...s, 'x-kubernetes-embedded-resource': true };
  walkDefaults(p, root, root, false, requirePrunedDefaults, out);
  return out;
}

function walkDefaults(p: Path, s: Schema, rootSchema: Schema, insideMeta: boolean, requirePruned: boolean, out: FieldError[]): void {
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (embedded) {
    insideMeta = false;
    rootSchema = s;
  }
  const def = s['default'];
  const node = toStructural(s)!;
  if (def !== undefined && def !== null) {
    const dp = p.child('default');
    if (!insideMeta && requirePruned) {
      const pruned = copyJson(def);
      pruneValue(pruned, node, embedded);
      if (!deepEqualJson(pruned, def)) out.push(invalid(dp, shown(def), 'must not have unknown fields'));
    }
    const objErrs = asObject(def) ? (embedded ? embeddedRootErrors(dp, def as Schema) : validateEmbeddedResources(def as Record<string, unknown>, node).map((e) => rebase(e, dp))) : [];
    if (objErrs.length > 0) {
      out.push(...objErrs);
    } else {
      const errs = new OpenAPIValidator(s, dp).validate(def);
      if (errs.length > 0) out.push(...errs);
      else {
        const cel = new CelValidator().runAt(node, dp, def, def, s === rootSchema);
        out.push(...cel);
        if (cel.length === 0) out.push(...new CelValidator().runAt(node, dp, def, undefined, s === rootSchema));
      }
    }
  }
  const items = asObject(s['items']);
  if (items) walkDefaults(p.child('items'), items, rootSchema, insideMeta, requirePruned, out);
  for (const [k, sub] of Object.entries(props(s) ?? {})) {
    const subInsideMeta = insideMeta || (embedded && META_FIELDS.has(k));
    walkDefaults(p.child('properties').key(k), asObject(sub) ?? {}, rootSchema, subInsideMeta, requirePruned, out);
  }
}

function embeddedRootErrors(p: Path, def: Schema): FieldError[] {
  return validateEmbeddedResources({ x: def }, toStructural({ type: 'object', properties: { x: { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } })!)
    .map((e) => ({ ...e, field: e.field.replace(/^x/, p.toString()) }));
}

function rebase(e: FieldError, p: Path): FieldError {
  return { ...e, field: e.field === '<nil>' ? p.toString() : `${p.toString()}.${e.field}` };
}

function shown(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? goSharpV(v) : v;
}

// ---- ValidateCustomResourceDefinitionOpenAPISchema ----

interface Ssv {
  readonly allowDefaults: boolean;
  readonly disallowDefaultsReason: string;
  readonly insideResourceMeta: boolean;
  readonly requireValidPropertyType: boolean;
  readonly uncorrelatable: Path | undefined;
}

interface ErrorLists {
  readonly schema: FieldError[];
  readonly cel: FieldError[];
  /** The estimated costs of the rules so far (upstream's TotalCost of the root CEL context). */
  readonly total: TotalCost<Path>;
}

/** Where rules of a node are compiled: its structural node and how often it can occur (undefined: unbounded). */
interface CelContext {
  readonly node: Structural;
  readonly root: boolean;
  readonly cardinality: number | undefined;
}

/** The cardinality of a child occurring up to `max` times per parent (upstream's CELSchemaContext children). */
function childCardinality(parent: number | undefined, max: unknown): number | undefined {
  if (parent === undefined || typeof max !== 'number') return undefined;
  return parent === 0 ? 0 : multiplyCost(Math.max(0, max), parent);
}

function standardValidate(s: Schema, p: Path, v: Ssv, out: FieldError[]): void {
  const type = str(s['type']);
  if (v.requireValidPropertyType && type !== '' && !OPENAPI_V3_TYPES.includes(type)) out.push(notSupported(p.child('type'), type, OPENAPI_V3_TYPES));
  if (s['default'] !== undefined && s['default'] !== null && !v.allowDefaults) {
    out.push(forbidden(p.child('default'), `must not be set${v.disallowDefaultsReason ? ` ${v.disallowDefaultsReason}` : ''}`));
  }
  if (str(s['id']) !== '') out.push(forbidden(p.child('id'), 'id is not supported'));
  if (s['additionalItems'] !== undefined) out.push(forbidden(p.child('additionalItems'), 'additionalItems is not supported'));
  if (asObject(s['patternProperties']) && Object.keys(s['patternProperties'] as object).length > 0) out.push(forbidden(p.child('patternProperties'), 'patternProperties is not supported'));
  if (asObject(s['definitions']) && Object.keys(s['definitions'] as object).length > 0) out.push(forbidden(p.child('definitions'), 'definitions is not supported'));
  if (s['dependencies'] !== undefined) out.push(forbidden(p.child('dependencies'), 'dependencies is not supported'));
  if (s['$ref'] !== undefined) out.push(forbidden(p.child('$ref'), '$ref is not supported'));
  if (type === 'null') out.push(forbidden(p.child('type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s['items']) && s['items'].length > 0) out.push(forbidden(p.child('items'), 'items must be a schema object and not an array'));
  if (v.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true) out.push(forbidden(p.child('x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
}

function openAPISchema(s: Schema | undefined, p: Path, ssv: Ssv, isRoot: boolean, opts: SchemaOptions, cel: CelContext | undefined, lists: ErrorLists): void {
  if (!s) return;
  const errs = lists.schema;
  const start = errs.length;
  standardValidate(s, p, ssv, errs);
  if (s['uniqueItems'] === true) errs.push(forbidden(p.child('uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const properties = props(s);
  const ap = s['additionalProperties'];
  if (ap !== undefined) {
    if (properties && (ap === false || asObject(ap))) errs.push(forbidden(p.child('additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    const sub = ssv.insideResourceMeta ? { ...ssv, allowDefaults: false, disallowDefaultsReason: 'inside additionalProperties applying to object metadata' } : ssv;
    const aps = asObject(ap);
    const apNode = cel && cel.node.additionalProperties !== undefined && cel.node.additionalProperties !== true
      ? { node: cel.node.additionalProperties, root: false, cardinality: childCardinality(cel.cardinality, s['maxProperties']) } : undefined;
    openAPISchema(aps, p.child('additionalProperties'), sub, false, opts, aps ? apNode : undefined, lists);
  }
  for (const [k, v] of Object.entries(properties ?? {})) {
    let sub = ssv;
    const mapType = s['x-kubernetes-map-type'];
    if (mapType !== undefined && mapType !== 'granular' && mapType !== 'atomic' && !sub.uncorrelatable) sub = { ...sub, uncorrelatable: p };
    if ((isRoot || s['x-kubernetes-embedded-resource'] === true) && META_FIELDS.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    const child = cel?.node.properties?.get(k);
    openAPISchema(asObject(v) ?? {}, p.child('properties').key(k), sub, false, opts, child ? { node: child, root: false, cardinality: cel?.cardinality } : undefined, lists);
  }
  const not = asObject(s['not']);
  if (not) openAPISchema(not, p.child('not'), ssv, false, opts, undefined, lists);
  for (const key of ['allOf', 'oneOf', 'anyOf']) subList(s, key).forEach((x, i) => openAPISchema(x, p.child(key).index(i), ssv, false, opts, undefined, lists));
  for (const [k, v] of Object.entries(asObject(s['definitions']) ?? {})) openAPISchema(asObject(v) ?? {}, p.child('definitions').key(k), ssv, false, opts, undefined, lists);
  const items = s['items'];
  if (items !== undefined) {
    let sub = ssv;
    if (s['x-kubernetes-list-type'] !== 'map' && !sub.uncorrelatable) sub = { ...sub, uncorrelatable: p };
    const itemsObj = asObject(items);
    openAPISchema(itemsObj, p.child('items'), sub, false, opts, itemsObj && cel?.node.items ? { node: cel.node.items, root: false, cardinality: childCardinality(cel.cardinality, s['maxItems']) } : undefined, lists);
    if (Array.isArray(items)) items.forEach((x, i) => openAPISchema(asObject(x) ?? {}, p.child('items').index(i), sub, false, opts, undefined, lists));
  }
  for (const [k, v] of Object.entries(asObject(s['dependencies']) ?? {})) openAPISchema(asObject(v), p.child('dependencies').key(k), ssv, false, opts, undefined, lists);
  if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(invalid(p.child('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  listAndMapTypes(s, p, opts, errs);
  const rules = Array.isArray(s['x-kubernetes-validations']) ? (s['x-kubernetes-validations'] as unknown[]).map((r) => asObject(r) ?? {}) : [];
  if (rules.length > 0) validationRules(s, rules, p, ssv, cel, lists, start);
}

function listAndMapTypes(s: Schema, p: Path, opts: SchemaOptions, errs: FieldError[]): void {
  const type = str(s['type']);
  const mapType = s['x-kubernetes-map-type'];
  const listType = s['x-kubernetes-list-type'];
  const keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [];
  if (mapType !== undefined && type !== 'object') {
    if (type === '') errs.push(required(p.child('type'), 'must be object if x-kubernetes-map-type is specified'));
    else errs.push(invalid(p.child('type'), type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') errs.push(notSupported(p.child('x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  const items = asObject(s['items']);
  if (listType !== undefined && type !== 'array') {
    if (type === '') errs.push(required(p.child('type'), 'must be array if x-kubernetes-list-type is specified'));
    else errs.push(invalid(p.child('type'), type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (opts.requireAtomicSetType && listType === 'set' && items) {
    const it = str(items['type']);
    if (it === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
      errs.push(invalid(p.child('items').child('x-kubernetes-list-type'), items['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    } else if (it === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      errs.push(invalid(p.child('items').child('x-kubernetes-map-type'), items['x-kubernetes-list-type'] ?? null, 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
  }
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') errs.push(notSupported(p.child('x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  if (keys.length > 0) {
    if (listType === undefined) errs.push(required(p.child('x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') errs.push(invalid(p.child('x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (keys.length === 0) errs.push(required(p.child('x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (s['items'] === undefined) errs.push(required(p.child('items'), 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s['items'])) errs.push(invalid(p.child('items'), goValue('&apiextensions.JSONSchemaPropsOrArray{...}'), 'must only have a single schema if x-kubernetes-list-type is map'));
    if (items && str(items['type']) !== 'object') errs.push(invalid(p.child('items').child('type'), str(items['type']), "must be object if parent array's x-kubernetes-list-type is map"));
    if (items && str(items['type']) === 'object') {
      const seen = new Set<string>();
      const ip = props(items) ?? {};
      for (const k of keys) {
        const ks = asObject(ip[k]);
        if (ks) {
          if (ks['type'] === 'array' || ks['type'] === 'object') errs.push(invalid(p.child('items').child('properties').key(k).child('type'), str(items['type']), "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        } else {
          errs.push(invalid(p.child('x-kubernetes-list-map-keys'), keys, 'entries must all be names of item properties'));
        }
        if (seen.has(k)) errs.push(invalid(p.child('x-kubernetes-list-map-keys'), keys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (opts.requireMapListKeysMapSetValidation) errs.push(...mapListKeysMapSet(s, p));
}

/** validateMapListKeysMapSet. */
export function mapListKeysMapSet(s: Schema, p: Path): FieldError[] {
  const items = asObject(s['items']);
  const listType = s['x-kubernetes-list-type'];
  if (!items || (listType !== 'set' && listType !== 'map')) return [];
  const errs: FieldError[] = [];
  if (items['nullable'] === true) errs.push(forbidden(p.child('items').child('nullable'), `cannot be nullable when x-kubernetes-list-type is ${String(listType)}`));
  if (listType === 'map') {
    const req = Array.isArray(items['required']) ? (items['required'] as string[]) : [];
    const ip = props(items) ?? {};
    for (const k of Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : []) {
      const ks = asObject(ip[k]);
      if (!ks) continue;
      if (!req.includes(k) && (ks['default'] === undefined || ks['default'] === null)) {
        errs.push(required(p.child('items').child('properties').key(k).child('default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
      }
      if (ks['nullable'] === true) errs.push(forbidden(p.child('items').child('properties').key(k).child('nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
    }
  }
  return errs;
}

function validationRules(s: Schema, rules: Schema[], p: Path, ssv: Ssv, cel: CelContext | undefined, lists: ErrorLists, before: number): void {
  const errs = lists.schema;
  const node = toStructural(s)!;
  rules.forEach((rule, i) => {
    const rp = p.child('x-kubernetes-validations').index(i);
    const r = str(rule['rule']);
    const msg = str(rule['message']);
    const trimmedRule = r.trim();
    const trimmedMsg = msg.trim();
    const msgExpr = str(rule['messageExpression']);
    if (trimmedRule === '') errs.push(required(rp.child('rule'), 'rule is not specified'));
    else if (msg.length > 0 && trimmedMsg.length === 0) errs.push(invalid(rp.child('message'), msg, 'message must be non-empty if specified'));
    else if (/[\n\r]/.test(trimmedMsg)) errs.push(invalid(rp.child('message'), msg, 'message must not contain line breaks'));
    else if (/[\n\r]/.test(trimmedRule) && trimmedMsg.length === 0) errs.push(required(rp.child('message'), 'message must be specified if rule contains line breaks'));
    if (msgExpr.length > 0 && msgExpr.trim().length === 0) errs.push(required(rp.child('messageExpression'), 'messageExpression must be non-empty if specified'));
    if (rule['reason'] !== undefined && !SUPPORTED_REASONS.includes(str(rule['reason']))) errs.push(notSupported(rp.child('reason'), rule['reason'], SUPPORTED_REASONS));
    const fp = str(rule['fieldPath']);
    if (fp.length > 0 && fp.trim().length === 0) errs.push(invalid(rp.child('fieldPath'), fp, 'fieldPath must be non-empty if specified'));
    if (/[\n\r]/.test(fp)) errs.push(invalid(rp.child('fieldPath'), fp, 'fieldPath must not contain line breaks'));
    if (fp.length > 0 && 'error' in validFieldPath(fp, node)) errs.push(invalid(rp.child('fieldPath'), fp, 'fieldPath must be a valid path'));
  });
  if (errs.length !== before || !cel) return;
  rules.forEach((rule, i) => {
    const rp = p.child('x-kubernetes-validations').index(i);
    const c = compileRule({ ...rule, rule: str(rule['rule']) }, cel.node, cel.root);
    const cost = multiplyCost(c.maxCost, cel.cardinality ?? c.maxCardinality);
    if (cost > STATIC_ESTIMATED_COST_LIMIT) lists.cel.push(forbidden(rp.child('rule'), costErrorMessage('estimated rule cost', cost, STATIC_ESTIMATED_COST_LIMIT)));
    lists.total.observe(rp.child('rule'), cost);
    if (c.error) {
      if (c.error.type === 'Required') lists.cel.push(required(rp.child('rule'), c.error.detail));
      else if (c.error.type === 'Internal') lists.cel.push(internalError(rp.child('rule'), c.error.detail));
      else lists.cel.push(invalid(rp.child('rule'), goValidationRule(rule), c.error.detail));
    }
    if (c.messageExpressionError) lists.cel.push(invalid(rp.child('messageExpression'), goValidationRule(rule), c.messageExpressionError.detail));
    else if (c.messageExpression) {
      if (c.messageExpressionMaxCost > STATIC_ESTIMATED_COST_LIMIT) {
        lists.cel.push(forbidden(rp.child('messageExpression'), costErrorMessage('estimated messageExpression cost', c.messageExpressionMaxCost, STATIC_ESTIMATED_COST_LIMIT)));
      }
      lists.total.observe(rp.child('messageExpression'), c.messageExpressionMaxCost);
    }
    if (c.usesOldSelf) {
      if (ssv.uncorrelatable) lists.cel.push(invalid(rp.child('rule'), str(rule['rule']), `oldSelf cannot be used on the uncorrelatable portion of the schema within ${ssv.uncorrelatable.toString()}`));
    } else if (rule['optionalOldSelf'] !== undefined && rule['optionalOldSelf'] !== null && !c.error) {
      lists.cel.push(invalid(rp.child('optionalOldSelf'), rule['optionalOldSelf'], 'may not be set if oldSelf is not used in rule'));
    }
  });
}

/** validateCustomResourceDefinitionValidation for one openAPIV3Schema at `p` (…schema or spec.validation). */
export function validateCRDSchema(validation: Schema | undefined, statusEnabled: boolean, opts: SchemaOptions, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!validation) return errs;
  const schema = asObject(validation['openAPIV3Schema']);
  if (!schema) return errs;
  const sp = p.child('openAPIV3Schema');
  if (statusEnabled) {
    for (const [goName, jsonName] of GO_FIELDS) {
      const v = schema[jsonName];
      if (isZero(v) || v === null) continue;
      if (goName === 'Type') {
        if (v !== 'object') {
          errs.push(invalid(p.child('openAPIV3Schema.type'), v, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'));
          break;
        }
        continue;
      }
      if (!ALLOWED_AT_ROOT.includes(goName)) {
        errs.push(invalid(sp, goValue('apiextensions.JSONSchemaProps{...}'), `only [${ALLOWED_AT_ROOT.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`));
        break;
      }
    }
  }
  if (schema['nullable'] === true) errs.push(forbidden(p.child('openAPIV3Schema.nullable'), 'nullable cannot be true at the root'));
  const ssv: Ssv = { allowDefaults: opts.allowDefaults, disallowDefaultsReason: '', insideResourceMeta: false, requireValidPropertyType: opts.requireValidPropertyType, uncorrelatable: undefined };
  let celRoot: CelContext | undefined;
  const initErrs: FieldError[] = [];
  if (opts.requireStructuralSchema) {
    if (Array.isArray(schema['items']) || hasArrayItems(schema)) {
      initErrs.push(invalid(sp, '', "OpenAPIV3Schema 'items' must be a schema, but is an array"));
    } else {
      const structural = validateStructural(sp, schema);
      if (structural.length > 0) errs.push(...structural);
      else {
        const defaults = validateDefaults(sp, schema, opts.requirePrunedDefaults);
        if (defaults.length > 0) errs.push(...defaults);
        else celRoot = { node: toStructural(schema)!, root: true, cardinality: 1 };
      }
    }
  }
  const lists: ErrorLists = { schema: [], cel: [], total: new TotalCost<Path>() };
  openAPISchema(schema, sp, ssv, true, opts, celRoot, lists);
  errs.push(...lists.schema, ...lists.cel);
  if (celRoot && lists.total.total > STATIC_ESTIMATED_CRD_COST_LIMIT) {
    for (const x of lists.total.mostExpensive) errs.push(forbidden(x.path, 'contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema'));
    errs.push(forbidden(sp, costErrorMessage('x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema', lists.total.total, STATIC_ESTIMATED_CRD_COST_LIMIT)));
  }
  if (errs.length === 0) errs.push(...initErrs);
  return errs;
}

function hasArrayItems(s: Schema): boolean {
  if (Array.isArray(s['items'])) return true;
  const items = asObject(s['items']);
  if (items && hasArrayItems(items)) return true;
  for (const v of Object.values(props(s) ?? {})) if (asObject(v) && hasArrayItems(v as Schema)) return true;
  const ap = asObject(s['additionalProperties']);
  return ap !== undefined && hasArrayItems(ap);
}
