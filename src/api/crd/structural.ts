// The structural view of a CRD version's openAPIV3Schema (apiextensions' schema.Structural): the
// type skeleton that pruning, defaulting, list-type checks and CEL rules walk. Built leniently from
// decoded JSON: the CRD validator reports what is not structural, this file only reads.

import type { ValidationRule } from '../types/apiextensions_v1.ts';

/** One node of a structural schema. */
export interface Structural {
  readonly type: string;
  readonly nullable: boolean;
  /** Present when the schema sets `default` (undefined when it does not). */
  readonly default: unknown;
  readonly description: string;
  readonly title: string;
  readonly format: string;
  readonly properties: ReadonlyMap<string, Structural> | undefined;
  readonly items: Structural | undefined;
  /** additionalProperties: a schema, `true` (set without a schema), or undefined (not set). */
  readonly additionalProperties: Structural | true | undefined;
  readonly preserveUnknownFields: boolean;
  readonly embeddedResource: boolean;
  readonly intOrString: boolean;
  readonly listType: string | undefined;
  readonly listMapKeys: readonly string[];
  readonly mapType: string | undefined;
  readonly validations: readonly ValidationRule[];
  /** x-kubernetes-validations found under allOf (upstream evaluates them as well). */
  readonly allOfValidations: readonly Structural[];
  /** The raw JSONSchemaProps this node came from. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A plain JSON object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function rules(v: unknown): ValidationRule[] {
  if (!Array.isArray(v)) return [];
  return v.filter((r): r is ValidationRule => asObject(r) !== undefined).map((r) => ({ ...r, rule: asString(r.rule) }));
}

/** Builds the structural view of a JSONSchemaProps object (undefined for a missing schema). */
export function toStructural(raw: unknown): Structural | undefined {
  const s = asObject(raw);
  if (!s) return undefined;
  let properties: Map<string, Structural> | undefined;
  const props = asObject(s['properties']);
  if (props && Object.keys(props).length > 0) {
    properties = new Map();
    for (const [k, v] of Object.entries(props)) {
      const child = toStructural(v);
      if (child) properties.set(k, child);
    }
  }
  let additionalProperties: Structural | true | undefined;
  const ap = s['additionalProperties'];
  // false is kept as "set without a schema" as upstream's StructuralOrBool (CRD validation forbids it).
  if (ap === true || ap === false) additionalProperties = true;
  else if (asObject(ap)) additionalProperties = toStructural(ap);
  const allOf = Array.isArray(s['allOf']) ? s['allOf'].map(toStructural).filter((x): x is Structural => x !== undefined) : [];
  return {
    type: asString(s['type']),
    nullable: s['nullable'] === true,
    default: s['default'] === null ? null : s['default'],
    description: asString(s['description']),
    title: asString(s['title']),
    format: asString(s['format']),
    properties,
    items: asObject(s['items']) ? toStructural(s['items']) : undefined,
    additionalProperties,
    preserveUnknownFields: s['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: s['x-kubernetes-embedded-resource'] === true,
    intOrString: s['x-kubernetes-int-or-string'] === true,
    listType: typeof s['x-kubernetes-list-type'] === 'string' ? s['x-kubernetes-list-type'] : undefined,
    listMapKeys: Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'].filter((k): k is string => typeof k === 'string') : [],
    mapType: typeof s['x-kubernetes-map-type'] === 'string' ? s['x-kubernetes-map-type'] : undefined,
    validations: rules(s['x-kubernetes-validations']),
    allOfValidations: allOf.filter(hasValidations),
    raw: s,
  };
}

/** Whether a node or anything under it carries x-kubernetes-validations. */
export function hasValidations(s: Structural | undefined): boolean {
  if (!s) return false;
  if (s.validations.length > 0 || s.allOfValidations.length > 0) return true;
  if (hasValidations(s.items)) return true;
  if (s.additionalProperties !== true && hasValidations(s.additionalProperties)) return true;
  if (s.properties) for (const p of s.properties.values()) if (hasValidations(p)) return true;
  return false;
}

/** The schema of a map entry: the named property, else additionalProperties (undefined when neither). */
export function fieldSchema(s: Structural | undefined, key: string): Structural | undefined {
  if (!s) return undefined;
  const p = s.properties?.get(key);
  if (p) return p;
  return s.additionalProperties === true ? undefined : s.additionalProperties;
}

/** A copy of a node marked x-kubernetes-embedded-resource (upstream treats the resource root so). */
export function asEmbeddedRoot(s: Structural | undefined): Structural {
  const base = s ?? toStructural({})!;
  return base.embeddedResource ? base : { ...base, embeddedResource: true };
}
