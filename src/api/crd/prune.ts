// Pruning of custom resources (apiextensions' schema/pruning and objectmeta.Coerce): drops fields the
// structural schema does not specify and rewrites the metadata of embedded resources as an
// ObjectMeta round trip would, returning the dropped paths for server-side field validation.

import { sortGoStrings } from '../go_strings.ts';
import { Path } from '../field_errors.ts';
import { asEmbeddedRoot, asObject, type Structural } from './structural.ts';

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** Tracks the textual path (`spec.list[0].x`) of the value being pruned. */
class Tracker {
  readonly unknown: string[] = [];
  record(parent: string, key: string): void {
    this.unknown.push(parent === '' ? key : `${parent}.${key}`);
  }
}

function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function prune(x: unknown, s: Structural | undefined, path: string, t: Tracker): void {
  if (s?.preserveUnknownFields) {
    skipPrune(x, s, path, t);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((v, i) => prune(v, s?.items, `${path}[${i}]`, t));
    return;
  }
  const m = asObject(x);
  if (!m) return;
  if (!s) {
    for (const k of Object.keys(m)) {
      t.record(path, k);
      delete m[k];
    }
    return;
  }
  for (const k of Object.keys(m)) {
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop) {
      prune(m[k], prop, childPath(path, k), t);
    } else if (s.additionalProperties !== undefined) {
      prune(m[k], s.additionalProperties === true ? undefined : s.additionalProperties, childPath(path, k), t);
    } else {
      if (!META_FIELDS.has(k) || path !== '') t.record(path, k);
      delete m[k];
    }
  }
}

function skipPrune(x: unknown, s: Structural | undefined, path: string, t: Tracker): void {
  if (!s) return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => skipPrune(v, s.items, `${path}[${i}]`, t));
    return;
  }
  const m = asObject(x);
  if (!m) return;
  for (const k of Object.keys(m)) {
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop) prune(m[k], prop, childPath(path, k), t);
    else if (s.additionalProperties !== undefined) {
      prune(m[k], s.additionalProperties === true ? undefined : s.additionalProperties, childPath(path, k), t);
    }
  }
}

/**
 * PruneWithOptions(obj, s, isResourceRoot=true) with unknown-field tracking: mutates obj and returns
 * the pruned paths sorted as upstream sorts them.
 */
export function pruneObject(obj: Record<string, unknown>, s: Structural | undefined): string[] {
  return pruneValue(obj, s, true);
}

/** PruneWithOptions(x, s, isResourceRoot) with unknown-field tracking. */
export function pruneValue(x: unknown, s: Structural | undefined, isResourceRoot: boolean): string[] {
  const t = new Tracker();
  prune(x, isResourceRoot ? asEmbeddedRoot(s) : s, '', t);
  return sortGoStrings(t.unknown);
}

// ObjectMeta's JSON fields and the JSON kind each must have to survive the round trip.
const OBJECT_META_FIELDS: Readonly<Record<string, 'string' | 'int' | 'time' | 'strmap' | 'strlist' | 'objlist'>> = {
  name: 'string', generateName: 'string', namespace: 'string', selfLink: 'string', uid: 'string',
  resourceVersion: 'string', generation: 'int', creationTimestamp: 'time', deletionTimestamp: 'time',
  deletionGracePeriodSeconds: 'int', labels: 'strmap', annotations: 'strmap', ownerReferences: 'objlist',
  finalizers: 'strlist', managedFields: 'objlist',
};

function fits(kind: string, v: unknown): boolean {
  switch (kind) {
    case 'string': return typeof v === 'string';
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'time': return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    case 'strmap': { const m = asObject(v); return m !== undefined && Object.values(m).every((x) => typeof x === 'string'); }
    case 'strlist': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'objlist': return Array.isArray(v) && v.every((x) => asObject(x) !== undefined);
    default: return false;
  }
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  const m = asObject(v);
  return m !== undefined && Object.keys(m).length === 0;
}

/** The metadata of an embedded resource after an ObjectMeta round trip (unknown, malformed and empty fields dropped). */
function coerceMetadata(meta: Record<string, unknown>, prefix: string, unknown: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    const kind = OBJECT_META_FIELDS[k];
    if (kind === undefined) {
      unknown.push(`${prefix}.${k}`);
      continue;
    }
    if (v === null || !fits(kind, v) || isEmpty(v)) continue;
    out[k] = v;
  }
  return out;
}

function coerce(pth: Path | null, x: unknown, s: Structural | undefined, unknown: string[]): void {
  if (!s) return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => coerce(pth === null ? new Path('', String(i), null) : pth.index(i), v, s.items, unknown));
    return;
  }
  const m = asObject(x);
  if (!m) return;
  for (const k of Object.keys(m)) {
    if (s.embeddedResource) {
      if ((k === 'apiVersion' || k === 'kind') && typeof m[k] !== 'string') delete m[k];
      else if (k === 'metadata') {
        const meta = asObject(m[k]);
        if (meta) {
          const prefix = pth === null ? 'metadata' : pth.child('metadata').toString();
          m[k] = coerceMetadata(meta, prefix, unknown);
        }
      }
    }
    const prop = s.properties?.get(k);
    if (prop) coerce(pth === null ? new Path(k, '', null) : pth.child(k), m[k], prop, unknown);
    else if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      coerce(pth === null ? new Path('', k, null) : pth.key(k), m[k], s.additionalProperties, unknown);
    }
  }
}

/**
 * CoerceWithOptions(nil, obj, s, isResourceRoot=false, drop invalid + return unknown paths): the
 * embedded resources' apiVersion/kind must be strings and their metadata is an ObjectMeta.
 */
export function coerceEmbeddedMetadata(obj: Record<string, unknown>, s: Structural | undefined): string[] {
  const unknown: string[] = [];
  coerce(null, obj, s, unknown);
  return sortGoStrings(unknown);
}
