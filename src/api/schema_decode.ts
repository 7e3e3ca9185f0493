// Type-checks a JSON object against its OpenAPI definition the way Go's json.Unmarshal into the
// typed struct would: wrong JSON types fail with Go's message, nulls become absent (zero values),
// and unknown fields are reported separately (for fieldValidation). After this, every later stage
// (defaulting, validation, allocation) may trust the shape of what it reads.
import { openAPIDefinitions } from './unknown_fields.ts';

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
  const defs = openAPIDefinitions();
  const def = defs[definition];
  if (!def) return undefined;
  return check(def as Schema, obj, '', goStructName(definition));
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
        const ps = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (v === null) {
          // Go decodes null as the zero value: absent once re-encoded (maps keep their keys).
          if (schema.properties?.[key]) delete o[key];
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
