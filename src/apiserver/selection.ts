// Which objects a list, watch or deletecollection selects: namespace, label selector and field
// selector (only the field labels upstream supports per resource; others are a 400).
import type { ResourceInfo } from '../api/resource_types.ts';
import { LabelSelectorError, isEmpty, matches, parseSelector } from '../api/labels.ts';
import { FieldSelectorError, fieldRequiresExactMatch, isEmptyFieldSelector, matchesFields, parseFieldSelector, transformFieldSelector } from '../api/fields.ts';
import { convertFieldSelector, fieldsOf } from '../api/field_label_sets.ts';
import { newBadRequest } from './errors.ts';
import type { KObject } from './registry/strategy.ts';
import type { GenericStore } from './registry/generic_store.ts';

/** A parsed selection. */
export interface Selection {
  /** Namespace to restrict to ("" = all). */
  readonly namespace: string;
  /** True when nothing but the namespace restricts (lists can then report remainingItemCount). */
  readonly trivial: boolean;
  /** The one name selected (a legacy path watch, or fieldSelector metadata.name=…), else "". */
  readonly name: string;
  matches(obj: KObject): boolean;
}

/** The field selectors of a resource outside the built-in table (a custom resource version). */
export interface FieldSelectorSupport {
  /** Maps a label to the field it selects on; throws FieldSelectorError for one not supported. */
  convert(label: string, value: string): [string, string];
  /** The values of every supported field of an object. */
  fieldsOf(obj: KObject): Record<string, string>;
}

/** By the ResourceInfo a request is served with: custom resources come and go, their infos with them. */
const customSupport = new WeakMap<ResourceInfo, FieldSelectorSupport>();

/** Makes `support` decide the field selectors of requests served with `info`. */
export function setFieldSelectorSupport(info: ResourceInfo, support: FieldSelectorSupport): void {
  customSupport.set(info, support);
}

/** Parses labelSelector/fieldSelector of a request. `pathName` is a name from the URL (legacy watch). */
export function parseSelection(info: ResourceInfo, namespace: string, q: URLSearchParams, pathName = ''): Selection {
  const ns = info.namespaced ? namespace : '';
  let labelSel;
  try {
    labelSel = parseSelector(q.get('labelSelector') ?? '');
  } catch (err) {
    if (err instanceof LabelSelectorError) throw newBadRequest(err.message);
    throw err;
  }
  let fieldSel;
  try {
    const parsed = parseFieldSelector(q.get('fieldSelector') ?? '');
    const custom = customSupport.get(info);
    fieldSel = custom ? transformFieldSelector(parsed, (l, v) => custom.convert(l, v)) : convertFieldSelector(info.group, info.resource, parsed);
  } catch (err) {
    if (err instanceof FieldSelectorError) throw newBadRequest(err.message);
    throw err;
  }
  const noLabels = isEmpty(labelSel);
  const noFields = isEmptyFieldSelector(fieldSel);
  const pinnedNs = fieldRequiresExactMatch(fieldSel, 'metadata.namespace');
  const effNs = ns !== '' ? ns : (info.namespaced && pinnedNs ? pinnedNs : '');
  return {
    namespace: effNs,
    trivial: noLabels && noFields && !pathName,
    name: pathName || fieldRequiresExactMatch(fieldSel, 'metadata.name') || '',
    matches(obj: KObject): boolean {
      const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
      if (pathName && meta['name'] !== pathName) return false;
      if (!noLabels && !matches(labelSel, (meta['labels'] ?? {}) as Record<string, string>)) return false;
      if (!noFields && !matchesFields(fieldSel, fieldSetOf(info, obj))) return false;
      return true;
    },
  };
}

/**
 * Field label values by object. Selections match watch-cache objects, which never change, once per
 * watcher per event: many watchers with field selectors (a kubelet's spec.nodeName each) share them.
 */
const fieldSets = new WeakMap<KObject, { readonly info: ResourceInfo; readonly fields: Record<string, string> }>();

function fieldSetOf(info: ResourceInfo, obj: KObject): Record<string, string> {
  const known = fieldSets.get(obj);
  // One cache serves two APIs for Events: the set is per resource.
  if (known !== undefined && known.info === info) return known.fields;
  const custom = customSupport.get(info);
  const fields = custom ? custom.fieldsOf(obj) : fieldsOf(info.group, info.resource, obj, { namespaced: info.namespaced });
  fieldSets.set(obj, { info, fields });
  return fields;
}

/**
 * The cache key prefix a selection can be found under: one object's key when it selects a name in
 * a known namespace (so a by-name watch neither scans the namespace nor sees its other events),
 * else the namespace's (or everything's). A pre-filter only: matches() still decides.
 */
export function selectionKeyPrefix(store: Pick<GenericStore, 'info' | 'key' | 'keyPrefix'>, sel: Selection): string {
  if (sel.name !== '' && (!store.info.namespaced || sel.namespace !== '')) return store.key(sel.namespace, sel.name);
  return store.keyPrefix(sel.namespace);
}
