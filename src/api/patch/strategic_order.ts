// Ordering of merged lists in strategic merge patch, as upstream orders them: items named by the
// patch (or by `$setElementOrder`) follow that order, items only the server has keep their live
// order, and the two are interleaved by their live positions.
import { badArgTypeError, goSprint, noMergeKeyError, StrategicMergePatchError } from './strategic_errors.ts';

/** Decoded JSON object. */
export type JsonMap = Record<string, unknown>;

/** Whether the items of a list are maps (identified by merge key) or primitives (by value). */
export type ElemKind = 'map' | 'primitive';

/** A JSON object (not null, not a list). */
export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function identity(item: unknown, mergeKey: string, kind: ElemKind): unknown {
  if (kind !== 'map') return item;
  return isMap(item) ? item[mergeKey] : undefined;
}

/** First position of each identity in `order` (upstream's index() returns the first match). */
function positions(order: readonly unknown[], mergeKey: string, kind: ElemKind): Map<unknown, number> {
  const pos = new Map<unknown, number>();
  for (let i = 0; i < order.length; i++) {
    const id = identity(order[i], mergeKey, kind);
    if (!pos.has(id)) pos.set(id, i);
  }
  return pos;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: (readonly unknown[])[]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isMap(item)) throw badArgTypeError('map', item);
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    }
  }
}

/** Splits items carrying `$patch: delete` from the rest; every item must be a map. */
export function extractToDeleteItems(list: readonly unknown[]): { keep: unknown[]; toDelete: unknown[] } {
  const keep: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const item of list) {
    if (!isMap(item)) throw badArgTypeError('map', item);
    if (item.$patch === 'delete') toDelete.push(item);
    else keep.push(item);
  }
  return { keep, toDelete };
}

/** Sorts `toSort` by the positions of its items in `order` (stable); deletions go last. */
function normalizeSliceOrder(toSort: readonly unknown[], order: readonly unknown[], mergeKey: string, kind: ElemKind): unknown[] {
  let items = [...toSort];
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    ({ keep: items, toDelete } = extractToDeleteItems(toSort));
  }
  const pos = positions(order, mergeKey, kind);
  items.sort((a, b) => {
    const pa = pos.get(identity(a, mergeKey, kind));
    const pb = pos.get(identity(b, mergeKey, kind));
    return pa !== undefined && pb !== undefined ? pa - pb : 0;
  });
  return toDelete.length > 0 ? [...items, ...toDelete] : items;
}

/**
 * Interleaves server-only items (left) into patch items (right), both already sorted. A server-only
 * item goes first only when both are in the live list and it precedes there; so items new to the
 * list come before the server-only items that follow them, as upstream does.
 */
function mergeSortedSlice(left: readonly unknown[], right: readonly unknown[], serverOrder: readonly unknown[], mergeKey: string, kind: ElemKind): unknown[] {
  const pos = positions(serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = pos.get(identity(left[i], mergeKey, kind));
      const ri = pos.get(identity(right[j], mergeKey, kind));
      if (li !== undefined && ri !== undefined && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Orders `patchItems` by `patchOrder`, `serverOnly` by `serverOrder`, then interleaves them. */
export function normalizeElementOrder(
  patchItems: readonly unknown[],
  serverOnly: readonly unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: ElemKind,
): unknown[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

function assertHashable(v: unknown): void {
  // Upstream keys a Go map by these values and panics on maps and slices.
  if (typeof v === 'object' && v !== null) {
    throw new StrategicMergePatchError(`cannot order list items by value: ${goSprint(v)} is not a primitive (the list has no merge key)`);
  }
}

/** Splits primitives into those present in `by` and the rest, keeping their order. */
export function partitionPrimitives(list: readonly unknown[], by: readonly unknown[]): { inList: unknown[]; rest: unknown[] } {
  for (const v of by) assertHashable(v);
  const present = new Set(by);
  const inList: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    assertHashable(v);
    (present.has(v) ? inList : rest).push(v);
  }
  return { inList, rest };
}

/** Splits maps into those whose merge key value appears in `by` and the rest, keeping their order. */
export function partitionMaps(list: readonly unknown[], by: readonly unknown[], mergeKey: string): { inList: unknown[]; rest: unknown[] } {
  // findMapInSliceBasedOnKeyValue scans `by` in order and fails on the first non-map it meets.
  let firstNonMap = by.length;
  const firstIndex = new Map<unknown, number>();
  for (let i = 0; i < by.length; i++) {
    const m = by[i];
    if (!isMap(m)) {
      firstNonMap = i;
      break;
    }
    if (Object.hasOwn(m, mergeKey) && !firstIndex.has(m[mergeKey])) firstIndex.set(m[mergeKey], i);
  }
  const inList: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw badArgTypeError('map', v);
    if (!Object.hasOwn(v, mergeKey)) throw noMergeKeyError(v, mergeKey);
    const at = firstIndex.get(v[mergeKey]);
    if (at !== undefined) inList.push(v);
    else if (firstNonMap < by.length) throw new StrategicMergePatchError(`value for key ${firstNonMap} is not a map`);
    else rest.push(v);
  }
  return { inList, rest };
}
