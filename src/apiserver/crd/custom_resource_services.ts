// The handler services of one served custom resource version: bodies decoded as unstructured
// objects (JSON or YAML, no protobuf), pruning of fields the schema does not know reported per
// fieldValidation, and Tables from the version's additionalPrinterColumns.
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { CustomResourceColumnDefinition } from '../../api/types/apiextensions_v1.ts';
import { invalid, newPath } from '../../api/field_errors.ts';
import { pruneCustomResource, type CrdSchema } from '../../api/crd/schema.ts';
import { decodeTyped } from '../../api/schema_decode.ts';
import { unknownFields } from '../../api/unknown_fields.ts';
import { newBadRequest, newInvalid, newUnsupportedMediaType } from '../errors.ts';
import { contentType, type Req } from '../http_util.ts';
import type { HandlerServices } from '../handlers/context.ts';
import type { KObject } from '../registry/strategy.ts';
import { customResourcePrinter, printTableWith, type Printer } from '../printers/table.ts';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const OBJECT_META_FIELDS = new Set(['annotations', 'creationTimestamp', 'deletionGracePeriodSeconds', 'deletionTimestamp', 'finalizers',
  'generateName', 'generation', 'labels', 'managedFields', 'name', 'namespace', 'ownerReferences', 'resourceVersion', 'selfLink', 'uid']);

/** Media types a custom resource body may come in (CRDs serve no protobuf). */
const BODY_TYPES = ['application/json', 'application/yaml'];

/** What the services need of the served version. */
export interface CustomResourceServiceSpec {
  readonly info: ResourceInfo;
  readonly schema: CrdSchema | undefined;
  readonly columns: readonly CustomResourceColumnDefinition[];
}

/**
 * The object's kind must be the resource's: upstream decodes any kind into the unstructured object
 * and its strategy's type check refuses it, naming the kind that was sent.
 */
function checkKind(info: ResourceInfo, obj: KObject): void {
  const kind = obj['kind'];
  if (typeof kind !== 'string' || kind === '' || kind === info.kind) return;
  const m = obj['metadata'];
  const name = m !== null && typeof m === 'object' && typeof (m as KObject)['name'] === 'string' ? (m as KObject)['name'] as string : '';
  throw newInvalid(info.group, kind, name, [invalid(newPath('kind'), kind, `must be ${info.kind}`)]);
}

/** Drops metadata fields ObjectMeta does not have (upstream round-trips metadata through ObjectMeta); returns their paths. */
function pruneMetadata(obj: KObject): string[] {
  const m = obj['metadata'];
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return [];
  const md = m as KObject;
  const out: string[] = [];
  for (const k of Object.keys(md)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      out.push(`metadata.${k}`);
      delete md[k];
    }
  }
  for (const f of unknownFields(OBJECT_META, md)) out.push(`metadata.${f}`);
  return out;
}

/** The services of one served version; requests about other kinds (DeleteOptions, Scale) go to `base`. */
export function customResourceServices(base: HandlerServices, spec: CustomResourceServiceSpec): HandlerServices {
  const { info } = spec;
  const printer: Printer = customResourcePrinter(spec.columns.map((c) => ({ ...c })));
  const cannotHandle = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}`;
  const mine = (i: ResourceInfo): boolean => i.definition === info.definition;
  const checkMetadataTypes = (obj: KObject): void => {
    const m = obj['metadata'];
    if (m === undefined || m === null) return;
    if (typeof m !== 'object' || Array.isArray(m)) throw newBadRequest(`${cannotHandle}: metadata must be an object`);
    const err = decodeTyped(OBJECT_META, m as KObject);
    if (err) throw newBadRequest(`${cannotHandle}: ${err}`);
  };
  return {
    decodeBody(req: Req, body: Buffer, i: ResourceInfo): KObject {
      if (!mine(i)) return base.decodeBody(req, body, i);
      if (contentType(req) === 'application/vnd.kubernetes.protobuf') throw newUnsupportedMediaType(contentType(req), BODY_TYPES);
      const obj = base.decodeBody(req, body, i);
      checkKind(info, obj);
      checkMetadataTypes(obj);
      return obj;
    },

    checkTyped(i: ResourceInfo, obj: KObject): void {
      if (!mine(i)) return base.checkTyped(i, obj);
      checkKind(info, obj);
      checkMetadataTypes(obj);
    },

    checkFields(i: ResourceInfo, obj: KObject, mode: string): string[] {
      if (!mine(i)) return base.checkFields(i, obj, mode);
      // Pruning happens whatever the mode; the mode only decides what the client hears about it.
      const dropped = [...pruneMetadata(obj), ...(spec.schema ? pruneCustomResource(spec.schema, obj) : [])];
      if (mode === 'Ignore' || dropped.length === 0) return [];
      const texts = dropped.map((f) => `unknown field "${f}"`);
      if (mode === 'Strict') throw newBadRequest(`${cannotHandle}: strict decoding error: ${texts.join(', ')}`);
      return texts;
    },

    toTable(i: ResourceInfo, objs: KObject[], opts): KObject {
      if (!mine(i)) return base.toTable(i, objs, opts);
      const include = opts.includeObject;
      if (include !== 'None' && include !== 'Object' && include !== 'Metadata') {
        throw newBadRequest(`unrecognized includeObject value: "${include}"`);
      }
      const printed = printTableWith(printer, objs, { now: new Date(), noHeaders: opts.noHeaders });
      const rows = printed.rows.map((row, n) => {
        const o = objs[n]!;
        if (include === 'Object') row.object = o;
        else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] };
        return row;
      });
      return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: opts.listMeta ?? {}, columnDefinitions: printed.columnDefinitions, rows };
    },
  };
}
