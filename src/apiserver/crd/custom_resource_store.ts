// The registry of one served version of a custom resource (apiextensions' customresource.REST on
// the generic store): upstream's customResourceStrategy (status and generation handling, scale
// field checks, schema validation) and the version rewrite of conversion strategy None.
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { CustomResourceSubresourceScale } from '../../api/types/apiextensions_v1.ts';
import { invalid, newPath, type FieldError } from '../../api/field_errors.ts';
import { goFormatNumber } from '../../api/go_strings.ts';
import { defaultCustomResource, validateCustomResource, validateCustomResourceStatus, type CrdSchema } from '../../api/crd/schema.ts';
import { nameIsDNSSubdomain } from '../../api/validation/names.ts';
import type { Store } from '../../storage/types.ts';
import { copyJson } from '../../api/json_copy.ts';
import { GenericStore, type GenericStoreHooks } from '../registry/generic_store.ts';
import type { WatchCache } from '../watch_cache.ts';
import { jsonEqual, meta } from '../registry/object_meta.ts';
import type { KObject, Strategy, StrategyContext } from '../registry/strategy.ts';

const MAX_INT32 = 2147483647;

/** What one served version needs to know about its CRD. */
export interface CustomResourceVersionSpec {
  readonly info: ResourceInfo;
  /** "group/version" objects are stored as. */
  readonly storageApiVersion: string;
  /** The CRD serves several versions: objects are read through a version rewrite. */
  readonly multiVersion: boolean;
  /** The version's compiled schema (undefined: none, everything is kept). */
  readonly schema: CrdSchema | undefined;
  readonly statusEnabled: boolean;
  readonly scale: CustomResourceSubresourceScale | undefined;
}

/** The path parts of a scale path (".spec.replicas" → ["spec", "replicas"]). */
export function fieldPath(path: string): string[] {
  return path.replace(/^\./, '').split('.');
}

/** Go's %T of a JSON value as unstructured content holds it. */
function goTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (v === null) return '<nil>';
  return 'map[string]interface {}';
}

function goValueText(v: unknown): string {
  if (typeof v === 'number') return goFormatNumber(v);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (v === null) return '<nil>';
  return JSON.stringify(v);
}

/** The result of reading a nested field: found or not, or the accessor error upstream's unstructured helpers give. */
export type Nested<T> = { readonly value: T | undefined } | { readonly error: string };

/** unstructured.NestedFieldNoCopy with a type check (upstream's NestedInt64 / NestedString). */
export function nested<T extends 'int64' | 'string'>(obj: KObject, fields: readonly string[], want: T): Nested<T extends 'int64' ? number : string> {
  let cur: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) {
      return { error: `.${fields.slice(0, i).join('.')} accessor error: ${goValueText(cur)} is of the type ${goTypeName(cur)}, expected map[string]interface{}` };
    }
    cur = (cur as KObject)[fields[i]!];
    if (cur === undefined) return { value: undefined };
  }
  const ok = want === 'int64' ? typeof cur === 'number' && Number.isInteger(cur) : typeof cur === 'string';
  if (!ok) return { error: `.${fields.join('.')} accessor error: ${goValueText(cur)} is of the type ${goTypeName(cur)}, expected ${want}` };
  return { value: cur as T extends 'int64' ? number : string };
}

function replicasErrors(obj: KObject, path: string): FieldError[] {
  const r = nested(obj, fieldPath(path), 'int64');
  if ('error' in r) return [invalid(newPath(path), 0, r.error)];
  const n = r.value ?? 0;
  if (n < 0) return [invalid(newPath(path), n, 'should be a non-negative integer')];
  if (n > MAX_INT32) return [invalid(newPath(path), n, `should be less than or equal to ${MAX_INT32}`)];
  return [];
}

/** Upstream's ValidateScaleSpec and ValidateScaleStatus. */
function scaleErrors(obj: KObject, scale: CustomResourceSubresourceScale | undefined): FieldError[] {
  if (!scale) return [];
  const errs = [...replicasErrors(obj, scale.specReplicasPath), ...replicasErrors(obj, scale.statusReplicasPath)];
  if (scale.labelSelectorPath) {
    const sel = nested(obj, fieldPath(scale.labelSelectorPath), 'string');
    if ('error' in sel) errs.push(invalid(newPath(scale.labelSelectorPath), '', sel.error));
  }
  return errs;
}

/** upstream's customResourceStrategy and statusStrategy, for one served version. */
export function customResourceStrategy(spec: CustomResourceVersionSpec): Strategy {
  const { schema, statusEnabled, scale, storageApiVersion } = spec;
  return {
    // Every change outside metadata bumps generation (with a status subresource, status never changes here).
    tracksGeneration: true,
    nameValidator: nameIsDNSSubdomain,
    prepareForCreate(obj: KObject): void {
      if (statusEnabled) delete obj['status'];
      obj['apiVersion'] = storageApiVersion;
    },
    prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
      if (ctx.subresource === 'status') {
        // Only status changes; the generic store kept the written annotations, upstream does not.
        const m = meta(obj);
        const oldAnnotations = meta(old)['annotations'];
        if (oldAnnotations === undefined) delete m['annotations'];
        else m['annotations'] = copyJson(oldAnnotations);
      } else if (!statusEnabled && !jsonEqual(obj['status'], old['status'])) {
        const g = meta(old)['generation'];
        meta(obj)['generation'] = (typeof g === 'number' ? g : 0) + 1;
      }
      obj['apiVersion'] = storageApiVersion;
    },
    validate(obj: KObject): FieldError[] {
      const errs = schema ? validateCustomResource(schema, obj) : [];
      return [...errs, ...scaleErrors(obj, scale)];
    },
    validateUpdate(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[] {
      // The /status subresource checks .status against its schema (paths relative to it), then the rules.
      const errs = schema === undefined ? [] : ctx.subresource === 'status' ? validateCustomResourceStatus(schema, obj, old) : validateCustomResource(schema, obj, old);
      return [...errs, ...scaleErrors(obj, scale)];
    },
  };
}

/** The registry of one served version. */
export class CustomResourceStore extends GenericStore {
  readonly spec: CustomResourceVersionSpec;

  constructor(spec: CustomResourceVersionSpec, store: Store, cache: WatchCache, hooks: GenericStoreHooks) {
    super(spec.info, store, cache, {
      ...hooks,
      // Schema defaults replace the built-in defaulters; the kind's own checks live in the strategy.
      defaults: (_info, obj) => { if (spec.schema) defaultCustomResource(spec.schema, obj); },
      prepareForCreate: undefined,
      validate: undefined,
      admit: undefined,
    });
    this.spec = spec;
    const self = this as unknown as { strategy: Strategy; converts: boolean };
    self.strategy = customResourceStrategy(spec);
    // Several versions share one stored form: reads go through present(), which rewrites apiVersion.
    self.converts = spec.multiVersion;
  }

  /** A stored object as this version serves it: apiVersion rewritten and this version's defaults applied (conversion None). */
  override present(obj: KObject): KObject {
    if (!this.converts) return obj;
    const out = copyJson(obj);
    out['apiVersion'] = this.info.group + '/' + this.info.version;
    if (this.spec.schema) defaultCustomResource(this.spec.schema, out);
    return out;
  }
}
