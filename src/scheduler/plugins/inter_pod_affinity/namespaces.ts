// Namespace handling shared by InterPodAffinity's filtering and scoring: the incoming pod's terms get
// their namespaceSelector resolved into plain namespace names once per cycle, and existing pods'
// terms are matched against the incoming pod's namespace labels.

import { isEmpty, matches, nothing } from '../../../api/labels.ts';
import type { ClusterListers } from '../../framework/listers.ts';
import type { AffinityTerm } from '../../framework/pod_info.ts';

/** GetNamespaceLabelsSnapshot: a copy of the namespace's labels, or null when it is unknown. */
export function namespaceLabelsOf(listers: ClusterListers, namespace: string): Readonly<Record<string, string>> | null {
  const ns = listers.namespace(namespace);
  return ns === undefined ? null : { ...(ns.metadata?.labels ?? {}) };
}

/**
 * mergeAffinityTermNamespacesIfNotEmpty: adds the namespaces the term's namespaceSelector selects to
 * its namespace set and replaces the selector with one matching nothing. An empty selector (all
 * namespaces) is left as is.
 */
export function mergeAffinityTermNamespaces(listers: ClusterListers, term: AffinityTerm): void {
  if (isEmpty(term.namespaceSelector)) return;
  for (const ns of listers.namespaces()) {
    if (matches(term.namespaceSelector, ns.metadata?.labels)) term.namespaces.add(ns.metadata?.name ?? '');
  }
  term.namespaceSelector = nothing();
}
