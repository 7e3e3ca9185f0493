// The field manager of every write (upstream's managedfields FieldManager and its chain of
// managers): non-apply writes update metadata.managedFields, server-side apply merges a configuration
// with ownership, pruning and conflicts. Pure: objects in, objects and managedFields out.
import { conflictStatusMessage, type ApplyConflict } from './conflict.ts';
import { FieldSet, fieldPath, pathString, type Path } from './fieldpath.ts';
import { allowedConflictsFromLastApplied, buildLastApplied, hasLastApplied, setLastApplied } from './last_applied.ts';
import { capUpdateManagers, decodeManagedFields, emptyManaged, encodeManagedFields, isResetManagedFields, managerIdentifier, ManagedFieldsError, MAX_UPDATE_MANAGERS, parseManagerIdentifier, type Managed, type ManagedFieldsEntry } from './managed_fields.ts';
import { DEDUCED, definitionAtom, registeredAtom, type Atom } from './schema.ts';
import { toFieldSet, validate, valuesEqual, walkErrorsString } from './typed.ts';
import { applyManaged, ConflictSets, updateManaged, UpdaterError, type UpdaterContext } from './updater.ts';
import { sharedZeroObject, withoutNulls, zeroObject } from './zero_values.ts';

type JsonObject = Record<string, unknown>;

// Fields no manager ever owns: identity and server-maintained metadata (upstream's stripMeta).
const STRIPPED = FieldSet.of(
  fieldPath('apiVersion'),
  fieldPath('kind'),
  fieldPath('metadata'),
  fieldPath('metadata', 'name'),
  fieldPath('metadata', 'namespace'),
  fieldPath('metadata', 'creationTimestamp'),
  fieldPath('metadata', 'selfLink'),
  fieldPath('metadata', 'uid'),
  fieldPath('metadata', 'clusterName'),
  fieldPath('metadata', 'generation'),
  fieldPath('metadata', 'managedFields'),
  fieldPath('metadata', 'resourceVersion'),
);

const CURRENT_OPERATION = 'current-operation';
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** What every write tells the field manager about the endpoint. */
export interface WriteTarget {
  /** The OpenAPI definition of the kind, e.g. "io.k8s.api.apps.v1.Deployment". */
  readonly definition: string;
  /** The endpoint's group/version, e.g. "apps/v1" or "v1". */
  readonly apiVersion: string;
  /** The subresource written through ("status", "scale"...), absent for the main resource. */
  readonly subresource?: string;
  /** When the write happens (RFC 3339, or a Date), stamped on the writer's entry. */
  readonly time: string | Date;
  /**
   * Field paths the registry strategy resets on this endpoint, ignored for ownership (upstream's
   * GetResetFields), e.g. [['status']] on a main resource with a status subresource.
   */
  readonly resetFields?: readonly (readonly string[])[];
}

/** Inputs of updateManagedFields. */
export interface UpdateManagedFieldsOptions extends WriteTarget {
  /** The stored object, undefined on create. */
  readonly live: JsonObject | undefined;
  /** The object about to be stored, with the managedFields the request carried (if any). */
  readonly next: JsonObject;
  /** The fieldManager parameter (kubectl-create, kubectl-client-side-apply...); "" becomes "unknown". */
  readonly manager: string;
  readonly operation?: 'Update';
  /** Update managers kept before the oldest are folded into "ancient-changes" (default 10). */
  readonly maxUpdateManagers?: number;
}

/** Inputs of apply. */
export interface ApplyOptions extends WriteTarget {
  /** The kind served by the endpoint (default: the definition's last segment). */
  readonly kind?: string;
  /** The stored object, undefined when the apply creates it. */
  readonly live: JsonObject | undefined;
  /** The applied configuration (the decoded apply-patch+yaml body). */
  readonly applied: JsonObject;
  /** The fieldManager parameter (required by the caller's option validation). */
  readonly manager: string;
  /** force=true: take ownership of conflicting fields instead of failing. */
  readonly force: boolean;
}

/** A failed apply that is not a conflict: upstream's status code, reason and message. */
export interface ApplyError {
  readonly code: 400 | 500;
  readonly reason: 'BadRequest' | '';
  readonly message: string;
}

/**
 * The outcome of apply: the new object (managedFields set, nulls removed, not yet defaulted) and
 * whether it differs from the live one; or the conflicts (409); or another error.
 */
export type ApplyResult =
  | { readonly object: JsonObject; readonly managedFields: ManagedFieldsEntry[]; readonly changed: boolean }
  | { readonly conflicts: ApplyConflict[]; readonly message: string }
  | { readonly error: ApplyError };

/** The reset fields of upstream's usual strategies: status on the main resource, spec and labels on status. */
export function defaultResetFields(subresource: string | undefined): (readonly string[])[] {
  return subresource === 'status' ? [['spec'], ['metadata', 'labels']] : [['status']];
}

function atomOf(definition: string): Atom {
  return definitionAtom(definition) ?? DEDUCED;
}

/** Contexts by definition and reset fields: a server writes a few dozen combinations, over and over. */
const contexts = new Map<string, UpdaterContext>();

/** Contexts of registered (custom resource) schemas, kept with the schema so they go when it does. */
const registeredContexts = new WeakMap<Atom, Map<string, UpdaterContext>>();

function contextOf(target: WriteTarget): UpdaterContext {
  const reset = target.resetFields ?? [];
  const custom = registeredAtom(target.definition);
  let cache = contexts;
  let key = reset.length === 0 ? target.definition : `${target.definition}\u0000${JSON.stringify(reset)}`;
  if (custom) {
    key = JSON.stringify(reset);
    let m = registeredContexts.get(custom);
    if (!m) registeredContexts.set(custom, m = new Map());
    cache = m;
  }
  let ctx = cache.get(key);
  if (ctx === undefined) {
    const atom = custom ?? atomOf(target.definition);
    ctx = reset.length === 0 ? { atom } : { atom, ignored: FieldSet.of(...reset.map((p) => fieldPath(...p))) };
    if (cache.size >= 1000) cache.clear();
    cache.set(key, ctx);
  }
  return ctx;
}

/** The empty object of a kind: built-in kinds have zero-valued fields, custom resources none. */
function zeroOf(definition: string, shared: boolean): JsonObject {
  if (registeredAtom(definition)) return {};
  return shared ? sharedZeroObject(definition) : zeroObject(definition);
}

function formatTime(t: string | Date): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  const iso = d.toISOString();
  // "2025-01-02T03:04:05.678Z" -> "2025-01-02T03:04:05Z" (years past 9999 keep the general form)
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}

function metadataOf(obj: JsonObject | undefined): JsonObject | undefined {
  const m = obj?.['metadata'];
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as JsonObject) : undefined;
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  if (!meta || !('managedFields' in meta)) return obj;
  // Copies by hand: object rest and spread take V8's slow path, on every write.
  const rest: JsonObject = {};
  for (const k in meta) if (k !== 'managedFields') setOwn(rest, k, meta[k]);
  const out: JsonObject = {};
  for (const k in obj) setOwn(out, k, k === 'metadata' ? rest : obj[k]);
  return out;
}

/** o[k] = v as an own member, also for "__proto__" (a JSON member, not the prototype). */
function setOwn(o: JsonObject, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function tryDecode(entries: unknown, canonical = false): Managed {
  try {
    return decodeManagedFields(entries, canonical);
  } catch (err) {
    if (err instanceof ManagedFieldsError) return emptyManaged();
    throw err;
  }
}

function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) };
}

function stripFields(managed: Managed, id: string): void {
  const vs = managed.fields.get(id);
  if (!vs) return;
  const set = vs.set.difference(STRIPPED);
  if (set.empty()) managed.fields.delete(id);
  else managed.fields.set(id, { ...vs, set });
}

// The update half of upstream's chain below skipNonApplied: cap, manager info, managedFieldsUpdater,
// stripMeta, structured merge. Mutates `managed`.
function runUpdate(ctx: UpdaterContext, target: WriteTarget, liveObj: unknown, newObj: unknown, managed: Managed, manager: string, max: number): void {
  const id = managerIdentifier({ manager: manager || 'unknown', operation: 'Update', apiVersion: target.apiVersion, subresource: target.subresource });
  const before = managed.fields.get(id)?.set;
  updateManaged(ctx, liveObj, newObj, target.apiVersion, managed.fields, CURRENT_OPERATION);
  stripFields(managed, CURRENT_OPERATION);
  const vs = managed.fields.get(CURRENT_OPERATION);
  if (vs) {
    managed.fields.delete(CURRENT_OPERATION);
    const previous = managed.fields.get(id);
    let set = previous ? vs.set.union(previous.set) : vs.set;
    // A writer that changes what it owned already keeps the very set it had (encoded as before).
    if (!ctx.exhaustive && before !== undefined && set !== before && set.equals(before)) set = before;
    managed.fields.set(id, { ...vs, set });
    managed.times.set(id, formatTime(target.time));
  }
  capUpdateManagers(managed, max);
}

/**
 * The managedFields of an object after a non-apply write (create, update, patch): the writer gains
 * what it changed (on create, everything it set), other managers lose it. An empty result means
 * the object carries no managedFields (as upstream, when the live object had none, or on failure).
 */
export function updateManagedFields(opts: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  return updateManagedFieldsWith(contextOf(opts), opts);
}

/** updateManagedFields without its shortcuts: every member compared, every set decoded and encoded (for tests). */
export function updateManagedFieldsExhaustive(opts: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  return updateManagedFieldsWith({ ...contextOf(opts), exhaustive: true }, opts);
}

function updateManagedFieldsWith(ctx: UpdaterContext, opts: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  const liveMeta = metadataOf(opts.live);
  // The live object's entries are this server's own encoding (as stored); a request's are not.
  const canonical = !ctx.exhaustive;
  let managed: Managed;
  if (opts.subresource) managed = tryDecode(liveMeta?.['managedFields'], canonical);
  else {
    const requested = metadataOf(opts.next)?.['managedFields'];
    if (isResetManagedFields(requested)) managed = emptyManaged();
    else {
      managed = tryDecode(requested);
      if (managed.fields.size === 0) managed = tryDecode(liveMeta?.['managedFields'], canonical);
    }
  }
  const creating = opts.live === undefined || !liveMeta?.['uid'];
  if (managed.fields.size === 0 && !creating) return [];
  // runUpdate only reads the live object: a create compares with the shared empty object.
  const liveObj = opts.live ? withoutManagedFields(opts.live) : zeroOf(opts.definition, true);
  try {
    runUpdate(ctx, opts, liveObj, withoutManagedFields(opts.next), managed, opts.manager, opts.maxUpdateManagers ?? MAX_UPDATE_MANAGERS);
  } catch (err) {
    // Upstream's UpdateNoErrors: a write never fails for its bookkeeping; managedFields are dropped.
    if (err instanceof UpdaterError) return [];
    throw err;
  }
  return encodeManagedFields(managed, !ctx.exhaustive);
}

function parseGroupVersion(apiVersion: unknown): { group: string; version: string } | undefined {
  const s = typeof apiVersion === 'string' ? apiVersion : '';
  if (s === '') return { group: '', version: '' };
  const parts = s.split('/');
  if (parts.length === 1) return { group: '', version: s };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return undefined;
}

function gvkString(group: string, version: string, kind: string): string {
  return `${group}/${version}, Kind=${kind}`;
}

function conflictsOf(sets: ReadonlyMap<string, FieldSet>, managed: Managed): { list: ApplyConflict[]; paths: Map<string, Path[]> } {
  const list: ApplyConflict[] = [];
  const paths = new Map<string, Path[]>();
  for (const id of [...sets.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ident = parseManagerIdentifier(id);
    const vs = managed.fields.get(id);
    const ps = sets.get(id)!.paths();
    paths.set(id, ps);
    for (const p of ps) {
      list.push({
        manager: ident.manager ?? '',
        operation: ident.operation === 'Apply' ? 'Apply' : 'Update',
        apiVersion: ident.apiVersion ?? vs?.apiVersion ?? '',
        ...(ident.subresource ? { subresource: ident.subresource } : {}),
        field: pathString(p),
      });
    }
  }
  return { list, paths };
}

type CoreResult = { object: unknown; managed: Managed } | { conflicts: ReadonlyMap<string, FieldSet> } | { error: ApplyError };

/**
 * Server-side apply of `applied` by `manager` (PATCH application/apply-patch+yaml). The caller
 * still runs the strategy (reset fields, defaults, validation) on the returned object and checks
 * its name against the URL, as upstream's patch handler does after the field manager.
 */
export function apply(opts: ApplyOptions): ApplyResult {
  const ctx = contextOf(opts);
  const kind = opts.kind ?? opts.definition.slice(opts.definition.lastIndexOf('.') + 1);
  let managed: Managed;
  try {
    managed = decodeManagedFields(metadataOf(opts.live)?.['managedFields']);
  } catch (err) {
    if (err instanceof ManagedFieldsError) return { error: { code: 500, reason: '', message: `failed to decode managed fields: ${err.message}` } };
    throw err;
  }
  const endpoint = parseGroupVersion(opts.apiVersion) ?? { group: '', version: '' };
  const gv = parseGroupVersion(opts.applied['apiVersion']);
  const appliedKind = typeof opts.applied['kind'] === 'string' ? opts.applied['kind'] : '';
  if (!gv || gv.group !== endpoint.group || gv.version !== endpoint.version || appliedKind !== kind) {
    const shown = gv ? gvkString(gv.group, gv.version, appliedKind) : gvkString('', '', '');
    return { error: { code: 400, reason: 'BadRequest', message: `invalid object type: ${shown}` } };
  }
  const liveObj = opts.live ? withoutManagedFields(opts.live) : zeroOf(opts.definition, false);

  let result = applyCore(ctx, opts, kind, liveObj, managed, opts.force);
  if ('conflicts' in result && opts.manager === 'kubectl') {
    const allowed = allowedConflictsFromLastApplied(ctx.atom, opts.apiVersion, liveObj);
    if (allowed) {
      let all = new FieldSet();
      for (const s of result.conflicts.values()) all = all.union(s);
      if (all.difference(allowed).empty()) result = applyCore(ctx, opts, kind, liveObj, managed, true);
      else {
        const remaining = new Map<string, FieldSet>();
        for (const [id, s] of result.conflicts) {
          const left = new FieldSet();
          for (const p of s.paths()) if (!allowed.has(p)) left.insert(p);
          if (!left.empty()) remaining.set(id, left);
        }
        result = { conflicts: remaining };
      }
    }
  }
  if ('error' in result) return result;
  if ('conflicts' in result) {
    const { list } = conflictsOf(result.conflicts, managed);
    return { conflicts: list, message: conflictStatusMessage(list) };
  }

  let object = (withoutNulls(ctx.atom, result.object) ?? {}) as JsonObject;
  // A create merges into the empty object, which would put apiVersion and kind last.
  if (!opts.live) object = { apiVersion: object['apiVersion'], kind: object['kind'], ...object };
  const managedFields = encodeManagedFields(result.managed);
  const meta = ((object['metadata'] as JsonObject | undefined) ??= {});
  if (managedFields.length > 0) meta['managedFields'] = managedFields;
  else delete meta['managedFields'];
  if (opts.manager === 'kubectl' && hasLastApplied(object)) setLastApplied(object, buildLastApplied(opts.applied));
  const changed = opts.live === undefined || !valuesEqual(opts.live, object);
  return { object, managedFields, changed };
}

// Upstream's chain from skipNonApplied down: a first apply to an object nobody tracks gives its
// current fields to "before-first-apply", then the structured apply runs and stripMeta cleans up.
function applyCore(ctx: UpdaterContext, opts: ApplyOptions, kind: string, liveObj: JsonObject, managedIn: Managed, force: boolean): CoreResult {
  const managed = cloneManaged(managedIn);
  if (managed.fields.size === 0) {
    try {
      runUpdate(ctx, opts, zeroOf(opts.definition, false), liveObj, managed, BEFORE_FIRST_APPLY, MAX_UPDATE_MANAGERS);
    } catch (err) {
      if (err instanceof UpdaterError) return { error: { code: 500, reason: '', message: `failed to create manager for existing fields: ${err.message}` } };
      throw err;
    }
  }
  const id = managerIdentifier({ manager: opts.manager || 'unknown', operation: 'Apply', subresource: opts.subresource });
  const appliedMeta = metadataOf(opts.applied);
  if (Array.isArray(appliedMeta?.['managedFields'])) return { error: { code: 400, reason: 'BadRequest', message: 'metadata.managedFields must be nil' } };
  const errs = validate(ctx.atom, opts.applied, false);
  if (errs.length > 0) {
    const ns = typeof appliedMeta?.['namespace'] === 'string' ? appliedMeta['namespace'] : '';
    const name = typeof appliedMeta?.['name'] === 'string' ? appliedMeta['name'] : '';
    const gv = parseGroupVersion(opts.apiVersion)!;
    return { error: { code: 500, reason: '', message: `failed to create typed patch object (${ns}/${name}; ${gvkString(gv.group, gv.version, kind)}): ${walkErrorsString(errs)}` } };
  }
  let outcome;
  try {
    outcome = applyManaged(ctx, liveObj, opts.applied, opts.apiVersion, managed.fields, id, force);
  } catch (err) {
    if (err instanceof ConflictSets) return { conflicts: err.conflicts };
    if (err instanceof UpdaterError) return { error: { code: 500, reason: '', message: err.message } };
    throw err;
  }
  stripFields(managed, id);
  if (outcome.object !== undefined) {
    managed.times.set(id, formatTime(opts.time));
    return { object: outcome.object, managed };
  }
  return { object: liveObj, managed };
}

/** The fields an object sets, per the kind's schema (upstream's ToFieldSet). */
export function fieldSetFromObject(definition: string, obj: unknown): FieldSet {
  return toFieldSet(atomOf(definition), obj);
}
