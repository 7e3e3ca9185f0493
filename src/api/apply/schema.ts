// The structured-merge schema of server-side apply, derived from the vendored v1.32 OpenAPI
// definitions the way upstream's schema conversion does: list types (atomic, set, map with keys,
// else patch strategy merge), map types (atomic, granular) and untyped/deduced free-form values.
import { openAPIDefinitions } from '../unknown_fields.ts';

/** A list: atomic (owned as a whole) or associative (a set, or a map keyed by `keys`). */
export interface ListType {
  readonly atomic: boolean;
  readonly keys: readonly string[];
  readonly elem: () => Atom;
}

/** A map or struct: `fields` are the declared properties; `elem` types undeclared keys (none: not allowed). */
export interface MapType {
  readonly atomic: boolean;
  readonly fields: ReadonlyMap<string, FieldType>;
  readonly elem: (() => Atom) | undefined;
}

/** A declared property: its type and the default used for missing map-list keys. */
export interface FieldType {
  readonly atom: () => Atom;
  readonly default?: unknown;
}

/** What a value may be at one place in the schema; a free-form value allows several kinds. */
export interface Atom {
  readonly scalar?: 'numeric' | 'string' | 'boolean' | 'untyped';
  readonly list?: ListType;
  readonly map?: MapType;
  /** The definition it came from, for messages ("inlined" otherwise). */
  readonly name?: string;
}

interface OpenAPISchema {
  $ref?: string;
  allOf?: OpenAPISchema[];
  type?: string;
  format?: string;
  properties?: Record<string, OpenAPISchema>;
  items?: OpenAPISchema;
  additionalProperties?: OpenAPISchema | boolean;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-map-type'?: string;
}

// The v2 document drops `+default` markers that upstream's (v3-built) schema keeps; only these
// matter here, because a missing map-list key falls back to its default.
const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/** A scalar, list or map whose lists and maps are owned whole (RawExtension and deduced lists). */
export const UNTYPED_ATOMIC: Atom = {
  scalar: 'untyped',
  list: { atomic: true, keys: [], elem: () => UNTYPED_ATOMIC },
  map: { atomic: true, fields: new Map(), elem: () => UNTYPED_ATOMIC },
  name: '__untyped_atomic_',
};

/** A free-form value: maps are granular all the way down, lists atomic. */
export const DEDUCED: Atom = {
  scalar: 'untyped',
  list: { atomic: true, keys: [], elem: () => UNTYPED_ATOMIC },
  map: { atomic: false, fields: new Map(), elem: () => DEDUCED },
  name: '__untyped_deduced_',
};

const named = new Map<string, Atom>();
const overridden = new Map<string, Atom>();
/** Definitions outside the vendored document (custom resource kinds), by the name they were registered under. */
const registered = new Map<string, Atom>();
let registrations = 0;

/**
 * The atom of a kind schema that is not in the vendored document (a custom resource version's
 * OpenAPI v3 schema, as upstream's ToSchemaFromOpenAPI reads it); references name built-in definitions.
 */
export function atomFromOpenAPI(schema: Readonly<Record<string, unknown>>, name: string): Atom {
  const s = schema as OpenAPISchema;
  return parseSchema(s, name, s['x-kubernetes-preserve-unknown-fields'] === true, name);
}

/**
 * Makes `atom` the schema of writes naming the returned definition (the field manager is told
 * definitions only) until the returned disposer runs. Each call gets its own name: several servers
 * in one process may serve different schemas under one kind.
 */
export function registerDefinitionAtom(baseName: string, atom: Atom): { readonly definition: string; dispose(): void } {
  const definition = `crd#${++registrations}:${baseName}`;
  registered.set(definition, atom);
  return { definition, dispose: () => void registered.delete(definition) };
}

/** The registered atom of a definition, if it was registered rather than vendored. */
export function registeredAtom(name: string): Atom | undefined {
  return registered.get(name);
}

function refName(s: OpenAPISchema): string | undefined {
  const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]!.$ref : undefined);
  return ref ? ref.slice(ref.lastIndexOf('/') + 1) : undefined;
}

/** The atom of a definition, built once; undefined when the document has no such definition. */
export function definitionAtom(name: string): Atom | undefined {
  const custom = registered.get(name);
  if (custom) return custom;
  const hit = named.get(name);
  if (hit) return hit;
  const def = openAPIDefinitions()[name] as OpenAPISchema | undefined;
  if (!def) return undefined;
  let atom: Atom;
  if (name === QUANTITY) atom = { scalar: 'untyped', name };
  else if (name === RAW_EXTENSION) atom = { ...UNTYPED_ATOMIC, name };
  else atom = parseSchema(def, name, def['x-kubernetes-preserve-unknown-fields'] === true, name);
  named.set(name, atom);
  return atom;
}

function missingAtom(name: string): Atom {
  // A dangling reference: treat it as free-form rather than failing every write.
  return { ...DEDUCED, name };
}

/** A field's type: a reference (maybe with a field-level map-type override) or an inlined schema. */
function typeRef(s: OpenAPISchema, preserve: boolean, owner: string): () => Atom {
  const ref = refName(s);
  if (ref) {
    const mapType = s['x-kubernetes-map-type'];
    if (mapType === 'atomic' || mapType === 'granular') {
      const atomic = mapType === 'atomic';
      return () => withMapRelationship(ref, atomic);
    }
    let cached: Atom | undefined;
    return () => (cached ??= definitionAtom(ref) ?? missingAtom(ref));
  }
  let cached: Atom | undefined;
  return () => (cached ??= parseSchema(s, undefined, preserve || s['x-kubernetes-preserve-unknown-fields'] === true, owner));
}

function withMapRelationship(ref: string, atomic: boolean): Atom {
  const key = `${ref}|${atomic}`;
  const hit = overridden.get(key);
  if (hit) return hit;
  const base = definitionAtom(ref) ?? missingAtom(ref);
  let atom = base;
  if (base.map) atom = { ...base, map: { ...base.map, atomic } };
  else if (base.list) atom = { ...base, list: { ...base.list, atomic } };
  overridden.set(key, atom);
  return atom;
}

function parseSchema(s: OpenAPISchema, name: string | undefined, preserve: boolean, owner: string): Atom {
  switch (s.type) {
    case undefined:
    case '':
      return { scalar: 'untyped', list: parseList(s, preserve, owner), map: parseObject(s, name, preserve, owner), ...(name ? { name } : {}) };
    case 'object':
      return { map: parseObject(s, name, preserve, owner), ...(name ? { name } : {}) };
    case 'array':
      return { list: parseList(s, preserve, owner), ...(name ? { name } : {}) };
    case 'integer':
    case 'number':
      return { scalar: 'numeric' };
    case 'boolean':
      return { scalar: 'boolean' };
    case 'string':
      return { scalar: s.format === undefined || s.format === '' || s.format === 'byte' ? 'string' : 'untyped' };
    default:
      return { scalar: 'untyped' };
  }
}

function parseObject(s: OpenAPISchema, name: string | undefined, preserve: boolean, owner: string): MapType {
  const fields = new Map<string, FieldType>();
  const defaults = name ? KEY_DEFAULTS[name] : undefined;
  for (const [field, prop] of Object.entries(s.properties ?? {})) {
    const def = defaults?.[field] ?? prop.default;
    fields.set(field, def === undefined ? { atom: typeRef(prop, preserve, owner) } : { atom: typeRef(prop, preserve, owner), default: def });
  }
  let elem: (() => Atom) | undefined;
  const ap = s.additionalProperties;
  if (ap === undefined) {
    if (preserve || fields.size === 0) elem = () => DEDUCED;
  } else if (typeof ap === 'object') {
    elem = typeRef(ap, preserve, owner);
  } else if (ap) {
    elem = () => DEDUCED;
  }
  return { atomic: s['x-kubernetes-map-type'] === 'atomic', fields, elem };
}

function parseList(s: OpenAPISchema, preserve: boolean, owner: string): ListType {
  let atomic = true;
  let keys: readonly string[] = [];
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (listType === 'set') atomic = false;
    else if (listType === 'map') {
      atomic = false;
      keys = s['x-kubernetes-list-map-keys'] ?? [];
    }
  } else {
    const strategy = s['x-kubernetes-patch-strategy'];
    if (strategy === 'merge' || strategy === 'merge,retainKeys') {
      atomic = false;
      const key = s['x-kubernetes-patch-merge-key'];
      if (key) keys = [key];
    }
  }
  const elem = s.items ? typeRef(s.items, preserve, owner) : () => UNTYPED_ATOMIC;
  return { atomic, keys, elem };
}
