// namespaceSelector and objectSelector of webhooks and admission policies (upstream's
// webhook/predicates/namespace and object): namespace labels come from the cache (storage when the
// cache lags); cluster-scoped objects always match; a Namespace is judged by its own labels.
import { LabelSelectorError, isEmpty, labelSelectorAsSelector, matches, type LabelSelectorLike, type Selector } from '../../../api/labels.ts';
import { newInternal, newNotFound } from '../../errors.ts';
import type { KObject } from '../../registry/strategy.ts';
import { getFresh, getMap, metaOf } from '../plugin_util.ts';
import type { AdmissionAttributes, AdmissionLister } from '../types.ts';
import { effectiveNamespace } from './rules.ts';

/** A parsed selector, or the error parsing it gave (reported when the hook would be called). */
export type ParsedSelector = Selector | Error;

/** metav1.LabelSelectorAsSelector of a configuration's selector field; nil selects everything. */
export function parseSelector(sel: unknown): ParsedSelector {
  try {
    return labelSelectorAsSelector(typeof sel === 'object' && sel !== null ? (sel as LabelSelectorLike) : null);
  } catch (e) {
    if (e instanceof LabelSelectorError) return e;
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** The labels namespaceSelector is matched against (GetNamespaceLabels). */
export async function namespaceLabels(a: AdmissionAttributes, lister: AdmissionLister): Promise<Record<string, string>> {
  const isNamespace = a.info.group === '' && a.info.resource === 'namespaces' && a.subresource === '';
  // A namespace being created or updated is judged by the labels it is about to have.
  if (isNamespace && (a.operation === 'CREATE' || a.operation === 'UPDATE')) return getMap(metaOf(a.object), 'labels');
  const name = effectiveNamespace(a);
  const ns = await getFresh(lister, '', 'namespaces', '', name);
  if (!ns) throw newNotFound({ group: '', resource: 'namespaces' }, name);
  return getMap(metaOf(ns), 'labels');
}

/**
 * MatchNamespaceSelector: true, false, or an ApiError to return (a missing namespace is 404 as
 * upstream, an unparsable selector 500), decided lazily so unmatched hooks never fail a request.
 */
export async function matchNamespaceSelector(sel: ParsedSelector, a: AdmissionAttributes, lister: AdmissionLister): Promise<boolean | Error> {
  if (effectiveNamespace(a) === '' && !(a.info.group === '' && a.info.resource === 'namespaces')) return true;
  if (sel instanceof Error) return newInternal(sel);
  if (isEmpty(sel)) return true;
  try {
    return matches(sel, await namespaceLabels(a, lister));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function objectMatches(obj: KObject | undefined, sel: Selector): boolean {
  if (!obj) return false;
  return matches(sel, getMap(metaOf(obj), 'labels'));
}

/** MatchObjectSelector: the new or the old object carries matching labels. */
export function matchObjectSelector(sel: ParsedSelector, a: AdmissionAttributes): boolean | Error {
  if (sel instanceof Error) return newInternal(sel);
  if (isEmpty(sel)) return true;
  return objectMatches(a.object, sel) || objectMatches(a.oldObject, sel);
}
