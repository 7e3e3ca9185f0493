// Strategic merge patch (application/strategic-merge-patch+json) for built-in kinds, applied the
// way the apiserver applies it (apimachinery strategicpatch, server-side merge options): lists
// merge by the merge key the OpenAPI schema declares, with the $patch, $retainKeys,
// $setElementOrder and $deleteFromPrimitiveList directives. Pure; inputs are never modified.
import {
  badArgTypeError,
  badPatchTypeError,
  ErrBadPatchFormatForPrimitiveList,
  ErrBadPatchFormatForRetainKeys,
  ErrBadPatchFormatForSetElementOrderList,
  ErrNoListOfLists,
  goSprint,
  noMergeKeyError,
  sentinelError,
  StrategicMergePatchError,
} from './strategic_errors.ts';
import { extractToDeleteItems, isMap, normalizeElementOrder, partitionMaps, partitionPrimitives } from './strategic_order.ts';
import type { ElemKind, JsonMap } from './strategic_order.ts';
import { definitionSchema, lookupPatchMeta } from './strategic_schema.ts';
import type { PatchSchema } from './strategic_schema.ts';

export { StrategicMergePatchError } from './strategic_errors.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/**
 * Applies a strategic merge patch to `original`, an object of the kind whose OpenAPI v2 definition
 * is `definition` (e.g. "io.k8s.api.apps.v1.Deployment"). Returns a new object; throws
 * StrategicMergePatchError (with upstream's message and status) for an invalid patch.
 */
export function strategicMergePatch(original: Record<string, unknown>, patch: Record<string, unknown>, definition: string): Record<string, unknown> {
  const schema = definitionSchema(definition);
  return mergeMap(cloneJson(original) as JsonMap, patch, schema);
}

function cloneJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneJson(v[i]);
    return out;
  }
  const out: JsonMap = {};
  for (const k in v as JsonMap) setKey(out, k, cloneJson((v as JsonMap)[k]));
  return out;
}

/** Sets an own property, also for the key "__proto__" (a plain field in JSON). */
function setKey(target: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function has(m: JsonMap, key: string): boolean {
  return Object.hasOwn(m, key);
}

function isDirectiveKey(k: string): boolean {
  return k === RETAIN_KEYS || k.startsWith(`${SET_ELEMENT_ORDER}/`) || k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`);
}

/**
 * A copy of a patch value taken as it is (nothing to merge it with): null fields and maps holding
 * `$patch` are dropped, as upstream does. We also drop the other directive keys, which upstream
 * leaves for its typed decoding to discard; our objects have no such step.
 */
function cleanPatchValue(v: unknown): { value: unknown; keep: boolean } {
  if (typeof v !== 'object' || v === null) return { value: v, keep: true };
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const item of v) {
      const c = cleanPatchValue(item);
      if (c.keep) out.push(c.value);
    }
    return { value: out, keep: true };
  }
  const m = v as JsonMap;
  if (m[DIRECTIVE] !== undefined && m[DIRECTIVE] !== null) return { value: undefined, keep: false };
  const out: JsonMap = {};
  for (const k in m) {
    const item = m[k];
    if (item === null || k === DIRECTIVE || isDirectiveKey(k)) continue;
    const c = cleanPatchValue(item);
    if (c.keep) setKey(out, k, c.value);
  }
  return { value: out, keep: true };
}

function setCleaned(target: JsonMap, key: string, value: unknown): void {
  const c = cleanPatchValue(value);
  if (c.keep) setKey(target, key, c.value);
  else delete target[key];
}

type ValueKind = 'map' | 'list' | 'null' | 'string' | 'int64' | 'float64' | 'bool';

/** The Go type json decoding gives a value; upstream compares these to decide merge or replace. */
function valueKind(v: unknown): ValueKind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    default:
      return 'map';
  }
}

/** extractKey: the list name after "<prefix>/". */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw sentinelError(prefix === DELETE_FROM_PRIMITIVE_LIST ? ErrBadPatchFormatForPrimitiveList : ErrBadPatchFormatForSetElementOrderList);
  }
  return key.slice(slash + 1);
}

/** Merges `patch` into `original` (mutated; a private copy) and returns the result. */
function mergeMap(original: JsonMap | undefined, patch: JsonMap, schema: PatchSchema | undefined): JsonMap {
  if (has(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      // We copy the replacement cleaned of directives and nulls; upstream keeps them verbatim and
      // lets typed decoding drop them.
      const out: JsonMap = {};
      for (const k in patch) if (k !== DIRECTIVE) setCleaned(out, k, patch[k]);
      return out;
    }
    if (directive === 'delete') return {};
    throw badPatchTypeError(directive, patch);
  }
  const target = original ?? {};
  if (has(patch, RETAIN_KEYS)) applyRetainKeys(target, patch);

  // Lists named by $setElementOrder are merged and ordered first; the loop below skips them.
  let ordered: Set<string> | undefined;
  for (const key in patch) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const listKey = mergeOrderedList(target, patch, key, schema);
    if (listKey !== undefined) (ordered ??= new Set()).add(listKey);
  }

  for (const key in patch) {
    if (key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || ordered?.has(key)) continue;
    let k = key;
    let isDeleteList = false;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      k = extractKey(key, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    const patchV = patch[key];
    if (patchV === null) {
      delete target[k];
      continue;
    }
    if (!has(target, k)) {
      if (!isDeleteList) setCleaned(target, k, patchV);
      continue;
    }
    const originalV = target[k];
    const kind = valueKind(originalV);
    if (kind !== valueKind(patchV)) {
      if (!isDeleteList) setCleaned(target, k, patchV);
      continue;
    }
    if (kind === 'map') {
      const meta = lookupPatchMeta(schema, k);
      if (meta.strategy === 'replace') setCleaned(target, k, patchV);
      else setKey(target, k, mergeMap(originalV as JsonMap, patchV as JsonMap, meta.schema));
    } else if (kind === 'list') {
      const meta = lookupPatchMeta(schema, k);
      if (meta.strategy === 'merge' || isDeleteList) {
        setKey(target, k, mergeSlice(originalV as unknown[], patchV as unknown[], meta.items, meta.mergeKey, isDeleteList));
      } else {
        setCleaned(target, k, patchV);
      }
    } else {
      setKey(target, k, patchV);
    }
  }
  return target;
}

/** $retainKeys: drop the original's keys not listed; the patch may only set listed keys. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  const list = patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw sentinelError(ErrBadPatchFormatForRetainKeys);
  const retained = new Set<unknown>(list);
  for (const k in patch) {
    if (k === RETAIN_KEYS || patch[k] === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.has(k)) throw sentinelError(ErrBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k];
}

/**
 * Processes one `$setElementOrder/<list>` key: merges the list with the patch's list (if any) and
 * orders the result. Returns the list's key when the patch's list was consumed here.
 */
function mergeOrderedList(original: JsonMap, patch: JsonMap, directiveKey: string, schema: PatchSchema | undefined): string | undefined {
  const order = patch[directiveKey];
  if (!Array.isArray(order)) throw badArgTypeError('list', order);
  const key = extractKey(directiveKey, SET_ELEMENT_ORDER);
  const foundOriginal = has(original, key);
  const foundPatch = has(patch, key);
  const originalList = original[key];
  const patchList = patch[key];
  if (foundOriginal && !Array.isArray(originalList)) throw badArgTypeError('list', originalList);
  if (foundPatch && !Array.isArray(patchList)) throw badArgTypeError('list', patchList);
  const originalItems = foundOriginal ? (originalList as unknown[]) : [];
  const patchItems = foundPatch ? (patchList as unknown[]) : [];
  const meta = lookupPatchMeta(schema, key);
  const mergeKey = meta.mergeKey;
  validatePatchWithSetOrderList(patchItems, order, mergeKey);

  let merged: unknown[];
  if (foundOriginal && foundPatch) {
    merged = meta.strategy === 'merge' ? mergeSlice(originalItems, patchItems, meta.items, mergeKey, false) : (cleanPatchValue(patchItems).value as unknown[]);
  } else if (foundPatch) {
    merged = cleanPatchValue(patchItems).value as unknown[];
  } else if (foundOriginal) {
    merged = originalItems;
  } else {
    return undefined;
  }

  const { inList, rest } = mergeKey === '' ? partitionPrimitives(merged, order) : partitionMaps(merged, order, mergeKey);
  const kind = sliceElementKind([originalItems, patchItems]) === 'map' ? 'map' : 'primitive';
  setKey(original, key, normalizeElementOrder(inList, rest, order, originalItems, mergeKey, kind));
  return key;
}

/** Checks that the patch list's items appear in `$setElementOrder` in the same relative order. */
function validatePatchWithSetOrderList(patchList: readonly unknown[], order: readonly unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey !== '' ? extractToDeleteItems(patchList).keep : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    if (isMap(items[p]) && has(items[p] as JsonMap, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(items[p], order[s], mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw new StrategicMergePatchError(
      `The order in patch list:\n${goSprint(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goSprint(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return left === right;
  if (!isMap(left)) throw badArgTypeError('map', left);
  if (!isMap(right)) throw badArgTypeError('map', right);
  if (!has(left, mergeKey)) throw noMergeKeyError(left, mergeKey);
  if (!has(right, mergeKey)) throw noMergeKeyError(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** sliceElementType: all items of all lists share one Go type, which is not a list. */
function sliceElementKind(lists: readonly (readonly unknown[])[]): ValueKind {
  let kind: ValueKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = valueKind(v);
      if (kind === undefined) {
        if (k === 'list') throw sentinelError(ErrNoListOfLists);
        kind = k;
      } else if (k !== kind) {
        throw new StrategicMergePatchError(`list element types are not identical: ${goSprint(lists)}`);
      }
    }
  }
  if (kind === undefined) throw new StrategicMergePatchError('no elements in any of the given slices');
  return kind;
}

/** Merges two lists of a field with the merge strategy (or a `$deleteFromPrimitiveList` list). */
function mergeSlice(original: unknown[], patch: readonly unknown[], itemSchema: PatchSchema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const elementKind = sliceElementKind([original, patch]);
  const kind: ElemKind = elementKind === 'map' ? 'map' : 'primitive';

  let base = original;
  let rest: readonly unknown[] = patch;
  let merged: unknown[];
  if (kind === 'primitive') {
    if (isDeleteList) {
      const doomed = new Set(patch);
      return original.filter((v) => !doomed.has(v));
    }
    merged = [...new Set([...original, ...patch])];
  } else {
    // Upstream names the Go kind of the item type; every built-in list item is a struct.
    if (mergeKey === '') throw new StrategicMergePatchError('cannot merge lists without merge key for struct');
    ({ base, rest } = applySpecialElements(original, patch as JsonMap[], mergeKey));
    merged = mergeListItems(base, rest as JsonMap[], mergeKey, itemSchema);
  }
  const { inList, rest: serverOnly } = mergeKey === '' ? partitionPrimitives(merged, rest) : partitionMaps(merged, rest, mergeKey);
  return normalizeElementOrder(inList, serverOnly, rest, base, mergeKey, kind);
}

/**
 * Handles list items carrying `$patch`: delete removes every original item with that merge key;
 * replace makes the other patch items the whole list. Returns the new base and the plain items.
 */
function applySpecialElements(original: unknown[], patch: readonly JsonMap[], mergeKey: string): { base: unknown[]; rest: JsonMap[] } {
  const plain: JsonMap[] = [];
  let base = original;
  let replace = false;
  for (const item of patch) {
    if (!has(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!has(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
      const value = item[mergeKey];
      base = base.filter((o) => {
        if (!isMap(o)) throw new StrategicMergePatchError(`value for key ${base.indexOf(o)} is not a map`);
        return !(has(o, mergeKey) && o[mergeKey] === value);
      });
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new StrategicMergePatchError('merging lists cannot yet be specified in the patch');
    } else {
      throw badPatchTypeError(directive, item);
    }
  }
  if (replace) return { base: plain.map((p) => cleanPatchValue(p).value as JsonMap), rest: [] };
  return { base, rest: plain };
}

/** Merges each patch item into the original item with the same merge key, or appends it. */
function mergeListItems(original: unknown[], patch: readonly JsonMap[], mergeKey: string, itemSchema: PatchSchema | undefined): unknown[] {
  const out = [...original];
  for (const item of patch) {
    if (!has(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    const value = item[mergeKey];
    let at = -1;
    for (let i = 0; i < out.length; i++) {
      const o = out[i];
      if (!isMap(o)) throw new StrategicMergePatchError(`value for key ${i} is not a map`);
      if (has(o, mergeKey) && o[mergeKey] === value) {
        at = i;
        break;
      }
    }
    if (at >= 0) out[at] = mergeMap(out[at] as JsonMap, item, itemSchema);
    else {
      const c = cleanPatchValue(item);
      if (c.keep) out.push(c.value);
    }
  }
  return out;
}
