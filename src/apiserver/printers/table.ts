// Server-side printing: turns stored objects into the rows and columns of a meta.k8s.io/v1 Table,
// which kubectl prints verbatim. The caller (the HTTP layer) wraps the result with kind, apiVersion,
// metadata and each row's `object` according to includeObject.
import { goFormatNumber } from '../../api/go_strings.ts';
import { PRINTERS, printerKey } from './registry.ts';
import { humanDuration } from './duration.ts';
import { col, isRfc3339, nameColumn, parseTime, rfc3339, type KObject, type PrintContext } from './format.ts';

/** A column type as metav1 defines it; kubectl treats them all as text. */
export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

/** metav1.TableColumnDefinition; priority 0 always shows, > 0 only with `-o wide`. */
export interface TableColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
  /** "name" for the column holding the object's name, else "". */
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

/** One cell as it goes on the wire: kubectl prints strings as they are and other values with fmt.Sprint. */
export type TableCell = string | number | boolean | null;

/** metav1.TableRowCondition (pods mark their row Completed when they succeed or fail). */
export interface TableRowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** metav1.TableRow; `object` is left for the caller to fill per includeObject. */
export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  object?: unknown;
}

/** What a printer returns for one object. */
export interface PrintedRow {
  readonly cells: TableCell[];
  readonly conditions?: TableRowCondition[];
}

/**
 * The columns and row function of one kind. The server always prints every column (upstream's
 * server generates tables with Wide on); kubectl hides priority > 0 unless `-o wide`.
 */
export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  readonly row: (obj: KObject, ctx: PrintContext) => PrintedRow;
  /** The column definitions are sent even when noHeaders asks to leave them out (APIService). */
  readonly ignoresNoHeaders?: boolean;
}

/** Options of one conversion: `now` is the clock AGE cells are measured against. */
export interface PrintTableOptions {
  readonly now: Date;
  /** TableOptions.noHeaders: leave out columnDefinitions (kubectl sets it on watch events after the first). */
  readonly noHeaders?: boolean;
}

/** The part of a metav1.Table a printer decides. */
export interface PrintedTable {
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/**
 * apiserver's default table convertor: Name and Created At (RFC 3339, not an age). Upstream uses it
 * for every resource without a printer: Roles, ClusterRoles, LimitRanges, CSIStorageCapacities, CRDs.
 */
export const defaultPrinter: Printer = {
  columns: [nameColumn(), col('Created At', 'date', 'When the object was created.')],
  row: (obj) => ({ cells: [obj.metadata?.name ?? '', rfc3339(parseTime(obj.metadata?.creationTimestamp))] }),
};

/** The printer for a group/resource ("" for core), or the default printer when none is registered. */
export function printerFor(group: string, resource: string): Printer {
  return PRINTERS.get(printerKey(group, resource)) ?? defaultPrinter;
}

/** Converts objects of one resource (a list's items, or the one object of a get or watch event). */
export function printTable(group: string, resource: string, objects: readonly object[], opts: PrintTableOptions): PrintedTable {
  return printTableWith(printerFor(group, resource), objects, opts);
}

/** printTable with an explicit printer, e.g. one built by customResourcePrinter. */
export function printTableWith(printer: Printer, objects: readonly object[], opts: PrintTableOptions): PrintedTable {
  const ctx: PrintContext = { now: opts.now.getTime() };
  const rows = objects.map((obj): TableRow => {
    const printed = printer.row(obj as KObject, ctx);
    const row: TableRow = { cells: printed.cells };
    if (printed.conditions) row.conditions = [...printed.conditions];
    return row;
  });
  const columnDefinitions = opts.noHeaders && !printer.ignoresNoHeaders ? [] : [...printer.columns];
  return { columnDefinitions, rows };
}

// --- custom resources -------------------------------------------------------------------------

/** A CRD version's additionalPrinterColumns entry. */
export interface CustomResourceColumn {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

/** What apiextensions serves when a CRD version declares no additionalPrinterColumns. */
export const CRD_DEFAULT_COLUMNS: readonly CustomResourceColumn[] = [
  { name: 'Age', type: 'date', description: 'When the object was created.', jsonPath: '.metadata.creationTimestamp' },
];

/**
 * The printer of a custom resource: Name, then the CRD's columns (or Age when it has none).
 * JSONPath support is limited to what printer columns use in practice: `.a.b`, `.a[0].b`,
 * `.a['x.y']`; other expressions (filters, wildcards, ranges) give an empty cell.
 */
export function customResourcePrinter(specs: readonly CustomResourceColumn[]): Printer {
  const used = specs.length > 0 ? specs : CRD_DEFAULT_COLUMNS;
  const paths = used.map((s) => parseSimpleJsonPath(s.jsonPath));
  const columns: TableColumnDefinition[] = [
    nameColumn(),
    ...used.map((s) => ({
      name: s.name,
      type: s.type as ColumnType,
      format: s.format ?? '',
      description: s.description || `Custom resource definition column (in JSONPath format): ${s.jsonPath}`,
      priority: s.priority ?? 0,
    })),
  ];
  return {
    columns,
    row: (obj, ctx) => ({
      cells: [
        obj.metadata?.name ?? '',
        ...used.map((s, i) => {
          const path = paths[i];
          const value = path === undefined ? undefined : evalPath(obj, path);
          return value === undefined ? null : cellForJsonValue(s.type, value, ctx);
        }),
      ],
    }),
  };
}

/** Splits `.a.b[0]['c.d']` into keys and indexes; undefined for anything else. */
function parseSimpleJsonPath(path: string): (string | number)[] | undefined {
  let rest = path.trim();
  if (rest.startsWith('{') && rest.endsWith('}')) rest = rest.slice(1, -1);
  const out: (string | number)[] = [];
  const token = /^(?:\.([A-Za-z0-9_\-$]+)|\[(\d+)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])/;
  while (rest.length > 0) {
    const m = token.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3] ?? m[4] ?? '');
    rest = rest.slice(m[0].length);
  }
  return out;
}

function evalPath(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return undefined;
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** apiextensions' cell conversion: a value of the wrong type for its column gives an empty cell. */
function cellForJsonValue(type: string, value: unknown, ctx: PrintContext): TableCell {
  if (value === null) return null;
  switch (type) {
    case 'string':
      // jsonpath prints non-strings too: numbers and booleans as text, objects and lists as JSON.
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return goFormatNumber(value);
      if (typeof value === 'boolean') return String(value);
      return sortedJson(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value !== '' && value !== 'null' && !isRfc3339(value)) return '<invalid>';
      const t = parseTime(value);
      return t === undefined ? '<unknown>' : humanDuration(ctx.now - t);
    }
    default:
      return null;
  }
}

/** JSON with object keys sorted, as Go's encoding/json writes maps. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
