// The OpenAPI documents the apiserver serves, built from the vendored v1.32 v2 document: /openapi/v2,
// the /openapi/v3 index and one v3 document per served group-version (kubectl explain, apply and
// server-side field validation read them). Pure: each document is built once, serialized and hashed.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { encodeOpenAPIV2Protobuf } from './openapi_v2_proto.ts';
import { SERVED_GROUPS } from './resource_table.ts';

/** A JSON object of the OpenAPI documents; they are schemaless here on purpose (the spec is data). */
export type JsonObject = { [key: string]: unknown };

/** A served document: its exact bytes, their hash, and the ETag to send with them. */
export interface OpenAPIDocument {
  /** Compact JSON. */
  readonly body: string;
  /** Upper-case hex SHA-512 of body, as upstream puts in `?hash=`. */
  readonly hash: string;
  /** Quoted hash, for the ETag header and If-None-Match comparison. */
  readonly etag: string;
}

/** Extra paths and schemas of one group-version not in the vendored spec (CRDs, later). */
export interface ExtraGroupVersion {
  /** v3 path items, keyed by URL path ("/apis/example.com/v1/namespaces/{namespace}/widgets"). */
  readonly paths: Readonly<Record<string, JsonObject>>;
  /** v3 schemas by name; `$ref: "#/components/schemas/io.k8s..."` to built-in schemas pulls them in. */
  readonly schemas: Readonly<Record<string, JsonObject>>;
}

const V2_REF = '#/definitions/';
const V3_REF = '#/components/schemas/';

/** Short status texts for response descriptions (v3 requires one; the vendored spec has none). */
const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '401': 'Unauthorized',
};

/** The top level of the vendored OpenAPI v2 document. */
export interface OpenAPIV2Spec {
  swagger: string;
  info: JsonObject;
  paths: Record<string, JsonObject>;
  definitions: Record<string, JsonObject>;
  parameters: Record<string, JsonObject>;
  security?: unknown;
  securityDefinitions?: Record<string, JsonObject>;
}

let v2Spec: OpenAPIV2Spec | undefined;

/**
 * The vendored v2 document, parsed once. Loaded through require rather than a JSON import so the
 * typechecker does not infer a type for a 1 MB literal and processes that never serve OpenAPI never
 * parse it. Shared: callers must not mutate it.
 */
export function openAPIV2Spec(): Readonly<OpenAPIV2Spec> {
  if (!v2Spec) {
    const require = createRequire(import.meta.url);
    v2Spec = require('./openapi/kubernetes-v1.32-openapi-v2.json') as OpenAPIV2Spec;
  }
  return v2Spec;
}

function serialize(doc: unknown): OpenAPIDocument {
  const body = JSON.stringify(doc);
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { body, hash, etag: `"${hash}"` };
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Names of definitions that `value` refers to (`$ref` strings with the given prefix). */
function collectRefs(value: unknown, prefix: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, prefix, out);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      // Only a string-valued $ref is a reference; JSONSchemaProps has a *field* named $ref (an object).
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) out.add(v.slice(prefix.length));
      else collectRefs(v, prefix, out);
    }
  }
}

/** Adds to `roots` every definition reachable from them through `defs`. */
function closure(roots: Set<string>, defs: Readonly<Record<string, unknown>>, prefix: string): Set<string> {
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    const found = new Set<string>();
    collectRefs(defs[name], prefix, found);
    for (const f of found) {
      if (!roots.has(f)) {
        roots.add(f);
        pending.push(f);
      }
    }
  }
  return roots;
}

function pick<T>(from: Readonly<Record<string, T>>, names: Iterable<string>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const n of [...names].sort()) if (from[n] !== undefined) out[n] = from[n];
  return out;
}

/** "api/v1" or "apis/apps/v1": the key of a group-version in the v3 index. */
export function openAPIV3Key(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function pathsUnder(spec: Readonly<OpenAPIV2Spec>, key: string): string[] {
  const prefix = `/${key}/`;
  return Object.keys(spec.paths).filter((p) => p.startsWith(prefix));
}

/** Copies a v2 schema into v3 form: `$ref`s point into components.schemas. */
export function v2ToV3Schema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(v2ToV3Schema);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith(V2_REF) ? V3_REF + v.slice(V2_REF.length) : v2ToV3Schema(v);
  }
  return out;
}

function resolveParameter(p: JsonObject, spec: Readonly<OpenAPIV2Spec>): JsonObject {
  const ref = p.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/parameters/')) return spec.parameters[ref.slice('#/parameters/'.length)] ?? p;
  return p;
}

/** A non-body v2 parameter in v3 form: type, format, items, uniqueItems move into `schema`. */
function v3Parameter(p: JsonObject): JsonObject {
  const out: JsonObject = {};
  const schema: JsonObject = {};
  for (const [k, v] of Object.entries(p)) {
    if (['type', 'format', 'items', 'uniqueItems', 'default', 'enum', 'collectionFormat'].includes(k)) {
      if (k !== 'collectionFormat') schema[k] = v2ToV3Schema(v);
    } else {
      out[k] = v;
    }
  }
  out.schema = p.schema !== undefined ? v2ToV3Schema(p.schema) : schema;
  return out;
}

function v3Responses(responses: unknown, produces: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [code, r] of Object.entries(isObject(responses) ? responses : {})) {
    const response: JsonObject = { description: STATUS_TEXT[code] ?? code };
    if (isObject(r) && r.schema !== undefined) {
      const content: JsonObject = {};
      for (const mime of produces) content[mime] = { schema: v2ToV3Schema(r.schema) };
      response.content = content;
    }
    out[code] = response;
  }
  return out;
}

function hasParameter(list: unknown, name: string): boolean {
  return Array.isArray(list) && list.some((p) => isObject(p) && p.name === name);
}

const FIELD_VALIDATION: JsonObject = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };

/** One v2 operation in v3 form: body parameter -> requestBody, produces -> response content. */
function v3Operation(op: JsonObject, spec: Readonly<OpenAPIV2Spec>): JsonObject {
  const out: JsonObject = {};
  const consumes = Array.isArray(op.consumes) ? (op.consumes as string[]) : ['application/json'];
  const produces = Array.isArray(op.produces) ? (op.produces as string[]) : ['application/json'];
  for (const [k, v] of Object.entries(op)) {
    if (k === 'consumes' || k === 'produces' || k === 'schemes') continue;
    if (k === 'parameters' && Array.isArray(v)) {
      const params: JsonObject[] = [];
      for (const raw of v) {
        const p = resolveParameter(raw as JsonObject, spec);
        if (p.in === 'body') {
          const content: JsonObject = {};
          for (const mime of consumes) content[mime] = { schema: v2ToV3Schema(p.schema) };
          out.requestBody = { content, ...(p.required === true ? { required: true } : {}) };
        } else {
          params.push(v3Parameter(p));
        }
      }
      if (params.length > 0) out.parameters = params;
    } else if (k === 'responses') {
      out.responses = v3Responses(v, produces);
    } else {
      out[k] = v;
    }
  }
  // kubectl sends fieldValidation (and skips client-side validation) only where a PATCH operation
  // itself lists it; it does not look at path-level parameters.
  if (op['x-kubernetes-action'] === 'patch' && !hasParameter(out.parameters, 'fieldValidation')) {
    out.parameters = [...((out.parameters as JsonObject[] | undefined) ?? []), { ...FIELD_VALIDATION }];
  }
  return out;
}

/** One v2 path item in v3 form (path-level parameters inlined, each operation converted). */
export function v2ToV3PathItem(item: Readonly<JsonObject>, spec: Readonly<OpenAPIV2Spec> = openAPIV2Spec()): JsonObject {
  const out: JsonObject = {};
  const pathParameters = Array.isArray(item.parameters)
    ? item.parameters.map((p) => v3Parameter(resolveParameter(p as JsonObject, spec)))
    : undefined;
  for (const [k, v] of Object.entries(item)) {
    if (k === 'parameters') out.parameters = pathParameters;
    else out[k] = isObject(v) ? v3Operation(v, spec) : v;
  }
  return out;
}

function securitySchemes(spec: Readonly<OpenAPIV2Spec>): JsonObject {
  return { ...(spec.securityDefinitions ?? {}) };
}

function v3Document(spec: Readonly<OpenAPIV2Spec>, paths: JsonObject, schemas: JsonObject): JsonObject {
  return {
    openapi: '3.0.0',
    info: spec.info,
    paths,
    components: { schemas, securitySchemes: securitySchemes(spec) },
    ...(spec.security !== undefined ? { security: spec.security } : {}),
  };
}

/** Built-in v3 schemas referenced (transitively) from `value`. */
function builtinSchemasFor(value: unknown, spec: Readonly<OpenAPIV2Spec>): JsonObject {
  const roots = new Set<string>();
  collectRefs(value, V3_REF, roots);
  const names = closure(new Set([...roots].filter((n) => spec.definitions[n] !== undefined)), spec.definitions, V2_REF);
  const out: JsonObject = {};
  for (const n of [...names].sort()) out[n] = v2ToV3Schema(spec.definitions[n]);
  return out;
}

const v3Cache = new Map<string, OpenAPIDocument>();

/** Index keys ("api/v1", "apis/apps/v1", ...) of the built-in group-versions tkube serves, in discovery order. */
export function builtinOpenAPIV3Keys(): string[] {
  return SERVED_GROUPS.flatMap((g) => g.versions.map((v) => openAPIV3Key(g.name, v)));
}

/**
 * The v3 document of one served built-in group-version ("api/v1", "apis/apps/v1"), built on first
 * use and cached; undefined for keys that are not served. Holds the group-version's paths and only
 * the schemas they reach.
 */
export function builtinOpenAPIV3Document(key: string): OpenAPIDocument | undefined {
  const cached = v3Cache.get(key);
  if (cached) return cached;
  if (!builtinOpenAPIV3Keys().includes(key)) return undefined;
  const spec = openAPIV2Spec();
  const paths: JsonObject = {};
  for (const p of pathsUnder(spec, key)) paths[p] = v2ToV3PathItem(spec.paths[p], spec);
  const doc = serialize(v3Document(spec, paths, builtinSchemasFor(paths, spec)));
  v3Cache.set(key, doc);
  return doc;
}

/**
 * A v3 document for a group-version outside the vendored spec (a CRD's, later): its own paths and
 * schemas plus every built-in schema they refer to (ObjectMeta, ListMeta, Status, ...). Not cached:
 * the caller rebuilds it when the group-version changes and keeps the result.
 */
export function buildOpenAPIV3Document(extra: ExtraGroupVersion): OpenAPIDocument {
  const spec = openAPIV2Spec();
  const paths: JsonObject = { ...extra.paths };
  const schemas: JsonObject = { ...builtinSchemasFor([extra.paths, extra.schemas], spec), ...extra.schemas };
  return serialize(v3Document(spec, paths, pick(schemas, Object.keys(schemas))));
}

/**
 * The /openapi/v3 index: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=HEX"},...}}`
 * over every served built-in group-version plus `extra` (key -> document, e.g. CRD group-versions).
 */
export function openAPIV3Index(extra: ReadonlyMap<string, OpenAPIDocument> = new Map()): OpenAPIDocument {
  const paths: JsonObject = {};
  const entries: [string, OpenAPIDocument][] = builtinOpenAPIV3Keys().map((k) => [k, builtinOpenAPIV3Document(k)!]);
  for (const [k, d] of extra) if (!builtinOpenAPIV3Keys().includes(k)) entries.push([k, d]);
  for (const [k, d] of entries) paths[k] = { serverRelativeURL: `/openapi/v3/${k}?hash=${d.hash}` };
  return serialize({ paths });
}

let v2Cache: OpenAPIDocument | undefined;

/**
 * The /openapi/v2 document: the vendored spec restricted to served group-versions (plus /api/,
 * /apis/, the served groups' /apis/G/ and /version/) and the definitions those paths reach. JSON;
 * kubectl only accepts this path as protobuf, so the server decides whether to answer it.
 */
export function openAPIV2Document(): OpenAPIDocument {
  if (v2Cache) return v2Cache;
  const spec = openAPIV2Spec();
  const keep = new Set(['/api/', '/apis/', '/version/']);
  for (const g of SERVED_GROUPS) if (g.name !== '') keep.add(`/apis/${g.name}/`);
  const paths: JsonObject = {};
  const gvPrefixes = builtinOpenAPIV3Keys().map((k) => `/${k}/`);
  for (const [p, item] of Object.entries(spec.paths)) {
    if (keep.has(p) || gvPrefixes.some((prefix) => p.startsWith(prefix))) paths[p] = item;
  }
  const roots = new Set<string>();
  collectRefs(paths, V2_REF, roots);
  collectRefs(spec.parameters, V2_REF, roots);
  const definitions = pick(spec.definitions, closure(roots, spec.definitions, V2_REF));
  const { swagger, info, security, securityDefinitions, parameters } = spec;
  v2Object = { definitions, info, parameters, paths, security, securityDefinitions, swagger };
  v2Cache = serialize(v2Object);
  return v2Cache;
}

let v2Object: JsonObject | undefined;
let v2ProtoCache: { readonly bytes: Uint8Array; readonly etag: string } | undefined;

/** /openapi/v2 as gnostic protobuf (what kubectl asks for), with its own ETag. */
export function openAPIV2ProtobufDocument(): { readonly bytes: Uint8Array; readonly etag: string } {
  if (v2ProtoCache) return v2ProtoCache;
  openAPIV2Document();
  const bytes = encodeOpenAPIV2Protobuf(v2Object!);
  const hash = createHash('sha512').update(bytes).digest('hex').toUpperCase();
  v2ProtoCache = { bytes, etag: `"${hash}"` };
  return v2ProtoCache;
}
