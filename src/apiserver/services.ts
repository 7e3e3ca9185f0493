// Services the handlers use, wired once per server: body decoding (JSON, YAML, protobuf), Table
// conversion through the printers, namespace lifecycle checks, unknown-field validation, and the
// defaulting/validation hooks of the registries.
import { parse as parseYaml } from 'yaml';
import type { ResourceInfo } from '../api/resource_types.ts';
import { groupVersionString } from '../api/resource_types.ts';
import { decodeKubernetesProtobuf } from '../api/protobuf/decode.ts';
import { unknownFields } from '../api/unknown_fields.ts';
import { decodeTyped } from '../api/schema_decode.ts';
import { preferredResource, resourceFor } from '../api/resource_table.ts';
import { AdmissionChain } from './admission/chain.ts';
import type { AdmissionAttributes, AdmissionLister } from './admission/types.ts';
import type { Authorizer } from './authz/authorizer.ts';
import './admission/plugins.ts';
import { ApiError, newBadRequest, newUnsupportedMediaType } from './errors.ts';
import { contentType, type Req } from './http_util.ts';
import { MAX_JSON_NESTING_DEPTH, goJsonSyntaxError, goJsonValueKind, jsonNestingDepth, summarizeBody } from './json_syntax.ts';
import type { HandlerServices } from './handlers/context.ts';
import type { GenericStore, GenericStoreHooks } from './registry/generic_store.ts';
import type { KObject } from './registry/strategy.ts';
import { printTable } from './printers/table.ts';
import { applyObjectDefaults, prepareObjectForCreate, trackManagedFields, validateKindFields, validateObjectMeta } from './registry/hooks.ts';
import { ServiceAllocator } from './registry/service_alloc.ts';

const BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
/** The Go type upstream first decodes a body into, named in its error when the body is not an object. */
const KIND_PROBE_TYPE = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** go-yaml's shape ("line 3: did not find expected ...") for an error of the yaml package. */
function yamlErrorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
  const text = msg.split(/ at line \d+, column \d+/)[0]!.split('\n')[0]!;
  return line === undefined ? text : `line ${line}: ${text}`;
}

/** Decodes a body by its media type into a plain object (no schema checks yet). */
function decodeRaw(req: Req, body: Buffer, info: ResourceInfo): KObject {
  const ct = contentType(req);
  const what = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}`;
  // Upstream cannot even find apiVersion/kind in such a body (transformDecodeError without a kind).
  const unrecognized = (why: string): ApiError => newBadRequest(`the object provided is unrecognized (must be of type ${info.kind}): ${why} (${summarizeBody(body)})`);
  const notAnObject = (v: unknown): ApiError => unrecognized(`couldn't get version/kind; json parse error: json: cannot unmarshal ${goJsonValueKind(v)} into Go value of type ${KIND_PROBE_TYPE}`);
  if (ct === '' || ct === 'application/json' || ct === '*/*') {
    const text = body.toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw unrecognized(`couldn't get version/kind; json parse error: ${goJsonSyntaxError(body) ?? 'unexpected end of JSON input'}`);
    }
    // Go refuses nesting past its limit; later recursive passes must not meet such a body either.
    if (body.length > MAX_JSON_NESTING_DEPTH && jsonNestingDepth(text) > MAX_JSON_NESTING_DEPTH) {
      throw unrecognized(`couldn't get version/kind; json parse error: ${goJsonSyntaxError(body) ?? 'exceeded max depth'}`);
    }
    if (v === null) return {}; // Go unmarshals null into an empty object
    if (typeof v !== 'object' || Array.isArray(v)) throw notAnObject(v);
    return v as KObject;
  }
  if (ct === 'application/yaml' || ct === 'text/yaml' || ct === 'application/x-yaml') {
    let v: unknown;
    try {
      v = parseYaml(body.toString('utf8'));
    } catch (err) {
      throw unrecognized(`error converting YAML to JSON: yaml: ${yamlErrorText(err)}`);
    }
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw notAnObject(v);
    return v as KObject;
  }
  if (ct === 'application/vnd.kubernetes.protobuf') {
    try {
      const decoded = decodeKubernetesProtobuf(body);
      return decoded.object;
    } catch (err) {
      throw newBadRequest(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw newUnsupportedMediaType(ct, BODY_TYPES);
}

/** Services plus the registry hooks. */
export interface ServerServices extends HandlerServices {
  readonly storeHooks: GenericStoreHooks;
}

/** What the services need from the server. */
export interface ServicesDeps {
  storeFor(info: ResourceInfo): GenericStore;
  readonly serviceCidr: string;
  /** Checks of the RBAC writes themselves (escalation, bind), run before the validating plugins. */
  checkWrite?(a: AdmissionAttributes): Promise<void>;
  /** Enabled admission plugins (default: all registered, in upstream's order). */
  readonly admissionPlugins?: readonly string[];
  /** The server's authorizer (admission CEL expressions' `authorizer`). */
  readonly authorizer?: Authorizer;
}

/** Builds the services; `storeFor` gives access to other resources' registries (namespaces, services). */
export function createServices(deps: ServicesDeps): ServerServices {
  const servicesInfo = resourceFor('', 'v1', 'services')!;
  const allocator = new ServiceAllocator({
    serviceCidr: deps.serviceCidr,
    source: {
      async list() {
        const cache = deps.storeFor(servicesInfo).cache;
        await cache.sync();
        return cache.list().map((c) => c.obj);
      },
    },
  });
  const chain = new AdmissionChain(deps.admissionPlugins, { authorizer: deps.authorizer });
  // Admission lists and gets on every write: resolve each group/resource to its registry once.
  const registries = new Map<string, GenericStore | null>();
  function registryOf(group: string, resource: string): GenericStore | undefined {
    const id = `${group}/${resource}`;
    let store = registries.get(id);
    if (store === undefined) {
      const info = preferredResource(group, resource);
      store = info ? deps.storeFor(info) : null;
      registries.set(id, store);
    }
    return store ?? undefined;
  }
  const lister: AdmissionLister & { fetch(group: string, resource: string, namespace: string, name: string): Promise<KObject | undefined> } = {
    // A consistent read for plugins that must not miss an object created a moment ago.
    async fetch(group, resource, namespace, name) {
      const info = preferredResource(group, resource);
      if (!info) return undefined;
      try {
        return await deps.storeFor(info).get(namespace, name);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      }
    },
    list(group, resource, namespace) {
      const store = registryOf(group, resource);
      if (!store) return [];
      return store.cache.list(store.keyPrefix(namespace ?? '')).map((c) => c.obj);
    },
    get(group, resource, namespace, name) {
      const store = registryOf(group, resource);
      return store?.cache.get(store.key(namespace, name))?.obj;
    },
  };
  return {
    storeHooks: {
      defaults: applyObjectDefaults,
      prepareForCreate: prepareObjectForCreate,
      validateMeta: validateObjectMeta,
      validate: validateKindFields,
      managedFields: trackManagedFields,
      admission: {
        admit: (a) => chain.admit(a, lister),
        validate: async (a) => {
          await deps.checkWrite?.(a);
          await chain.validate(a, lister);
        },
      },
      async admit(info, obj, old) {
        if (info.group === '' && info.resource === 'services') return allocator.allocate(obj, old);
        return [];
      },
    },

    decodeBody(req: Req, body: Buffer, info: ResourceInfo): KObject {
      const obj = decodeRaw(req, body, info);
      const what = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}`;
      const err = decodeTyped(info.definition, obj);
      if (err) throw newBadRequest(`${what}: ${err}`);
      return obj;
    },

    checkTyped(info: ResourceInfo, obj: KObject): void {
      const err = decodeTyped(info.definition, obj);
      if (err) throw newBadRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${err}`);
    },


    toTable(info, objs, opts): KObject {
      const printed = printTable(info.group, info.resource, objs, { now: new Date(), noHeaders: opts.noHeaders });
      const include = opts.includeObject;
      if (include !== 'None' && include !== 'Object' && include !== 'Metadata') {
        throw newBadRequest(`unrecognized includeObject value: "${include}"`);
      }
      const rows = printed.rows.map((row, i) => {
        const o = objs[i]!;
        if (include === 'Object') row.object = o;
        else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] };
        return row;
      });
      return {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: opts.listMeta ?? {},
        columnDefinitions: printed.columnDefinitions,
        rows,
      };
    },

    checkFields(info, obj, mode): string[] {
      if (mode === 'Ignore') return [];
      const unknown = unknownFields(info.definition, obj);
      if (unknown.length === 0) return [];
      const texts = unknown.map((f) => `unknown field "${f}"`);
      if (mode === 'Strict') {
        throw newBadRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${texts.join(', ')}`);
      }
      return texts;
    },
  };
}

