// Field selectors: the `?fieldSelector=` syntax (k=v, k==v, k!=v, commas AND, backslash escapes in
// values), matching against a flat map of field values, and the transform step the apiserver uses
// to check labels against a kind's supported set. Behaviour and messages follow apimachinery's
// fields/selector.go.

import { compareGoStrings } from './go_strings.ts';

/** One term: the field must (=) or must not (!=) equal the value. `==` parses as `=`. */
export interface FieldTerm {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector: all terms must hold. `nothing` matches no object. */
export interface FieldSelector {
  readonly terms: readonly FieldTerm[];
  readonly nothing?: boolean;
}

/** A field selector that does not parse, or a field label the kind does not support (400). */
export class FieldSelectorError extends Error {
  readonly code = 'InvalidFieldSelector';
  constructor(message: string) {
    super(message);
    this.name = 'FieldSelectorError';
  }
}

/** Matches every object. */
export function everythingFields(): FieldSelector {
  return { terms: [] };
}

/** Matches no object. */
export function nothingFields(): FieldSelector {
  return { terms: [], nothing: true };
}

/** True when the selector does not restrict anything. */
export function isEmptyFieldSelector(sel: FieldSelector): boolean {
  return !sel.nothing && sel.terms.length === 0;
}

/** `field=value` as a selector (OneTermEqualSelector). */
export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return { terms: [{ field, operator: '=', value }] };
}

/** `field!=value` as a selector (OneTermNotEqualSelector). */
export function oneTermNotEqualSelector(field: string, value: string): FieldSelector {
  return { terms: [{ field, operator: '!=', value }] };
}

/** A selector matching all the given field values (SelectorFromSet). */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>>): FieldSelector {
  return { terms: Object.entries(set).map(([field, value]) => ({ field, operator: '=' as const, value })) };
}

/** True when every term holds; a field missing from the map counts as "". */
export function matchesFields(sel: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  if (sel.nothing) return false;
  for (const t of sel.terms) {
    const v = Object.prototype.hasOwnProperty.call(fields, t.field) ? fields[t.field] : '';
    if (t.operator === '=' ? v !== t.value : v === t.value) return false;
  }
  return true;
}

/** The value an `=` term pins a field to, if any (RequiresExactMatch). */
export function fieldRequiresExactMatch(sel: FieldSelector, field: string): string | undefined {
  if (sel.nothing) return undefined;
  for (const t of sel.terms) if (t.operator === '=' && t.field === field) return t.value;
  return undefined;
}

/** Escapes `\`, `,` and `=` in a value so it survives parsing. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => '\\' + c);
}

/** Reverses escapeValue; rejects unknown escapes and bare `,`/`=` with upstream's messages. */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') {
        out += c;
      } else {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      inSlash = false;
      continue;
    }
    if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. as its number.
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw new FieldSelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const termOperators = ['!=', '==', '='] as const;

function splitTerm(term: string): [string, string, string] | null {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return null;
}

/**
 * fields.ParseSelector: terms are sorted as strings first (so errors and String() follow that
 * order). Throws FieldSelectorError (`invalid selector: '<s>'; can't understand '<term>'`, escape
 * errors).
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort(compareGoStrings);
  const terms: FieldTerm[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (split === null) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [lhs, op, rhs] = split;
    const value = unescapeValue(rhs);
    terms.push({ field: lhs, operator: op === '!=' ? '!=' : '=', value });
  }
  return { terms };
}

/** Maps a term's field and value; throw to reject a term. Returning two empty strings drops it. */
export type FieldTransform = (field: string, value: string) => [string, string];

/**
 * Selector.Transform: applies fn to every term in order (the first error wins), dropping terms
 * mapped to an empty field and value.
 */
export function transformFieldSelector(sel: FieldSelector, fn: FieldTransform): FieldSelector {
  if (sel.nothing) return sel;
  const terms: FieldTerm[] = [];
  for (const t of sel.terms) {
    const [field, value] = fn(t.field, t.value);
    if (field.length === 0 && value.length === 0) continue;
    terms.push({ field, operator: t.operator, value });
  }
  return { terms };
}

/** Selector.String(): `f=v` / `f!=v` joined by ",", values escaped. */
export function fieldSelectorString(sel: FieldSelector): string {
  if (sel.nothing) return '';
  return sel.terms.map((t) => `${t.field}${t.operator}${escapeValue(t.value)}`).join(',');
}
