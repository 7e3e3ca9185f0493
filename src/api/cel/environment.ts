// Compiles the CEL expressions of admission configuration (webhook matchConditions and
// ValidatingAdmissionPolicy expressions) with @marcbachmann/cel-js, in an environment declaring
// the admission variables and the Kubernetes libraries; compile errors read as upstream's.
import { Environment } from '@marcbachmann/cel-js';
import { registerAuthorizerLibrary, AUTHORIZER_TYPE } from './authorizer.ts';
import { instrument, meteredBy, type CostMeter } from './cost.ts';
import { registerKubernetesLibraries } from './library.ts';
import { allowNullableTernaries, ternaryIssue } from './ternary.ts';

/** Which optional variables an expression may use (cel.OptionalVariableDeclarations). */
export interface ExpressionOptions {
  /** `params` is declared (the policy has a paramKind). */
  readonly hasParams: boolean;
  /** `authorizer` (and `authorizer.requestResource`) is declared. */
  readonly hasAuthorizer: boolean;
  /** `variables` is declared (ValidatingAdmissionPolicy with spec.variables). */
  readonly hasVariables?: boolean;
}

/** What an expression must evaluate to (the accessor's ReturnTypes). */
export type ReturnTypes = 'bool' | 'string' | 'string|null' | 'any';

/** A compile error, typed as upstream's cel.Error (Required, Invalid, Internal). */
export interface CelError {
  readonly type: 'Required' | 'Invalid' | 'Internal';
  readonly detail: string;
}

/**
 * A compiled expression; call it with the activation (object, oldObject, request …) and a meter
 * that counts the run's cost and cancels it past its limit. The caller charges meter.cost to the
 * budget of its pass (the admission filters do).
 */
export type Program = (activation: Readonly<Record<string, unknown>>, meter: CostMeter) => unknown;

/** The result of compiling one expression. */
export interface CompilationResult {
  readonly expression: string;
  readonly program?: Program;
  readonly error?: CelError;
}

/** The names admission expressions see. */
export const VAR = {
  object: 'object',
  oldObject: 'oldObject',
  params: 'params',
  request: 'request',
  namespaceObject: 'namespaceObject',
  authorizer: 'authorizer',
  variables: 'variables',
} as const;

let base: Environment | undefined;
const envs = new Map<string, Environment>();

function baseEnvironment(): Environment {
  if (!base) {
    base = registerAuthorizerLibrary(registerKubernetesLibraries(new Environment({
      homogeneousAggregateLiterals: false,
      enableOptionalTypes: true,
    })));
  }
  return base;
}

function optionsKey(o: ExpressionOptions): string {
  return `${o.hasParams ? 'p' : ''}${o.hasAuthorizer ? 'a' : ''}${o.hasVariables ? 'v' : ''}`;
}

/** The environment for a set of optional variables (built once per combination). */
export function admissionEnvironment(opts: ExpressionOptions): Environment {
  const key = optionsKey(opts);
  let env = envs.get(key);
  if (!env) {
    env = baseEnvironment().clone()
      .registerVariable(VAR.object, 'dyn')
      .registerVariable(VAR.oldObject, 'dyn')
      .registerVariable(VAR.request, 'dyn')
      .registerVariable(VAR.namespaceObject, 'dyn');
    if (opts.hasParams) env.registerVariable(VAR.params, 'dyn');
    if (opts.hasAuthorizer) env.registerVariable(VAR.authorizer, AUTHORIZER_TYPE);
    if (opts.hasVariables) env.registerVariable(VAR.variables, 'dyn');
    envs.set(key, env);
  }
  return env;
}

const MAX_CACHED = 2000;
const compiled = new Map<string, CompilationResult>();

/** cel-go's wording for the messages cel-js words differently. */
function celGoSummary(summary: string): string {
  const unknownVar = /^Unknown variable: (.+)$/.exec(summary);
  if (unknownVar) return `undeclared reference to '${unknownVar[1]}' (in container '')`;
  return summary;
}

/** Line, column (1-based) and source line of an offset into an expression, as cel-go reports issues. */
export function position(expression: string, offset: number): { line: number; col: number; text: string } {
  const before = expression.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = expression.indexOf('\n', lineStart);
  return { line, col: offset - lineStart + 1, text: expression.slice(lineStart, lineEnd < 0 ? undefined : lineEnd) };
}

/** "ERROR: <input>:1:5: <message>\n | <source line>\n | ....^" as cel-go's issues print. */
function formatIssue(expression: string, err: unknown, syntax: boolean): string {
  const e = err as { summary?: string; message?: string; range?: { start: number } };
  const ternary = syntax ? undefined : ternaryIssue(expression, err);
  const summary = ternary?.summary ?? celGoSummary(e.summary ?? String(e.message ?? err).split('\n')[0]!);
  const at = position(expression, ternary?.offset ?? e.range?.start ?? 0);
  const text = `${syntax ? 'Syntax error: ' : ''}${summary}`;
  return `ERROR: <input>:${at.line}:${at.col}: ${text}\n | ${at.text}\n | ${'.'.repeat(at.col - 1)}^`;
}

function returnTypeOk(type: string | undefined, want: ReturnTypes): boolean {
  if (want === 'any' || type === undefined) return true;
  // Without per-kind schemas most field accesses are dyn: accept them and check at run time.
  if (type === 'dyn' || /^[A-Z]$/.test(type)) return true;
  if (want === 'bool') return type === 'bool';
  if (want === 'string') return type === 'string';
  return type === 'string' || type === 'null' || type === 'null_type';
}

function returnTypeReason(want: ReturnTypes): string {
  if (want === 'string|null') return 'must evaluate to one of [string null_type]';
  return `must evaluate to ${want}`;
}

/** Compiles (and caches) one expression, as upstream's CompileCELExpression. */
export function compileExpression(expression: string, returns: ReturnTypes, opts: ExpressionOptions): CompilationResult {
  const key = `${optionsKey(opts)}|${returns}|${expression}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const result = compileUncached(expression, returns, opts);
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, result);
  return result;
}

function compileUncached(expression: string, returns: ReturnTypes, opts: ExpressionOptions): CompilationResult {
  if (expression.trim() === '') return { expression, error: { type: 'Required', detail: 'expression is not specified' } };
  const env = admissionEnvironment(opts);
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(expression);
  } catch (err) {
    return { expression, error: { type: 'Invalid', detail: `compilation failed: ${formatIssue(expression, err, true)}` } };
  }
  allowNullableTernaries(parsed.ast);
  const checked = parsed.check();
  if (!checked.valid) {
    return { expression, error: { type: 'Invalid', detail: `compilation failed: ${formatIssue(expression, checked.error, false)}` } };
  }
  if (!returnTypeOk(checked.type, returns)) return { expression, error: { type: 'Invalid', detail: returnTypeReason(returns) } };
  // Every run is metered (cost.ts): its meter cancels it past PER_CALL_LIMIT.
  instrument(parsed.ast as unknown as Parameters<typeof instrument>[0]);
  const run = (a: Record<string, unknown>): unknown => parsed(a);
  return { expression, program: (activation, meter) => meteredBy(meter, activation, run) };
}

/** The text of an evaluation error as cel-go words it ("no such key: x"). */
export function evaluationErrorText(err: unknown): string {
  const e = err as { summary?: string; message?: string };
  const text = e.summary ?? String(e.message ?? err).split('\n')[0]!;
  return text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text;
}
