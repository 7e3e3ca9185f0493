// Finds fields of an object that its OpenAPI schema does not declare (fieldValidation Strict/Warn),
// walking the vendored v1.32 definitions: $ref, arrays, maps, and free-form objects.
import { createRequire } from 'node:module';

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  allOf?: Schema[];
}

let definitions: Record<string, Schema> | undefined;

/** The vendored definitions, loaded once. */
export function openAPIDefinitions(): Record<string, Schema> {
  if (!definitions) {
    const require = createRequire(import.meta.url);
    const spec = require('./openapi/kubernetes-v1.32-openapi-v2.json') as { definitions: Record<string, Schema> };
    definitions = spec.definitions;
  }
  return definitions;
}

function resolve(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.$ref) cur = openAPIDefinitions()[cur.$ref.replace('#/definitions/', '')];
    else if (cur.allOf && cur.allOf.length === 1) cur = cur.allOf[0];
    else return cur;
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(schema: Schema | undefined, value: unknown, path: string, out: string[]): void {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (s.items) for (let i = 0; i < value.length; i++) walk(s.items, value[i], `${path}[${i}]`, out);
    return;
  }
  if (!isObject(value)) return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = path === '' ? k : `${path}.${k}`;
      // Own properties only: "toString" is not a field of any kind.
      const ps = Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
      if (ps) walk(ps, v, child, out);
      else if (!s.additionalProperties) out.push(child);
    }
    return;
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(value)) walk(s.additionalProperties, v, path === '' ? k : `${path}.${k}`, out);
  }
}

/**
 * Objects that decodeTyped just walked and found free of undeclared fields, with the definition
 * walked: the request path asks unknownFields right after decodeTyped, and need not walk twice.
 */
const knownClean = new WeakMap<object, string>();

/** Notes that `obj`, as it is now, has no undeclared fields of `definition` (decodeTyped's walk found none). */
export function rememberNoUnknownFields(obj: object, definition: string): void {
  knownClean.set(obj, definition);
}

/**
 * Paths of undeclared fields ("spec.foo", "spec.containers[0].bar"), in document order. An object
 * that decodeTyped found clean answers at once: call this before changing the object further.
 */
export function unknownFields(definition: string, obj: Record<string, unknown>): string[] {
  if (knownClean.get(obj) === definition) {
    knownClean.delete(obj);
    return [];
  }
  const def = openAPIDefinitions()[definition];
  if (!def) return [];
  const out: string[] = [];
  walk(def, obj, '', out);
  return out;
}
