// The field selectors a custom resource version supports (apiextensions' crConverter field-label
// conversion and customResourceStrategy.GetAttrs): metadata.name, metadata.namespace when
// namespaced, and the version's spec.versions[].selectableFields read off the object by JSON path.
import { FieldSelectorError } from '../fields.ts';
import { goFormatNumber } from '../go_strings.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';

/** The field selector support of one served version. */
export interface CrdFieldSelectors {
  /** The label a selector names, mapped to itself; FieldSelectorError for labels not supported. */
  convert(label: string, value: string): [string, string];
  /** The values of every supported label on an object ("" when absent). */
  fieldsOf(obj: Record<string, unknown>): Record<string, string>;
}

/** One selectable field: its label (the JSON path without the leading dot) and the keys it reads. */
interface SelectableField {
  readonly label: string;
  readonly keys: readonly string[] | undefined;
}

/**
 * The member names of a simple JSON path (".spec.color", ".spec['x.y']"), or undefined when it has
 * another shape (validation refuses those: such a field then never has a value).
 */
export function jsonPathKeys(path: string): string[] | undefined {
  const keys: string[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      if (j === i + 1) return undefined;
      keys.push(path.slice(i + 1, j));
      i = j;
    } else if (path.startsWith("['", i)) {
      const end = path.indexOf("']", i + 2);
      if (end < 0) return undefined;
      keys.push(path.slice(i + 2, end));
      i = end + 2;
    } else {
      return undefined;
    }
  }
  return keys.length > 0 ? keys : undefined;
}

/** fmt.Sprint of the value found, as upstream renders selectable field values. */
function render(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFormatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

function valueAt(obj: unknown, keys: readonly string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The field selector support of a CRD version. */
export function crdFieldSelectors(crd: CustomResourceDefinition, version: string): CrdFieldSelectors {
  const namespaced = crd.spec.scope === 'Namespaced';
  const v = (crd.spec.versions ?? []).find((x) => x.name === version);
  const fields: SelectableField[] = (v?.selectableFields ?? []).map((f) => ({ label: f.jsonPath.replace(/^\./, ''), keys: jsonPathKeys(f.jsonPath) }));
  const labels = new Set(fields.map((f) => f.label));
  return {
    convert(label: string, value: string): [string, string] {
      if (label === 'metadata.name' || (namespaced && label === 'metadata.namespace') || labels.has(label)) return [label, value];
      throw new FieldSelectorError(`field label not supported: ${label}`);
    },
    fieldsOf(obj: Record<string, unknown>): Record<string, string> {
      const meta = obj['metadata'] as Record<string, unknown> | undefined;
      const out: Record<string, string> = { 'metadata.name': typeof meta?.['name'] === 'string' ? meta['name'] : '' };
      if (namespaced) out['metadata.namespace'] = typeof meta?.['namespace'] === 'string' ? meta['namespace'] : '';
      for (const f of fields) out[f.label] = f.keys ? render(valueAt(obj, f.keys)) : '';
      return out;
    },
  };
}
