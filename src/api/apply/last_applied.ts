// How server-side apply by the "kubectl" manager treats kubectl's client-side annotation
// (upstream's lastAppliedManager and lastAppliedUpdater): conflicts on fields the annotation already
// holds with the live value are allowed, and the annotation is kept in step with each apply.
import { FieldSet } from './fieldpath.ts';
import type { Atom } from './schema.ts';
import { compare, toFieldSet, validate } from './typed.ts';

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Upstream's limit on the total size of an object's annotations (bytes of keys and values). */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

type JsonObject = Record<string, unknown>;

function annotationsOf(obj: unknown): Record<string, unknown> | undefined {
  const meta = (obj as JsonObject | undefined)?.['metadata'];
  const ann = meta && typeof meta === 'object' ? (meta as JsonObject)['annotations'] : undefined;
  return ann && typeof ann === 'object' && !Array.isArray(ann) ? (ann as Record<string, unknown>) : undefined;
}

/**
 * Fields of the live object's last-applied annotation whose live values still equal it: conflicts
 * on these are the client-side applier's own and do not stop kubectl's server-side apply.
 * Undefined when there is no usable annotation.
 */
export function allowedConflictsFromLastApplied(atom: Atom, groupVersion: string, live: unknown): FieldSet | undefined {
  const raw = annotationsOf(live)?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || raw === '') return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (last === null || typeof last !== 'object' || Array.isArray(last)) return undefined;
  if ((last as JsonObject)['apiVersion'] !== groupVersion) return undefined;
  if (validate(atom, last, false).length > 0) return undefined;
  const { comparison, errors } = compare(atom, last, live);
  if (errors.length > 0) return undefined;
  return toFieldSet(atom, last).difference(comparison.modified).difference(comparison.added).difference(comparison.removed);
}

function goNumber(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  const s = String(n);
  // Go writes exponents with at least two digits ("1e-07", "1e+21").
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Go's json.Marshal of decoded JSON: map keys sorted, HTML-sensitive characters escaped. */
export function goMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(v)) return '[' + v.map(goMarshal).join(',') + ']';
  const obj = v as JsonObject;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return '{' + keys.map((k) => goMarshal(k) + ':' + goMarshal(obj[k])).join(',') + '}';
}

/** The annotation value upstream writes for an applied configuration: itself minus the annotation, as JSON plus a newline. */
export function buildLastApplied(applied: JsonObject): string {
  const meta = applied['metadata'];
  let copy: JsonObject = applied;
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    const m = { ...(meta as JsonObject) };
    const ann = m['annotations'];
    if (ann && typeof ann === 'object' && !Array.isArray(ann)) {
      const a = { ...(ann as JsonObject) };
      delete a[LAST_APPLIED_ANNOTATION];
      m['annotations'] = a;
    } else if (ann === null) {
      delete m['annotations'];
    }
    copy = { ...applied, metadata: m };
  }
  return goMarshal(copy) + '\n';
}

/** Whether the object carries a non-empty last-applied annotation. */
export function hasLastApplied(obj: unknown): boolean {
  const v = annotationsOf(obj)?.[LAST_APPLIED_ANNOTATION];
  return typeof v === 'string' && v.length > 0;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Sets the annotation in place; drops it instead when the annotations would exceed upstream's size limit. */
export function setLastApplied(obj: JsonObject, value: string): void {
  const meta = ((obj['metadata'] as JsonObject | undefined) ??= {});
  const ann = { ...((meta['annotations'] as Record<string, unknown> | undefined) ?? {}) };
  ann[LAST_APPLIED_ANNOTATION] = value;
  let size = 0;
  for (const [k, v] of Object.entries(ann)) size += utf8Length(k) + utf8Length(String(v));
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete ann[LAST_APPLIED_ANNOTATION];
  meta['annotations'] = ann;
}
