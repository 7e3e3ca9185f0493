// Patch metadata for strategic merge patch, read from the vendored v1.32 OpenAPI definitions:
// for a field of a schema, its patch strategy (x-kubernetes-patch-strategy), merge key
// (x-kubernetes-patch-merge-key) and the schema of its value or list items. Lookups are cached.
import { createRequire } from 'node:module';

/** A node of the OpenAPI v2 document (a definition, a property or an items/additionalProperties schema). */
export interface PatchSchema {
  readonly $ref?: string;
  readonly allOf?: readonly PatchSchema[];
  readonly type?: string;
  readonly properties?: Readonly<Record<string, PatchSchema>>;
  readonly items?: PatchSchema;
  readonly additionalProperties?: PatchSchema | boolean;
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
}

/** What strategic merge patch needs to know about one field. */
export interface FieldPatchMeta {
  /** The strategy besides retainKeys: '' (none: maps merge, lists are replaced), 'merge' or 'replace'. */
  readonly strategy: string;
  /** Whether the field also carries the retainKeys strategy (informational: `$retainKeys` is honoured anyway). */
  readonly retainKeys: boolean;
  /** The merge key of a list of maps with the merge strategy; '' otherwise. */
  readonly mergeKey: string;
  /** Resolved schema of the field's value (for maps), undefined when the schema does not say. */
  readonly schema: PatchSchema | undefined;
  /** Resolved schema of the items when the value is a list. */
  readonly items: PatchSchema | undefined;
}

const NO_META: FieldPatchMeta = Object.freeze({ strategy: '', retainKeys: false, mergeKey: '', schema: undefined, items: undefined });

let definitions: Readonly<Record<string, PatchSchema>> | undefined;

function allDefinitions(): Readonly<Record<string, PatchSchema>> {
  if (!definitions) {
    // createRequire shares Node's module cache, so the 1 MB document is parsed once per process
    // however many modules read it.
    const require = createRequire(import.meta.url);
    const spec = require('../openapi/kubernetes-v1.32-openapi-v2.json') as { definitions: Record<string, PatchSchema> };
    definitions = spec.definitions;
  }
  return definitions;
}

function resolve(node: PatchSchema | undefined): PatchSchema | undefined {
  let cur = node;
  for (let depth = 0; cur && depth < 16; depth++) {
    if (cur.$ref) cur = allDefinitions()[cur.$ref.slice(cur.$ref.lastIndexOf('/') + 1)];
    else if (cur.allOf && cur.allOf.length === 1) cur = cur.allOf[0];
    else return cur;
  }
  return cur;
}

/** The schema of an OpenAPI definition ("io.k8s.api.core.v1.Pod"); throws if the document lacks it. */
export function definitionSchema(definition: string): PatchSchema {
  const found = resolve(allDefinitions()[definition]);
  if (!found) throw new Error(`strategic merge patch: no OpenAPI definition named ${JSON.stringify(definition)}`);
  return found;
}

/**
 * Splits "merge,retainKeys" the way upstream does: at most two strategies, one of them retainKeys.
 * The vendored schema only holds valid combinations, so a failure here is a broken document.
 */
function splitStrategies(raw: string): { strategy: string; retainKeys: boolean } {
  const parts = raw.split(',');
  if (parts.length === 1) return parts[0] === 'retainKeys' ? { strategy: '', retainKeys: true } : { strategy: parts[0], retainKeys: false };
  if (parts.length === 2) {
    if (parts[0] === 'retainKeys') return { strategy: parts[1], retainKeys: true };
    if (parts[1] === 'retainKeys') return { strategy: parts[0], retainKeys: true };
  }
  throw new Error(`unexpected patch strategy: [${parts.join(' ')}]`);
}

function computeMeta(schema: PatchSchema, key: string): FieldPatchMeta {
  const prop = schema.properties?.[key];
  if (prop) {
    const { strategy, retainKeys } = splitStrategies(prop['x-kubernetes-patch-strategy'] ?? '');
    const value = resolve(prop);
    return {
      strategy,
      retainKeys,
      mergeKey: prop['x-kubernetes-patch-merge-key'] ?? '',
      schema: value,
      items: resolve(value?.items),
    };
  }
  // A map (map[string]T in Go): every key has the value schema and no strategy. Upstream's struct
  // lookup would reject nested maps or lists inside Go maps; merging them plainly is kinder and no
  // built-in kind relies on the error.
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const value = resolve(schema.additionalProperties);
    return { strategy: '', retainKeys: false, mergeKey: '', schema: value, items: resolve(value?.items) };
  }
  return NO_META;
}

const cache = new WeakMap<PatchSchema, Map<string, FieldPatchMeta>>();

/**
 * Patch metadata of `key` in an object described by `schema`. Fields the schema does not know
 * (and everything below a schemaless node) get no strategy: maps merge and lists are replaced.
 */
export function lookupPatchMeta(schema: PatchSchema | undefined, key: string): FieldPatchMeta {
  if (!schema) return NO_META;
  let byKey = cache.get(schema);
  if (!byKey) {
    byKey = new Map();
    cache.set(schema, byKey);
  }
  let meta = byKey.get(key);
  if (!meta) {
    meta = computeMeta(schema, key);
    byKey.set(key, meta);
  }
  return meta;
}
