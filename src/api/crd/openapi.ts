// The OpenAPI documents the API server publishes for custom resources (apiextensions' openapi
// builder): a v3 document per group/version and the additions to the v2 document. Kind schemas are
// the structural schema (unfolded int-or-string, embedded resources' apiVersion/kind/metadata,
// ObjectMeta/ListMeta refs); v2 drops value validations, nullable and v3-only constructs as upstream.
// Upstream's prose descriptions of built-in fields are left out, as everywhere in tkube.

import { newPath } from '../field_errors.ts';
import { v2ToV3PathItem, v2ToV3Schema } from '../openapi_docs.ts';
import type { CustomResourceDefinition, CustomResourceDefinitionVersion } from '../types/apiextensions_v1.ts';
import { validateStructural } from './structural_validation.ts';
import { asObject } from './structural.ts';

type Json = Record<string, unknown>;

const V2_REF = '#/definitions/';
const V3_REF = '#/components/schemas/';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const OPENAPI_V3_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

/** The OpenAPI definition name of a CRD kind: the group reversed ("com.example.stable.v1.CronTab"). */
export function crdDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function versionOf(crd: CustomResourceDefinition, version: string): CustomResourceDefinitionVersion | undefined {
  return (crd.spec?.versions ?? []).find((v) => v.name === version);
}

function hasInvalidTypes(s: unknown): boolean {
  const o = asObject(s);
  if (!o) return false;
  if (typeof o['type'] === 'string' && o['type'] !== '' && !OPENAPI_V3_TYPES.has(o['type'])) return true;
  return Object.values(o).some((v) => (Array.isArray(v) ? v.some(hasInvalidTypes) : asObject(v) !== undefined && hasInvalidTypes(v)));
}

/** The version's schema if it is structural (upstream publishes nothing else), or undefined. */
function structuralSchema(crd: CustomResourceDefinition, version: string): Json | undefined {
  const raw = asObject(versionOf(crd, version)?.schema?.openAPIV3Schema);
  if (!raw || hasInvalidTypes(raw)) return undefined;
  return validateStructural(newPath('openAPIV3Schema'), raw).length === 0 ? raw : undefined;
}

const VALUE_VALIDATION_KEYS = ['format', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum', 'maxProperties', 'minProperties', 'required'];
const EXTENSION_KEYS = ['x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations'];

/** A nested value validation (allOf/anyOf/oneOf/not) as ToKubeOpenAPI writes it. */
function nestedToOpenAPI(raw: Json): Json {
  const out: Json = {};
  for (const k of ['type', ...VALUE_VALIDATION_KEYS]) if (raw[k] !== undefined) out[k] = raw[k];
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(raw[k])) out[k] = (raw[k] as unknown[]).map((x) => nestedToOpenAPI(asObject(x) ?? {}));
  if (asObject(raw['not'])) out['not'] = nestedToOpenAPI(raw['not'] as Json);
  if (asObject(raw['items'])) out['items'] = nestedToOpenAPI(raw['items'] as Json);
  const props = asObject(raw['properties']);
  if (props) out['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, nestedToOpenAPI(asObject(v) ?? {})]));
  return out;
}

interface Publish {
  readonly v2: boolean;
}

/** Structural schema → published schema (Unfold, ToKubeOpenAPI and, for v2, the strips and ToStructuralOpenAPIV2). */
function toOpenAPI(raw: Json, o: Publish): Json {
  const out: Json = {};
  const preserve = raw['x-kubernetes-preserve-unknown-fields'] === true;
  const nullable = raw['nullable'] === true;
  if (typeof raw['description'] === 'string' && raw['description'] !== '') out['description'] = raw['description'];
  let type = typeof raw['type'] === 'string' ? raw['type'] : '';
  let items = asObject(raw['items']);
  let properties = asObject(raw['properties']);
  if (o.v2) {
    if (nullable || preserve) {
      items = undefined;
      properties = undefined;
    }
    if (nullable) type = '';
    if (!items && type === 'array') type = '';
    if (preserve && type === 'object') type = '';
  }
  if (type !== '') out['type'] = type;
  if (typeof raw['title'] === 'string' && raw['title'] !== '') out['title'] = raw['title'];
  if (raw['default'] !== undefined && raw['default'] !== null) out['default'] = raw['default'];
  if (!o.v2) {
    for (const k of VALUE_VALIDATION_KEYS) {
      const v = raw[k];
      if (v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      out[k] = v;
    }
    for (const k of ['allOf', 'anyOf', 'oneOf']) {
      if (Array.isArray(raw[k]) && (raw[k] as unknown[]).length > 0) out[k] = (raw[k] as unknown[]).map((x) => nestedToOpenAPI(asObject(x) ?? {}));
    }
    if (asObject(raw['not'])) out['not'] = nestedToOpenAPI(raw['not'] as Json);
    if (raw['x-kubernetes-int-or-string'] === true) unfoldIntOrString(out);
    if (nullable) out['nullable'] = true;
  }
  if (items) out['items'] = toOpenAPI(items, o);
  if (properties) out['properties'] = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toOpenAPI(asObject(v) ?? {}, o)]));
  const ap = raw['additionalProperties'];
  if (asObject(ap)) out['additionalProperties'] = toOpenAPI(ap as Json, o);
  else if (typeof ap === 'boolean') out['additionalProperties'] = ap;
  if (preserve) out['x-kubernetes-preserve-unknown-fields'] = true;
  for (const k of EXTENSION_KEYS) {
    const v = raw[k];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

const INT_OR_STRING = (): Json[] => [{ type: 'integer' }, { type: 'string' }];

function unfoldIntOrString(out: Json): void {
  const anyOf = out['anyOf'];
  const allOf = out['allOf'];
  const isPattern = (x: unknown): boolean => JSON.stringify(x) === JSON.stringify(INT_OR_STRING());
  if (isPattern(anyOf) || (Array.isArray(allOf) && isPattern(asObject(allOf[0])?.['anyOf']))) return;
  if (anyOf === undefined) out['anyOf'] = INT_OR_STRING();
  else out['allOf'] = [{ anyOf: INT_OR_STRING() }, ...((allOf as Json[] | undefined) ?? [])];
}

function ref(name: string, o: Publish): Json {
  return { $ref: (o.v2 ? V2_REF : V3_REF) + name };
}

/** addEmbeddedProperties: embedded resources get apiVersion, kind (required) and metadata. */
function addEmbeddedProperties(s: Json, o: Publish): void {
  for (const v of Object.values(asObject(s['properties']) ?? {})) addEmbeddedProperties(v as Json, o);
  if (asObject(s['items'])) addEmbeddedProperties(s['items'] as Json, o);
  if (asObject(s['additionalProperties'])) addEmbeddedProperties(s['additionalProperties'] as Json, o);
  if (o.v2 && s['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (s['x-kubernetes-embedded-resource'] !== true) return;
  const props = (asObject(s['properties']) ?? {}) as Json;
  props['apiVersion'] = { type: 'string' };
  props['kind'] = { type: 'string' };
  props['metadata'] = ref(OBJECT_META, o);
  s['properties'] = props;
  const req = Array.isArray(s['required']) ? [...(s['required'] as string[])] : [];
  if (!req.includes('kind')) req.push('kind');
  if (!req.includes('apiVersion')) req.push('apiVersion');
  s['required'] = req;
}

function gvk(group: string, version: string, kind: string): Json {
  return { group, version, kind };
}

/** buildKubeNative: the kind's schema. */
function kindSchema(crd: CustomResourceDefinition, version: string, o: Publish): Json {
  const schema = structuralSchema(crd, version);
  const group = crd.spec.group;
  const kind = crd.spec.names.kind;
  let out: Json;
  if (!schema || (o.v2 && (schema['x-kubernetes-preserve-unknown-fields'] === true || crd.spec.preserveUnknownFields === true))) {
    out = { type: 'object' };
  } else {
    out = toOpenAPI(schema, o);
    const props = (asObject(out['properties']) ?? {}) as Json;
    props['metadata'] = ref(OBJECT_META, o);
    props['apiVersion'] = { type: 'string' };
    props['kind'] = { type: 'string' };
    out['properties'] = props;
    addEmbeddedProperties(out, o);
  }
  out['x-kubernetes-group-version-kind'] = [gvk(group, version, kind)];
  const fields = versionOf(crd, version)?.selectableFields ?? [];
  if (!o.v2 && fields.length > 0) {
    out['x-kubernetes-selectable-fields'] = fields.map((f) => ({ fieldPath: f.jsonPath.replace(/^\./, '') }));
  }
  return out;
}

/** The OpenAPI v3 schema of a version's kind as upstream's builder makes it (server-side apply types custom resources by it). */
export function crdKindSchemaV3(crd: CustomResourceDefinition, version: string): Record<string, unknown> {
  return kindSchema(crd, version, { v2: false });
}

function listSchema(crd: CustomResourceDefinition, version: string, o: Publish): Json {
  const { group, names } = crd.spec;
  const listKind = names.listKind ?? `${names.kind}List`;
  const out: Json = {
    type: 'object',
    description: `${listKind} is a list of ${names.kind}`,
    required: ['items'],
    properties: {
      items: { type: 'array', description: `List of ${names.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, items: ref(crdDefinitionName(group, version, names.kind), o) },
      metadata: ref(LIST_META, o),
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
    },
    'x-kubernetes-group-version-kind': [gvk(group, version, listKind)],
  };
  return out;
}

// The query parameters AddObjectParams derives from each options type.
const q = (name: string, type: string, extra: Json = {}): Json => ({ in: 'query', name, type, uniqueItems: true, ...extra });
const LIST_PARAMS = [q('allowWatchBookmarks', 'boolean'), q('continue', 'string'), q('fieldSelector', 'string'), q('labelSelector', 'string'),
  q('limit', 'integer'), q('resourceVersion', 'string'), q('resourceVersionMatch', 'string'), q('sendInitialEvents', 'boolean'),
  q('timeoutSeconds', 'integer'), q('watch', 'boolean')];
const GET_PARAMS = [q('resourceVersion', 'string')];
const CREATE_PARAMS = [q('dryRun', 'string'), q('fieldManager', 'string'), q('fieldValidation', 'string')];
const PATCH_PARAMS = [...CREATE_PARAMS, q('force', 'boolean')];
const DELETE_PARAMS = [q('dryRun', 'string'), q('gracePeriodSeconds', 'integer'),
  q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean'), q('orphanDependents', 'boolean'), q('propagationPolicy', 'string')];

/** ToValidOperationID: non-alphanumerics dropped, the following letter capitalized. */
function operationIdPart(s: string, capitalizeFirst: boolean): string {
  let out = '';
  let upper = capitalizeFirst;
  for (const ch of s) {
    if (/[a-zA-Z0-9]/.test(ch)) {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    } else {
      upper = true;
    }
  }
  return out;
}

interface Route {
  readonly path: string;
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly action: string;
  readonly verb: string;
  readonly sample: string;
  readonly body?: string;
}

function buildOperation(crd: CustomResourceDefinition, version: string, r: Route, o: Publish): Json {
  const { group, names } = crd.spec;
  const namespaced = crd.spec.scope === 'Namespaced' && r.path.includes('{namespace}');
  const sub = /\/\{name\}\/(status|scale)$/.exec(r.path)?.[1] ?? '';
  const allNamespaces = r.verb === 'list' && crd.spec.scope === 'Namespaced' && !r.path.includes('{namespace}');
  const opName = `${r.verb}${namespaced ? 'Namespaced' : ''}${names.kind}${sub === '' ? '' : sub[0]!.toUpperCase() + sub.slice(1)}${allNamespaces ? 'ForAllNamespaces' : ''}`;
  const groupPart = operationIdPart(group.replace(/\.k8s\.io$/, ''), true);
  const verbPrefix = r.verb;
  const operationId = `${verbPrefix}${groupPart}${operationIdPart(version, true)}${opName.slice(verbPrefix.length)}`;
  const parameters: Json[] = [];
  if (r.body) parameters.push({ in: 'body', name: 'body', required: true, schema: ref(r.body, o) });
  const params = { get: GET_PARAMS, list: LIST_PARAMS, deletecollection: LIST_PARAMS, put: CREATE_PARAMS, post: CREATE_PARAMS, patch: PATCH_PARAMS, delete: DELETE_PARAMS }[r.action] ?? [];
  if (r.action === 'delete') parameters.push({ in: 'body', name: 'body', schema: ref(DELETE_OPTIONS, o) });
  parameters.push(...params.map((p) => ({ ...p })));
  const sample = ref(r.sample, o);
  const responses: Json = { 200: { description: 'OK', schema: sample } };
  if (r.action === 'post') {
    responses['201'] = { description: 'Created', schema: sample };
    responses['202'] = { description: 'Accepted', schema: sample };
  } else if (r.action === 'put') {
    responses['201'] = { description: 'Created', schema: sample };
  } else if (r.action === 'delete') {
    responses['202'] = { description: 'Accepted', schema: sample };
  }
  responses['401'] = { description: 'Unauthorized' };
  return {
    operationId,
    tags: [`${operationIdPart(group.replace(/\.k8s\.io$/, ''), false)}_${operationIdPart(version, false)}`],
    consumes: r.method === 'patch' ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] : ['application/json', 'application/yaml'],
    produces: ['application/json', 'application/yaml'],
    schemes: ['https'],
    parameters,
    responses,
    'x-kubernetes-action': r.action,
    'x-kubernetes-group-version-kind': gvk(group, version, names.kind),
  };
}

/** The v2 path items of one CRD version (generateBuilder's routes). */
function pathItems(crd: CustomResourceDefinition, version: string, o: Publish): Json {
  const { group, names } = crd.spec;
  const kindDef = crdDefinitionName(group, version, names.kind);
  const listDef = crdDefinitionName(group, version, names.listKind ?? `${names.kind}List`);
  const routes: Route[] = [];
  let root = `/apis/${group}/${version}/${names.plural}`;
  const namespaced = crd.spec.scope === 'Namespaced';
  if (namespaced) {
    routes.push({ path: root, method: 'get', action: 'list', verb: 'list', sample: listDef });
    root = `/apis/${group}/${version}/namespaces/{namespace}/${names.plural}`;
  }
  routes.push({ path: root, method: 'get', action: 'list', verb: 'list', sample: listDef });
  routes.push({ path: root, method: 'post', action: 'post', verb: 'create', sample: kindDef, body: kindDef });
  routes.push({ path: root, method: 'delete', action: 'deletecollection', verb: 'deletecollection', sample: STATUS });
  const item = `${root}/{name}`;
  routes.push({ path: item, method: 'get', action: 'get', verb: 'read', sample: kindDef });
  routes.push({ path: item, method: 'put', action: 'put', verb: 'replace', sample: kindDef, body: kindDef });
  routes.push({ path: item, method: 'delete', action: 'delete', verb: 'delete', sample: STATUS });
  routes.push({ path: item, method: 'patch', action: 'patch', verb: 'patch', sample: kindDef, body: PATCH });
  const sub = versionOf(crd, version)?.subresources;
  if (sub?.status) {
    routes.push({ path: `${item}/status`, method: 'get', action: 'get', verb: 'read', sample: kindDef });
    routes.push({ path: `${item}/status`, method: 'put', action: 'put', verb: 'replace', sample: kindDef, body: kindDef });
    routes.push({ path: `${item}/status`, method: 'patch', action: 'patch', verb: 'patch', sample: kindDef, body: PATCH });
  }
  if (sub?.scale) {
    routes.push({ path: `${item}/scale`, method: 'get', action: 'get', verb: 'read', sample: SCALE });
    routes.push({ path: `${item}/scale`, method: 'put', action: 'put', verb: 'replace', sample: SCALE, body: SCALE });
    routes.push({ path: `${item}/scale`, method: 'patch', action: 'patch', verb: 'patch', sample: SCALE, body: PATCH });
  }
  const paths: Json = {};
  for (const r of routes) {
    const entry = (paths[r.path] ??= {}) as Json;
    entry[r.method] = buildOperation(crd, version, r, o);
    const params: Json[] = [];
    if (r.path.includes('{name}')) params.push({ in: 'path', name: 'name', required: true, type: 'string', uniqueItems: true });
    if (r.path.includes('{namespace}')) params.push({ in: 'path', name: 'namespace', required: true, type: 'string', uniqueItems: true });
    params.push(q('pretty', 'string'));
    entry['parameters'] = params;
  }
  return paths;
}

function servedVersionNames(crd: CustomResourceDefinition): string[] {
  return (crd.spec?.versions ?? []).filter((v) => v.served).map((v) => v.name);
}

/** The v3 names a value refers to ("#/components/schemas/X"). */
function collectRefs(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) {
    for (const x of v) collectRefs(x, into);
    return;
  }
  const o = asObject(v);
  if (!o) return;
  for (const [k, x] of Object.entries(o)) {
    if (k === '$ref' && typeof x === 'string') {
      if (x.startsWith(V3_REF)) into.add(x.slice(V3_REF.length));
      else if (x.startsWith(V2_REF)) into.add(x.slice(V2_REF.length));
    } else collectRefs(x, into);
  }
}

/**
 * The OpenAPI v3 document upstream publishes at /openapi/v3/apis/<group>/<version> for the CRDs
 * served there: each kind and list schema (named like "com.example.stable.v1.CronTab"), the
 * resource's paths, and the built-in schemas they reference copied from `builtinSchemas` (v2
 * definitions with "#/definitions/" refs).
 */
export function crdOpenAPIV3Document(
  crds: readonly CustomResourceDefinition[],
  group: string,
  version: string,
  builtinSchemas: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const o: Publish = { v2: false };
  const paths: Json = {};
  const schemas: Json = {};
  for (const crd of crds) {
    if (crd.spec.group !== group || !servedVersionNames(crd).includes(version)) continue;
    const { names } = crd.spec;
    schemas[crdDefinitionName(group, version, names.kind)] = kindSchema(crd, version, o);
    schemas[crdDefinitionName(group, version, names.listKind ?? `${names.kind}List`)] = listSchema(crd, version, o);
    for (const [p, item] of Object.entries(pathItems(crd, version, { v2: true }))) paths[p] = v2ToV3PathItem(item as Json);
  }
  const pending = new Set<string>();
  collectRefs([paths, schemas], pending);
  const done = new Set<string>(Object.keys(schemas));
  while (pending.size > 0) {
    const [name] = pending;
    pending.delete(name!);
    if (done.has(name!)) continue;
    done.add(name!);
    const def = builtinSchemas[name!];
    if (def === undefined) continue;
    const converted = v2ToV3Schema(def);
    schemas[name!] = converted;
    collectRefs(converted, pending);
  }
  const sorted: Json = {};
  for (const k of Object.keys(schemas).sort()) sorted[k] = schemas[k];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' },
    paths,
    components: {
      schemas: sorted,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** The definitions and paths the same CRDs add to /openapi/v2 (schemas without value validations, as upstream). */
export function crdOpenAPIV2Additions(crds: readonly CustomResourceDefinition[]): { definitions: Record<string, unknown>; paths: Record<string, unknown> } {
  const o: Publish = { v2: true };
  const definitions: Json = {};
  const paths: Json = {};
  for (const crd of crds) {
    const { group, names } = crd.spec;
    for (const version of servedVersionNames(crd)) {
      definitions[crdDefinitionName(group, version, names.kind)] = kindSchema(crd, version, o);
      definitions[crdDefinitionName(group, version, names.listKind ?? `${names.kind}List`)] = listSchema(crd, version, o);
      Object.assign(paths, pathItems(crd, version, o));
    }
  }
  return { definitions, paths };
}
