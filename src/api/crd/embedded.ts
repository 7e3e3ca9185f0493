// Validation of embedded resources in custom resources (apiextensions' schema/objectmeta.Validate
// with isResourceRoot=false): x-kubernetes-embedded-resource objects need a string apiVersion and
// kind and a valid ObjectMeta.

import { childOf, invalid, required, Path, type FieldError } from '../field_errors.ts';
import { isDNS1035Label, validatePathSegmentName } from '../validation/names.ts';
import { validateObjectMeta, type ObjectMetaLike } from '../validation/object_meta.ts';
import { asObject, type Structural } from './structural.ts';
import { goSharpV } from './values.ts';

/** schema.ParseGroupVersion's error, or undefined. */
export function parseGroupVersionError(gv: string): string | undefined {
  if (gv === '' || gv === '/') return undefined;
  const parts = gv.split('/');
  if (parts.length === 1 || parts.length === 2) return undefined;
  return `unexpected GroupVersion string: ${gv}`;
}

const META_TYPES: Readonly<Record<string, string>> = {
  name: 'string', generateName: 'string', namespace: 'string', selfLink: 'string', uid: 'string',
  resourceVersion: 'string', generation: 'int64', deletionGracePeriodSeconds: 'int64',
  creationTimestamp: 'Time', deletionTimestamp: 'Time',
};

/** The json.Unmarshal error of decoding metadata into ObjectMeta, if any. */
function objectMetaError(v: unknown): string | undefined {
  const m = asObject(v);
  if (!m) {
    const kind = Array.isArray(v) ? 'array' : v === null ? undefined : typeof v === 'number' ? 'number' : typeof v;
    return kind === undefined ? undefined : `json: cannot unmarshal ${kind} into Go value of type v1.ObjectMeta`;
  }
  for (const [k, x] of Object.entries(m)) {
    const t = META_TYPES[k];
    if (t === undefined || x === null) continue;
    const bad = (t === 'string' && typeof x !== 'string') || (t === 'int64' && !(typeof x === 'number' && Number.isInteger(x)))
      || (t === 'Time' && typeof x !== 'string');
    if (bad) {
      const kind = Array.isArray(x) ? 'array' : typeof x === 'number' ? 'number' : typeof x === 'object' ? 'object' : typeof x;
      return `json: cannot unmarshal ${kind} into Go struct field ObjectMeta.${k} of type ${t === 'Time' ? 'v1.Time' : t}`;
    }
  }
  return undefined;
}

function validateEmbeddedResource(p: Path | null, x: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (!('apiVersion' in x)) errs.push(required(childOf(p, 'apiVersion'), 'must not be empty'));
  if (!('kind' in x)) errs.push(required(childOf(p, 'kind'), 'must not be empty'));
  for (const [k, v] of Object.entries(x)) {
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errs.push(invalid(childOf(p, k), shown(v), 'must be a string'));
      else if (v.length === 0) errs.push(invalid(childOf(p, k), v, 'must not be empty'));
      else {
        const e = parseGroupVersionError(v);
        if (e) errs.push(invalid(childOf(p, k), v, e));
      }
    } else if (k === 'kind') {
      if (typeof v !== 'string') errs.push(invalid(childOf(p, k), shown(v), 'must be a string'));
      else if (v.length === 0) errs.push(invalid(childOf(p, k), v, 'must not be empty'));
      else {
        const e = isDNS1035Label(v.toLowerCase());
        if (e.length > 0) errs.push(invalid(childOf(p, k), v, `may have mixed case, but should otherwise match: ${e.join(',')}`));
      }
    } else if (k === 'metadata') {
      const err = objectMetaError(v);
      if (err) {
        errs.push(invalid(childOf(p, k), shown(v), err));
        continue;
      }
      const meta = { ...(asObject(v) ?? {}) } as ObjectMetaLike & Record<string, unknown>;
      if (!meta.name) meta.name = 'fakename';
      errs.push(...validateObjectMeta(meta, {
        nameFn: validatePathSegmentName,
        requiresNamespace: (meta.namespace ?? '').length > 0,
        path: childOf(p, 'metadata'),
      }));
    }
  }
  return errs;
}

function shown(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? goSharpV(v) : v;
}

function validate(p: Path | null, x: unknown, s: Structural | undefined): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  if (Array.isArray(x)) {
    x.forEach((v, i) => errs.push(...validate(p === null ? new Path('', String(i), null) : p.index(i), v, s.items)));
    return errs;
  }
  const m = asObject(x);
  if (!m) return errs;
  if (s.embeddedResource) errs.push(...validateEmbeddedResource(p, m));
  for (const [k, v] of Object.entries(m)) {
    const prop = s.properties?.get(k);
    if (prop) errs.push(...validate(childOf(p, k), v, prop));
    else if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      errs.push(...validate(p === null ? new Path('', k, null) : p.key(k), v, s.additionalProperties));
    }
  }
  return errs;
}

/** objectmeta.Validate(nil, obj, s, isResourceRoot=false). */
export function validateEmbeddedResources(obj: Record<string, unknown>, s: Structural | undefined): FieldError[] {
  return validate(null, obj, s);
}
