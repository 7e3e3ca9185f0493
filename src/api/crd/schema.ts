// The structural schema of one CustomResourceDefinition version and the operations the custom
// resource handlers run with it: pruning, defaulting and validation (apiextensions-apiserver's
// pkg/apiserver/schema and pkg/apiserver/validation). Pure: the serving side calls these.

import { invalid, newPath, ErrorType, type FieldError } from '../field_errors.ts';
import { CelValidator } from './cel_validate.ts';
import { applyDefaults, pruneNonNullableNullsWithoutDefaults } from './defaulting.ts';
import { validateEmbeddedResources } from './embedded.ts';
import { validateListSetsAndMaps } from './list_type.ts';
import { OpenAPIValidator } from './openapi_validate.ts';
import { coerceEmbeddedMetadata, pruneObject } from './prune.ts';
import { asObject, hasValidations, toStructural, type Structural } from './structural.ts';

/** One CRD version's compiled structural schema (opaque to callers). */
export interface CrdSchema {
  /** The root keeps unknown fields (no schema, or x-kubernetes-preserve-unknown-fields at the root). */
  readonly preserveUnknownFields: boolean;
  /** The structural view (undefined without a schema). */
  readonly structural: Structural | undefined;
  /** The OpenAPI validator of the full schema (undefined without a schema). */
  readonly validator: OpenAPIValidator | undefined;
  /** Whether any node carries x-kubernetes-validations. */
  readonly hasCelRules: boolean;
}

/** Compiles spec.versions[i].schema.openAPIV3Schema (undefined → a schema that preserves everything). */
export function compileCrdSchema(openAPIV3Schema: unknown): CrdSchema {
  const raw = asObject(openAPIV3Schema);
  if (!raw) return { preserveUnknownFields: true, structural: undefined, validator: undefined, hasCelRules: false };
  const structural = toStructural(raw);
  return {
    preserveUnknownFields: structural?.preserveUnknownFields ?? true,
    structural,
    validator: new OpenAPIValidator(raw),
    hasCelRules: hasValidations(structural),
  };
}

/**
 * Drops fields the schema does not specify (honouring x-kubernetes-preserve-unknown-fields,
 * x-kubernetes-embedded-resource, metadata of embedded objects); mutates obj; returns the dropped
 * paths, sorted, in the spelling of field-validation messages (`spec.foo`, `spec.list[0].bar`).
 * apiVersion/kind/metadata at the root are never pruned.
 */
export function pruneCustomResource(schema: CrdSchema, obj: Record<string, unknown>): string[] {
  if (!schema.structural) return [];
  const pruned = pruneObject(obj, schema.structural);
  const embedded = coerceEmbeddedMetadata(obj, schema.structural);
  return [...pruned, ...embedded];
}

/** Applies `default:` values (after dropping nulls of non-nullable fields without default); mutates obj. */
export function defaultCustomResource(schema: CrdSchema, obj: Record<string, unknown>): void {
  if (!schema.structural) return;
  pruneNonNullableNullsWithoutDefaults(obj, schema.structural);
  applyDefaults(obj, schema.structural);
}

// Errors that keep the CEL rules from running (upstream's hasBlockingErr).
const BLOCKING: ReadonlySet<string> = new Set([
  ErrorType.NotSupported, ErrorType.Required, ErrorType.TooLong, ErrorType.TooMany, ErrorType.TypeInvalid,
]);

/**
 * OpenAPI schema validation of a custom resource, then embedded resources, list-type invariants
 * and x-kubernetes-validations rules, as upstream's customResourceStrategy.Validate (create) and
 * ValidateUpdate (`old` given: ratcheting of unchanged values, transition rules). The root
 * metadata is left to the caller.
 */
export function validateCustomResource(schema: CrdSchema, obj: Record<string, unknown>, old?: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (schema.validator) errs.push(...schema.validator.validate(obj, old));
  const s = schema.structural;
  if (!s) return errs;
  errs.push(...validateEmbeddedResources(obj, s));
  if (old === undefined || validateListSetsAndMaps(null, s, old).length === 0) {
    errs.push(...validateListSetsAndMaps(null, s, obj));
  }
  if (schema.hasCelRules) {
    if (errs.some((e) => BLOCKING.has(e.type))) {
      errs.push(invalid(null, null, 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'));
    } else {
      errs.push(...new CelValidator().run(s, obj, old));
    }
  }
  return errs;
}

/**
 * Validation of a write to the /status subresource, as upstream's statusStrategy.ValidateUpdate:
 * the OpenAPI schema of .status only (errors under "status", without ratcheting), list-type
 * invariants when the stored object kept them, then the CEL rules over the whole object (transition
 * rules see `old`; nothing is ratcheted). The root metadata is left to the caller.
 */
export function validateCustomResourceStatus(schema: CrdSchema, obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const s = schema.structural;
  if (!s) return errs;
  const statusSchema = asObject(asObject(s.raw['properties'])?.['status']);
  if ('status' in obj && statusSchema) errs.push(...new OpenAPIValidator(statusSchema, newPath('status')).validate(obj['status']));
  const listErrs = validateListSetsAndMaps(null, s, obj);
  if (listErrs.length > 0 && validateListSetsAndMaps(null, s, old).length === 0) errs.push(...listErrs);
  if (schema.hasCelRules) {
    if (errs.some((e) => BLOCKING.has(e.type))) {
      errs.push(invalid(null, null, 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'));
    } else {
      errs.push(...new CelValidator(undefined, false).run(s, obj, old));
    }
  }
  return errs;
}

/** The value at a JSON path like ".spec.replicas" (upstream's scale/status subresource paths), or undefined. */
export function getJsonPath(obj: unknown, path: string): unknown {
  if (!path.startsWith('.')) return undefined;
  let cur = obj;
  for (const part of path.slice(1).split('.')) {
    const m = asObject(cur);
    if (!m || part === '' || !(part in m)) return undefined;
    cur = m[part];
  }
  return cur;
}
