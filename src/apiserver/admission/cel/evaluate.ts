// Evaluates compiled admission expressions against an activation, turning compile and runtime
// failures into upstream's messages ("expression 'x' resulted in error: no such key: y"), and
// evaluates matchConditions with failurePolicy semantics (upstream's matchconditions.Matcher).
import { evaluationErrorText, type CompilationResult } from '../../../api/cel/environment.ts';

/** The outcome of one expression: a value or an error message. */
export type Evaluation = { readonly value: unknown; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

/** Evaluates one compiled expression (programs may be async when they call the authorizer). */
export async function evaluate(c: CompilationResult, activation: Readonly<Record<string, unknown>>): Promise<Evaluation> {
  if (c.error) return { error: `compilation error: ${c.error.detail}` };
  if (!c.program) return { error: 'unexpected internal error compiling expression' };
  try {
    return { value: await c.program(activation) };
  } catch (e) {
    return { error: `expression '${c.expression}' resulted in error: ${evaluationErrorText(e)}` };
  }
}

/** A named compiled condition. */
export interface NamedCondition {
  readonly name: string;
  readonly compiled: CompilationResult;
}

/** Whether the conditions select the request; `error` means fail the request (failurePolicy Fail). */
export interface MatchResult {
  readonly matches: boolean;
  readonly error?: string;
  readonly failedConditionName?: string;
}

/**
 * Matcher.Match: any false condition skips; errors with all others true fail the request under
 * Fail and skip it under Ignore; all true matches.
 */
export async function matchConditions(conditions: readonly NamedCondition[], activation: Readonly<Record<string, unknown>>,
  failurePolicy: string): Promise<MatchResult> {
  const errors: string[] = [];
  for (const c of conditions) {
    const r = await evaluate(c.compiled, activation);
    if (r.error !== undefined) {
      errors.push(r.error);
      continue;
    }
    if (r.value === false) return { matches: false, failedConditionName: c.name };
  }
  if (errors.length > 0) {
    if (failurePolicy === 'Ignore') return { matches: false };
    return { matches: false, error: errors.length === 1 ? errors[0] : `[${errors.join(', ')}]` };
  }
  return { matches: true };
}
