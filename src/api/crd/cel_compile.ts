// Compiles x-kubernetes-validations rules (apiextensions' schema/cel compilation): `self` and
// `oldSelf` (optional for optionalOldSelf rules) in an environment with the Kubernetes libraries,
// cel-go's issue text, the bool/string result checks, oldSelf detection and fieldPath
// normalization. Values are dynamically typed, with one static check upstream's schema typing
// makes: a selection of a field the schema does not declare is "undefined field".

import { Environment } from '@marcbachmann/cel-js';
import { forEachNode } from '../cel/ast.ts';
import { instrument, meteredBy, type CostMeter } from '../cel/cost.ts';
import { registerKubernetesLibraries } from '../cel/library.ts';
import { position } from '../cel/environment.ts';
import { allowNullableTernaries, ternaryIssue } from '../cel/ternary.ts';
import { Path } from '../field_errors.ts';
import type { ValidationRule } from '../types/apiextensions_v1.ts';
import type { Structural } from './structural.ts';
import { declOf, estimateMaxCost, maxCardinality } from './cel_cost.ts';

/** A compiled expression run with an activation and a meter that cancels it past its limit. */
export type CelProgram = (activation: Readonly<Record<string, unknown>>, meter: CostMeter) => unknown;

/** An error of a rule or messageExpression (upstream's apiservercel.Error). */
export interface RuleError {
  readonly type: 'Invalid' | 'Internal' | 'Required';
  readonly detail: string;
}

/** The result of compiling one rule (upstream's CompilationResult). */
export interface CompiledRule {
  readonly rule: ValidationRule;
  readonly program?: CelProgram;
  readonly error?: RuleError;
  readonly usesOldSelf: boolean;
  readonly messageExpression?: CelProgram;
  readonly messageExpressionError?: RuleError;
  readonly normalizedRuleFieldPath: string;
  /** The estimated worst-case cost of one evaluation (0 when the rule did not compile). */
  readonly maxCost: number;
  /** The same for the messageExpression. */
  readonly messageExpressionMaxCost: number;
  /** How often the rule could run in one request when its ancestors do not bound it (from the node's minimum size). */
  readonly maxCardinality: number;
}

let plainEnv: Environment | undefined;
let optionalEnv: Environment | undefined;

function environment(optionalOldSelf: boolean): Environment {
  if (optionalOldSelf) {
    optionalEnv ??= registerKubernetesLibraries(new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true }))
      .registerVariable('self', 'dyn')
      .registerVariable('oldSelf', 'optional<dyn>');
    return optionalEnv;
  }
  plainEnv ??= registerKubernetesLibraries(new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true }))
    .registerVariable('self', 'dyn')
    .registerVariable('oldSelf', 'dyn');
  return plainEnv;
}

/** The constructor of cel-js's duration values (not exported by cel-js). */
export function durationConstructor(): unknown {
  return (environment(false).evaluate('duration("0s")') as object).constructor;
}

/** One cel-go issue: "ERROR: <input>:L:C: <message>\n | <line>\n | ...^". */
function issue(expression: string, offset: number, summary: string): string {
  const at = position(expression, offset);
  return `ERROR: <input>:${at.line}:${at.col}: ${summary}\n | ${at.text}\n | ${'.'.repeat(at.col - 1)}^`;
}

function celGoSummary(summary: string): string {
  const unknownVar = /^Unknown variable: (.+)$/.exec(summary);
  if (unknownVar) return `undeclared reference to '${unknownVar[1]}' (in container '')`;
  return summary;
}

function errorIssue(expression: string, err: unknown, syntax: boolean): string {
  const e = err as { summary?: string; message?: string; range?: { start: number } };
  const ternary = syntax ? undefined : ternaryIssue(expression, err);
  const summary = ternary?.summary ?? celGoSummary(e.summary ?? String(e.message ?? err).split('\n')[0]!);
  return issue(expression, ternary?.offset ?? e.range?.start ?? 0, `${syntax ? 'Syntax error: ' : ''}${summary}`);
}

const RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import',
  'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/** The CEL name of a schema property (upstream's escaping), or undefined when CEL cannot name it. */
export function escapeCelName(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  if (!/__|[.\-/]/.test(name)) return name;
  return name.replaceAll('__', '__underscores__').replaceAll('.', '__dot__').replaceAll('-', '__dash__').replaceAll('/', '__slash__');
}

/** The fields CEL sees on an object node, or undefined when the node is not a closed object. */
export function celFields(s: Structural | undefined, isRoot: boolean): Map<string, Structural | undefined> | undefined {
  if (!s || s.intOrString || s.preserveUnknownFields || s.type !== 'object') return undefined;
  if (s.additionalProperties !== undefined && !s.properties) return undefined;
  const out = new Map<string, Structural | undefined>();
  for (const [k, v] of s.properties ?? []) {
    const n = escapeCelName(k);
    if (n !== undefined) out.set(n, v);
  }
  if (isRoot || s.embeddedResource) {
    out.set('apiVersion', undefined);
    out.set('kind', undefined);
    out.set('metadata', META_NODE);
  }
  return out;
}

// The metadata CEL sees on a resource: only name and generateName (upstream's WithTypeAndObjectMeta).
const META_NODE: Structural = {
  type: 'object', nullable: false, default: undefined, description: '', title: '', format: '',
  properties: new Map([['name', leaf()], ['generateName', leaf()]]), items: undefined, additionalProperties: undefined,
  preserveUnknownFields: false, embeddedResource: false, intOrString: false, listType: undefined, listMapKeys: [],
  mapType: undefined, validations: [], allOfValidations: [], raw: {},
};

function leaf(): Structural {
  return {
    type: 'string', nullable: false, default: undefined, description: '', title: '', format: '', properties: undefined,
    items: undefined, additionalProperties: undefined, preserveUnknownFields: false, embeddedResource: false,
    intOrString: false, listType: undefined, listMapKeys: [], mapType: undefined, validations: [], allOfValidations: [], raw: {},
  };
}

interface SelectNode {
  readonly op: string;
  readonly args: unknown;
  readonly pos?: number;
}

/** The first selection of an undeclared field on a chain rooted at self/oldSelf: "undefined field 'x'" at the dot. */
function undefinedField(root: unknown, s: Structural, isRoot: boolean): { offset: number; name: string } | undefined {
  let found: { offset: number; name: string } | undefined;
  const schemaOf = (n: SelectNode): { node: Structural | undefined; root: boolean } | null => {
    if (n.op === 'id' && (n.args === 'self' || n.args === 'oldSelf')) return { node: s, root: isRoot };
    if ((n.op === '.' || n.op === '.?') && Array.isArray(n.args)) {
      const [target, field] = n.args as [SelectNode, string];
      const t = schemaOf(target);
      if (t === null || t.node === undefined) return null;
      const fields = celFields(t.node, t.root);
      if (!fields) return null;
      if (!fields.has(field)) {
        if (!found || (n.pos ?? 0) < found.offset) found = { offset: Math.max(0, (n.pos ?? 1) - 1), name: field };
        return null;
      }
      return { node: fields.get(field), root: false };
    }
    return null;
  };
  forEachNode(root, (n) => {
    schemaOf(n as SelectNode);
  });
  return found;
}

/** The CEL type name of a schema node's values, for the result check of a bare field selection. */
function celTypeOf(s: Structural): string | undefined {
  if (s.intOrString || s.preserveUnknownFields && s.type === '') return undefined;
  switch (s.type) {
    case 'boolean': return 'bool';
    case 'integer': return 'int';
    case 'number': return 'double';
    case 'string': return 'string';
    case 'array': return 'list';
    case 'object': return 'map';
    default: return undefined;
  }
}

/** The schema node of an expression that is just self, oldSelf or a chain of field selections on them. */
function chainSchema(n: SelectNode, s: Structural, isRoot: boolean): Structural | undefined {
  if (n.op === 'id') return n.args === 'self' ? s : undefined;
  if (n.op !== '.' || !Array.isArray(n.args)) return undefined;
  const [target, field] = n.args as [SelectNode, string];
  const t = chainSchema(target, s, isRoot);
  if (!t) return undefined;
  return celFields(t, target.op === 'id' && isRoot)?.get(field);
}

function usesOldSelf(root: unknown): boolean {
  let uses = false;
  forEachNode(root, (n) => {
    if (n.op === 'id' && n.args === 'oldSelf') uses = true;
  });
  return uses;
}

type Want = 'bool' | 'string';

function compileOne(expression: string, env: Environment, s: Structural, isRoot: boolean, want: Want, prefix: string): { program?: CelProgram; error?: RuleError; ast?: unknown } {
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(expression);
  } catch (err) {
    return { error: { type: 'Invalid', detail: `${prefix}compilation failed: ${errorIssue(expression, err, true)}` } };
  }
  allowNullableTernaries(parsed.ast);
  const undef = undefinedField(parsed.ast, s, isRoot);
  if (undef) return { error: { type: 'Invalid', detail: `${prefix}compilation failed: ${issue(expression, undef.offset, `undefined field '${undef.name}'`)}` } };
  const checked = parsed.check();
  if (!checked.valid) return { error: { type: 'Invalid', detail: `${prefix}compilation failed: ${errorIssue(expression, checked.error, false)}` } };
  let t = checked.type;
  if (t === 'dyn') {
    const node = chainSchema(parsed.ast as unknown as SelectNode, s, isRoot);
    t = node ? celTypeOf(node) ?? 'dyn' : 'dyn';
  }
  if (t !== undefined && t !== 'dyn' && !/^[A-Z]$/.test(t) && t !== want) {
    return { error: { type: 'Invalid', detail: want === 'bool' ? 'cel expression must evaluate to a bool' : 'messageExpression must evaluate to a string' } };
  }
  instrument(parsed.ast as unknown as Parameters<typeof instrument>[0]);
  const run = (a: Record<string, unknown>): unknown => parsed(a);
  return { program: (activation, meter) => meteredBy(meter, activation, run), ast: parsed.ast };
}

// Compiled rules per schema node: a CRD's schema is compiled once and its nodes live as long as it.
const cache = new WeakMap<Structural, Map<string, CompiledRule>>();

/** Compiles one rule of the schema node `s` (cached per node). */
export function compileRule(rule: ValidationRule, s: Structural, isRoot: boolean): CompiledRule {
  const optional = rule.optionalOldSelf === true;
  const key = JSON.stringify([rule.rule, rule.messageExpression ?? '', rule.fieldPath ?? '', optional, isRoot]);
  let perNode = cache.get(s);
  if (!perNode) {
    perNode = new Map();
    cache.set(s, perNode);
  }
  const hit = perNode.get(key);
  if (hit) return hit;
  const result = compileUncached(rule, s, isRoot, optional);
  perNode.set(key, result);
  return result;
}

function compileUncached(rule: ValidationRule, s: Structural, isRoot: boolean, optional: boolean): CompiledRule {
  const base = {
    rule, usesOldSelf: false, normalizedRuleFieldPath: normalizeFieldPath(rule.fieldPath, s),
    maxCost: 0, messageExpressionMaxCost: 0, maxCardinality: maxCardinality(declOf(s, isRoot || s.embeddedResource).minSize),
  };
  if ((rule.rule ?? '').trim() === '') return base;
  const env = environment(optional);
  const r = compileOne(rule.rule, env, s, isRoot, 'bool', '');
  if (r.error) return { ...base, error: r.error };
  const out: { -readonly [K in keyof CompiledRule]: CompiledRule[K] } = {
    ...base, program: r.program, usesOldSelf: usesOldSelf(r.ast), maxCost: estimateMaxCost(r.ast, s, isRoot),
  };
  const me = rule.messageExpression ?? '';
  if (me !== '') {
    const m = compileOne(me, env, s, isRoot, 'string', 'messageExpression ');
    if (m.error) out.messageExpressionError = m.error;
    else {
      out.messageExpression = m.program;
      out.messageExpressionMaxCost = estimateMaxCost(m.ast, s, isRoot);
    }
  }
  return out;
}

/** ValidFieldPath: the field.Path a rule's fieldPath names, or an error text. */
export function validFieldPath(jsonPath: string, s: Structural | undefined, allowArrayNotation = true): { path: Path | null; schema: Structural | undefined } | { error: string } {
  let path: Path | null = null;
  let schema = s;
  const tokens: string[] = [];
  for (let i = 0; i < jsonPath.length;) {
    if (jsonPath[i] === '\'') {
      let j = i + 1;
      while (j < jsonPath.length && !(jsonPath[j] === '\'' && jsonPath[j - 1] !== '\\')) j++;
      tokens.push(jsonPath.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if ('.[]'.includes(jsonPath[i]!)) {
      tokens.push(jsonPath[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < jsonPath.length && !'.[]'.includes(jsonPath[j]!)) j++;
    tokens.push(jsonPath.slice(i, j));
    i = j;
  }
  const append = (name: string): string | undefined => {
    if (!schema) return 'does not refer to a valid field';
    if (schema.properties) {
      path = path === null ? new Path(name, '', null) : path.child(name);
      const next = schema.properties.get(name);
      if (!next) return 'does not refer to a valid field';
      schema = next;
    } else if (schema.additionalProperties !== undefined) {
      path = path === null ? new Path('', name, null) : path.key(name);
      schema = schema.additionalProperties === true ? undefined : schema.additionalProperties;
    } else {
      return 'does not refer to a valid field';
    }
    return undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '[') {
      if (!allowArrayNotation) return { error: 'array notation is not allowed' };
      const lit = tokens[++i];
      if (lit === undefined) return { error: 'unexpected end of JSON path' };
      if (lit.length < 2 || !lit.startsWith('\'') || !lit.endsWith('\'')) return { error: `expected single quoted string but got ${lit}` };
      const unescaped = unescapeSingleQuote(lit.slice(1, -1));
      if (unescaped === undefined) return { error: 'invalid string literal: invalid escape char' };
      const e = append(unescaped);
      if (e) return { error: e };
      const close = tokens[++i];
      if (close === undefined) return { error: 'unexpected end of JSON path' };
      if (close !== ']') return { error: `expected ] but got ${close}` };
    } else if (tok === '.') {
      const name = tokens[++i];
      if (name === undefined) return { error: 'unexpected end of JSON path' };
      const e = append(name);
      if (e) return { error: e };
    } else {
      return { error: `expected [ or . but got: ${tok}` };
    }
  }
  return { path, schema };
}

function unescapeSingleQuote(s: string): string | undefined {
  let bad = false;
  const out = s.replace(/\\./g, (m) => {
    const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\'': '\'', '\\': '\\' };
    const r = map[m[1]!];
    if (r === undefined) bad = true;
    return r ?? '';
  });
  return bad ? undefined : out;
}

function normalizeFieldPath(fieldPath: string | undefined, s: Structural): string {
  if (!fieldPath) return '';
  const r = validFieldPath(fieldPath, s);
  return 'error' in r || r.path === null ? '' : r.path.toString();
}
