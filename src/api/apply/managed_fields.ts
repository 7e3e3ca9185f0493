// metadata.managedFields as stored (upstream's managedfields internal package): decoding entries
// into owner sets keyed by manager identifier, encoding them back in upstream's order, and the
// cap that folds the oldest update managers into "ancient-changes".
import { FieldSet } from './fieldpath.ts';
import { FieldsV1Error, fromFieldsV1, toFieldsV1, type FieldsV1 } from './fields_v1.ts';
import type { ManagedSets } from './updater.ts';

/** One metadata.managedFields entry (metav1.ManagedFieldsEntry), keys in Go's field order. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update' | string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** Owner sets and the time each manager last wrote. */
export interface Managed {
  readonly fields: ManagedSets;
  readonly times: Map<string, string | undefined>;
}

/** managedFields that cannot be decoded; the message is upstream's. */
export class ManagedFieldsError extends Error {
  readonly code = 'ManagedFieldsInvalid';
}

/** Upstream's default cap on Update managers before the oldest are merged. */
export const MAX_UPDATE_MANAGERS = 10;

const ANCIENT_CHANGES = 'ancient-changes';

function goJSONString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The identity of a manager (upstream's BuildManagerIdentifier): the entry as JSON without time and
 * fields, and without apiVersion for Apply, so one applier owns its fields across versions.
 */
export function managerIdentifier(entry: { manager?: string; operation?: string; apiVersion?: string; subresource?: string }): string {
  const parts: string[] = [];
  if (entry.manager) parts.push(`"manager":${goJSONString(entry.manager)}`);
  if (entry.operation) parts.push(`"operation":${goJSONString(entry.operation)}`);
  if (entry.apiVersion && entry.operation !== 'Apply') parts.push(`"apiVersion":${goJSONString(entry.apiVersion)}`);
  if (entry.subresource) parts.push(`"subresource":${goJSONString(entry.subresource)}`);
  return `{${parts.join(',')}}`;
}

/** The entry fields an identifier stands for. */
export function parseManagerIdentifier(id: string): { manager?: string; operation?: string; apiVersion?: string; subresource?: string } {
  try {
    const v = JSON.parse(id) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, string>;
  } catch {
    // Not an identifier (a bare name in a test): treat it as the manager's name.
  }
  return { manager: id };
}

/** An empty Managed. */
export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

/** Decodes metadata.managedFields (upstream's DecodeManagedFields); throws ManagedFieldsError. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = emptyManaged();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
  entries.forEach((raw, i) => {
    const e = (raw ?? {}) as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new ManagedFieldsError('apiVersion must not be empty');
    if (e.fieldsType !== 'FieldsV1') {
      throw new ManagedFieldsError(e.fieldsType ? `invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}` : `missing fieldsType in managed fields entry ${i}`);
    }
    const id = managerIdentifier(e);
    let set: FieldSet;
    try {
      set = fromFieldsV1(e.fieldsV1 ?? {});
    } catch (err) {
      if (err instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding versioned set from entry ${i}: error decoding set: ${err.message}`);
      throw err;
    }
    managed.fields.set(id, { set, apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    managed.times.set(id, e.time);
  });
  return managed;
}

/** Whether a request's managedFields ask for them to be cleared: `[]` or `[{}]` (upstream's isResetManagedFields). */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1) return false;
  const only = entries[0] as unknown;
  return only !== null && typeof only === 'object' && !Array.isArray(only) && Object.keys(only).length === 0;
}

function unixSeconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function compareStr(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Encodes owner sets as managedFields entries in upstream's order: Apply before Update, then by time, manager, apiVersion, subresource. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const ident = parseManagerIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (ident.manager) entry.manager = ident.manager;
    entry.operation = vs.applied ? 'Apply' : ident.operation ?? 'Update';
    entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = toFieldsV1(vs.set);
    if (ident.subresource) entry.subresource = ident.subresource;
    out.push(entry);
  }
  out.sort((p, q) =>
    compareStr(p.operation, q.operation) ||
    unixSeconds(p.time) - unixSeconds(q.time) ||
    compareStr(p.manager, q.manager) ||
    compareStr(p.apiVersion, q.apiVersion) ||
    compareStr(p.subresource, q.subresource));
  return out;
}

/** Folds the oldest Update managers beyond `max` into one "ancient-changes" entry per API version (upstream's capManagers). */
export function capUpdateManagers(managed: Managed, max: number = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managed.fields].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => unixSeconds(managed.times.get(a)) - unixSeconds(managed.times.get(b)) || (a < b ? -1 : a > b ? 1 : 0));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const vs = managed.fields.get(id)!;
    const time = managed.times.get(id);
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: vs.apiVersion });
    const first = firstByVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstByVersion.set(vs.apiVersion, id);
      continue;
    }
    if (!managed.fields.has(bucket)) {
      const firstSet = managed.fields.get(first)!;
      managed.fields.delete(first);
      managed.fields.set(bucket, firstSet);
    }
    managed.fields.set(bucket, { set: vs.set.union(managed.fields.get(bucket)!.set), apiVersion: vs.apiVersion, applied: vs.applied });
    managed.fields.delete(id);
    length--;
    managed.times.set(bucket, time);
  }
}
