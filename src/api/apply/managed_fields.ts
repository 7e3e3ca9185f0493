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

const HTML_UNSAFE = /[<>&\u2028\u2029]/;

function goJSONString(s: string): string {
  const json = JSON.stringify(s);
  if (!HTML_UNSAFE.test(json)) return json;
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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

type ManagerIdentity = { manager?: string; operation?: string; apiVersion?: string; subresource?: string };

/** Parsed identifiers: a server sees a handful of managers, on every write. */
const parsedIds = new Map<string, Readonly<ManagerIdentity>>();

/** The entry fields an identifier stands for (a shared object: do not change it). */
export function parseManagerIdentifier(id: string): Readonly<ManagerIdentity> {
  let parsed = parsedIds.get(id);
  if (parsed === undefined) {
    parsed = parseIdentifier(id);
    if (parsedIds.size >= 1000) parsedIds.clear();
    parsedIds.set(id, parsed);
  }
  return parsed;
}

function parseIdentifier(id: string): ManagerIdentity {
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

/**
 * The FieldsV1 each decoded set came from, when that FieldsV1 is the set's own encoding: a set
 * that comes out of a write unchanged (the same object) is encoded as it came in, not again.
 */
const encodedAs = new WeakMap<FieldSet, FieldsV1>();
/** The other way: the set a FieldsV1 object of this server's encoding stands for (never changed once made). */
const decodedAs = new WeakMap<object, FieldSet>();

/**
 * Decodes metadata.managedFields (upstream's DecodeManagedFields); throws ManagedFieldsError.
 * `canonical`: the entries are this server's own encoding (read from storage), so an unchanged
 * set may be written back as the same FieldsV1 (upstream re-encodes it to the same JSON).
 */
export function decodeManagedFields(entries: unknown, canonical = false): Managed {
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
    const known = canonical && typeof e.fieldsV1 === 'object' && e.fieldsV1 !== null ? decodedAs.get(e.fieldsV1) : undefined;
    let set: FieldSet;
    if (known !== undefined) set = known;
    else {
      try {
        set = fromFieldsV1(e.fieldsV1 ?? {});
      } catch (err) {
        if (err instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding versioned set from entry ${i}: error decoding set: ${err.message}`);
        throw err;
      }
      if (canonical && typeof e.fieldsV1 === 'object' && e.fieldsV1 !== null) {
        encodedAs.set(set, e.fieldsV1);
        decodedAs.set(e.fieldsV1, set);
      }
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

/**
 * Encodes owner sets as managedFields entries in upstream's order: Apply before Update, then by
 * time, manager, apiVersion, subresource. `reuse`: a set met before (decoded from this server's
 * encoding, or encoded here) keeps that FieldsV1 object rather than a new one.
 */
export function encodeManagedFields(managed: Managed, reuse = true): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  const seconds = new Map<ManagedFieldsEntry, number>();
  for (const [id, vs] of managed.fields) {
    const ident = parseManagerIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (ident.manager) entry.manager = ident.manager;
    entry.operation = vs.applied ? 'Apply' : ident.operation ?? 'Update';
    entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    let fieldsV1 = reuse ? encodedAs.get(vs.set) : undefined;
    if (fieldsV1 === undefined) {
      fieldsV1 = toFieldsV1(vs.set);
      // A stored object's entries are these objects, unchanged (stored objects are not changed):
      // the next write of the object finds its sets here instead of decoding them again.
      if (reuse) {
        encodedAs.set(vs.set, fieldsV1);
        decodedAs.set(fieldsV1, vs.set);
      }
    }
    entry.fieldsV1 = fieldsV1;
    if (ident.subresource) entry.subresource = ident.subresource;
    out.push(entry);
    seconds.set(entry, unixSeconds(time));
  }
  if (out.length < 2) return out;
  out.sort((p, q) =>
    compareStr(p.operation, q.operation) ||
    seconds.get(p)! - seconds.get(q)! ||
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
