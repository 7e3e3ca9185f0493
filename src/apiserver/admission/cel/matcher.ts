// matchConditions of a webhook or of a policy (upstream's matchconditions.Matcher, which both
// reuse): evaluated in one pass with their own cost budget; any false skips, errors with the rest
// true follow failurePolicy, and a spent budget fails (Fail) or skips (Ignore) with its error alone.
import { OutOfBudgetError, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS } from '../../../api/cel/cost.ts';
import type { CompilationResult } from '../../../api/cel/environment.ts';
import { ExpressionFilter, type Evaluation } from './filter.ts';

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

/** Match: one evaluation of the conditions; `budget` is upstream's RuntimeCELCostBudgetMatchConditions. */
export async function matchConditions(conditions: readonly NamedCondition[], activation: Readonly<Record<string, unknown>>,
  failurePolicy: string, budget = RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS): Promise<MatchResult> {
  const filter = new ExpressionFilter(activation, budget);
  const results: Evaluation[] = [];
  try {
    for (const c of conditions) results.push(await filter.evaluate(c.compiled));
  } catch (e) {
    if (!(e instanceof OutOfBudgetError)) throw e;
    return failurePolicy === 'Ignore' ? { matches: false } : { matches: false, error: e.message };
  }
  const errors: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.error !== undefined) errors.push(r.error);
    else if (r.value === false) return { matches: false, failedConditionName: conditions[i]!.name };
  }
  if (errors.length === 0) return { matches: true };
  if (failurePolicy === 'Ignore') return { matches: false };
  // utilerrors.NewAggregate: one error reads as itself, several as "[a, b]".
  return { matches: false, error: errors.length === 1 ? errors[0] : `[${errors.join(', ')}]` };
}
