// Shared pieces of the printers: the object shapes they read, column constructors, and the
// formatting facts of upstream's helpers (ages, label sets and selectors, container lists,
// access modes, "+ N more..." lists) that several areas use.
import { sortGoStrings } from '../../api/go_strings.ts';
import { LabelSelectorError, labelSelectorAsSelector, selectorString } from '../../api/labels.ts';
import { QuantityParseError, quantityFromJSON, quantityString } from '../../api/quantity.ts';
import { humanDuration } from './duration.ts';
import type { ColumnType, TableColumnDefinition } from './table.ts';

/** The clock of one conversion, in epoch milliseconds. */
export interface PrintContext {
  readonly now: number;
}

/** metav1.OwnerReference, the fields printers read. */
export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  controller?: boolean;
}

/** metav1.ObjectMeta, the fields printers read. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** Any stored object as plain JSON; each printer narrows it to the fields it reads. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** core/v1 Container, the fields printers read. */
export interface Container {
  name?: string;
  image?: string;
  restartPolicy?: string;
}

/** core/v1 PodTemplateSpec, the fields printers read. */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: { containers?: Container[]; nodeSelector?: Record<string, string> };
}

/** A column of priority 0 unless given. */
export function col(name: string, type: ColumnType, description: string, priority = 0): TableColumnDefinition {
  return { name, type, format: '', description, priority };
}

/** The Name column every printer starts with. */
export function nameColumn(priority = 0): TableColumnDefinition {
  return { name: 'Name', type: 'string', format: 'name', description: 'Name of the object, unique in its namespace.', priority };
}

/** The Age column (a human duration since creation). */
export function ageColumn(): TableColumnDefinition {
  return col('Age', 'string', 'Time since the object was created.');
}

/** Containers and Images columns, priority 1 unless given. */
export function containerColumns(priority = 1): TableColumnDefinition[] {
  return [
    col('Containers', 'string', 'Names of the containers in the pod template.', priority),
    col('Images', 'string', 'Images of the containers in the pod template.', priority),
  ];
}

// Go's zero time.Time (0001-01-01T00:00:00Z), which metav1 writes as null but some writers spell out.
const GO_ZERO_TIME = -62135596800000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether a string is an RFC 3339 timestamp, as metav1.Time accepts (Date.parse alone is laxer). */
export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/** Epoch milliseconds of an RFC 3339 timestamp; undefined when absent, unparsable or Go's zero time. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !isRfc3339(value)) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t) || t === GO_ZERO_TIME) return undefined;
  return t;
}

/** translateTimestampSince: the human duration since a timestamp, "<unknown>" without one. */
export function since(value: unknown, ctx: PrintContext): string {
  const t = parseTime(value);
  return t === undefined ? '<unknown>' : humanDuration(ctx.now - t);
}

/** The AGE cell of an object. */
export function age(obj: KObject, ctx: PrintContext): string {
  return since(obj.metadata?.creationTimestamp, ctx);
}

/** time.RFC3339 in UTC, whole seconds; Go's zero time when undefined. */
export function rfc3339(ms: number | undefined): string {
  const iso = new Date(ms ?? GO_ZERO_TIME).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/** The array, or an empty one when the field is absent or not an array. */
export function list<T>(value: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}

/** Number of keys of a map field (data, webhooks ...), 0 when absent. */
export function mapSize(value: Record<string, unknown> | null | undefined): number {
  return value !== null && typeof value === 'object' ? Object.keys(value).length : 0;
}

/** An int32 field, 0 when absent (Go's zero value). */
export function int(value: number | null | undefined): number {
  return typeof value === 'number' ? value : 0;
}

/** labels.FormatLabels: "k=v" pairs sorted and comma-joined, "<none>" when empty. */
export function formatLabels(map: Record<string, string> | null | undefined): string {
  const text = labelSetString(map);
  return text === '' ? '<none>' : text;
}

/** labels.Set.String: sorts the "k=v" strings themselves, not the keys. */
export function labelSetString(map: Record<string, string> | null | undefined): string {
  if (!map || typeof map !== 'object') return '';
  return sortGoStrings(Object.entries(map).map(([k, v]) => `${k}=${v}`)).join(',');
}

/**
 * LabelSelectorAsSelector(...).String(): requirements sorted by key ("k=v", "k in (a,b)", "k",
 * "!k"); "" for a missing or empty selector; undefined when the selector does not convert.
 */
export function labelSelectorString(sel: LabelSelector | null | undefined): string | undefined {
  try {
    return selectorString(labelSelectorAsSelector(sel));
  } catch (e) {
    if (e instanceof LabelSelectorError) return undefined;
    throw e;
  }
}

/** metav1.FormatLabelSelector: "<none>" when empty, "<error>" when it does not convert. */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  const text = labelSelectorString(sel);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}

/** The Go-syntax String() of a metav1.LabelSelector, which one printer shows as is. */
export function labelSelectorGoString(sel: LabelSelector): string {
  const labels = sortGoStrings(Object.keys(sel.matchLabels ?? {}))
    .map((k) => `${k}: ${sel.matchLabels?.[k]},`)
    .join('');
  const exprs = list(sel.matchExpressions)
    .map((e) => `LabelSelectorRequirement{Key:${e.key ?? ''},Operator:${e.operator ?? ''},Values:[${list(e.values).join(' ')}],},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/** layoutContainerCells: container names and images, each comma-joined. */
export function containerCells(containers: readonly Container[] | null | undefined): [string, string] {
  const cs = list(containers);
  return [cs.map((c) => c.name ?? '').join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** listWithMoreString: "a,b,c + 2 more...", or "<unset>" for an empty list. */
export function listWithMore(items: readonly string[], more: boolean, count: number, max: number): string {
  const text = items.join(',');
  if (more) return `${text} + ${count - max} more...`;
  return text === '' ? '<unset>' : text;
}

/** resource.Quantity.String of a value field: canonical ("1000m" reads "1"), "0" when absent. */
export function quantity(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '0';
  try {
    return quantityString(quantityFromJSON(value));
  } catch (e) {
    // Stored objects passed validation; should one not parse, show it as stored.
    if (e instanceof QuantityParseError) return String(value);
    throw e;
  }
}

/** (*resource.Quantity).String of a pointer field: "<nil>" when absent. */
export function quantityPtr(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '<nil>' : quantity(value);
}

/** intstr.IntOrString.String. */
export function intOrString(value: string | number | null | undefined): string {
  if (typeof value === 'number') return String(Math.trunc(value));
  return value ?? '';
}

/** printBool: "True" / "False". */
export function printBool(value: boolean | null | undefined): string {
  return value ? 'True' : 'False';
}

/** printBoolPtr: "<unset>" when absent. */
export function printBoolPtr(value: boolean | null | undefined): string {
  return value === null || value === undefined ? '<unset>' : printBool(value);
}

/** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
export function accessModes(modes: readonly string[] | null | undefined): string {
  const have = new Set(list(modes));
  const short: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short
    .filter(([mode]) => have.has(mode))
    .map(([, s]) => s)
    .join(',');
}

/** Whether the object carries a deletionTimestamp. */
export function isDeleting(obj: KObject): boolean {
  const ts = obj.metadata?.deletionTimestamp;
  return ts !== undefined && ts !== null;
}

/** Whether a condition of the given type is present with status True. */
export function conditionTrue(conditions: readonly { type?: string; status?: string }[] | null | undefined, type: string): boolean {
  const c = list(conditions).find((x) => x.type === type);
  return c?.status === 'True';
}

/** schema.GroupKind / GroupResource String(): "kind.group", or "kind" for core. */
export function groupQualified(name: string, group: string): string {
  return group === '' ? name : `${name}.${group}`;
}
