// Type-checks a JSON object against its OpenAPI definition the way Go's json.Unmarshal into the
// typed struct would: wrong JSON types fail with Go's message, nulls become absent (zero values),
// and unknown fields are reported separately (for fieldValidation). After this, every later stage
// (defaulting, validation, allocation) may trust the shape of what it reads.
// Requests take a fast walk over schemas compiled once (no paths, no closures), which also notes
// whether the object has undeclared fields; only a failing object is walked again for the message.
import { openAPIDefinitions, rememberNoUnknownFields } from './unknown_fields.ts';

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  allOf?: Schema[];
}

/** The Go-style decode error of the first wrong type, or undefined when the object fits. */
export function decodeTyped(definition: string, obj: Record<string, unknown>): string | undefined {
  const root = compiledDefinition(definition);
  if (!root) return undefined;
  sawUnknown = false;
  if (fits(root, obj)) {
    if (!sawUnknown) rememberNoUnknownFields(obj, definition);
    return undefined;
  }
  // The fast walk stopped at the first misfit, having dropped the same nulls the slow walk drops
  // up to there: the slow walk meets the same first error and words it.
  return check(openAPIDefinitions()[definition] as Schema, obj, '', goStructName(definition)) ?? 'json: cannot unmarshal the object';
}

/** decodeTyped by the slow walk alone (tests compare the two). */
export function decodeTypedSlow(definition: string, obj: Record<string, unknown>): string | undefined {
  const def = openAPIDefinitions()[definition];
  if (!def) return undefined;
  return check(def as Schema, obj, '', goStructName(definition));
}

// ---------------------------------------------------------------- compiled schemas

/** What a value at a schema node must be; ANY neither checks nor descends. */
const ANY = 0, STRING = 1, BOOLEAN = 2, INT32 = 3, INT64 = 4, NUMBER = 5, ARRAY = 6, OBJECT = 7, INT_OR_STRING = 8, QUANTITY = 9;

/** A schema node with its $ref resolved and its kind decided once (the same decisions as check). */
interface Compiled {
  kind: number;
  /** Declared properties (OBJECT). */
  props: Map<string, Compiled> | undefined;
  /** additionalProperties as a schema (OBJECT). */
  additional: Compiled | undefined;
  /** Keys outside props are undeclared fields (properties declared, additionalProperties not allowed). */
  strict: boolean;
  /** Array items (ARRAY). */
  items: Compiled | undefined;
  /** ANY for a reason the unknown-field walk might not share: a non-scalar here is looked at again. */
  opaque: boolean;
}

const byRef = new Map<string, Compiled>();
const byInline = new Map<Schema, Compiled>();

function compiledDefinition(definition: string): Compiled | undefined {
  const def = openAPIDefinitions()[definition];
  if (!def) return undefined;
  return compile({ $ref: `#/definitions/${definition}` });
}

function compile(s: Schema): Compiled {
  const ref = refName(s);
  const memo = ref !== undefined ? byRef.get(ref) : byInline.get(s);
  if (memo) return memo;
  const schema = ref !== undefined ? (openAPIDefinitions()[ref] as Schema | undefined) ?? {} : s;
  const node: Compiled = { kind: ANY, props: undefined, additional: undefined, strict: false, items: undefined, opaque: false };
  // Registered before the children: schemas are recursive (JSONSchemaProps).
  if (ref !== undefined) byRef.set(ref, node);
  else byInline.set(s, node);
  if (schema['x-kubernetes-preserve-unknown-fields']) return node;
  if (ref?.endsWith('.IntOrString') || schema['x-kubernetes-int-or-string'] || schema.format === 'int-or-string') {
    node.kind = INT_OR_STRING;
    return node;
  }
  if (ref?.endsWith('.Quantity')) {
    node.kind = QUANTITY;
    return node;
  }
  if (ref?.endsWith('.RawExtension') || ref?.endsWith('.FieldsV1') || ref?.endsWith('.JSON')) return node;
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'string': node.kind = STRING; break;
    case 'boolean': node.kind = BOOLEAN; break;
    case 'integer': node.kind = schema.format === 'int64' ? INT64 : INT32; break;
    case 'number': node.kind = NUMBER; break;
    case 'array':
      node.kind = ARRAY;
      if (schema.items) node.items = compile(schema.items);
      break;
    case 'object':
      node.kind = OBJECT;
      node.strict = schema.properties !== undefined && !schema.additionalProperties;
      if (schema.properties) {
        node.props = new Map();
        for (const [k, v] of Object.entries(schema.properties)) node.props.set(k, compile(v));
      }
      if (typeof schema.additionalProperties === 'object') node.additional = compile(schema.additionalProperties);
      break;
    default:
      node.opaque = true;
  }
  return node;
}

/** Set by fits() when the object may hold undeclared fields. */
let sawUnknown = false;

/** check() without messages: whether `value` fits `n`; drops nulls of declared fields as check does. */
function fits(n: Compiled, value: unknown): boolean {
  switch (n.kind) {
    case ANY:
      if (n.opaque && typeof value === 'object' && value !== null) sawUnknown = true;
      return true;
    case STRING: return typeof value === 'string';
    case BOOLEAN: return typeof value === 'boolean';
    case INT32: return typeof value === 'number' && Number.isInteger(value) && value <= 2147483647 && value >= -2147483648;
    case INT64: return typeof value === 'number' && Number.isInteger(value);
    case NUMBER: return typeof value === 'number';
    case INT_OR_STRING: return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
    case QUANTITY: return typeof value === 'string' || typeof value === 'number';
    case ARRAY: {
      if (!Array.isArray(value)) return false;
      const items = n.items;
      if (items === undefined) return true;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v !== null && !fits(items, v)) return false;
      }
      return true;
    }
    case OBJECT: {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      const o = value as Record<string, unknown>;
      const keys = Object.keys(o);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = o[key];
        const declared = n.props?.get(key);
        if (declared === undefined && n.strict) sawUnknown = true;
        if (v === null) {
          if (declared !== undefined) delete o[key];
          continue;
        }
        const c = declared ?? n.additional;
        if (c !== undefined && !fits(c, v)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

function goStructName(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}

function goPackage(definition: string): string {
  const parts = definition.split('.');
  return parts.length >= 2 ? parts[parts.length - 2]! : '';
}

function refName(s: Schema): string | undefined {
  if (s.$ref) return s.$ref.replace('#/definitions/', '');
  if (s.allOf?.length === 1 && s.allOf[0]!.$ref) return s.allOf[0]!.$ref.replace('#/definitions/', '');
  return undefined;
}

function resolve(s: Schema): { schema: Schema; ref?: string } {
  const ref = refName(s);
  if (ref) {
    const d = openAPIDefinitions()[ref] as Schema | undefined;
    return { schema: d ?? {}, ref };
  }
  return { schema: s };
}

function goTypeOf(s: Schema): string {
  const { schema, ref } = resolve(s);
  if (ref) {
    const name = goStructName(ref);
    if (ref.endsWith('.Quantity')) return 'resource.Quantity';
    if (ref.endsWith('.IntOrString')) return 'intstr.IntOrString';
    if (ref.endsWith('.Time') || ref.endsWith('.MicroTime')) return `v1.${name}`;
    return `${goPackage(ref)}.${name}`;
  }
  switch (schema.type) {
    case 'array': return `[]${schema.items ? goTypeOf(schema.items) : 'interface {}'}`;
    case 'object': return schema.additionalProperties && typeof schema.additionalProperties === 'object' ? `map[string]${goTypeOf(schema.additionalProperties)}` : 'map[string]interface {}';
    case 'integer': return schema.format === 'int64' ? 'int64' : 'int32';
    case 'number': return 'float64';
    case 'boolean': return 'bool';
    case 'string': return schema.format === 'byte' ? '[]uint8' : 'string';
    default: return 'interface {}';
  }
}

function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number
}

/** Walks `value` against `s`; `struct` is the Go struct whose field we are in (for messages). */
function check(s: Schema, value: unknown, path: string, struct: string): string | undefined {
  const { schema, ref } = resolve(s);
  const fail = (): string => `json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${struct}.${path} of type ${goTypeOf(s)}`;
  if (schema['x-kubernetes-preserve-unknown-fields']) return undefined;
  if (ref?.endsWith('.IntOrString') || schema['x-kubernetes-int-or-string'] || schema.format === 'int-or-string') {
    return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? undefined : fail();
  }
  if (ref?.endsWith('.Quantity')) {
    return typeof value === 'string' || typeof value === 'number' ? undefined : fail();
  }
  if (ref?.endsWith('.RawExtension') || ref?.endsWith('.FieldsV1') || ref?.endsWith('.JSON')) return undefined;
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : fail();
    case 'boolean':
      return typeof value === 'boolean' ? undefined : fail();
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail();
      if (schema.format !== 'int64' && (value > 2147483647 || value < -2147483648)) {
        return `json: cannot unmarshal number ${value} into Go struct field ${struct}.${path} of type int32`;
      }
      return undefined;
    case 'number':
      return typeof value === 'number' ? undefined : fail();
    case 'array': {
      if (!Array.isArray(value)) return fail();
      if (!schema.items) return undefined;
      for (let i = 0; i < value.length; i++) {
        if (value[i] === null) continue;
        const err = check(schema.items, value[i], path, struct);
        if (err) return err;
      }
      return undefined;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail();
      const o = value as Record<string, unknown>;
      const childStruct = ref ? goStructName(ref) : struct;
      for (const key of Object.keys(o)) {
        const v = o[key];
        const childPath = path === '' ? key : `${path}.${key}`;
        const declared = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        const ps = declared ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (v === null) {
          // Go decodes null as the zero value: absent once re-encoded (maps keep their keys).
          if (declared) delete o[key];
          continue;
        }
        if (!ps) continue; // unknown field: fieldValidation decides
        const err = check(ps, v, ref ? childPath.slice(path === '' ? 0 : path.length + 1) : childPath, ref ? childStruct : struct);
        if (err) return ref ? err : err;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
