// Ownership bookkeeping of server-side apply (upstream's structured-merge-diff merge.Updater):
// an update moves changed fields to the writer, an apply merges the configuration, prunes what the
// applier stopped applying and no one else owns, and reports conflicts with other owners.
import { FieldSet } from './fieldpath.ts';
import type { Atom } from './schema.ts';
import { merge, removeItems } from './merge.ts';
import { compare, compareExhaustive, ensureNamedFieldsAreMembers, toFieldSet, valuesEqual, walkErrorsString, type Comparison } from './typed.ts';

/** The fields one manager owns, at the API version it wrote them in. */
export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** Managers by identifier (see managerIdentifier) and what each owns. */
export type ManagedSets = Map<string, VersionedSet>;

/** A failure of the walk itself (bad keys, wrong kinds); the message is upstream's. */
export class UpdaterError extends Error {
  readonly code = 'UpdaterFailed';
}

/** The fields each other manager owns that the write would change. */
export class ConflictSets extends Error {
  readonly code = 'ApplyConflict';
  readonly conflicts: ReadonlyMap<string, FieldSet>;
  constructor(conflicts: ReadonlyMap<string, FieldSet>) {
    super('apply conflicts');
    this.conflicts = conflicts;
  }
}

/** Schema and the fields the strategy resets (ignored for ownership), per write. */
export interface UpdaterContext {
  readonly atom: Atom;
  /** Fields the registry strategy resets on this endpoint (e.g. status on the main resource). */
  readonly ignored?: FieldSet;
  /** Compare every member, unchanged ones too (the reference the shortcuts are tested against). */
  readonly exhaustive?: boolean;
}

function filterComparison(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored) return c;
  return {
    removed: c.removed.recursiveDifference(ignored),
    modified: c.modified.recursiveDifference(ignored),
    added: c.added.recursiveDifference(ignored),
  };
}

// Every manager's set is compared at the object's own version: objects are not converted between
// versions here (built-in kinds serve one version each in v1.32 apart from a few betas).
function updateOwners(ctx: UpdaterContext, oldObj: unknown, newObj: unknown, managers: ManagedSets, workflow: string, force: boolean): Comparison {
  const { comparison, errors } = (ctx.exhaustive ? compareExhaustive : compare)(ctx.atom, oldObj, newObj);
  if (errors.length > 0) throw new UpdaterError(`failed to compare objects: ${walkErrorsString(errors)}`);
  const c = filterComparison(comparison, ctx.ignored);
  const changed = c.modified.union(c.added);
  const conflicts = new Map<string, FieldSet>();
  const removedNonEmpty = !c.removed.empty();
  for (const [manager, owned] of managers) {
    if (manager === workflow) continue;
    const conflict = owned.set.intersection(changed);
    if (!conflict.empty()) conflicts.set(manager, conflict);
  }
  if (!force && conflicts.size > 0) throw new ConflictSets(conflicts);
  for (const [manager, conflict] of conflicts) {
    const owned = managers.get(manager)!;
    managers.set(manager, { ...owned, set: owned.set.difference(conflict) });
  }
  if (removedNonEmpty) {
    for (const [manager, owned] of managers) {
      if (manager === workflow) continue;
      managers.set(manager, { ...owned, set: owned.set.difference(c.removed) });
    }
  }
  for (const [manager, owned] of managers) if (owned.set.empty()) managers.delete(manager);
  return c;
}

/** A non-apply write: `manager` gains what changed, others lose it (upstream's Updater.Update). */
export function updateManaged(ctx: UpdaterContext, liveObj: unknown, newObj: unknown, apiVersion: string, managers: ManagedSets, manager: string): ManagedSets {
  const c = updateOwners(ctx, liveObj, newObj, managers, manager, true);
  const previous = managers.get(manager)?.set ?? new FieldSet();
  let set = previous.difference(c.removed).union(c.modified).union(c.added);
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  if (set.empty()) managers.delete(manager);
  else managers.set(manager, { set, apiVersion, applied: false });
  return managers;
}

/** The result of an apply: the new object (undefined when nothing changed) and the owners. */
export interface ApplyOutcome {
  readonly object: unknown;
  readonly managers: ManagedSets;
}

/** An apply (upstream's Updater.Apply); throws ConflictSets unless `force`. */
export function applyManaged(ctx: UpdaterContext, liveObj: unknown, config: unknown, apiVersion: string, managers: ManagedSets, manager: string, force: boolean): ApplyOutcome {
  const merged = merge(ctx.atom, liveObj, config);
  if (merged.errors.length > 0) throw new UpdaterError(`failed to merge config: ${walkErrorsString(merged.errors)}`);
  const lastSet = managers.get(manager);
  let set = toFieldSet(ctx.atom, config);
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  managers.set(manager, { set, apiVersion, applied: true });
  const newObj = prune(ctx.atom, merged.value, managers, lastSet);
  updateOwners(ctx, liveObj, newObj, managers, manager, force);
  return { object: valuesEqual(liveObj, newObj) ? undefined : newObj, managers };
}

// Removes what the applier owned before and no longer applies, unless another manager owns it.
function prune(atom: Atom, merged: unknown, managers: ManagedSets, lastSet: VersionedSet | undefined): unknown {
  if (!lastSet || lastSet.set.empty()) return merged;
  const last = ensureNamedFieldsAreMembers(lastSet.set, atom);
  let pruned = removeItems(atom, merged, last);
  const mergedSet = ensureNamedFieldsAreMembers(toFieldSet(atom, merged), atom);
  // Add back what any manager (the applier's new configuration included) owns.
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  const prunedSet = ensureNamedFieldsAreMembers(toFieldSet(atom, pruned), atom);
  pruned = removeItems(atom, merged, mergedSet.difference(prunedSet.union(ensureNamedFieldsAreMembers(owned, atom))));
  // Add back what no one owned and the applier never owned either.
  const prunedSet2 = ensureNamedFieldsAreMembers(toFieldSet(atom, pruned), atom);
  return removeItems(atom, merged, mergedSet.difference(prunedSet2).intersection(last));
}
