// Field-level validation errors, the equivalent of apimachinery's field.Error / field.ErrorList and
// field.Path. Validation code builds these; the apiserver turns a list into a 422 Invalid Status with
// the message and causes produced here, so kubectl prints the same words as against upstream.

import { goFormatNumber, goQuote } from './go_strings.ts';

/** Machine-readable reason of a field error; also the StatusCause `reason`. */
export const ErrorType = {
  NotFound: 'FieldValueNotFound',
  Required: 'FieldValueRequired',
  Duplicate: 'FieldValueDuplicate',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  Internal: 'InternalError',
  TypeInvalid: 'FieldValueTypeInvalid',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

const typeText: Record<ErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

/** The human text of an error type ("Required value", "Invalid value", ...). */
export function errorTypeString(type: ErrorType): string {
  return typeText[type];
}

/**
 * A bad value rendered verbatim, for values Go would print with %#v or a String() method
 * (structs, typed slices, timestamps): `goValue('[]string{"a"}')`.
 */
export class GoValue {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** Renders a value the way Go's %#v does, for use inside GoValue. */
export function goValue(text: string): GoValue {
  return new GoValue(text);
}

/** Marks a bad value that must not be printed at all (field.omitValue). */
export const omitValue: unique symbol = Symbol('omitValue');

/** A path from an object's root to one field: `spec.containers[0].image`. Immutable. */
export class Path {
  /** The field name, or "" when this element is a subscript. */
  readonly fieldName: string;
  /** The list index or map key when fieldName is "". */
  readonly subscript: string;
  readonly parent: Path | null;

  constructor(fieldName: string, subscript: string, parent: Path | null) {
    this.fieldName = fieldName;
    this.subscript = subscript;
    this.parent = parent;
  }

  /** A child field: `p.child('spec', 'containers')`. */
  child(name: string, ...moreNames: string[]): Path {
    let r = new Path(name, '', this);
    for (const n of moreNames) r = new Path(n, '', r);
    return r;
  }

  /** A list subscript: `[3]`. */
  index(i: number): Path {
    return new Path('', String(i), this);
  }

  /** A map subscript: `[key]` (not quoted, as upstream). */
  key(key: string): Path {
    return new Path('', key, this);
  }

  toString(): string {
    const elems: Path[] = [];
    for (let p: Path | null = this; p !== null; p = p.parent) elems.push(p);
    let out = '';
    for (let i = elems.length - 1; i >= 0; i--) {
      const p = elems[i] as Path;
      if (p.parent !== null && p.fieldName.length > 0) out += '.';
      out += p.fieldName.length > 0 ? p.fieldName : `[${p.subscript}]`;
    }
    return out;
  }
}

/** A root path: `newPath('metadata')`, `newPath('spec', 'template')`. */
export function newPath(name: string, ...moreNames: string[]): Path {
  let r = new Path(name, '', null);
  for (const n of moreNames) r = new Path(n, '', r);
  return r;
}

/** `path.child(...)` that also accepts upstream's nil path (a nil parent is simply dropped). */
export function childOf(path: Path | null, name: string, ...moreNames: string[]): Path {
  return path === null ? newPath(name, ...moreNames) : path.child(name, ...moreNames);
}

/** One field-level validation failure. */
export interface FieldError {
  readonly type: ErrorType;
  /** The field path as a string; `<nil>` when built without a path, as upstream. */
  readonly field: string;
  /** The offending value; strings print quoted, numbers and booleans bare, GoValue verbatim, null as "null". */
  readonly badValue: unknown;
  readonly detail: string;
}

/** A list of field errors; empty means valid. */
export type ErrorList = FieldError[];

function pathText(path: Path | null): string {
  return path === null ? '<nil>' : path.toString();
}

function make(type: ErrorType, path: Path | null, badValue: unknown, detail: string): FieldError {
  return { type, field: pathText(path), badValue, detail };
}

/** field.Required: "Required value[: detail]". */
export function required(path: Path | null, detail = ''): FieldError {
  return make(ErrorType.Required, path, '', detail);
}

/** field.Invalid: `Invalid value: "x"[: detail]`. */
export function invalid(path: Path | null, value: unknown, detail = ''): FieldError {
  return make(ErrorType.Invalid, path, value, detail);
}

/** field.TypeInvalid. */
export function typeInvalid(path: Path | null, value: unknown, detail = ''): FieldError {
  return make(ErrorType.TypeInvalid, path, value, detail);
}

/** field.NotSupported: `Unsupported value: "x": supported values: "a", "b"`. */
export function notSupported(path: Path | null, value: unknown, validValues: readonly string[]): FieldError {
  const detail = validValues.length > 0 ? 'supported values: ' + validValues.map((v) => goQuote(v)).join(', ') : '';
  return make(ErrorType.NotSupported, path, value, detail);
}

/** field.Duplicate: `Duplicate value: "x"`. */
export function duplicate(path: Path | null, value: unknown): FieldError {
  return make(ErrorType.Duplicate, path, value, '');
}

/** field.NotFound: `Not found: "x"`. */
export function notFound(path: Path | null, value: unknown): FieldError {
  return make(ErrorType.NotFound, path, value, '');
}

/** field.Forbidden: "Forbidden[: detail]". */
export function forbidden(path: Path | null, detail = ''): FieldError {
  return make(ErrorType.Forbidden, path, '', detail);
}

/** field.TooLong: "Too long: may not be more than N bytes" (negative maxLength: "value is too long"). */
export function tooLong(path: Path | null, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be more than ${maxLength} bytes` : 'value is too long';
  return make(ErrorType.TooLong, path, '<value omitted>', detail);
}

/** field.TooMany: "Too many: 5: must have at most 3 items" (negative numbers omit the part). */
export function tooMany(path: Path | null, actualQuantity: number, maxQuantity: number): FieldError {
  const detail = maxQuantity >= 0 ? `must have at most ${maxQuantity} items` : 'has too many items';
  return make(ErrorType.TooMany, path, actualQuantity >= 0 ? actualQuantity : omitValue, detail);
}

/** field.InternalError: "Internal error: <message>". */
export function internalError(path: Path | null, err: Error | string): FieldError {
  return make(ErrorType.Internal, path, null, typeof err === 'string' ? err : err.message);
}

function renderValue(value: unknown): string {
  // Go substitutes the string "null" for nil values and then quotes it like any string.
  if (value === null || value === undefined) return '"null"';
  if (value instanceof GoValue) return value.text;
  switch (typeof value) {
    case 'string':
      return goQuote(value);
    case 'number':
      return goFormatNumber(value);
    case 'bigint':
    case 'boolean':
      return String(value);
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return `[]string{${value.map((v) => goQuote(v as string)).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The message without the field name, as used for StatusCause.message. */
export function errorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case ErrorType.Required:
    case ErrorType.Forbidden:
    case ErrorType.TooLong:
    case ErrorType.Internal:
      s = typeText[e.type];
      break;
    default:
      s = e.badValue === omitValue ? typeText[e.type] : `${typeText[e.type]}: ${renderValue(e.badValue)}`;
  }
  if (e.detail.length > 0) s += `: ${e.detail}`;
  return s;
}

/** `<field>: <body>`, as field.Error.Error(). */
export function errorString(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/**
 * The text of errs.ToAggregate().Error(): duplicates (by message) dropped, one message bare,
 * several as `[a, b]`. Empty string for an empty list.
 */
export function aggregateMessage(errs: readonly FieldError[]): string {
  const seen = new Set<string>();
  const msgs: string[] = [];
  for (const e of errs) {
    const m = errorString(e);
    if (seen.has(m)) continue;
    seen.add(m);
    msgs.push(m);
  }
  if (msgs.length === 0) return '';
  if (msgs.length === 1) return msgs[0] as string;
  return `[${msgs.join(', ')}]`;
}

/** A metav1.StatusCause built from a field error. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

/** The causes of an Invalid Status, one per error (not de-duplicated, as upstream). */
export function statusCauses(errs: readonly FieldError[]): StatusCause[] {
  return errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field }));
}

/**
 * The message of apierrors.NewInvalid: `<Kind>[.<group>] "<name>" is invalid: <aggregate>`
 * (or just `... is invalid` for an empty list).
 */
export function invalidMessage(kind: string, group: string, name: string, errs: readonly FieldError[]): string {
  const qualified = group === '' ? kind : `${kind}.${group}`;
  const agg = aggregateMessage(errs);
  const head = `${qualified} ${goQuote(name)} is invalid`;
  return agg === '' ? head : `${head}: ${agg}`;
}

/** A typed error carrying a field error list, for code paths that must throw (selectors, quantities). */
export class FieldErrorsError extends Error {
  readonly code = 'FieldErrors';
  readonly errors: readonly FieldError[];
  constructor(errors: readonly FieldError[], message = aggregateMessage(errors)) {
    super(message);
    this.name = 'FieldErrorsError';
    this.errors = errors;
  }
}
