// Label selectors: the string syntax of `?labelSelector=` and `kubectl -l` (k=v, k==v, k!=v,
// k in (a,b), k notin (a,b), k, !k, k>1, k<1; commas AND), matching against a label map, and
// conversion from metav1.LabelSelector. Parsing, errors and String() follow apimachinery's
// labels/selector.go exactly, so 400 messages and normalized selectors read as upstream.

import {
  FieldErrorsError,
  aggregateMessage,
  childOf,
  invalid,
  notSupported,
  type ErrorList,
  type FieldError,
  type Path,
} from './field_errors.ts';
import { compareGoStrings, goQuote, sortGoStrings } from './go_strings.ts';
import { isQualifiedName, isValidLabelValue } from './validation/names.ts';

/** selection.Operator values. */
export const Operator = {
  DoesNotExist: '!',
  Equals: '=',
  DoubleEquals: '==',
  In: 'in',
  NotEquals: '!=',
  NotIn: 'notin',
  Exists: 'exists',
  GreaterThan: 'gt',
  LessThan: 'lt',
} as const;
export type Operator = (typeof Operator)[keyof typeof Operator];

const binaryOperators: readonly string[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const validRequirementOperators: readonly string[] = [...binaryOperators, 'exists', '!'];

/** One key/operator/values condition; all requirements of a selector must hold. */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** In parse order for selectors built from metav1.LabelSelector; sorted and unique when parsed. */
  readonly values: readonly string[];
}

/** A parsed label selector. `nothing` matches no object (a nil metav1.LabelSelector). */
export interface Selector {
  readonly requirements: readonly Requirement[];
  readonly nothing?: boolean;
}

/** A label selector string that does not parse, or a requirement that does not validate (400). */
export class LabelSelectorError extends Error {
  readonly code = 'InvalidLabelSelector';
  /** The field errors when the failure came from requirement validation. */
  readonly errors: readonly FieldError[];
  constructor(message: string, errors: readonly FieldError[] = []) {
    super(message);
    this.name = 'LabelSelectorError';
    this.errors = errors;
  }
}

/** Matches every object. */
export function everything(): Selector {
  return { requirements: [] };
}

/** Matches no object. */
export function nothing(): Selector {
  return { requirements: [], nothing: true };
}

/** True when the selector does not restrict anything (the nothing-selector is not empty). */
export function isEmpty(sel: Selector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

function validateLabelKey(k: string, path: Path | null): FieldError | null {
  const errs = isQualifiedName(k);
  return errs.length > 0 ? invalid(path, k, errs.join('; ')) : null;
}

function validateLabelValue(k: string, v: string, path: Path): FieldError | null {
  const errs = isValidLabelValue(v);
  return errs.length > 0 ? invalid(path.key(k), v, errs.join('; ')) : null;
}

function isGoInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/**
 * labels.NewRequirement: validates the key, the value count for the operator and each value, and
 * throws LabelSelectorError (with the aggregated field errors) when anything is wrong.
 */
export function newRequirement(key: string, operator: string, values: readonly string[], path: Path | null = null): Requirement {
  const errs: ErrorList = [];
  const keyErr = validateLabelKey(key, childOf(path, 'key'));
  if (keyErr) errs.push(keyErr);
  const valuePath = childOf(path, 'values');
  const shown = [...values];
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(valuePath, shown, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(valuePath, shown, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(valuePath, shown, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(valuePath, shown, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!isGoInt64(v)) errs.push(invalid(valuePath.index(i), v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      errs.push(notSupported(childOf(path, 'operator'), operator, validRequirementOperators));
  }
  values.forEach((v, i) => {
    const e = validateLabelValue(key, v, valuePath.index(i));
    if (e) errs.push(e);
  });
  if (errs.length > 0) throw new LabelSelectorError(aggregateMessage(errs), errs);
  return { key, operator: operator as Operator, values: shown };
}

function parseInt64(s: string): bigint | null {
  return isGoInt64(s) ? BigInt(s) : null;
}

/** Requirement.Matches. */
export function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key] as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key] as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const lv = parseInt64(labels[r.key] as string);
      if (lv === null || r.values.length !== 1) return false;
      const rv = parseInt64(r.values[0] as string);
      if (rv === null) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
  return false;
}

/** True when every requirement holds for the labels (missing labels = empty map). */
export function matches(sel: Selector, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  if (sel.nothing) return false;
  const ls = labels ?? {};
  return sel.requirements.every((r) => requirementMatches(r, ls));
}

/** Requirement.String(): `!k`, `k`, `k=v`, `k in (a,b)` with values sorted for output. */
export function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? '!' + r.key : r.key;
  switch (r.operator) {
    case '=':
      s += '=';
      break;
    case '==':
      s += '==';
      break;
    case '!=':
      s += '!=';
      break;
    case 'in':
      s += ' in ';
      break;
    case 'notin':
      s += ' notin ';
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
    case 'exists':
    case '!':
      return s;
  }
  const set = r.operator === 'in' || r.operator === 'notin';
  if (set) s += '(';
  s += r.values.length === 1 ? r.values[0] : sortGoStrings(r.values).join(',');
  if (set) s += ')';
  return s;
}

/** Selector.String(): requirements joined by ",", in key order. Empty for everything and nothing. */
export function selectorString(sel: Selector): string {
  if (sel.nothing) return '';
  return sel.requirements.map(requirementString).join(',');
}

function byKey(reqs: Requirement[]): Requirement[] {
  // sort.Sort is not stable; key order is all upstream guarantees, and Array.sort is stable.
  return reqs.sort((a, b) => compareGoStrings(a.key, b.key));
}

/** Selector.Add: a new selector with the requirements added and sorted by key. */
export function addRequirements(sel: Selector, ...reqs: Requirement[]): Selector {
  if (sel.nothing) return sel;
  return { requirements: byKey([...sel.requirements, ...reqs]) };
}

/** RequiresExactMatch: the value a selector pins a label to (=, == or single-valued in), if any. */
export function requiresExactMatch(sel: Selector, label: string): string | undefined {
  if (sel.nothing) return undefined;
  for (const r of sel.requirements) {
    if (r.key !== label) continue;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    return undefined;
  }
  return undefined;
}

/** A selector matching exactly the given labels, without validation (SelectorFromSet). */
export function selectorFromSet(set: Readonly<Record<string, string>> | null | undefined): Selector {
  const reqs: Requirement[] = Object.entries(set ?? {}).map(([k, v]) => ({ key: k, operator: '=', values: [v] }));
  return { requirements: byKey(reqs) };
}

/** Like selectorFromSet but validates keys and values (ValidatedSelectorFromSet). */
export function validatedSelectorFromSet(set: Readonly<Record<string, string>> | null | undefined): Selector {
  const reqs = Object.entries(set ?? {}).map(([k, v]) => newRequirement(k, '=', [v]));
  return { requirements: byKey(reqs) };
}

// ---- Lexer and parser, byte for byte as upstream (including NUL ending the input).

const Token = {
  Error: 0,
  EndOfString: 1,
  ClosedPar: 2,
  Comma: 3,
  DoesNotExist: 4,
  DoubleEquals: 5,
  Equals: 6,
  GreaterThan: 7,
  Identifier: 8,
  In: 9,
  LessThan: 10,
  NotEquals: 11,
  NotIn: 12,
  OpenPar: 13,
} as const;
type Token = (typeof Token)[keyof typeof Token];

const string2token: Readonly<Record<string, Token>> = {
  ')': Token.ClosedPar,
  ',': Token.Comma,
  '!': Token.DoesNotExist,
  '==': Token.DoubleEquals,
  '=': Token.Equals,
  '>': Token.GreaterThan,
  in: Token.In,
  '<': Token.LessThan,
  '!=': Token.NotEquals,
  notin: Token.NotIn,
  '(': Token.OpenPar,
};

function tokenOf(s: string): Token | undefined {
  return Object.prototype.hasOwnProperty.call(string2token, s) ? string2token[s] : undefined;
}

interface ScannedItem {
  readonly tok: Token;
  readonly literal: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecialSymbol(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

class Lexer {
  private readonly s: string;
  private pos = 0;

  constructor(s: string) {
    this.s = s;
  }

  // Returns '\0' at the end (a NUL in the input also ends it), as upstream.
  private read(): string {
    if (this.pos < this.s.length) return this.s[this.pos++] as string;
    return '\0';
  }

  private unread(): void {
    this.pos--;
  }

  private scanIDOrKeyword(): ScannedItem {
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    const t = tokenOf(buffer);
    return t !== undefined ? { tok: t, literal: buffer } : { tok: Token.Identifier, literal: buffer };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | null = null;
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (isSpecialSymbol(ch)) {
        buffer += ch;
        const t = tokenOf(buffer);
        if (t !== undefined) {
          last = { tok: t, literal: buffer };
        } else if (last !== null) {
          this.unread();
          break;
        }
      } else {
        this.unread();
        break;
      }
    }
    if (last === null) return { tok: Token.Error, literal: `error expected: keyword found '${buffer}'` };
    return last;
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === '\0') return { tok: Token.EndOfString, literal: '' };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIDOrKeyword();
  }
}

const KeyAndOperator = 0;
const Values = 1;

class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;
  private readonly path: Path | null;

  constructor(s: string, path: Path | null) {
    this.path = path;
    const l = new Lexer(s);
    for (;;) {
      const item = l.lex();
      this.items.push(item);
      if (item.tok === Token.EndOfString) break;
    }
  }

  private adjust(item: ScannedItem, context: number): [Token, string] {
    let tok = item.tok;
    if (context === Values && (tok === Token.In || tok === Token.NotIn)) tok = Token.Identifier;
    return [tok, item.literal];
  }

  private lookahead(context: number): [Token, string] {
    return this.adjust(this.items[this.position] as ScannedItem, context);
  }

  private consume(context: number): [Token, string] {
    this.position++;
    return this.adjust(this.items[this.position - 1] as ScannedItem, context);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const [tok, lit] = this.lookahead(Values);
      switch (tok) {
        case Token.Identifier:
        case Token.DoesNotExist: {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            if (e instanceof LabelSelectorError) {
              throw new LabelSelectorError(`unable to parse requirement: ${e.message}`, e.errors);
            }
            throw e;
          }
          requirements.push(r);
          const [t, l] = this.consume(Values);
          switch (t) {
            case Token.EndOfString:
              return requirements;
            case Token.Comma: {
              const [t2, l2] = this.lookahead(Values);
              if (t2 !== Token.Identifier && t2 !== Token.DoesNotExist) {
                throw new LabelSelectorError(`found '${l2}', expected: identifier after ','`);
              }
              break;
            }
            default:
              throw new LabelSelectorError(`found '${l}', expected: ',' or 'end of string'`);
          }
          break;
        }
        case Token.EndOfString:
          return requirements;
        default:
          throw new LabelSelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const [key, inferred] = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return newRequirement(key, inferred, [], this.path);
    const operator = this.parseOperator();
    let values: string[];
    if (operator === 'in' || operator === 'notin') values = this.parseValues();
    else values = this.parseExactValue();
    return newRequirement(key, operator, sortGoStrings([...new Set(values)]), this.path);
  }

  private parseKeyAndInferOperator(): [string, Operator | ''] {
    let operator: Operator | '' = '';
    let [tok, literal] = this.consume(Values);
    if (tok === Token.DoesNotExist) {
      operator = '!';
      [tok, literal] = this.consume(Values);
    }
    if (tok !== Token.Identifier) throw new LabelSelectorError(`found '${literal}', expected: identifier`);
    const keyErr = validateLabelKey(literal, this.path);
    if (keyErr) throw new LabelSelectorError(aggregateMessage([keyErr]), [keyErr]);
    const [t] = this.lookahead(Values);
    if ((t === Token.EndOfString || t === Token.Comma) && operator !== '!') operator = 'exists';
    return [literal, operator];
  }

  private parseOperator(): Operator {
    const [tok, lit] = this.consume(KeyAndOperator);
    switch (tok) {
      case Token.In:
        return 'in';
      case Token.Equals:
        return '=';
      case Token.DoubleEquals:
        return '==';
      case Token.GreaterThan:
        return 'gt';
      case Token.LessThan:
        return 'lt';
      case Token.NotIn:
        return 'notin';
      case Token.NotEquals:
        return '!=';
      default:
        throw new LabelSelectorError(`found '${lit}', expected: ${binaryOperators.join(', ')}`);
    }
  }

  private parseValues(): string[] {
    let [tok, lit] = this.consume(Values);
    if (tok !== Token.OpenPar) throw new LabelSelectorError(`found '${lit}' expected: '('`);
    [tok, lit] = this.lookahead(Values);
    switch (tok) {
      case Token.Identifier:
      case Token.Comma: {
        const s = this.parseIdentifiersList();
        const [t] = this.consume(Values);
        if (t !== Token.ClosedPar) throw new LabelSelectorError(`found '${lit}', expected: ')'`);
        return s;
      }
      case Token.ClosedPar:
        this.consume(Values);
        return [''];
      default:
        throw new LabelSelectorError(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): string[] {
    const s = new Set<string>();
    for (;;) {
      const [tok, lit] = this.consume(Values);
      switch (tok) {
        case Token.Identifier: {
          s.add(lit);
          const [tok2, lit2] = this.lookahead(Values);
          if (tok2 === Token.Comma) continue;
          if (tok2 === Token.ClosedPar) return [...s];
          throw new LabelSelectorError(`found '${lit2}', expected: ',' or ')'`);
        }
        case Token.Comma: {
          if (s.size === 0) s.add('');
          const [tok2] = this.lookahead(Values);
          if (tok2 === Token.ClosedPar) {
            s.add('');
            return [...s];
          }
          if (tok2 === Token.Comma) {
            this.consume(Values);
            s.add('');
          }
          break;
        }
        default:
          throw new LabelSelectorError(`found '${lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): string[] {
    const [tok] = this.lookahead(Values);
    if (tok === Token.EndOfString || tok === Token.Comma) return [''];
    const [t, lit] = this.consume(Values);
    if (t === Token.Identifier) return [lit];
    throw new LabelSelectorError(`found '${lit}', expected: identifier`);
  }
}

/**
 * labels.Parse: parses a selector string; requirements come back sorted by key. Throws
 * LabelSelectorError with upstream's message (`unable to parse requirement: ...`, `found ...`).
 */
export function parseSelector(selector: string, path: Path | null = null): Selector {
  return { requirements: byKey(new Parser(selector, path).parse()) };
}

/** metav1.LabelSelectorRequirement as JSON. */
export interface LabelSelectorRequirementLike {
  key?: string;
  operator?: string;
  values?: string[] | null;
}

/** metav1.LabelSelector as JSON. */
export interface LabelSelectorLike {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirementLike[] | null;
}

const metaOperators: Readonly<Record<string, Operator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, an empty selector everything.
 * Throws LabelSelectorError for an unknown operator or an invalid requirement.
 */
export function labelSelectorAsSelector(ps: LabelSelectorLike | null | undefined): Selector {
  if (ps === null || ps === undefined) return nothing();
  const matchLabels = Object.entries(ps.matchLabels ?? {});
  const exprs = ps.matchExpressions ?? [];
  if (matchLabels.length + exprs.length === 0) return everything();
  const reqs: Requirement[] = [];
  for (const [k, v] of matchLabels) reqs.push(newRequirement(k, '=', [v]));
  for (const e of exprs) {
    const op = Object.prototype.hasOwnProperty.call(metaOperators, e.operator ?? '') ? metaOperators[e.operator ?? ''] : undefined;
    if (op === undefined) {
      throw new LabelSelectorError(`${goQuote(e.operator ?? '')} is not a valid label selector operator`);
    }
    reqs.push(newRequirement(e.key ?? '', op, [...(e.values ?? [])]));
  }
  return { requirements: byKey(reqs) };
}

/**
 * metav1.LabelSelectorAsMap: the old map form (matchLabels plus single-valued In); throws for
 * expressions that have no map form.
 */
export function labelSelectorAsMap(ps: LabelSelectorLike | null | undefined): Record<string, string> | null {
  if (ps === null || ps === undefined) return null;
  const out: Record<string, string> = { ...(ps.matchLabels ?? {}) };
  for (const e of ps.matchExpressions ?? []) {
    const op = e.operator ?? '';
    if (op === 'In') {
      if ((e.values ?? []).length !== 1) {
        throw new LabelSelectorError(`operator ${goQuote(op)} without a single value cannot be converted into the old label selector format`);
      }
      out[e.key ?? ''] = (e.values ?? [])[0] as string;
    } else if (op === 'NotIn' || op === 'Exists' || op === 'DoesNotExist') {
      throw new LabelSelectorError(`operator ${goQuote(op)} cannot be converted into the old label selector format`);
    } else {
      throw new LabelSelectorError(`${goQuote(op)} is not a valid selector operator`);
    }
  }
  return out;
}

/** Wraps field errors from a requirement as the FieldErrorsError other validators throw. */
export function asFieldErrors(e: LabelSelectorError): FieldErrorsError {
  return new FieldErrorsError(e.errors, e.message);
}
