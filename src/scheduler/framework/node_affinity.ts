// Node selection terms as component-helpers' nodeaffinity evaluates them: a pod's nodeSelector plus
// required node affinity (RequiredNodeAffinity), preferred terms with weights, and NodeSelector
// matching with matchExpressions (labels) and matchFields (metadata.name only). Shared by the
// NodeAffinity, PodTopologySpread and VolumeBinding plugins.

import { matches, newRequirement, selectorFromSet, type Requirement, type Selector } from '../../api/labels.ts';
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from '../../api/types/core_v1.ts';
import type { NodeInfo } from './node_info.ts';

const labelOperators: Readonly<Record<string, string>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
  Gt: 'gt',
  Lt: 'lt',
};

interface FieldTerm {
  readonly key: string;
  readonly value: string;
  readonly equal: boolean;
}

/** One parsed NodeSelectorTerm. Empty terms match nothing; unparsable ones report their error. */
class ParsedTerm {
  readonly empty: boolean;
  readonly labelSelector: Selector | null = null;
  readonly fieldTerms: readonly FieldTerm[] | null = null;
  readonly parseErrors: readonly string[];

  constructor(term: NodeSelectorTerm) {
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    this.empty = exprs.length === 0 && fields.length === 0;
    const errs: string[] = [];
    if (exprs.length > 0) this.labelSelector = parseExpressions(exprs, errs);
    if (fields.length > 0) this.fieldTerms = parseFields(fields, errs);
    this.parseErrors = errs;
  }

  match(nodeInfo: NodeInfo): boolean {
    if (this.empty || this.parseErrors.length > 0) return false;
    if (this.labelSelector !== null && !matches(this.labelSelector, nodeInfo.labels)) return false;
    if (this.fieldTerms !== null) {
      for (const f of this.fieldTerms) {
        const v = f.key === 'metadata.name' ? nodeInfo.name : '';
        if ((v === f.value) !== f.equal) return false;
      }
    }
    return true;
  }
}

function parseExpressions(exprs: readonly NodeSelectorRequirement[], errs: string[]): Selector {
  const reqs: Requirement[] = [];
  for (const e of exprs) {
    const op = labelOperators[e.operator];
    if (op === undefined) {
      errs.push(`Unsupported value: "${e.operator}"`);
      continue;
    }
    try {
      reqs.push(newRequirement(e.key, op, e.values ?? []));
    } catch (err) {
      errs.push(err instanceof Error ? err.message : String(err));
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements: reqs };
}

function parseFields(fields: readonly NodeSelectorRequirement[], errs: string[]): FieldTerm[] {
  const out: FieldTerm[] = [];
  for (const f of fields) {
    if (f.operator !== 'In' && f.operator !== 'NotIn') {
      errs.push(`Unsupported value: "${f.operator}"`);
      continue;
    }
    const values = f.values ?? [];
    if (values.length !== 1) {
      errs.push('must have one element');
      continue;
    }
    out.push({ key: f.key, value: values[0] as string, equal: f.operator === 'In' });
  }
  return out;
}

/** A NodeSelector whose terms are ORed; parse errors only surface when no term matches. */
export class LazyErrorNodeSelector {
  private readonly terms: readonly ParsedTerm[];

  constructor(ns: NodeSelector) {
    this.terms = (ns.nodeSelectorTerms ?? []).map((t) => new ParsedTerm(t));
  }

  match(nodeInfo: NodeInfo): boolean {
    for (const t of this.terms) if (t.match(nodeInfo)) return true;
    return false;
  }
}

/** The pod's nodeSelector and required node affinity together (RequiredNodeAffinity). */
export class RequiredNodeAffinity {
  private readonly labelSelector: Selector | null;
  private readonly nodeSelector: LazyErrorNodeSelector | null;

  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector;
    this.labelSelector = ns && Object.keys(ns).length > 0 ? selectorFromSet(ns) : null;
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.nodeSelector = required ? new LazyErrorNodeSelector(required) : null;
  }

  /** True when the pod constrains nodes at all. */
  get constrains(): boolean {
    return this.labelSelector !== null || this.nodeSelector !== null;
  }

  match(nodeInfo: NodeInfo): boolean {
    if (this.labelSelector !== null && !matches(this.labelSelector, nodeInfo.labels)) return false;
    if (this.nodeSelector !== null) return this.nodeSelector.match(nodeInfo);
    return true;
  }
}

/** Preferred terms with weights (PreferredSchedulingTerms); throws on a term that does not parse. */
export class PreferredSchedulingTerms {
  private readonly terms: ReadonlyArray<{ term: ParsedTerm; weight: number }>;

  constructor(terms: readonly PreferredSchedulingTerm[]) {
    const parsed: Array<{ term: ParsedTerm; weight: number }> = [];
    const errs: string[] = [];
    for (const t of terms) {
      const pref = t.preference ?? {};
      if (t.weight === 0 || ((pref.matchExpressions ?? []).length === 0 && (pref.matchFields ?? []).length === 0)) continue;
      const term = new ParsedTerm(pref);
      if (term.parseErrors.length > 0) errs.push(...term.parseErrors);
      else parsed.push({ term, weight: t.weight });
    }
    if (errs.length > 0) throw new Error(errs.join(', '));
    this.terms = parsed;
  }

  get length(): number {
    return this.terms.length;
  }

  /** Sum of the weights of the terms the node matches. */
  score(nodeInfo: NodeInfo): number {
    let s = 0;
    for (const t of this.terms) if (t.term.match(nodeInfo)) s += t.weight;
    return s;
  }
}
